"""A real Celery beat and worker, against Redis, run a business day (only with REDIS_URL)."""

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from claims.models import BusinessDayRun, ClaimEvent, ClaimEventKind
from tests.cusin.test_celery_worker import database_url
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs a broker: set REDIS_URL")

ROOT = Path(__file__).resolve().parents[2]


def test_beat_schedules_the_business_day_and_a_worker_runs_it(transactional_db, settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    ledger = LedgerFactory(country="NO")
    today = ledger.today()
    # Due 3 days ago: today the friendly reminder SMS is due.
    invoice = InvoiceFactory(
        customer=CustomerFactory(ledger=ledger),
        invoice_date=today - timedelta(days=17),
        due_date=today - timedelta(days=3),
    )
    queue = f"test-{uuid.uuid4().hex[:8]}"  # our own queue: no other worker takes the task
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "LEDGER_DATA_DIR": str(settings.LEDGER_DATA_DIR),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "BUSINESS_DAY_EVERY_SECONDS": "2",
        "BUSINESS_TIME_ZONE": ledger.time_zone,
    }
    common = dict(cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "payex_ledger", "worker", "--pool=solo", "-Q", queue,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=warning"], **common,
    )  # fmt: skip
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "payex_ledger", "beat", "--loglevel=warning",
         "-s", str(tmp_path / "beat-schedule")], **common,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while (
            time.monotonic() < deadline
            and not BusinessDayRun.objects.filter(finished_at__isnull=False).exists()
        ):
            time.sleep(0.5)
    finally:
        for process in (beat, worker):
            process.terminate()
        output = "".join(process.communicate(timeout=30)[0] for process in (beat, worker))

    run = BusinessDayRun.objects.filter(finished_at__isnull=False).first()
    assert run is not None, output
    assert run.business_date == today and run.summary["ok"] is True, run.summary
    steps = ClaimEvent.objects.filter(invoice=invoice, kind=ClaimEventKind.STEP)
    assert [e.step_kind for e in steps] == ["sms_reminder"]
