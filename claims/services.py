"""The claim process: installing a ledger's steps and escalating its claims, one business day at a time.

`claims_escalate` is the daily run of one ledger. It is set-based: one query finds the claims whose next
step is due, the decisions are made in memory, and the fees, interest, events and claim updates are
written with COPY and one UPDATE. Running the same day twice finds nothing due the second time (each
claim's `next_on` has moved on, and a step is recorded at most once per claim in the database).
"""

import functools
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from claims.figures import Figures
from claims.interest import interest_accrued
from claims.models import (
    Anchor,
    Audience,
    ClaimEvent,
    ClaimEventKind,
    ClaimSettings,
    ClaimStatus,
    ClaimStep,
    FeeRule,
    FigureKind,
    StatutoryFigure,
    StepKind,
    UnpaidCostsRule,
)
from distribution.services import DocumentRequest, documents_queue
from ledger.bulk import _copy_rows, _int_array, _next_ids
from ledger.errors import ValidationFailed
from ledger.models import (
    AccountRole,
    Cause,
    Component,
    Invoice,
    InvoiceEventKind,
    InvoiceStatus,
    Ledger,
    LegalEntity,
    TransactionKind,
    User,
)
from ledger.money import ZERO, to_money
from ledger.outbox import company_dir, write_atomic
from ledger.payments.booking import INVOICE_EVENT_COPY_COLUMNS, POSTING_COPY_COLUMNS, TRANSACTION_COPY_COLUMNS
from ledger.payments.direct_debit.selectors import invoices_in_direct_debit
from ledger.selectors import invoice_balance
from ledger.services.common import _actor_fields
from ledger.services.invoice_changes import invoice_costs_carry, invoice_write_off
from ledger.services.journal import _accounts_by_role
from ledger.services.respite_dispute import invoice_respite_clear

DEFAULT_PROCESSES = Path(__file__).resolve().parent / "data" / "process.json"
SYSTEM_ACTOR = "system:claims"
# pg_advisory_xact_lock namespace of the daily escalation (ledger/payments/direct_debit/ uses its own).
ESCALATION_LOCK = 5001

STEP_EVENT = {
    StepKind.LATE_FEE: InvoiceEventKind.LATE_FEE_CHARGED,
    StepKind.SMS_REMINDER: InvoiceEventKind.SMS_REMINDER_SENT,
    StepKind.REMINDER: InvoiceEventKind.REMINDER_SENT,
    StepKind.COLLECTION_NOTICE: InvoiceEventKind.COLLECTION_NOTICE_SENT,
    StepKind.PAYMENT_DEMAND: InvoiceEventKind.MOVED_TO_COLLECTION,
    StepKind.CALL_TASK: InvoiceEventKind.CALL_TASK_CREATED,
    StepKind.HEAVY_FEE: InvoiceEventKind.HEAVY_FEE_CHARGED,
    StepKind.LEGAL_NOTICE: InvoiceEventKind.LEGAL_NOTICE_SENT,
    StepKind.LEGAL_ACTION: InvoiceEventKind.LEGAL_ACTION_TAKEN,
    StepKind.SURVEILLANCE: InvoiceEventKind.MOVED_TO_SURVEILLANCE,
    StepKind.FOREIGN_HANDOVER: InvoiceEventKind.HANDED_TO_FOREIGN_PARTNER,
}

# The document each step's letter is (distribution/ renders and sends it).
STEP_DOCUMENT = {
    StepKind.LATE_FEE: "late_fee_notice",
    StepKind.SMS_REMINDER: "sms_reminder",
    StepKind.REMINDER: "reminder",
    StepKind.COLLECTION_NOTICE: "collection_notice",
    StepKind.PAYMENT_DEMAND: "payment_demand",
    StepKind.LEGAL_NOTICE: "legal_notice",
}

REMINDER_FEE_RULES = {FeeRule.REMINDER}
COLLECTION_FEE_RULES = {FeeRule.COLLECTION_LIGHT, FeeRule.COLLECTION_HEAVY}


# --- The process ---------------------------------------------------------------------------------


STATUTORY_FIGURES = Path(__file__).resolve().parent / "data" / "figures.json"


def statutory_figures_install() -> int:
    """Load the shipped statutory figures (claims/data/figures.json) into an empty table, as migration
    claims/0002 does; a table that has figures is left as the staff keep it. Returns rows added."""
    if StatutoryFigure.objects.exists():
        return 0
    rows = json.loads(STATUTORY_FIGURES.read_text(encoding="utf-8"))["figures"]
    return len(StatutoryFigure.objects.bulk_create(StatutoryFigure(**row) for row in rows))


@functools.cache
def _default_processes() -> dict:
    return json.loads(DEFAULT_PROCESSES.read_text(encoding="utf-8"))


def default_process(country: str) -> list[dict]:
    return [dict(step) for step in _default_processes().get(country, [])]


def step_check(step: ClaimStep, figures: Figures, on: date) -> None:
    """A step's own rules: a fixed fee has an amount, a letter with a fee gives the statutory deadline."""
    position = step.position
    if step.fixed_fee is not None:
        step.fixed_fee = to_money(step.fixed_fee)
    step.min_open_amount = to_money(step.min_open_amount or 0)
    if step.fee_rule == FeeRule.FIXED and not (step.fixed_fee and step.fixed_fee > 0):
        raise ValidationFailed(
            f"step {position}: a fixed fee needs fixed_fee > 0",
            code="invalid_step",
            field=f"steps[{position}].fixed_fee",
        )
    min_deadline = figures.get(FigureKind.MIN_DEADLINE_DAYS, on)
    charges_letter_fee = step.fee_rule in REMINDER_FEE_RULES | {FeeRule.COLLECTION_LIGHT}
    if charges_letter_fee and min_deadline is not None and step.deadline_days < min_deadline:
        raise ValidationFailed(
            f"step {position} ({step.kind}) charges a fee, so its deadline must be at least "
            f"{int(min_deadline)} days in {figures.country}, not {step.deadline_days}",
            code="deadline_too_short",
            field=f"steps[{position}].deadline_days",
        )


def _validate_steps(ledger: Ledger, steps: list[dict], figures: Figures, on: date) -> list[ClaimStep]:
    built = []
    for position, spec in enumerate(steps, start=1):
        try:
            step = ClaimStep(ledger=ledger, position=position, **spec)
        except TypeError as exc:
            raise ValidationFailed(
                f"step {position}: {exc}", code="invalid_step", field=f"steps[{position}]"
            ) from exc
        for name, choices in (
            ("kind", StepKind),
            ("anchor", Anchor),
            ("fee_rule", FeeRule),
            ("audience", Audience),
        ):
            if getattr(step, name) not in choices.values:
                raise ValidationFailed(
                    f"step {position}: {name} {getattr(step, name)!r} is not one of {', '.join(choices.values)}",
                    code="invalid_step",
                    field=f"steps[{position}].{name}",
                )
        step_check(step, figures, on)
        built.append(step)
    return built


def claim_process_set(
    *, ledger: Ledger, steps: list[dict], actor: User | str | None = None
) -> list[ClaimStep]:
    """Replace a ledger's claim process with `steps` (in order). Claims keep their position number."""
    figures = Figures.load(ledger.country)
    built = _validate_steps(ledger, steps, figures, ledger.today())
    with transaction.atomic():
        ClaimStep.objects.filter(ledger=ledger).delete()
        ClaimStep.objects.bulk_create(built)
        ClaimSettings.objects.get_or_create(ledger=ledger)
    return built


def claim_process_install(*, ledger: Ledger) -> list[ClaimStep]:
    """The ledger's steps; a ledger without any gets its country's default process."""
    steps = list(ClaimStep.objects.filter(ledger=ledger).order_by("position"))
    if steps:
        return steps
    return claim_process_set(ledger=ledger, steps=default_process(ledger.country))


def claim_settings_update(*, ledger: Ledger, **changes) -> ClaimSettings:
    allowed = {"business_late_fee", "reminder_fee_agreed", "unpaid_costs"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(f"unknown claim settings {sorted(unknown)}", code="invalid_setting")
    if "unpaid_costs" in changes and changes["unpaid_costs"] not in UnpaidCostsRule.values:
        raise ValidationFailed(
            f"unpaid_costs must be one of {', '.join(UnpaidCostsRule.values)}", field="unpaid_costs"
        )
    with transaction.atomic():
        settings, _ = ClaimSettings.objects.select_for_update().get_or_create(ledger=ledger)
        for name, value in changes.items():
            setattr(settings, name, value)
        settings.save()
    return settings


# --- Scheduling ----------------------------------------------------------------------------------


def step_date(step: ClaimStep, *, deadline: date, last_step_on: date | None) -> date:
    """The day a step is due: its offset after the current deadline or after the previous step."""
    base = deadline if step.anchor == Anchor.DEADLINE or last_step_on is None else last_step_on
    return base + timedelta(days=step.offset_days)


def _step_applies(step: ClaimStep, *, business: bool, foreign: bool, settings: ClaimSettings) -> bool:
    if step.kind == StepKind.LATE_FEE and not settings.business_late_fee:
        return False
    return {
        Audience.ALL: True,
        Audience.CONSUMER: not business,
        Audience.BUSINESS: business,
        Audience.DOMESTIC: not foreign,
        Audience.FOREIGN: foreign,
    }[step.audience]


def _informational(step: ClaimStep) -> bool:
    """A step that only tells (a friendly SMS, a call task): no fee, no deadline, the timeline goes on."""
    return (
        step.kind in (StepKind.SMS_REMINDER, StepKind.CALL_TASK)
        and step.fee_rule == FeeRule.NONE
        and not step.deadline_days
        and not step.stops_timeline
    )


# --- The daily escalation ------------------------------------------------------------------------


@dataclass
class _Due:
    claim_id: int
    invoice_id: int
    invoice_no: str
    customer_id: int
    due_date: date
    business: bool
    foreign: bool
    position: int
    level: str
    deadline: date
    last_step_on: date | None
    next_on: date
    reminder_fees: int
    last_fee_on: date | None
    collection_fees_charged: Decimal
    compensation_charged: Decimal
    interest_booked: Decimal
    interest_through: date | None
    capital: Decimal = ZERO
    fees: Decimal = ZERO
    interest: Decimal = ZERO
    capital_changes: list = field(default_factory=list)
    # What the run decided.
    taken: list = field(default_factory=list)  # [(step, fee, fee_note, interest)]
    notes: list = field(default_factory=list)  # [(ClaimEventKind, position, step_kind, reason)]
    status: str = ClaimStatus.ACTIVE
    changed: bool = False
    old_position: int = 0

    def __post_init__(self):
        self.old_position = self.position

    @property
    def open_amount(self) -> Decimal:
        return self.capital + self.fees + self.interest


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
             WHERE c.invoice_id = i.id AND c.ledger_id = %s AND i.status = 'closed' AND c.status = 'active'
            """,
            [now, ledger.id],
        )
        closed = cursor.rowcount
    return opened, closed


DUE_SQL = """
SELECT c.id, i.id, i.invoice_no, i.customer_id, i.due_date,
       cu.legal_entity = %(business)s,
       cu.country <> '' AND cu.country <> %(country)s,
       c.position, c.level, c.deadline, c.last_step_on, c.next_on, c.reminder_fees, c.last_fee_on,
       c.collection_fees_charged, c.compensation_charged, c.interest_booked, c.interest_through, c.pauses_counted_at
  FROM claims_claim c
  JOIN ledger_invoice i ON i.id = c.invoice_id
  JOIN ledger_customer cu ON cu.id = i.customer_id
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
            },
        )
        rows = cursor.fetchall()
    due, counted_at = [], {}
    for row in rows:
        due.append(_Due(*row[:18]))
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


class _Run:
    """The decisions of one ledger's business day, before they are written."""

    def __init__(
        self,
        ledger: Ledger,
        as_of: date,
        steps: list[ClaimStep],
        settings: ClaimSettings,
        figures: Figures | None = None,
    ):
        self.ledger, self.as_of, self.settings = ledger, as_of, settings
        self.steps = {s.position: s for s in steps}
        self.figures = figures or Figures.load(ledger.country)
        self.rates: dict[date, list] = {}

    def interest_until(self, item: _Due, through: date) -> Decimal:
        """Interest to book now: the accrued total through `through`, rounded, less what is booked."""
        if through <= item.due_date:
            return ZERO
        start = item.due_date + timedelta(days=1)
        if start not in self.rates:
            self.rates[start] = self.figures.rate_periods(start, self.as_of)
        accrued = to_money(
            interest_accrued(
                due_date=item.due_date,
                through=through,
                capital_changes=item.capital_changes,
                rates=self.rates[start],
            )
        )
        return max(accrued - item.interest_booked, ZERO)

    def fee(self, step: ClaimStep, item: _Due) -> tuple[Decimal, str, date | None]:
        """The step's fee, why it is what it is, and a later day when a rule says not yet."""
        as_of, figures = self.as_of, self.figures
        rule = step.fee_rule
        if rule == FeeRule.NONE:
            return ZERO, "", None
        if rule == FeeRule.FIXED:
            return step.fixed_fee, "fixed fee", None
        if rule == FeeRule.BUSINESS_COMPENSATION:
            return figures.require(FigureKind.BUSINESS_COMPENSATION, as_of), "business compensation", None
        if item.compensation_charged > 0:
            return ZERO, "no fee: replaced by the late fee", None
        if rule in REMINDER_FEE_RULES:
            if step.fee_needs_agreement and not self.settings.reminder_fee_agreed:
                return ZERO, "no fee: the reminder fee is not agreed", None
            most = figures.get(FigureKind.MAX_REMINDER_FEES, as_of)
            if most is not None and item.reminder_fees >= most:
                return ZERO, f"no fee: at most {int(most)} reminder fees per claim", None
            after_due = figures.get(FigureKind.MIN_DAYS_AFTER_DUE_FOR_FEE, as_of)
            if after_due is not None and as_of < item.due_date + timedelta(days=int(after_due)):
                return (
                    ZERO,
                    f"a fee only {int(after_due)} days after the due date",
                    item.due_date + timedelta(days=int(after_due)),
                )
            between = figures.get(FigureKind.MIN_DAYS_BETWEEN_FEES, as_of)
            if (
                between is not None
                and item.last_fee_on
                and as_of < item.last_fee_on + timedelta(days=int(between))
            ):
                return (
                    ZERO,
                    f"a fee only {int(between)} days after the last one",
                    item.last_fee_on + timedelta(days=int(between)),
                )
            return figures.require(FigureKind.REMINDER_FEE, as_of), "reminder fee", None
        # Collection fees: by the size of the capital claim, business debtors by their factor.
        light = figures.require(FigureKind.COLLECTION_FEE_LIGHT, as_of, max(item.capital, ZERO))
        factor = Decimal(1)
        if item.business:
            factor = figures.get(FigureKind.BUSINESS_FEE_FACTOR, as_of) or Decimal(1)
        if rule == FeeRule.COLLECTION_LIGHT:
            return to_money(light * factor), "light collection fee", None
        heavy = to_money(light * figures.require(FigureKind.HEAVY_FEE_FACTOR, as_of) * factor)
        return (
            max(heavy - item.collection_fees_charged, ZERO),
            f"heavy collection fee {heavy} less the collection fees charged",
            None,
        )

    def advance(self, item: _Due, paused: int) -> None:
        """Take the claim's due step (passing over steps that do not apply to it), or move its date on."""
        as_of = self.as_of
        if paused:
            item.next_on += timedelta(days=paused)
            item.notes.append(
                (ClaimEventKind.PAUSED, None, "", f"schedule moved {paused} days by respite or dispute")
            )
            item.changed = True
            if item.next_on > as_of:
                return
        while True:
            step = self.steps.get(item.position + 1)
            if step is None:
                item.status, item.next_on, item.changed = ClaimStatus.FINISHED, None, True
                return
            if not _step_applies(step, business=item.business, foreign=item.foreign, settings=self.settings):
                self.pass_over(item, step)
            elif item.open_amount < step.min_open_amount:
                item.notes.append(
                    (
                        ClaimEventKind.SKIPPED,
                        step.position,
                        step.kind,
                        f"open amount {item.open_amount} is below the step's minimum {step.min_open_amount}",
                    )
                )
                self.pass_over(item, step)
            elif self.overtaken(item, step):
                pass  # skipped: the loop goes on with the step that overtook it
            else:
                fee, fee_note, not_before = self.fee(step, item)
                fee = to_money(fee)
                if not_before is not None and not_before > as_of:
                    item.notes.append(
                        (
                            ClaimEventKind.POSTPONED,
                            step.position,
                            step.kind,
                            f"postponed to {not_before}: {fee_note}",
                        )
                    )
                    item.next_on, item.changed = not_before, True
                    return
                self.take(item, step, fee, fee_note)
                return
            if item.next_on is None or item.next_on > as_of:
                return

    def overtaken(self, item: _Due, step: ClaimStep) -> bool:
        """Skip an informational step (an SMS, a call) that fell due on a day the run did not come, when
        the next step is due as well: after a gap in business days it must not delay that step.

        The next step is dated as if the skipped one had been taken on its day, so a chain of them
        catches up the way the daily runs would have gone. A step with a fee or a deadline is never
        skipped: the law wants each letter sent, with its full deadline counted from the day it goes out.
        """
        if not _informational(step):
            return False
        # Its own day: a step dated from the deadline keeps that day when a step taken late moved the
        # claim's next_on on; one dated from the previous step is dated by next_on (skipped ones included).
        due_on = item.next_on
        if step.anchor == Anchor.DEADLINE:
            due_on = min(due_on, step_date(step, deadline=item.deadline, last_step_on=None))
        if due_on >= self.as_of:
            return False
        nxt = self._next_applicable(item, step.position)
        if nxt is None:
            return False
        nxt_on = step_date(nxt, deadline=item.deadline, last_step_on=due_on)
        if nxt_on > self.as_of:
            return False
        item.notes.append((ClaimEventKind.SKIPPED, step.position, step.kind,
                           f"overtaken: due on {due_on}, when the run did not come, and the next step "
                           f"({nxt.kind}) is due as well"))  # fmt: skip
        # Straight to the step that overtook it (past any in between that are not for this claim).
        item.position, item.next_on, item.changed = nxt.position - 1, nxt_on, True
        return True

    def _next_applicable(self, item: _Due, position: int) -> ClaimStep | None:
        for later in range(position + 1, max(self.steps) + 1):
            step = self.steps.get(later)
            if step is not None and _step_applies(step, business=item.business, foreign=item.foreign,
                                                  settings=self.settings):  # fmt: skip
                return step
        return None

    def pass_over(self, item: _Due, step: ClaimStep) -> None:
        """A step that is not for this claim: the claim moves past it without taking it."""
        item.position, item.changed = step.position, True
        nxt = self._next(step.position)
        if nxt is None:
            item.status, item.next_on = ClaimStatus.FINISHED, None
        else:
            item.next_on = step_date(nxt, deadline=item.deadline, last_step_on=item.last_step_on)

    def _next(self, position: int) -> ClaimStep | None:
        return self.steps.get(position + 1)

    def take(self, item: _Due, step: ClaimStep, fee: Decimal, fee_note: str) -> None:
        as_of = self.as_of
        # Every step books the interest accrued so far, so its letter and the ledger show it.
        interest = self.interest_until(item, as_of)
        item.taken.append((step, fee, fee_note, interest))
        item.position, item.last_step_on, item.level, item.changed = step.position, as_of, step.kind, True
        if step.deadline_days:
            item.deadline = as_of + timedelta(days=step.deadline_days)
        if fee > 0:
            item.last_fee_on = as_of
            item.fees += fee
            if step.fee_rule in REMINDER_FEE_RULES:
                item.reminder_fees += 1
            elif step.fee_rule in COLLECTION_FEE_RULES:
                item.collection_fees_charged += fee
            elif step.fee_rule == FeeRule.BUSINESS_COMPENSATION:
                item.compensation_charged += fee
        if interest > 0:
            item.interest += interest
            item.interest_booked += interest
            item.interest_through = as_of
        nxt = self._next(step.position)
        if step.stops_timeline or nxt is None:
            item.status = (
                ClaimStatus.HANDED_OVER if step.kind == StepKind.FOREIGN_HANDOVER else ClaimStatus.FINISHED
            )
            item.next_on = None
        else:
            item.next_on = max(
                step_date(nxt, deadline=item.deadline, last_step_on=as_of), as_of + timedelta(days=1)
            )


def _write(run: _Run, due: list[_Due], actor) -> dict:
    """Book the fees and interest, record the events and move the claims on: set-based."""
    ledger, as_of = run.ledger, run.as_of
    accounts = _accounts_by_role(ledger)
    created_by_id, actor_label = _actor_fields(actor)
    now = timezone.now()
    bookings = []  # (item, step, kind, amount)
    for item in due:
        for step, fee, _note, interest in item.taken:
            if interest > 0:
                bookings.append((item, step, TransactionKind.INTEREST, interest))
            if fee > 0:
                bookings.append((item, step, TransactionKind.FEE, fee))
    transaction_ids = iter(_next_ids("ledger_journaltransaction", len(bookings))) if bookings else iter(())
    txn_of = {}
    for item, step, kind, _amount in bookings:
        txn_of[(item.claim_id, step.position, kind)] = next(transaction_ids)

    def transaction_rows():
        for item, step, kind, _amount in bookings:
            what = "interest" if kind == TransactionKind.INTEREST else f"{step.kind} fee"
            yield (
                txn_of[(item.claim_id, step.position, kind)], ledger.id, as_of, kind, "",
                f"{what} on invoice {item.invoice_no}"[:200], item.invoice_id, None, created_by_id, actor_label, now,
            )  # fmt: skip

    def posting_rows():
        for item, step, kind, amount in bookings:
            txn = txn_of[(item.claim_id, step.position, kind)]
            if kind == TransactionKind.INTEREST:
                debit, credit, component = (
                    AccountRole.RECEIVABLE_INTEREST,
                    AccountRole.INTEREST_INCOME,
                    Component.INTEREST,
                )
            else:
                debit, credit, component = AccountRole.RECEIVABLE_FEE, AccountRole.FEE_INCOME, Component.FEE
            yield (
                txn,
                ledger.id,
                accounts[debit],
                item.invoice_id,
                item.customer_id,
                None,
                component,
                amount,
                ledger.currency,
            )
            yield (
                txn,
                ledger.id,
                accounts[credit],
                item.invoice_id,
                item.customer_id,
                None,
                "",
                -amount,
                ledger.currency,
            )

    def invoice_event_rows():
        for item in due:
            for step, fee, fee_note, interest in item.taken:
                parts = [step.get_kind_display()]
                if fee:
                    parts.append(f"{fee_note} {fee}")
                if interest:
                    parts.append(f"interest {interest}")
                txn = txn_of.get((item.claim_id, step.position, TransactionKind.FEE)) or txn_of.get(
                    (item.claim_id, step.position, TransactionKind.INTEREST)
                )
                yield (
                    ledger.id, item.invoice_id, STEP_EVENT[StepKind(step.kind)], InvoiceStatus.OPEN,
                    InvoiceStatus.OPEN, as_of, "; ".join(parts)[:500], txn, created_by_id, actor_label, now,
                )  # fmt: skip

    def claim_event_rows():
        for item in due:
            for step, fee, fee_note, interest in item.taken:
                yield (
                    ledger.id, item.claim_id, item.invoice_id, ClaimEventKind.STEP, step.position, step.kind, as_of,
                    fee, interest, item.deadline if step.deadline_days else None, item.next_on,
                    STEP_DOCUMENT.get(StepKind(step.kind), "") if step.needs_document else "", fee_note[:300],
                    txn_of.get((item.claim_id, step.position, TransactionKind.FEE)),
                    txn_of.get((item.claim_id, step.position, TransactionKind.INTEREST)),
                    created_by_id, actor_label, now,
                )  # fmt: skip
            for kind, position, step_kind, reason in item.notes:
                yield (
                    ledger.id, item.claim_id, item.invoice_id, kind, position, step_kind, as_of, ZERO, ZERO, None,
                    item.next_on, "", reason[:300], None, None, created_by_id, actor_label, now,
                )  # fmt: skip

    changed = [item for item in due if item.changed]
    with connection.wrap_database_errors:
        if bookings:
            _copy_rows("ledger_journaltransaction", TRANSACTION_COPY_COLUMNS, transaction_rows())
            _copy_rows("ledger_posting", POSTING_COPY_COLUMNS, posting_rows())
        if any(item.taken for item in due):
            _copy_rows("ledger_invoiceevent", INVOICE_EVENT_COPY_COLUMNS, invoice_event_rows())
        if any(item.taken or item.notes for item in due):
            _copy_rows("claims_claimevent", CLAIM_EVENT_COPY_COLUMNS, claim_event_rows())
        if changed:
            _update_claims(changed, now)
    documents = [
        (item, step)
        for item in due
        for step, _fee, _note, _interest in item.taken
        if step.needs_document and StepKind(step.kind) in STEP_DOCUMENT
    ]
    return {
        "steps_taken": sum(len(item.taken) for item in due),
        "fees": str(sum((fee for item in due for _s, fee, _n, _i in item.taken), ZERO)),
        "interest": str(sum((i for item in due for _s, _f, _n, i in item.taken), ZERO)),
        "documents_queued": _queue_documents(run, documents),
        "by_step": _count_by_step(due),
    }


CLAIM_EVENT_COPY_COLUMNS = [
    "ledger_id", "claim_id", "invoice_id", "kind", "position", "step_kind", "booking_date", "fee", "interest",
    "deadline", "next_on", "document_kind", "reason", "fee_transaction_id", "interest_transaction_id",
    "created_by_id", "actor", "created_at",
]  # fmt: skip


def _count_by_step(due: list[_Due]) -> dict:
    counts: dict[str, int] = {}
    for item in due:
        for step, *_ in item.taken:
            counts[step.kind] = counts.get(step.kind, 0) + 1
    return dict(sorted(counts.items()))


def _update_claims(changed: list[_Due], now) -> None:
    """Move the claims on with one UPDATE, only where they still stand where this run found them."""

    columns = [
        ("id", "bigint", [i.claim_id for i in changed]),
        ("old_position", "smallint", [i.old_position for i in changed]),
        ("status", "text", [i.status for i in changed]),
        ("position", "smallint", [i.position for i in changed]),
        ("level", "text", [i.level for i in changed]),
        ("last_step_on", "date", [i.last_step_on for i in changed]),
        ("deadline", "date", [i.deadline for i in changed]),
        ("next_on", "date", [i.next_on for i in changed]),
        ("reminder_fees", "smallint", [i.reminder_fees for i in changed]),
        ("last_fee_on", "date", [i.last_fee_on for i in changed]),
        ("collection_fees_charged", "numeric", [i.collection_fees_charged for i in changed]),
        ("compensation_charged", "numeric", [i.compensation_charged for i in changed]),
        ("interest_through", "date", [i.interest_through for i in changed]),
        ("interest_booked", "numeric", [i.interest_booked for i in changed]),
    ]
    names = ", ".join(name for name, _, _ in columns)
    unnest = ", ".join(f"%s::{cast}[]" for _, cast, _ in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE claims_claim c
               SET status = v.status, position = v.position, level = v.level, last_step_on = v.last_step_on,
                   deadline = v.deadline, next_on = v.next_on, reminder_fees = v.reminder_fees,
                   last_fee_on = v.last_fee_on, collection_fees_charged = v.collection_fees_charged,
                   compensation_charged = v.compensation_charged, interest_through = v.interest_through,
                   interest_booked = v.interest_booked, pauses_counted_at = %s, updated_at = %s
              FROM unnest({unnest}) AS v({names})
             WHERE c.id = v.id AND c.position = v.old_position
            """,
            [now, now, *[values for _, _, values in columns]],
        )
        if cursor.rowcount != len(changed):
            raise ValidationFailed(
                f"{len(changed) - cursor.rowcount} claims were moved by another run meanwhile; run the day again",
                code="claims_moved_concurrently",
            )


def _queue_documents(run: _Run, documents: list) -> int:
    """Hand the day's letters to distribution (rendered and sent later, outside this transaction)."""
    if not documents:
        return 0
    requests = [
        DocumentRequest(
            ledger_id=run.ledger.id,
            customer_id=item.customer_id,
            invoice_id=item.invoice_id,
            kind=STEP_DOCUMENT[StepKind(step.kind)],
            booking_date=run.as_of,
            source_key=f"claim:{item.claim_id}:step:{step.position}",
            facts=_document_facts(run, item, step),
        )
        for item, step in documents
    ]
    return documents_queue(requests=requests)


def _document_facts(run: _Run, item: _Due, step: ClaimStep) -> dict:
    fee = next((fee for s, fee, _n, _i in item.taken if s.position == step.position), ZERO)
    rate = run.figures.get(FigureKind.LATE_INTEREST_RATE, run.as_of)
    return {
        "step": step.kind,
        "fee": str(fee),
        "deadline": (run.as_of + timedelta(days=step.deadline_days)).isoformat()
        if step.deadline_days
        else None,
        "interest_rate": str(rate) if rate is not None else None,
        "interest_from": (item.due_date + timedelta(days=1)).isoformat(),
        "capital": str(item.capital),
        "fees": str(item.fees),
        "interest": str(item.interest),
        "amount_due": str(item.open_amount),
        "channel": step.channel,
    }


# Capital is paid down by payments and credits, which record these events. The daily run looks back this
# far for them, so the scan stays small however many claims are open; a missed day is caught up.
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
        due, counted_at = _due_claims(ledger, as_of)
        # Direct debit is in charge of these until its attempts are used up; then reminders take over.
        with_bank = (
            set(invoices_in_direct_debit(ledger=ledger).values_list("id", flat=True)) if due else set()
        )
        due = [item for item in due if item.invoice_id not in with_bank]
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
        **written,
    }


def foreign_handover_export(*, ledger: Ledger, as_of: date) -> str | None:
    """The claims handed to the foreign collection partner on `as_of`, as a file in the ledger's outbox
    for the partner (written after the day's transaction committed; once: an existing file is kept)."""
    events = (
        ClaimEvent.objects.filter(ledger=ledger, kind=ClaimEventKind.STEP, step_kind=StepKind.FOREIGN_HANDOVER,
                                  booking_date=as_of)
        .select_related("invoice__customer")
        .order_by("id")
    )  # fmt: skip
    rows = []
    for event in events:
        invoice, customer = event.invoice, event.invoice.customer
        balance = invoice_balance(invoice)
        rows.append(
            {
                "invoice_no": invoice.invoice_no, "payment_ref": invoice.payment_ref,
                "invoice_date": invoice.invoice_date.isoformat(), "due_date": invoice.due_date.isoformat(),
                "currency": invoice.currency, "capital": str(balance.capital), "fees": str(balance.fees),
                "interest": str(balance.interest), "customer_no": customer.customer_no, "name": customer.name,
                "national_id": customer.national_id, "address": [customer.address_line1, customer.address_line2],
                "postal_code": customer.postal_code, "city": customer.city, "country": customer.country,
                "email": customer.email, "phone": customer.phone,
            }
        )  # fmt: skip
    if not rows:
        return None
    path = (
        company_dir(ledger.company_no, "outbox")
        / f"FOREIGN_COLLECTION_{ledger.company_no}_{as_of:%Y%m%d}.json"
    )
    if not path.exists():
        document = {"ledger": ledger.company_no, "date": as_of.isoformat(), "claims": rows}
        write_atomic(path, json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8"))
    return path.name
