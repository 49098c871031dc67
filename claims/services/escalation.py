"""`claims_escalate`, the daily run of one ledger. It is set-based: one query finds the claims whose next
step is due, the decisions are made in memory (decisions.py), and the fees, interest, events and claim
updates are written with COPY and one UPDATE (writing.py). Running the same day twice finds nothing due
the second time (each claim's `next_on` has moved on, and a step is recorded at most once per claim)."""

from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from claims.models import (
    ClaimSettings,
    StepKind,
    UnpaidCostsRule,
)
from claims.services.addressees import claims_hold, claims_resume
from claims.services.common import ESCALATION_LOCK, SYSTEM_ACTOR
from claims.services.decisions import _Due, _Run
from claims.services.handover import foreign_handover_export
from claims.services.process import claim_process_install
from claims.services.writing import _write
from ledger.addressees import ADDRESSEE_SQL, minor_born_after
from ledger.bulk import _int_array
from ledger.models import (
    Cause,
    Component,
    Invoice,
    InvoiceEventKind,
    InvoiceStatus,
    Ledger,
    LegalEntity,
    User,
)
from ledger.payments.direct_debit.selectors import invoices_in_direct_debit
from ledger.services.invoice_changes import invoice_costs_carry, invoice_write_off
from ledger.services.respite_dispute import invoice_respite_clear

# --- The daily escalation ------------------------------------------------------------------------


def _expire_respites(ledger: Ledger, as_of: date, actor) -> int:
    """A respite ends after its date: the claim resumes (its schedule moved by the days it paused)."""
    expired = Invoice.objects.filter(ledger=ledger, status=InvoiceStatus.RESPITE, respite_until__lt=as_of)
    count = 0
    for invoice in expired:
        invoice_respite_clear(
            invoice=invoice,
            actor=actor,
            reason=f"respite until {invoice.respite_until.isoformat()} ended",
            booking_date=invoice.respite_until + timedelta(days=1),
        )
        count += 1
    return count


def _sync_claims(ledger: Ledger, first_offset: int, now) -> tuple[int, int]:
    """Open a claim for every open invoice that has none, and close the claims of closed invoices."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO claims_claim (ledger_id, invoice_id, status, position, level, deadline, next_on,
                                      reminder_fees, collection_fees_charged, compensation_charged, interest_booked,
                                      pauses_counted_at, updated_at)
            -- Pauses count from the invoice's registration: a respite set before the first run moves it too.
            SELECT i.ledger_id, i.id, 'active', 0, '', i.due_date, i.due_date + %s, 0, 0, 0, 0, i.created_at, %s
              FROM ledger_invoice i
             WHERE i.ledger_id = %s AND i.status <> 'closed'
               AND NOT EXISTS (SELECT 1 FROM claims_claim c WHERE c.invoice_id = i.id)
            """,
            [first_offset, now, ledger.id],
        )
        opened = cursor.rowcount
        cursor.execute(
            """
            UPDATE claims_claim c SET status = 'closed', next_on = NULL, updated_at = %s
              FROM ledger_invoice i
             WHERE c.invoice_id = i.id AND c.ledger_id = %s AND i.status = 'closed' AND c.status IN ('active', 'held')
            """,
            [now, ledger.id],
        )
        closed = cursor.rowcount
    return opened, closed


# The claim process follows whom it addresses (addressees.py): a business payer's claim is a business
# claim. A minor with no guardian or payer has none (ad.id NULL): the claim is held.
DUE_SQL = f"""
SELECT c.id, i.id, i.invoice_no, i.customer_id, i.due_date,
       ad.legal_entity = %(business)s,
       ad.country <> '' AND ad.country <> %(country)s,
       c.position, c.level, c.deadline, c.last_step_on, c.next_on, c.reminder_fees, c.last_fee_on,
       c.collection_fees_charged, c.compensation_charged, c.interest_booked, c.interest_through, c.pauses_counted_at,
       ad.id
  FROM claims_claim c
  JOIN ledger_invoice i ON i.id = c.invoice_id
  JOIN ledger_customer cu ON cu.id = i.customer_id
  LEFT JOIN ledger_customer ad ON ad.id = {ADDRESSEE_SQL}
 WHERE c.ledger_id = %(ledger)s AND c.next_on <= %(as_of)s AND c.status = 'active' AND i.status = 'open'
 ORDER BY c.id
"""


def _due_claims(ledger: Ledger, as_of: date) -> tuple[list[_Due], dict[int, object]]:
    with connection.cursor() as cursor:
        cursor.execute(
            DUE_SQL,
            {
                "business": LegalEntity.BUSINESS.value,
                "country": ledger.country,
                "ledger": ledger.id,
                "as_of": as_of,
                "minor_born_after": minor_born_after(as_of),
            },
        )
        rows = cursor.fetchall()
    due, counted_at = [], {}
    for row in rows:
        item = _Due(*row[:18])
        item.addressee_id = row[19]
        due.append(item)
        counted_at[row[0]] = row[18]
    return due, counted_at


def _load_balances(due: list[_Due]) -> None:
    """Each claim's capital, fees and interest, and the history of its capital (for interest)."""
    if not due:
        return
    by_invoice = {d.invoice_id: d for d in due}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT p.invoice_id, p.component,
                   -- The registered capital is owed from the invoice date, whenever it reached us.
                   CASE WHEN t.kind = 'invoice' THEN i.invoice_date ELSE t.booking_date END,
                   SUM(p.amount)
              FROM ledger_posting p
              JOIN ledger_journaltransaction t ON t.id = p.transaction_id
              JOIN ledger_invoice i ON i.id = p.invoice_id
             WHERE p.invoice_id = ANY(%s::bigint[]) AND p.component <> ''
             GROUP BY 1, 2, 3
            """,
            [_int_array(by_invoice)],
        )
        for invoice_id, component, booked, amount in cursor.fetchall():
            item = by_invoice[invoice_id]
            if component == Component.CAPITAL:
                item.capital += amount
                item.capital_changes.append((booked, amount))
            elif component == Component.FEE:
                item.fees += amount
            else:
                item.interest += amount


PAUSE_KINDS = {
    InvoiceEventKind.RESPITE_SET: True,
    InvoiceEventKind.DISPUTE_OPENED: True,
    InvoiceEventKind.RESPITE_CLEARED: False,
    InvoiceEventKind.DISPUTE_CLOSED: False,
}


def _pause_days(due: list[_Due], counted_at: dict[int, object]) -> dict[int, int]:
    """Days each claim stood still (respite or dispute) since the run last looked: its schedule moves by them."""
    if not due:
        return {}
    by_invoice = {d.invoice_id: d for d in due}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT e.invoice_id, e.kind, e.booking_date, e.created_at
              FROM ledger_invoiceevent e
             WHERE e.invoice_id = ANY(%s::bigint[]) AND e.kind = ANY(%s)
             ORDER BY e.invoice_id, e.created_at, e.id
            """,
            [_int_array(by_invoice), [str(k) for k in PAUSE_KINDS]],
        )
        rows = cursor.fetchall()
    paused: dict[int, int] = {}
    started: dict[int, date] = {}
    for invoice_id, kind, booked, created_at in rows:
        item = by_invoice[invoice_id]
        if created_at <= counted_at[item.claim_id]:
            continue
        if PAUSE_KINDS[kind]:
            started.setdefault(item.claim_id, booked)
        elif item.claim_id in started:
            days = (booked - started.pop(item.claim_id)).days
            if days > 0:
                paused[item.claim_id] = paused.get(item.claim_id, 0) + days
    return paused


PAID_DOWN_EVENTS = (InvoiceEventKind.PARTIALLY_PAID, InvoiceEventKind.CREDITED, InvoiceEventKind.WRITTEN_OFF)
PAID_DOWN_LOOKBACK_DAYS = 31


def _unpaid_costs(ledger: Ledger, settings: ClaimSettings, as_of: date, actor) -> int:
    """Claims whose capital is paid but fees or interest remain: close them by the ledger's rule (write
    them off, or carry them to the customer's newest open invoice; a claim with no such invoice yet stays a
    cost claim until one comes)."""
    if settings.unpaid_costs == UnpaidCostsRule.KEEP_CHASING:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.id
              FROM ledger_invoice i
              JOIN ledger_posting p ON p.invoice_id = i.id AND p.component <> ''
             WHERE i.ledger_id = %(ledger)s AND i.status = 'open'
               AND i.id IN (SELECT e.invoice_id FROM ledger_invoiceevent e
                             WHERE e.ledger_id = %(ledger)s AND e.kind = ANY(%(kinds)s)
                               AND e.booking_date BETWEEN %(since)s AND %(as_of)s)
             GROUP BY i.id
            HAVING SUM(p.amount) FILTER (WHERE p.component = 'capital') = 0
               AND SUM(p.amount) FILTER (WHERE p.component <> 'capital') > 0
            """,
            {
                "ledger": ledger.id,
                "kinds": [str(k) for k in PAID_DOWN_EVENTS],
                "since": as_of - timedelta(days=PAID_DOWN_LOOKBACK_DAYS),
                "as_of": as_of,
            },
        )
        ids = [row[0] for row in cursor.fetchall()]
    closed = 0
    for invoice in Invoice.objects.filter(id__in=ids).select_related("ledger").order_by("id"):
        if settings.unpaid_costs == UnpaidCostsRule.WRITE_OFF:
            invoice_write_off(
                invoice=invoice,
                cause=Cause.APPROVED_DIFF,
                actor=actor,
                reason="unpaid costs in arrear closed by the ledger's rule",
                booking_date=as_of,
            )
            closed += 1
            continue
        following = (
            Invoice.objects.filter(
                customer_id=invoice.customer_id, status=InvoiceStatus.OPEN, invoice_date__lte=as_of
            )
            .exclude(id__in=ids)
            .order_by("-invoice_date", "-id")
            .first()
        )
        if following is not None:
            invoice_costs_carry(invoice=invoice, to_invoice=following, actor=actor, booking_date=as_of)
            closed += 1
    return closed


def claims_escalate(*, ledger: Ledger, as_of: date, actor: User | str | None = SYSTEM_ACTOR) -> dict:
    """Run one ledger's claim process for a business day: every claim whose next step is due on or before
    `as_of` takes it (fee, interest so far, events, the letter queued). Safe to run twice."""
    with transaction.atomic():
        # One run per ledger at a time: a second worker waits here, then finds nothing due.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ESCALATION_LOCK, ledger.pk % 2**31])
        steps = claim_process_install(ledger=ledger)
        settings, _ = ClaimSettings.objects.get_or_create(ledger=ledger)
        respites_ended = _expire_respites(ledger, as_of, actor)
        costs_closed = _unpaid_costs(ledger, settings, as_of, actor)
        first = steps[0] if steps else None
        first_offset = first.offset_days if first else 0
        opened, closed = _sync_claims(ledger, first_offset, timezone.now())
        resumed = claims_resume(ledger=ledger, as_of=as_of, actor=actor)
        due, counted_at = _due_claims(ledger, as_of)
        # Direct debit is in charge of these until its attempts are used up; then reminders take over.
        with_bank = (
            set(invoices_in_direct_debit(ledger=ledger).values_list("id", flat=True)) if due else set()
        )
        due = [item for item in due if item.invoice_id not in with_bank]
        # Never chased in their own name: a minor's claim with nobody to address waits (addressees.py).
        held = claims_hold(ledger=ledger, held=[d for d in due if d.addressee_id is None], as_of=as_of, actor=actor)
        due = [item for item in due if item.addressee_id is not None]
        _load_balances(due)
        run = _Run(ledger, as_of, steps, settings)
        paused = _pause_days(due, counted_at)
        for item in due:
            run.advance(item, paused.get(item.claim_id, 0))
        written = _write(run, due, actor)
    handed_over = None
    if written["by_step"].get(StepKind.FOREIGN_HANDOVER):
        handed_over = foreign_handover_export(ledger=ledger, as_of=as_of)
    return {
        "ledger": ledger.company_no,
        "date": as_of.isoformat(),
        "claims_opened": opened,
        "claims_closed": closed,
        "respites_ended": respites_ended,
        "unpaid_costs_closed": costs_closed,
        "claims_due": len(due),
        "foreign_handover_file": handed_over,
        "left_to_direct_debit": len(with_bank),
        "held_minors": held,
        "resumed": resumed,
        **written,
    }
