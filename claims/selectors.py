"""Reads of the claim process: where a claim stands, what comes next, and what happened."""

import time
from datetime import date, timedelta

from claims.figures import READ_CACHE_SECONDS, Figures
from claims.models import Claim, ClaimEvent, ClaimSettings, ClaimStatus, ClaimStep
from claims.services.decisions import _Due, _Run
from claims.services.escalation import _load_balances
from claims.services.process import _validate_steps, default_process
from claims.services.scheduling import _step_applies, step_date
from ledger.errors import LedgerError
from ledger.models import Invoice, InvoiceStatus, Ledger, LegalEntity
from ledger.money import ZERO, to_money
from ledger.selectors import Balance


def claim_steps(*, ledger: Ledger) -> list[ClaimStep]:
    """The ledger's process; the country default (unsaved) when it has none yet."""
    steps = list(ClaimStep.objects.filter(ledger=ledger).order_by("position"))
    if steps:
        return steps
    return _validate_steps(
        ledger, default_process(ledger.country), Figures.cached(ledger.country), ledger.today()
    )


# A ledger's claim steps and settings as read at most READ_CACHE_SECONDS ago in this process (reads only):
# an operator's change to the process shows in the API within a minute, and escalation always reads it fresh.
_CONFIG_CACHE: dict[int, tuple[float, list[ClaimStep], ClaimSettings]] = {}


def _claim_config(ledger: Ledger) -> tuple[list[ClaimStep], ClaimSettings]:
    now = time.monotonic()
    hit = _CONFIG_CACHE.get(ledger.id)
    if hit is None or now - hit[0] > READ_CACHE_SECONDS:
        settings = ClaimSettings.objects.filter(ledger=ledger).first() or ClaimSettings(ledger=ledger)
        hit = _CONFIG_CACHE[ledger.id] = (now, claim_steps(ledger=ledger), settings)
    return hit[1], hit[2]


def _as_due(invoice: Invoice, claim: Claim | None, country: str) -> _Due:
    customer = invoice.customer
    business = customer.legal_entity == LegalEntity.BUSINESS
    foreign = bool(customer.country) and customer.country != country
    if claim is None:
        return _Due(invoice.id, invoice.id, invoice.invoice_no, customer.id, invoice.due_date, business, foreign,
                    0, "", invoice.due_date, None, invoice.due_date, 0, None, ZERO, ZERO, ZERO, None)  # fmt: skip
    return _Due(claim.id, invoice.id, invoice.invoice_no, customer.id, invoice.due_date, business, foreign,
                claim.position, claim.level, claim.deadline, claim.last_step_on, claim.next_on, claim.reminder_fees,
                claim.last_fee_on, claim.collection_fees_charged, claim.compensation_charged, claim.interest_booked,
                claim.interest_through)  # fmt: skip


def _next_event(run: _Run, item: _Due, claim: Claim | None, as_of: date) -> dict | None:
    """The next step this claim will take if nothing changes: its kind, day and fee."""
    position, deadline, last = item.position, item.deadline, item.last_step_on
    planned = claim.next_on if claim is not None else None
    while True:
        step = run.steps.get(position + 1)
        if step is None:
            return None
        on = step_date(step, deadline=deadline, last_step_on=last)
        if planned is not None and position == item.position:
            on = planned  # the stored date already holds postponements and pauses
        if not _step_applies(step, business=item.business, foreign=item.foreign, settings=run.settings) or (
            item.open_amount < step.min_open_amount
        ):
            position += 1
            continue
        day = max(on, as_of)
        run.as_of = day
        fee, _note, not_before = run.fee(step, item)
        if not_before is not None and not_before > day:
            day, run.as_of = not_before, not_before
            fee, _note, _ = run.fee(step, item)
        return {"kind": step.kind, "date": day.isoformat(), "amount": str(to_money(fee))}


def _planned_event(run: _Run, invoice: Invoice, item: _Due, claim: Claim | None, as_of: date) -> dict | None:
    if invoice.status == InvoiceStatus.CLOSED or (claim is not None and claim.status != ClaimStatus.ACTIVE):
        return None
    if invoice.status == InvoiceStatus.RESPITE and invoice.respite_until:
        return {
            "kind": "respite_ends",
            "date": (invoice.respite_until + timedelta(days=1)).isoformat(),
            "amount": None,
        }
    if invoice.status == InvoiceStatus.DISPUTED:
        return None
    return _next_event(run, item, claim, as_of)


def claim_summaries(*, ledger: Ledger, invoices: list[Invoice], as_of: date | None = None) -> dict[int, dict]:
    """For a page of one ledger's invoices (customer loaded): each one's claim level, next event
    ({kind, date, amount}) and accrued interest, in a fixed number of queries."""
    as_of = as_of or ledger.today()
    claims = {c.invoice_id: c for c in Claim.objects.filter(invoice_id__in=[i.id for i in invoices])}
    steps, settings = _claim_config(ledger)
    items = {invoice.id: _as_due(invoice, claims.get(invoice.id), ledger.country) for invoice in invoices}
    _load_balances(list(items.values()))
    run = _Run(ledger, as_of, steps, settings, Figures.cached(ledger.country))
    summaries = {}
    for invoice in invoices:
        item, claim = items[invoice.id], claims.get(invoice.id)
        run.as_of = as_of  # _next_event moves it to the day it looks at
        warning = ""
        try:
            # A closed claim accrues nothing more: what was not booked by then is not owed.
            unbooked = ZERO if invoice.status == InvoiceStatus.CLOSED else run.interest_until(item, as_of)
            next_event = _planned_event(run, invoice, item, claim, as_of)
        except LedgerError as exc:  # e.g. a statutory figure missing: show what is booked, say why
            unbooked, next_event, warning = ZERO, None, exc.message
        summaries[invoice.id] = {
            "claim_level": item.level or "due_date",
            "claim_status": claim.status if claim else ClaimStatus.ACTIVE.value,
            "next_event": next_event,
            "accrued_interest": str(item.interest_booked + unbooked),
            "interest_not_yet_booked": str(unbooked),
            "interest_charged": settings.interest_charged,
            # The open amounts by component, read with the interest's history: callers need not read them again.
            "balance": Balance(capital=item.capital, fees=item.fees, interest=item.interest),
            **({"claim_warning": warning} if warning else {}),
        }
    return summaries


def claim_status(*, invoice: Invoice, as_of: date | None = None) -> dict:
    """Claim level, next event ({kind, date, amount}), accrued interest and the history of the claim."""
    summary = claim_summaries(ledger=invoice.ledger, invoices=[invoice], as_of=as_of)[invoice.id]
    del summary["balance"]
    history = ClaimEvent.objects.filter(invoice=invoice).order_by("booking_date", "id")
    return {
        **summary,
        "claim_history": [
            {
                "kind": e.kind,
                "step": e.step_kind,
                "date": e.booking_date.isoformat(),
                "fee": str(e.fee),
                "interest": str(e.interest),
                "deadline": e.deadline.isoformat() if e.deadline else None,
                "document": e.document_kind,
                "why": e.reason,
            }
            for e in history
        ],
    }
