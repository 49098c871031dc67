"""A disk that fills up while the business day writes files for clients (issue 27, docs/reliability.md).

The day runs in a process of its own whose files may not grow past a few kilobytes (RLIMIT_FSIZE: the
kernel refuses the write past it with EFBIG, as it refuses one on a full disk with ENOSPC; the database
server, another process, is not limited). The run fails with a clear error naming the file, leaves no
file and no half-written file in the outbox and books nothing of its own; the next run, with room again,
writes the day's files whole."""

import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from lxml import etree
from pypdf import PdfReader

from accounting.models import AccountingFile
from cusin.generate import CustomerSpec, InvoiceSpec, write_cusin
from distribution.models import Document, DocumentStatus
from ledger.models import Invoice, Payout, PayoutBatch, Posting
from ledger.outbox import company_dir
from ledger.verify import ledger_verify
from tests.cusin.test_celery_worker import database_url
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory
from tests.ledger.test_payouts import NS, SEND_DAY, credit_refund, ledger_with_account

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 3, 2)


def manage(settings, *args: str, file_limit: int | None = None, **env: str) -> tuple[dict, int]:
    """`manage.py <args>` in a process of its own, its files limited to `file_limit` bytes."""

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300, preexec_fn=limited if file_limit else None,
        env={**os.environ, "DATABASE_URL": database_url(), "LEDGER_DATA_DIR": str(settings.LEDGER_DATA_DIR),
             "PYTHONDONTWRITEBYTECODE": "1", **env},
    )  # fmt: skip
    assert done.stdout, done.stderr
    return json.loads(done.stdout), done.returncode


def run_daily(settings, *args: str, file_limit: int | None = None) -> tuple[dict, int]:
    return manage(settings, "run_daily", "--date", DAY.isoformat(), *args, file_limit=file_limit)


@pytest.fixture
def ledger(transactional_db, settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    ledger = LedgerFactory(country="NO", company_no="7390", ledger_no="54390")
    customer = CustomerFactory(ledger=ledger)
    for n in range(40):
        InvoiceFactory(customer=customer, invoice_no=f"D-{n}", booking_date=DAY, invoice_date=DAY,
                       amount=Decimal("100.00") + n)  # fmt: skip
    return ledger


def test_the_accounting_files_on_a_full_disk_fail_whole_and_are_written_by_the_next_run(ledger, settings):
    outbox = company_dir(ledger.company_no, "outbox")

    summary, code = run_daily(settings, "--only", "accounting", file_limit=4096)

    assert code != 0 and summary["ok"] is False
    [entry] = summary["ledgers"]
    error = entry["accounting"]["error"]
    assert error["code"] == "outbox_write_failed" and "cannot write ACCOUNTINGDETAIL_7390_20260302" in error["message"]
    assert "File too large" in error["message"]
    assert list(outbox.iterdir()) == []  # no file, no half-written one, no temporary one
    assert not AccountingFile.objects.filter(ledger=ledger).exists()

    summary, code = run_daily(settings, "--only", "accounting")

    assert code == 0 and summary["ok"] is True, summary
    files = AccountingFile.objects.filter(ledger=ledger)
    assert sorted(f.file_name for f in files) == sorted(p.name for p in outbox.iterdir())
    csv = next(f for f in files if f.file_name.endswith(".csv"))
    lines = (outbox / csv.file_name).read_text(encoding="utf-8-sig").splitlines()
    details = [line for line in lines if line.startswith("D;")]
    assert len(details) == csv.records == Posting.objects.filter(ledger=ledger).count() == 80  # whole
    assert all(check["ok"] for check in ledger_verify(ledger=ledger)), ledger_verify(ledger=ledger)


def test_letters_on_a_full_disk_wait_for_a_retry_and_are_archived_whole(ledger, settings):
    Document.objects.filter(ledger=ledger).delete()
    summary, code = run_daily(settings, "--only", "distribution", file_limit=4096)

    documents = Document.objects.filter(ledger=ledger)
    assert documents.exists() and not documents.exclude(status=DocumentStatus.RETRY).exists(), summary
    assert all("File too large" in d.last_error for d in documents)
    assert not documents.exclude(archive_name="").exists()  # nothing archived half-written
    archive = Path(settings.LEDGER_DATA_DIR) / "documents"
    assert not archive.exists() or not any(p.is_file() for p in archive.rglob("*"))  # not even a temporary one

    Document.objects.filter(ledger=ledger).update(claimed_at=timezone.now() - timedelta(hours=1))
    summary, code = run_daily(settings, "--only", "distribution")  # the retry, with room again

    assert code == 0 and summary["ok"] is True, summary
    assert not documents.filter(status__in=[DocumentStatus.RETRY, DocumentStatus.QUEUED]).exists()
    for document in documents.all():  # (read again: `documents` holds the rows read before the retry)
        pdf = PdfReader(archive / document.archive_name)  # whole: it parses, with its pages
        assert len(pdf.pages) == document.pages >= 1
        assert hashlib.sha256((archive / document.archive_name).read_bytes()).hexdigest() == document.checksum
    assert sorted(p.name for p in archive.rglob("*") if p.is_file()) == sorted(
        Path(d.archive_name).name for d in documents.all()
    )
    assert all(check["ok"] for check in ledger_verify(ledger=ledger)), ledger_verify(ledger=ledger)


def test_a_cusin_receipt_on_a_full_disk_is_written_whole_by_the_retry_and_nothing_booked_twice(
    transactional_db, settings, tmp_path
):
    """The invoices are booked, the receipt cannot be written: the file stays claimed (not archived, no
    receipt, not even half of one); the retry, once the claim is stale, books nothing again and writes
    the receipt whole."""
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    ledger = LedgerFactory(company_no="7393", ledger_no="54393", country="NO")
    name = "CUSIN_7393_20260302083000_1.xml"
    upload = write_cusin(company_dir("7393", "inbox") / name, company_no="7393", customers=[
        CustomerSpec(customer_no=str(100 + n), name=f"Customer {n}", street="Storgata 1", zip_code="0155",
                     city="Oslo", items=[InvoiceSpec(invoice_no=f"F-{n}", invoice_date=DAY, amount_excl_vat=100,
                                                     vat_amount=25, currency="NOK")])
        for n in range(30)])  # fmt: skip
    old = time.time() - 3600
    os.utime(upload, (old, old))
    outbox = company_dir("7393", "outbox")

    summary, _ = manage(settings, "watch_inbox", "--once", file_limit=200)

    [entry] = summary["files"]
    assert entry["status"] == "error" and "File too large" in entry["error"], entry
    assert list(outbox.iterdir()) == [] and Invoice.objects.filter(ledger=ledger).count() == 30

    summary, code = manage(settings, "watch_inbox", "--once", CUSIN_INBOX_STALE_SECONDS="0")

    assert code == 0 and [f["status"] for f in summary["files"]] == ["accepted"], summary
    assert Invoice.objects.filter(ledger=ledger).count() == 30  # booked once
    receipt = outbox / "CUSIN_7393_20260302083000_1_receipt.xml"
    assert [p.name for p in outbox.iterdir()] == [receipt.name]
    assert etree.parse(str(receipt)).getroot() is not None  # whole: it parses
    assert all(check["ok"] for check in ledger_verify(ledger=ledger)), ledger_verify(ledger=ledger)


def test_a_payout_file_on_a_full_disk_leaves_every_payout_pending_and_the_next_run_sends_them(
    transactional_db, settings, tmp_path
):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    ledger = ledger_with_account(name="Inkasso Nord AS", client_name="Nordlys Energi AS")
    ledger.settle_surplus_against_oldest = False
    ledger.save(update_fields=["settle_surplus_against_oldest"])
    payouts = [credit_refund(ledger, archive_ref=f"{500 + n:09d}") for n in range(5)]
    outbox = company_dir(ledger.company_no, "outbox")
    args = ("send_payouts", "--date", SEND_DAY.isoformat(), "--ledger", ledger.company_no)

    summary, code = manage(settings, *args, file_limit=1000)

    assert code != 0 and summary["ledgers"][0]["error"]["code"] == "outbox_write_failed", summary
    assert "File too large" in summary["ledgers"][0]["error"]["message"]
    assert list(outbox.iterdir()) == []  # nothing, not even the hidden file
    assert not PayoutBatch.objects.exists() and not Payout.objects.exclude(status="pending").exists()

    summary, code = manage(settings, *args)

    assert code == 0, summary
    [batch] = PayoutBatch.objects.all()
    assert [p.name for p in outbox.iterdir()] == [batch.file_name]
    assert etree.parse(str(outbox / batch.file_name)).findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=NS) == "5"
    assert sorted(Payout.objects.filter(batch=batch).values_list("id", flat=True)) == sorted(p.id for p in payouts)
    assert all(check["ok"] for check in ledger_verify(ledger=ledger)), ledger_verify(ledger=ledger)
