"""The decisions of one ledger's business day, in memory, before they are written: which step each due
claim takes, skips or postpones, with its fee and interest."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from claims.figures import Figures
from claims.interest import interest_accrued
from claims.models import (
    Anchor,
    ClaimEventKind,
    ClaimSettings,
    ClaimStatus,
    ClaimStep,
    FeeRule,
    FigureKind,
    StepKind,
)
from claims.services.common import COLLECTION_FEE_RULES, REMINDER_FEE_RULES
from claims.services.scheduling import _informational, _step_applies, step_date
from ledger.models import (
    Ledger,
)
from ledger.money import ZERO, to_money


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
    addressee_id: int | None = None  # whom the documents go to (addressees.py); None: held

    def __post_init__(self):
        self.old_position = self.position

    @property
    def open_amount(self) -> Decimal:
        return self.capital + self.fees + self.interest


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
        """Interest to book now: the accrued total through `through`, rounded, less what is booked; none
        where the ledger's claim settings say interest is not charged."""
        if through <= item.due_date or not self.settings.interest_charged:
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
