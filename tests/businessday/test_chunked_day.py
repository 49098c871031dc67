"""One business day shared by workers (issue 30): the day is planned as one chunk per ledger, workers in
separate processes (`run_daily --join PLAN`) claim chunks with a conditional UPDATE, and the day's result
is the same with 1, 2 and 4 workers; a dead worker's chunk is taken over."""

import os
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.db.models import Sum

from businessday.daily import business_day_collect, business_day_plan, business_day_run, business_day_work
from businessday.models import ChunkStatus, DayChunk
from claims.models import BusinessDayRun, ClaimEvent
from distribution.models import Document
from ledger.models import Invoice, Posting
from tests.cusin.test_celery_worker import database_url
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory

ROOT = Path(__file__).resolve().parents[2]
DAY0 = date(2025, 1, 1)
DAY = DAY0 + timedelta(days=31)  # the invoices are overdue: reminders, fees, documents
LEDGERS_PER_GROUP = 4


def _group(prefix: str) -> list[str]:
    """Ledgers of the same make-up (0, 1, 2, ... invoices overdue, a paid-up one), named prefix + n."""
    company_nos = []
    for n in range(LEDGERS_PER_GROUP):
        ledger = LedgerFactory(company_no=f"{prefix}{n}", country="NO")
        for i in range(3 + 2 * n):
            customer = CustomerFactory(ledger=ledger, customer_no=f"{n}{i:03d}", email=f"c{i}@example.no")
            InvoiceFactory(customer=customer, invoice_no=f"{prefix}{n}-{i}", invoice_date=DAY0,
                           amount=Decimal("100.00") * (i + 1))  # fmt: skip
        company_nos.append(ledger.company_no)
    return company_nos


def _fingerprint(company_no: str) -> dict:
    """What the day did to a ledger, without ids or names that differ between the groups."""
    postings = Posting.objects.filter(ledger__company_no=company_no)
    return {
        "balances": {a: str(s) for a, s in postings.values_list("account__role").annotate(s=Sum("amount"))},
        "postings": postings.count(),
        "claim_events": sorted(Counter(ClaimEvent.objects.filter(invoice__ledger__company_no=company_no)
                                       .values_list("kind", "step_kind", "fee")).items()),
        "documents": sorted(Counter(Document.objects.filter(ledger__company_no=company_no)
                                    .values_list("kind", "channel", "status")).items()),
        "invoices": sorted(Counter(Invoice.objects.filter(ledger__company_no=company_no)
                                   .values_list("status", "claim__level", "claim__next_on")).items()),
        "runs": BusinessDayRun.objects.filter(ledger__company_no=company_no, business_date=DAY).count(),
    }  # fmt: skip


def _run_with_workers(company_nos: list[str], workers: int, data_dir: Path) -> list[dict]:
    plan = business_day_plan(
        as_of=DAY, company_nos=company_nos, parts=["claims", "distribution", "accounting"]
    )
    env = {**os.environ, "DATABASE_URL": database_url(), "LEDGER_DATA_DIR": str(data_dir)}
    helpers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "run_daily", "--join", str(plan.pk)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(workers - 1)
    ]
    business_day_work(plan=plan, worker="test-main")
    for helper in helpers:
        out, err = helper.communicate(timeout=300)
        assert helper.returncode == 0, out + err
    entries = business_day_collect(plan=plan)
    assert [e["ledger"] for e in entries] == company_nos and all(e["ok"] for e in entries), entries
    assert set(DayChunk.objects.filter(plan=plan).values_list("status", flat=True)) == {ChunkStatus.DONE}
    return entries


def test_the_day_is_the_same_with_one_two_and_four_workers(transactional_db, settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    groups = {workers: _group(prefix) for workers, prefix in ((1, "81"), (2, "82"), (4, "84"))}
    results = {}
    for workers, company_nos in groups.items():
        entries = _run_with_workers(company_nos, workers, settings.LEDGER_DATA_DIR)
        results[workers] = [
            (_fingerprint(no), e["claims"]["steps_taken"]) for no, e in zip(company_nos, entries, strict=True)
        ]
        ran_by = set(
            DayChunk.objects.filter(ledger__company_no__in=company_nos).values_list("worker", flat=True)
        )
        if workers == 4:
            assert len(ran_by) >= 2, ran_by  # the helpers took their share (each takes the next pending one)
    assert results[1][-1][1] > 0 and results[1][-1][0]["claim_events"]  # the day did something
    assert results[2] == results[1]
    assert results[4] == results[1]


def test_a_dead_workers_chunk_is_taken_over_and_a_live_ones_is_not(transactional_db, settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    dead, alive = _group("85")[:2]
    plan = business_day_plan(as_of=DAY, company_nos=[dead, alive], parts=["claims"])
    # Both claimed by workers: one died (its session and the day lock with it), one still holds the lock.
    DayChunk.objects.filter(plan=plan).update(status=ChunkStatus.RUNNING, worker="gone:1", claims=1)
    holder = psycopg.connect(database_url(), autocommit=True)
    try:
        alive_id = DayChunk.objects.get(plan=plan, ledger__company_no=alive).ledger_id
        holder.execute("SELECT pg_advisory_lock(hashtext(%s), %s)", [f"business_day:{DAY}", alive_id])
        assert business_day_work(plan=plan, worker="new:2") == 0  # nothing pending
        from businessday.daily import _chunk_run, _chunk_take_over

        taken = _chunk_take_over(plan, "new:2")
        assert taken is not None and taken.ledger.company_no == dead and taken.claims == 2
        _chunk_run(plan, taken, locked=True)
        assert _chunk_take_over(plan, "new:2") is None  # the live one's lock is held
        assert DayChunk.objects.get(plan=plan, ledger_id=alive_id).status == ChunkStatus.RUNNING
    finally:
        holder.close()  # the live worker dies now: the collector takes its chunk over
    entries = business_day_collect(plan=plan, worker="new:2")
    assert [e["ledger"] for e in entries] == [dead, alive] and all(
        e["claims"]["steps_taken"] > 0 for e in entries
    )
    assert {c.worker for c in DayChunk.objects.filter(plan=plan)} == {"new:2"}


def test_run_daily_with_workers_shares_the_day_through_celery(db, settings, tmp_path):
    """With CELERY_TASK_ALWAYS_EAGER (no broker) the extra workers run in turn: the same day."""
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    company_nos = _group("86")
    summary = business_day_run(as_of=DAY, company_nos=company_nos, parts=["claims"], workers=3)
    assert summary["ok"] and [e["ledger"] for e in summary["ledgers"]] == company_nos
    assert DayChunk.objects.filter(ledger__company_no__in=company_nos, status=ChunkStatus.DONE).count() == 4


@pytest.mark.parametrize("args", [["--join", "999999"], []])
def test_run_daily_join_and_date_errors_are_coded(db, args):
    from tests.businessday.test_run_daily import run_daily

    summary, code = run_daily(*args)
    assert code == 1 and summary["error"]["code"] in ("plan_not_found", "date_required")
