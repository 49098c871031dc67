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
from datetime import date

from django.db import DatabaseError, connection
from django.utils import timezone

from accounting.models import SettlementAgreement
from accounting.services import accounting_files_write, settlement_book
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
    *, as_of: date, company_nos: list[str] | None = None, parts: list[str] | None = None
) -> dict:
    """Run the business day `as_of`; returns {"date", "ok", "inbox", "payments", "ledgers": [...]}."""
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
    ledgers = Ledger.objects.order_by("company_no")
    if company_nos:
        ledgers = ledgers.filter(company_no__in=company_nos)
        missing = set(company_nos) - set(ledgers.values_list("company_no", flat=True))
        if missing:
            raise LedgerError(f"no ledger {', '.join(sorted(missing))}", code="ledger_not_found")
    for ledger in ledgers:
        if not _day_claim(ledger, as_of):
            summary["ledgers"].append(
                {"ledger": ledger.company_no, "ok": True, "skipped": "the day is running in another process"}
            )
            continue
        try:
            run = BusinessDayRun.objects.create(ledger=ledger, business_date=as_of)
            entry = {"ledger": ledger.company_no, "ok": True}
            for name in LEDGER_PARTS:
                if name in parts:
                    entry[name], ok = _run_part(name, LEDGER_PART_RUNNERS[name], ledger, as_of)
                    entry["ok"] &= ok
            run.summary, run.finished_at = entry, timezone.now()
            run.save(update_fields=["summary", "finished_at"])
        finally:
            _day_release(ledger, as_of)
        summary["ok"] &= entry["ok"]
        summary["ledgers"].append(entry)
    return summary


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
