"""`manage.py send_payouts` and `book_settlements` SIGKILLed again and again at different moments of
their runs (issue 27,
docs/reliability.md): whatever moment a kill hits (before the claim, between the hidden write and the
commit, between the commit and the publication, after), the payouts end up in exactly one published
pain.001 file of one committed batch, each payout once, and no file the bank can fetch is left for payouts
still pending. The states each window leaves are also made exactly in tests/ledger/test_payouts.py."""

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from accounting.models import Settlement, SettlementAgreement, SettlementFrequency
from ledger.models import JournalTransaction, Payout, PayoutBatch, PendingOutboxFile, TransactionKind
from ledger.outbox import company_dir
from ledger.verify import ledger_verify
from tests.accounting.test_settlement_book import CLIENT_ACCOUNT
from tests.cusin.test_celery_worker import database_url
from tests.factories import CustomerFactory, InvoiceFactory
from tests.ledger.test_payments_import import book, ocr_file, pay
from tests.ledger.test_payouts import NS, SEND_DAY, credit_refund, ledger_with_account

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[2]
PAYOUTS = 30
KILL_AFTER_SECONDS = [0.4, 0.8, 1.1, 1.3, 1.5, 1.7, 1.9, 2.1, 2.4, 2.8]


def killed_again_and_again(command: list[str], env: dict, check) -> None:
    """Run the command KILL_AFTER_SECONDS times, each SIGKILLed after that long if still running, and
    `check` what it left after each."""
    killed = 0
    for delay in KILL_AFTER_SECONDS:
        run = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if run.poll() is None:
            run.send_signal(signal.SIGKILL)
            killed += 1
        run.wait(timeout=60)
        check()
    assert killed >= 3, "the runs ended before the kills: give them more work"


def test_payouts_killed_at_any_moment_go_out_once_in_one_published_file(transactional_db, settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    ledger = ledger_with_account(name="Inkasso Nord AS", client_name="Nordlys Energi AS")
    ledger.settle_surplus_against_oldest = False
    ledger.save(update_fields=["settle_surplus_against_oldest"])
    payouts = [credit_refund(ledger, archive_ref=f"{100 + n:09d}") for n in range(PAYOUTS)]
    env = {**os.environ, "DATABASE_URL": database_url(), "LEDGER_DATA_DIR": str(settings.LEDGER_DATA_DIR)}
    command = [sys.executable, "manage.py", "send_payouts", "--date", SEND_DAY.isoformat(),
               "--ledger", ledger.company_no]  # fmt: skip
    outbox = company_dir(ledger.company_no, "outbox")

    def check() -> None:  # at every moment: a file the bank can fetch belongs to a committed batch, whole
        for path in outbox.iterdir():
            if not path.name.startswith("."):
                batch = PayoutBatch.objects.get(file_name=path.name)
                assert etree.parse(str(path)).findtext(".//p:GrpHdr/p:MsgId", namespaces=NS) == batch.message_id

    killed_again_and_again(command, env, check)
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)  # no kill
    assert done.returncode == 0, done.stdout + done.stderr

    [batch] = PayoutBatch.objects.filter(ledger=ledger)
    assert sorted(Payout.objects.filter(batch=batch).values_list("id", flat=True)) == sorted(p.id for p in payouts)
    assert not Payout.objects.filter(ledger=ledger, status="pending").exists()
    assert [p.name for p in outbox.iterdir() if not p.name.startswith(".")] == [batch.file_name]
    assert not PendingOutboxFile.objects.exists()
    document = etree.parse(str(outbox / batch.file_name))
    assert len(document.findall(".//p:CdtTrfTxInf", namespaces=NS)) == PAYOUTS
    assert all(check["ok"] for check in ledger_verify(ledger=ledger)), ledger_verify(ledger=ledger)


def test_a_settlement_killed_at_any_moment_pays_the_client_once(transactional_db, settings, tmp_path):
    """`manage.py book_settlements` SIGKILLed again and again at different moments (the booking, the
    Balance Report, the pain.001 paying the client, the PDF after the commit): in the end the period is
    settled once, by one transaction, with one payment file the bank can fetch, and no file is visible
    for a settlement that was rolled back."""
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    ledger = ledger_with_account()
    SettlementAgreement.objects.create(ledger=ledger, frequency=SettlementFrequency.DAILY, bank_account=CLIENT_ACCOUNT)
    for n in range(20):
        invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), amount=Decimal("250.00"))
        book(ocr_file([pay(invoice.payment_ref, "250.00", f"{300 + n:09d}")], number=f"{300 + n:07d}"),
             name=f"{n}.txt")  # fmt: skip
    env = {**os.environ, "DATABASE_URL": database_url(), "LEDGER_DATA_DIR": str(settings.LEDGER_DATA_DIR)}
    command = [sys.executable, "manage.py", "book_settlements", "--date", "2026-03-03", "--ledger", ledger.company_no]
    outbox = company_dir(ledger.company_no, "outbox")

    def check() -> None:
        visible = [p.name for p in outbox.iterdir() if not p.name.startswith(".")]
        settled = Settlement.objects.filter(ledger=ledger).first()
        if settled is None:  # nothing committed: nothing the bank or the client can fetch
            assert visible == [], visible
        else:  # committed: only its own files, never a second payment file
            assert set(visible) <= {settled.balance_report_file, settled.payment_file,
                                    settled.balance_report_file.replace(".xml", ".pdf")}  # fmt: skip

    killed_again_and_again(command, env, check)
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)  # no kill
    assert done.returncode == 0, done.stdout + done.stderr

    [settled] = Settlement.objects.filter(ledger=ledger)
    assert JournalTransaction.objects.filter(ledger=ledger, kind=TransactionKind.SETTLEMENT).count() == 1
    visible = sorted(p.name for p in outbox.iterdir() if not p.name.startswith("."))
    assert settled.payment_file in visible and settled.balance_report_file in visible
    assert sum(1 for name in visible if name.startswith("SETTLEMENT") or name == settled.payment_file) == 1
    assert not PendingOutboxFile.objects.exists()
    assert all(check["ok"] for check in ledger_verify(ledger=ledger)), ledger_verify(ledger=ledger)
