"""call_outcome_record: the outcome of a call task, once; a promise to pay becomes a respite."""

from datetime import date

import pytest

from claims.calls import call_outcome_record
from claims.models import CallOutcome, Claim, ClaimEvent, StepKind
from ledger.errors import InvalidTransition, ValidationFailed
from ledger.models import CustomerEvent, InvoiceStatus
from tests.factories import InvoiceFactory

DAY = date(2026, 3, 2)


@pytest.fixture
def task(db):
    invoice = InvoiceFactory()
    claim = Claim.objects.create(ledger=invoice.ledger, invoice=invoice, level=StepKind.CALL_TASK, position=5,
                                 deadline=DAY, next_on=date(2026, 3, 9))  # fmt: skip
    return ClaimEvent.objects.create(ledger=invoice.ledger, claim=claim, invoice=invoice, kind="step", position=5,
                                     step_kind=StepKind.CALL_TASK, booking_date=DAY, actor="system:claims")  # fmt: skip


def test_promise_to_pay_sets_a_respite_and_is_logged_once(task):
    call_outcome_record(task=task, outcome="promise_to_pay", promised_until=date(2026, 3, 20), actor="op",
                        booking_date=DAY)  # fmt: skip
    task.invoice.refresh_from_db()
    assert (task.invoice.status, task.invoice.respite_until) == (InvoiceStatus.RESPITE, date(2026, 3, 20))
    with pytest.raises(InvalidTransition) as caught:
        call_outcome_record(task=task, outcome="no_answer", actor="op", booking_date=DAY)
    assert caught.value.code == "call_already_logged"


def test_wrong_number_is_recorded_for_the_customer(task):
    call_outcome_record(task=task, outcome="wrong_number", note="a pizzeria", actor="op", booking_date=DAY)
    assert (
        CustomerEvent.objects.get(customer=task.invoice.customer, kind="status_changed").reason
        == "a pizzeria"
    )


@pytest.mark.parametrize("fields, code", [
    ({"outcome": "maybe"}, "invalid_outcome"),
    ({"outcome": "promise_to_pay"}, "promise_needs_date"),
])  # fmt: skip
def test_bad_input_writes_nothing(task, fields, code):
    with pytest.raises(ValidationFailed) as caught:
        call_outcome_record(task=task, actor="op", **fields)
    assert caught.value.code == code
    assert not CallOutcome.objects.exists()


def test_a_promise_in_the_past_writes_nothing(task):
    with pytest.raises(ValidationFailed):
        call_outcome_record(task=task, outcome="promise_to_pay", promised_until=date(2026, 3, 1), actor="op",
                            booking_date=DAY)  # fmt: skip
    task.invoice.refresh_from_db()
    assert task.invoice.status == InvoiceStatus.OPEN and not CallOutcome.objects.exists()


def test_only_call_tasks(task):
    task.step_kind = StepKind.REMINDER
    task.save()
    with pytest.raises(InvalidTransition) as caught:
        call_outcome_record(task=task, outcome="reached", actor="op")
    assert caught.value.code == "not_a_call_task"
