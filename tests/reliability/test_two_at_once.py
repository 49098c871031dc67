"""Two processes on one job at once (issue 27, docs/reliability.md): two imports of one bank file, two
watchers on one sFTP inbox. Real processes started together against the same database and folders:
each item is done exactly once."""

import json
import os
import re
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from cusin.generate import CustomerSpec, InvoiceSpec, write_cusin
from cusin.models import CusinFile, FileStatus
from distribution.models import Document, DocumentEvent, DocumentStatus
from distribution.services.queueing import DocumentRequest, documents_queue
from ledger.models import Invoice, Payment
from ledger.outbox import claims_dir, company_dir
from ledger.payments.bankfiles.write import PaymentSpec, write_ocr_giro
from ledger.services.registration import InvoiceInput, invoices_register
from ledger.verify import ledger_verify
from tests.cusin.test_celery_worker import database_url
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory
from tests.ledger.test_payments_import import ACCOUNT

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[2]


def together(env: dict, *commands: list[str]) -> list[subprocess.CompletedProcess]:
    """Start the commands at once, wait for all."""
    started = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for command in commands]  # fmt: skip
    results = []
    for process in started:
        out, err = process.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results


def test_two_imports_of_one_bank_file_at_once_book_it_once(transactional_db, settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    ledger = LedgerFactory(country="NO", client_funds_account=ACCOUNT)
    today = ledger.today()
    customers = [CustomerFactory(ledger=ledger) for _ in range(20)]
    invoices = invoices_register(ledger=ledger, actor="test", invoices=[
        InvoiceInput(customer=customers[n % 20], invoice_no=f"T-{n}", invoice_date=today, amount=Decimal("50.00"))
        for n in range(5000)])  # fmt: skip
    path = tmp_path / "ocr.txt"
    path.write_bytes(write_ocr_giro(
        [PaymentSpec(reference=i.payment_ref, amount=i.amount, archive_ref=f"{n:09d}") for n, i in enumerate(invoices)],
        receiving_account=ACCOUNT, nets_date=today))  # fmt: skip
    env = {**os.environ, "DATABASE_URL": database_url(), "LEDGER_DATA_DIR": str(settings.LEDGER_DATA_DIR)}
    command = [sys.executable, "manage.py", "import_payments", str(path)]

    results = together(env, command, command)

    summaries = [json.loads(r.stdout) for r in results]
    assert sorted(s["status"] for s in summaries) == ["accepted", "duplicate"], [r.stderr[-2000:] for r in results]
    assert Payment.objects.filter(ledger=ledger).count() == 5000
    assert not Invoice.objects.filter(ledger=ledger).exclude(status="closed").exists()
    assert all(check["ok"] for check in ledger_verify(ledger=ledger))


def test_two_watchers_on_one_inbox_import_each_file_once(transactional_db, settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    ledger = LedgerFactory(company_no="7777", ledger_no="54321", country="NO")
    inbox = company_dir("7777", "inbox")
    old = time.time() - 3600
    for f in range(8):
        upload = write_cusin(
            inbox / f"CUSIN_7777_2026011508300{f}_{f + 1}.xml", company_no="7777",
            customers=[CustomerSpec(customer_no=f"{f}{n:04d}", name=f"Customer {f}-{n}", street="Storgata 1",
                                    zip_code="0155", city="Oslo",
                                    items=[InvoiceSpec(invoice_no=f"W-{f}-{n}", invoice_date=ledger.today(),
                                                       amount_excl_vat=100, vat_amount=25, currency="NOK")])
                       for n in range(300)],
        )  # fmt: skip
        os.utime(upload, (old, old))  # uploads finished an hour ago
    env = {**os.environ, "DATABASE_URL": database_url(), "LEDGER_DATA_DIR": str(settings.LEDGER_DATA_DIR)}
    command = [sys.executable, "manage.py", "watch_inbox", "--once"]

    results = together(env, command, command)

    assert all(r.returncode == 0 for r in results), [r.stderr[-2000:] for r in results]
    imported = [entry["file"] for r in results for entry in json.loads(r.stdout)["files"]]
    assert sorted(imported) == sorted(f"CUSIN_7777_2026011508300{f}_{f + 1}.xml" for f in range(8))  # once each
    assert CusinFile.objects.filter(ledger=ledger, status=FileStatus.ACCEPTED).count() == 8
    assert Invoice.objects.filter(ledger=ledger).count() == 8 * 300
    assert list(inbox.iterdir()) == [] and not any(claims_dir("7777").iterdir())
    assert all(check["ok"] for check in ledger_verify(ledger=ledger))


def test_two_document_runs_at_once_send_each_letter_once(transactional_db, settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    ledger = LedgerFactory(country="NO")
    today = ledger.today()
    requests = []
    for n in range(60):
        customer = CustomerFactory(ledger=ledger, email=f"kunde{n}@example.no")
        invoice = InvoiceFactory(customer=customer, invoice_no=f"M-{n}", invoice_date=today)
        requests.append(DocumentRequest(ledger.id, customer.id, invoice.id, "reminder", today, f"m{n}", {}))
    documents_queue(requests=requests)
    env = {**os.environ, "DATABASE_URL": database_url(), "LEDGER_DATA_DIR": str(settings.LEDGER_DATA_DIR)}
    command = [sys.executable, "manage.py", "distribute_documents", "--date", today.isoformat(),
               "--ledger", ledger.company_no]  # fmt: skip

    results = together(env, command, command)

    assert all(r.returncode == 0 for r in results), [r.stderr[-2000:] for r in results]
    letters = Document.objects.filter(ledger=ledger, kind="reminder")
    assert not letters.exclude(status=DocumentStatus.SENT).exists()
    assert DocumentEvent.objects.filter(document__in=letters, to_status="sent").count() == 60
    mail = "".join(p.read_text(errors="replace") for p in (settings.LEDGER_DATA_DIR / "mail").iterdir())
    ids = re.findall(r"^Message-ID: <document-(\d+)@", mail, flags=re.MULTILINE)
    sent = Document.objects.filter(ledger=ledger, status=DocumentStatus.SENT)  # (the invoices' own too)
    assert sorted(map(int, ids)) == sorted(sent.values_list("pk", flat=True))  # each e-mailed once
    assert set(letters.values_list("pk", flat=True)) <= set(map(int, ids))
    assert all(check["ok"] for check in ledger_verify(ledger=ledger))
