"""`run_daily`: the whole business day per ledger, JSON out, safe to run twice, and two workers at once."""

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from businessday.daily import business_day_run
from claims.models import BusinessDayRun, ClaimEvent, ClaimEventKind, ClaimStep
from claims.services.process import default_process
from ledger.models import InvoiceStatus, JournalTransaction
from ledger.payments.bankfiles.write import PaymentSpec, write_ocr_giro
from ledger.payments.inbox import bank_dir
from tests.cusin.test_celery_worker import database_url
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "15030000002"
DAY0 = date(2025, 1, 1)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def run_daily(*args) -> tuple[dict, int]:
    out = StringIO()
    try:
        call_command("run_daily", *args, stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return json.loads(out.getvalue()), code


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    return settings.LEDGER_DATA_DIR


def test_run_daily_runs_every_part_for_every_ledger_and_twice_changes_nothing(db, data_dir):
    norway = LedgerFactory(country="NO", client_funds_account=ACCOUNT)
    sweden = LedgerFactory(country="SE")
    paid = InvoiceFactory(customer=CustomerFactory(ledger=norway), invoice_date=DAY0)
    unpaid = InvoiceFactory(customer=CustomerFactory(ledger=norway), invoice_date=DAY0)
    swedish = InvoiceFactory(customer=CustomerFactory(ledger=sweden), invoice_date=DAY0)
    (bank_dir("inbox") / "ocr-20250118.txt").write_bytes(
        write_ocr_giro(
            [PaymentSpec(reference=paid.payment_ref, amount=Decimal("1000.00"), archive_ref="000000001")],
            receiving_account=ACCOUNT,
            nets_date=day(17),
        )
    )

    summary, code = run_daily("--date", day(17).isoformat())

    assert code == 0 and summary["ok"] is True
    assert summary["payments"]["files"] == [
        {"file": "ocr-20250118.txt", "status": "accepted", "payments": 1, "ledger": norway.company_no}
    ]
    assert (bank_dir("archive") / "ocr-20250118.txt").is_file()
    by_ledger = {entry["ledger"]: entry for entry in summary["ledgers"]}
    assert by_ledger[norway.company_no]["claims"]["by_step"] == {"sms_reminder": 1}
    assert by_ledger[sweden.company_no]["claims"]["steps_taken"] == 0
    assert set(by_ledger[norway.company_no]) >= {"direct_debit", "claims", "distribution", "accounting"}
    paid.refresh_from_db()
    assert paid.status == InvoiceStatus.CLOSED
    assert ClaimEvent.objects.filter(invoice=unpaid, kind=ClaimEventKind.STEP).count() == 1
    assert ClaimEvent.objects.filter(invoice=swedish).count() == 0
    transactions = JournalTransaction.objects.count()

    again, code = run_daily("--date", day(17).isoformat())

    assert code == 0
    assert all(entry["claims"]["steps_taken"] == 0 for entry in again["ledgers"])
    assert again["payments"]["files"] == []
    assert JournalTransaction.objects.count() == transactions
    assert BusinessDayRun.objects.filter(business_date=day(17)).count() == 4  # two ledgers, two runs


def test_one_part_alone_and_one_ledger(db, data_dir):
    ledger = LedgerFactory(country="NO")
    other = LedgerFactory(country="NO")
    InvoiceFactory(customer=CustomerFactory(ledger=ledger), invoice_date=DAY0)

    summary, code = run_daily(
        "--date", day(17).isoformat(), "--only", "claims", "--ledger", ledger.company_no
    )

    assert code == 0
    assert [entry["ledger"] for entry in summary["ledgers"]] == [ledger.company_no]
    assert set(summary["ledgers"][0]) == {"ledger", "ok", "claims"}
    assert "inbox" not in summary and other.company_no not in json.dumps(summary)


def test_bad_arguments_are_clear_errors(db, data_dir):
    summary, code = run_daily("--date", "2025-13-01")
    assert code == 1 and summary["error"]["code"] == "usage"
    summary, code = run_daily("--date", "2025-01-01", "--ledger", "424242")
    assert code == 1 and summary["error"]["code"] == "ledger_not_found"


def test_a_rejected_bank_file_goes_to_failed_with_its_error_and_the_day_goes_on(db, data_dir):
    ledger = LedgerFactory(country="NO")
    InvoiceFactory(customer=CustomerFactory(ledger=ledger), invoice_date=DAY0)
    (bank_dir("inbox") / "garbage.txt").write_bytes(b"this is no bank file\n")

    summary = business_day_run(as_of=day(17))

    assert summary["payments"]["files"][0]["status"] == "rejected"
    assert (bank_dir("failed") / "garbage.txt").is_file()
    assert json.loads((bank_dir("failed") / "garbage.txt.error.json").read_text())["errors"]
    assert summary["ledgers"][0]["claims"]["steps_taken"] == 1


def test_two_processes_running_the_same_day_charge_once(transactional_db, data_dir):
    ledger = LedgerFactory(country="NO")
    customer = CustomerFactory(ledger=ledger)
    invoices = [InvoiceFactory(customer=customer, invoice_date=DAY0) for _ in range(30)]
    business_day_run(as_of=day(31), parts=["claims"])  # the SMS reminders are out
    # A ledger that has never run: both workers would install its claim process.
    fresh = LedgerFactory(country="NO")
    fresh_invoice = InvoiceFactory(customer=CustomerFactory(ledger=fresh), invoice_date=day(15))

    env = {**os.environ, "DATABASE_URL": database_url(), "LEDGER_DATA_DIR": str(data_dir)}
    command = [sys.executable, "manage.py", "run_daily", "--date", day(32).isoformat(), "--only", "claims"]
    workers = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [json.loads(worker.communicate(timeout=120)[0]) for worker in workers]

    assert [worker.returncode for worker in workers] == [0, 0]
    # by CompanyNo, not by place: the factories' numbers pass 9999 -> 10000 in a long run, which sorts first
    entries = [next(entry for entry in out["ledgers"] if entry["ledger"] == ledger.company_no) for out in outputs]
    # the second either found the day running in the first (the database's lock) or ran after it: nothing new
    taken = sorted(entry["claims"]["steps_taken"] if "claims" in entry else 0 for entry in entries)
    assert taken == [0, 30]
    assert all("claims" in entry or entry["skipped"] == "the day is running in another process" for entry in entries)
    assert ClaimStep.objects.filter(ledger=fresh).count() == len(default_process("NO"))
    assert [e.step_kind for e in ClaimEvent.objects.filter(invoice=fresh_invoice)] == ["sms_reminder"]
    for invoice in invoices:
        notices = ClaimEvent.objects.filter(
            invoice=invoice, kind=ClaimEventKind.STEP, step_kind="collection_notice"
        )
        assert [e.fee for e in notices] == [Decimal("35.00")]


def test_a_day_running_in_another_session_is_skipped_not_run_twice(db, data_dir):
    """The database decides, not Redis: while another session holds the ledger's day, a second run
    skips the ledger; once it is free the day runs (and changes nothing it had done)."""
    import psycopg

    ledger = LedgerFactory(country="NO")
    other = psycopg.connect(database_url(), autocommit=True)
    try:
        other.execute("SELECT pg_advisory_lock(hashtext(%s), %s)", [f"business_day:{day(17)}", ledger.id])
        summary = business_day_run(as_of=day(17), company_nos=[ledger.company_no], parts=["claims"])
        assert summary["ledgers"] == [
            {"ledger": ledger.company_no, "ok": True, "skipped": "the day is running in another process"}
        ]
        other.execute("SELECT pg_advisory_unlock(hashtext(%s), %s)", [f"business_day:{day(17)}", ledger.id])
    finally:
        other.close()
    summary = business_day_run(as_of=day(17), company_nos=[ledger.company_no], parts=["claims"])
    assert "claims" in summary["ledgers"][0] and summary["ok"]
