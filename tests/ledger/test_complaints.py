"""complaint_resolve: one transaction for the decision on a disputed invoice."""

from decimal import Decimal

import pytest

from ledger.complaints import complaint_resolve
from ledger.errors import InvalidTransition, ValidationFailed
from ledger.models import InvoiceEvent, InvoiceStatus, JournalTransaction
from ledger.selectors import invoice_balance
from ledger.services.respite_dispute import invoice_dispute_open
from tests.factories import InvoiceFactory


@pytest.fixture
def disputed(db):
    invoice = InvoiceFactory()
    return invoice_dispute_open(invoice=invoice, actor="customer", reason="wrong amount")


def test_in_favour_credits_the_whole_claim(disputed):
    invoice = complaint_resolve(invoice=disputed, in_customers_favour=True, note="agreed", actor="op")
    assert invoice.status == InvoiceStatus.CLOSED and invoice_balance(invoice).open_amount == 0


def test_a_credit_too_large_rolls_back_the_dispute_close(disputed):
    events = InvoiceEvent.objects.count()
    with pytest.raises(ValidationFailed):
        complaint_resolve(
            invoice=disputed, in_customers_favour=True, note="x", actor="op", amount=Decimal("9999")
        )
    disputed.refresh_from_db()
    assert disputed.status == InvoiceStatus.DISPUTED
    assert (
        InvoiceEvent.objects.count() == events
        and not JournalTransaction.objects.filter(kind="credit").exists()
    )


def test_guards(disputed):
    with pytest.raises(ValidationFailed):
        complaint_resolve(invoice=disputed, in_customers_favour=False, note=" ", actor="op")
    complaint_resolve(invoice=disputed, in_customers_favour=False, note="delivered", actor="op")
    with pytest.raises(InvalidTransition):
        complaint_resolve(invoice=disputed, in_customers_favour=False, note="again", actor="op")
