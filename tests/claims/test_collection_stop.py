"""claim_collection_stop: stop or recall a claim in collection on the client's request."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from claims.collection_stop import claim_collection_stop
from claims.models import Claim, ClaimEvent, ClaimStatus, StepKind
from claims.services.escalation import claims_escalate
from ledger.errors import InvalidTransition, ValidationFailed
from ledger.models import InvoiceEvent, JournalTransaction
from ledger.selectors import invoice_balance
from ledger.services.invoice_changes import invoice_credit
from ledger.verify import ledger_verify
from tests.factories import InvoiceFactory
from tests.helpers import book_costs

DAY = date(2026, 3, 2)


@pytest.fixture
def in_collection(db):
    invoice = InvoiceFactory()
    book_costs(invoice, fee=Decimal("35.00"), day=DAY - timedelta(days=20))  # the collection notice
    book_costs(invoice, fee=Decimal("280.00"), day=DAY - timedelta(days=2))  # the payment demand
    Claim.objects.create(ledger=invoice.ledger, invoice=invoice, level=StepKind.PAYMENT_DEMAND, position=4,
                         deadline=DAY + timedelta(days=12), next_on=DAY + timedelta(days=2),
                         reminder_fees=1, collection_fees_charged=Decimal("280.00"))  # fmt: skip
    return invoice


def state(invoice):
    return (JournalTransaction.objects.count(), InvoiceEvent.objects.count(), ClaimEvent.objects.count(),
            Claim.objects.get(invoice=invoice).status)  # fmt: skip


def test_stop_keeps_everything_owed_and_no_step_follows(in_collection):
    claim = claim_collection_stop(invoice=in_collection, actor="client", reason="paying by instalments",
                                  booking_date=DAY)  # fmt: skip
    assert (claim.status, claim.next_on) == (ClaimStatus.STOPPED, None)
    assert invoice_balance(in_collection).fees == Decimal("315.00")
    event = InvoiceEvent.objects.filter(invoice=in_collection).latest("id")
    assert (event.kind, event.reason, event.actor) == (
        "collection_stopped",
        "paying by instalments",
        "client",
    )
    result = claims_escalate(ledger=in_collection.ledger, as_of=DAY + timedelta(days=30))
    assert ClaimEvent.objects.filter(claim=claim, kind="step").count() == 0, result


def test_recall_credits_the_collection_fees_only(in_collection):
    claim_collection_stop(
        invoice=in_collection, actor="client", reason="recalled", recall=True, booking_date=DAY
    )
    balance = invoice_balance(in_collection)
    assert (balance.capital, balance.fees) == (Decimal("1000.00"), Decimal("35.00"))
    claim = Claim.objects.get(invoice=in_collection)
    assert claim.status == ClaimStatus.RECALLED
    assert ClaimEvent.objects.get(claim=claim).fee_transaction.kind == "credit"
    assert all(check["ok"] for check in ledger_verify(ledger=in_collection.ledger))


@pytest.mark.parametrize(
    "prepare, code",
    [
        (
            lambda i: Claim.objects.filter(invoice=i).update(level=StepKind.COLLECTION_NOTICE),
            "not_in_collection",
        ),
        (
            lambda i: Claim.objects.filter(invoice=i).update(status=ClaimStatus.STOPPED, next_on=None),
            "claim_not_active",
        ),
        (lambda i: invoice_credit(invoice=i, actor="t", booking_date=DAY), "invoice_closed"),
    ],
)
def test_guards_write_nothing(in_collection, prepare, code):
    prepare(in_collection)
    before = state(in_collection)
    with pytest.raises(InvalidTransition) as caught:
        claim_collection_stop(invoice=in_collection, actor="client", reason="x", booking_date=DAY)
    assert caught.value.code == code
    assert state(in_collection) == before


def test_a_reason_is_required(in_collection):
    with pytest.raises(ValidationFailed) as caught:
        claim_collection_stop(invoice=in_collection, actor="client", reason="  ")
    assert caught.value.code == "reason_required"
