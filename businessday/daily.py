"""The business day: every part of the daily run, for every ledger, in order.

1. inbox: CUSIN files from every client's sFTP inbox (cusin/inbox.py);
2. payments: bank files from the bank inbox (ledger/payments/inbox.py);
3. settings: the client administrators' changes to the ledger rules and the claim process that take
   effect on this day (ledger/settings_changes.py, claims/settings_changes.py);
4. direct_debit: settle the attempts at the bank, then send the next claims (ledger/payments/direct_debit/);
5. claims: escalation with fees and the interest accrued so far (claims/services/escalation.py);
6. distribution: the day's invoices queued, and the day's documents rendered, archived and sent;
7. settlement: the client's settlement when a period of its agreement ended (accounting/);
8. accounting: the day's accounting files (after the settlement: it is booked on the same day);
9. summaries: the dashboard's summaries of the journal and of the documents merged, one row per key
   (ledger/summaries.py, distribution/summaries.py).

Each part is its own transaction and is safe to run twice for the same date; a part that fails is reported
(with its error code) and the parts after it still run. Each part also runs alone (`parts=`).
"""

import logging
import os
import socket
import time
from datetime import date

from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from accounting.models import SettlementAgreement
from accounting.services import accounting_files_write, settlement_book
from businessday.models import ChunkStatus, DayChunk, DayPlan
from claims.models import BusinessDayRun
from claims.services.common import SYSTEM_ACTOR
from claims.services.escalation import claims_escalate
from claims.settings_changes import claim_changes_apply
from cusin.inbox import inbox_scan
from distribution.services.queueing import invoice_documents_queue
from distribution.services.sending import documents_distribute
from distribution.summaries import document_months_compact
from ledger.bulk import connection_drop_if_broken
from ledger.errors import LedgerError
from ledger.models import Ledger
from ledger.payments.direct_debit.claims import debit_claims_send
from ledger.payments.direct_debit.settlement import debit_attempts_settle
from ledger.payments.inbox import bank_inbox_scan
from ledger.settings_changes import ledger_rule_changes_apply
from ledger.summaries import ledger_summaries_compact

logger = logging.getLogger(__name__)

GLOBAL_PARTS = ("inbox", "payments")
LEDGER_PARTS = ("settings", "direct_debit", "claims", "distribution", "settlement", "accounting", "summaries")
PARTS = GLOBAL_PARTS + LEDGER_PARTS


def _direct_debit(ledger: Ledger, as_of: date) -> dict:
    return {
        "settled": debit_attempts_settle(ledger=ledger, as_of=as_of, actor=SYSTEM_ACTOR),
        "sent": debit_claims_send(ledger=ledger, as_of=as_of, actor=SYSTEM_ACTOR),
    }


def _distribution(ledger: Ledger, as_of: date) -> dict:
    queued = invoice_documents_queue(ledger=ledger, as_of=as_of)
    return {"invoices_queued": queued, **documents_distribute(as_of=as_of, ledger=ledger)}


def _settlement(ledger: Ledger, as_of: date) -> dict:
    if not SettlementAgreement.objects.filter(ledger=ledger).exists():
        return {"skipped": "no settlement agreement"}
    return settlement_book(ledger=ledger, as_of=as_of)


def _settings(ledger: Ledger, as_of: date) -> dict:
    return {
        "ledger_rules": ledger_rule_changes_apply(ledger=ledger, as_of=as_of),
        "claim_process": claim_changes_apply(ledger=ledger, as_of=as_of),
    }


LEDGER_PART_RUNNERS = {
    "settings": _settings,
    "direct_debit": _direct_debit,
    "claims": lambda ledger, as_of: claims_escalate(ledger=ledger, as_of=as_of),
    "distribution": _distribution,
    "settlement": _settlement,
    "accounting": lambda ledger, as_of: accounting_files_write(ledger=ledger, as_of=as_of),
    "summaries": lambda ledger, as_of: {
        **ledger_summaries_compact(ledger=ledger),
        "document_months": document_months_compact(ledger=ledger),
    },
}


def _run_part(name: str, run, *args) -> tuple[dict, bool]:
    try:
        return run(*args), True
    except LedgerError as exc:
        logger.warning("business day: %s failed: %s", name, exc)
        return {"error": exc.as_dict()}, False
    except DatabaseError as exc:
        # The database restarted or went away (each part rolls its own transaction back): the part is
        # recorded as failed and the day goes on with a new connection, which the next run retries.
        logger.exception("business day: %s failed on the database", name)
        connection_drop_if_broken()
        return {"error": {"code": "database_error", "message": f"{type(exc).__name__}: {exc}".strip()}}, False


def business_day_run(
    *, as_of: date, company_nos: list[str] | None = None, parts: list[str] | None = None, workers: int = 1
) -> dict:
    """Run the business day `as_of`; returns {"date", "ok", "inbox", "payments", "ledgers": [...]}.

    The ledgers' parts are planned as one chunk per ledger (business_day_plan); with `workers` > 1,
    workers - 1 Celery tasks join this process in working them off (business_day_work); the summary is
    collected once every chunk is done, a dead worker's chunk taken over (business_day_collect)."""
    parts = list(parts or PARTS)
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise LedgerError(f"unknown parts {sorted(unknown)}; use {', '.join(PARTS)}", code="unknown_part")
    summary: dict = {"date": as_of.isoformat(), "ok": True, "ledgers": []}
    if "inbox" in parts:
        summary["inbox"], ok = _run_part("inbox", inbox_scan)
        summary["ok"] &= ok and all(f["status"] != "error" for f in summary["inbox"].get("files", []))
    if "payments" in parts:
        summary["payments"], ok = _run_part("payments", bank_inbox_scan)
        summary["ok"] &= ok and all(f["status"] != "error" for f in summary["payments"].get("files", []))
    plan = business_day_plan(as_of=as_of, company_nos=company_nos, parts=parts)
    if workers > 1:
        from businessday.tasks import work_business_day  # (the task module imports this one)

        for _ in range(workers - 1):
            work_business_day.delay(plan.pk)
    business_day_work(plan=plan)
    entries = business_day_collect(plan=plan)
    summary["ledgers"] = entries
    summary["ok"] &= all(entry["ok"] for entry in entries)
    return summary


def business_day_plan(*, as_of: date, company_nos: list[str] | None = None, parts: list[str]) -> DayPlan:
    """A new run of the day: one pending chunk per ledger (all, or those named), set-based."""
    ledgers = Ledger.objects.order_by("company_no")
    if company_nos:
        ledgers = ledgers.filter(company_no__in=company_nos)
        missing = set(company_nos) - set(ledgers.values_list("company_no", flat=True))
        if missing:
            raise LedgerError(f"no ledger {', '.join(sorted(missing))}", code="ledger_not_found")
    with transaction.atomic():
        plan = DayPlan.objects.create(business_date=as_of, parts=[p for p in LEDGER_PARTS if p in parts])
        ledger_sql, ledger_params = ledgers.values("id").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO businessday_daychunk (plan_id, ledger_id, status, worker, claims, summary) "
                f"SELECT %s, l.id, 'pending', '', 0, '{{}}' FROM ({ledger_sql}) l",
                [plan.pk, *ledger_params],
            )
    return plan


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def _chunk_claim(plan: DayPlan, worker: str) -> DayChunk | None:
    """The next pending chunk of the plan, claimed by a conditional UPDATE (SKIP LOCKED: workers never
    wait for each other), or None when none is pending."""
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE businessday_daychunk SET status = 'running', worker = %s, claims = claims + 1,
                      claimed_at = now()
                WHERE id = (SELECT id FROM businessday_daychunk WHERE plan_id = %s AND status = 'pending'
                             ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING id""",
            [worker, plan.pk],
        )
        row = cursor.fetchone()
    return None if row is None else DayChunk.objects.select_related("ledger").get(pk=row[0])


def _chunk_take_over(plan: DayPlan, worker: str) -> DayChunk | None:
    """A running chunk whose worker died: its ledger's day lock is free (the lock goes with the session,
    _day_claim), so this worker takes the lock and the chunk; its parts are idempotent, so what the dead
    worker finished stays as it was. Returns the chunk with its ledger's day lock held."""
    for chunk in DayChunk.objects.filter(plan=plan, status=ChunkStatus.RUNNING).select_related("ledger"):
        if not _day_claim(chunk.ledger, plan.business_date):
            continue  # alive, or another plan's run of the same day holds it
        taken = DayChunk.objects.filter(pk=chunk.pk, status=ChunkStatus.RUNNING, worker=chunk.worker).update(
            worker=worker, claims=F("claims") + 1, claimed_at=timezone.now()
        )
        if taken:
            chunk.refresh_from_db()
            return chunk
        _day_release(chunk.ledger, plan.business_date)
    return None


def _chunk_run(plan: DayPlan, chunk: DayChunk, *, locked: bool) -> None:
    ledger, as_of = chunk.ledger, plan.business_date
    if not locked and not _day_claim(ledger, as_of):
        entry = {"ledger": ledger.company_no, "ok": True, "skipped": "the day is running in another process"}
    else:
        try:
            run = BusinessDayRun.objects.create(ledger=ledger, business_date=as_of)
            entry = {"ledger": ledger.company_no, "ok": True}
            for name in plan.parts:
                entry[name], ok = _run_part(name, LEDGER_PART_RUNNERS[name], ledger, as_of)
                entry["ok"] &= ok
            run.summary, run.finished_at = entry, timezone.now()
            run.save(update_fields=["summary", "finished_at"])
        finally:
            _day_release(ledger, as_of)
    DayChunk.objects.filter(pk=chunk.pk).update(status=ChunkStatus.DONE, summary=entry, finished_at=timezone.now())


def business_day_work(*, plan: DayPlan, worker: str | None = None) -> int:
    """Work off the plan's pending chunks, one at a time, until none is left; returns how many this
    worker ran. Any number of workers, in any processes, may work one plan at once."""
    worker = worker or _worker_name()
    done = 0
    while (chunk := _chunk_claim(plan, worker)) is not None:
        _chunk_run(plan, chunk, locked=False)
        done += 1
    return done


def business_day_collect(*, plan: DayPlan, poll_seconds: float = 0.2, worker: str | None = None) -> list[dict]:
    """Wait for every chunk of the plan to be done, taking over those of workers that died, and return
    the ledgers' entries in the order of their CompanyNo."""
    worker = worker or _worker_name()
    while DayChunk.objects.filter(plan=plan).exclude(status=ChunkStatus.DONE).exists():
        business_day_work(plan=plan, worker=worker)  # a chunk planned but not yet claimed
        chunk = _chunk_take_over(plan, worker)
        if chunk is not None:
            _chunk_run(plan, chunk, locked=True)
        elif DayChunk.objects.filter(plan=plan).exclude(status=ChunkStatus.DONE).exists():
            time.sleep(poll_seconds)  # other workers are on the rest
    return [c.summary for c in DayChunk.objects.filter(plan=plan).order_by("ledger__company_no")]


# A ledger's business day runs in one process at a time, whoever sent it (the beat, a task the broker
# handed out again, an operator): a session lock of the database decides, not Redis. A second run while
# the first holds it skips the ledger; one after it runs again and changes nothing (every part is
# idempotent). The lock goes with the session, so a killed worker leaves none behind.
def _day_claim(ledger: Ledger, as_of: date) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s), %s)", [f"business_day:{as_of}", ledger.id])
        return cursor.fetchone()[0]


def _day_release(ledger: Ledger, as_of: date) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s), %s)", [f"business_day:{as_of}", ledger.id])
    except DatabaseError:  # the session is gone (a restart): its locks went with it
        connection_drop_if_broken()
