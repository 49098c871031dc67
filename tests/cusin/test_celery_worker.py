"""A real Celery worker, against the real broker, runs the inbox scan task (only with REDIS_URL)."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from cusin.generate import CustomerSpec, InvoiceSpec, write_cusin
from cusin.tasks import scan_inbox
from ledger.models import Invoice
from ledger.outbox import company_dir
from tests.factories import LedgerFactory

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs a broker: set REDIS_URL")

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The test database as a URL, for the worker process."""
    db = connection.settings_dict
    user = quote(db["USER"] or "")
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    # The embedded server is reached by its socket directory, which dj-database-url puts in OPTIONS.
    host = db["HOST"] or db.get("OPTIONS", {}).get("host") or "localhost"
    if host.startswith("/"):
        return f"postgres://{user}{password}@/{db['NAME']}?host={quote(host)}"
    return f"postgres://{user}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def test_a_worker_imports_the_inbox(transactional_db, settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    ledger = LedgerFactory(company_no="7777", ledger_no="54321", country="NO")
    upload = write_cusin(
        company_dir("7777", "inbox") / "CUSIN_7777_20260115083000_1.xml",
        company_no="7777",
        customers=[
            CustomerSpec(
                customer_no="1",
                name="Kari",
                street="Storgata 1",
                zip_code="0155",
                city="Oslo",
                items=[
                    InvoiceSpec(
                        invoice_no="W-1",
                        invoice_date=ledger.today(),
                        amount_excl_vat=100,
                        vat_amount=25,
                        currency="NOK",
                    )
                ],
            )
        ],
    )
    old = time.time() - 3600
    os.utime(upload, (old, old))  # an upload finished an hour ago

    queue = f"test-{uuid.uuid4().hex[:8]}"  # our own queue: no other worker takes the task
    env = {**os.environ, "DATABASE_URL": database_url(), "LEDGER_DATA_DIR": str(settings.LEDGER_DATA_DIR)}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "payex_ledger",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        summary = scan_inbox.apply_async(queue=queue, ignore_result=False).get(timeout=120)
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
    assert summary["files"] == [
        {
            "company_no": "7777",
            "file": "CUSIN_7777_20260115083000_1.xml",
            "status": "accepted",
            "moved_to": summary["files"][0]["moved_to"],
        }
    ], output
    assert Invoice.objects.filter(ledger=ledger, invoice_no="W-1").exists()
    assert (company_dir("7777", "outbox") / "CUSIN_7777_20260115083000_1_receipt.xml").is_file()
