"""Call tasks (seeds 000 section 7: phone and SMS in collection): the operator logs what came of a call.
A promise to pay becomes a respite until the promised day; a wrong number is recorded for the customer."""

from datetime import date

from django.db import transaction

from ledger.errors import InvalidTransition, ValidationFailed
from ledger.models import CustomerEvent, CustomerEventKind, InvoiceStatus, User
from ledger.services.common import _actor_fields
from ledger.services.respite_dispute import invoice_respite_set

from .models import CallOutcome, CallOutcomeKind, ClaimEvent, ClaimEventKind, StepKind


def call_outcome_record(
    *,
    task: ClaimEvent,
    outcome: str,
    actor: User | str | None,
    note: str = "",
    promised_until: date | None = None,
    booking_date: date | None = None,
) -> CallOutcome:
    """Record the outcome of a call task once. Raises ValidationFailed (`invalid_outcome`,
    `promise_needs_date`) or InvalidTransition (`not_a_call_task`, `call_already_logged`)."""
    if outcome not in CallOutcomeKind.values:
        raise ValidationFailed(f"unknown call outcome {outcome!r}", code="invalid_outcome", field="outcome")
    if outcome == CallOutcomeKind.PROMISE_TO_PAY and promised_until is None:
        raise ValidationFailed("a promise to pay needs the day it was promised for", code="promise_needs_date",
                               field="promised_until")  # fmt: skip
    with transaction.atomic():
        task = ClaimEvent.objects.select_for_update().select_related("invoice__ledger").get(pk=task.pk)
        if task.kind != ClaimEventKind.STEP or task.step_kind != StepKind.CALL_TASK:
            raise InvalidTransition(f"claim event {task.pk} is not a call task", code="not_a_call_task")
        if CallOutcome.objects.filter(task=task).exists():
            raise InvalidTransition("this call is already logged", code="call_already_logged")
        invoice = task.invoice
        booking_date = booking_date or invoice.ledger.today()
        if outcome == CallOutcomeKind.PROMISE_TO_PAY and invoice.status != InvoiceStatus.CLOSED:
            invoice_respite_set(invoice=invoice, until=promised_until, actor=actor, booking_date=booking_date,
                                reason=f"promise to pay by phone{': ' + note if note else ''}")  # fmt: skip
        created_by_id, actor_label = _actor_fields(actor)
        if outcome == CallOutcomeKind.WRONG_NUMBER:
            CustomerEvent.objects.create(
                ledger_id=invoice.ledger_id, customer_id=invoice.customer_id, kind=CustomerEventKind.STATUS_CHANGED,
                booking_date=booking_date,
                new_value={"phone": "wrong number"}, reason=note or "wrong number reported by the call centre",
                created_by_id=created_by_id, actor=actor_label,
            )  # fmt: skip
        return CallOutcome.objects.create(
            ledger_id=invoice.ledger_id, task=task, invoice=invoice, outcome=outcome, note=note[:500],
            promised_until=promised_until if outcome == CallOutcomeKind.PROMISE_TO_PAY else None,
            created_by_id=created_by_id, actor=actor_label,
        )  # fmt: skip
