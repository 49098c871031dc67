"""Unpaid costs in arrear carried to the customer's next invoice: guards, and nothing written on refusal."""

from decimal import Decimal

import pytest

from ledger.errors import InvalidTransition, ValidationFailed
from ledger.models import JournalTransaction, TransactionKind
from ledger.selectors import invoice_balance
from ledger.services.invoice_changes import invoice_costs_carry
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory
from tests.helpers import book_costs


def test_costs_are_carried_only_from_a_paid_invoice_to_the_same_customers(db):
    ledger = LedgerFactory()
    customer = CustomerFactory(ledger=ledger)
    unpaid = InvoiceFactory(customer=customer, amount=Decimal("100.00"))
    book_costs(unpaid, fee=Decimal("35.00"))
    next_one = InvoiceFactory(customer=customer)
    stranger = InvoiceFactory(customer=CustomerFactory(ledger=ledger))
    before = JournalTransaction.objects.count()

    with pytest.raises(InvalidTransition) as still_owed:
        invoice_costs_carry(invoice=unpaid, to_invoice=next_one, actor="test")
    assert still_owed.value.code == "no_costs_in_arrear"
    with pytest.raises(ValidationFailed) as other:
        invoice_costs_carry(invoice=unpaid, to_invoice=stranger, actor="test")
    assert (other.value.code, other.value.field) == ("costs_other_customer", "to_invoice")
    assert JournalTransaction.objects.count() == before
    assert invoice_balance(next_one).fees == 0


def test_carrying_moves_fees_and_interest_and_closes_the_paid_invoice(db):
    from ledger.models import AccountRole, Component
    from ledger.services.journal import Line, journal_book

    ledger = LedgerFactory()
    customer = CustomerFactory(ledger=ledger)
    paid = InvoiceFactory(customer=customer, amount=Decimal("100.00"))
    book_costs(paid, fee=Decimal("35.00"), interest=Decimal("1.20"))
    journal_book(ledger=ledger, kind=TransactionKind.CREDIT, booking_date=paid.invoice_date, actor="test", lines=[
        Line(role=AccountRole.RECEIVABLE_CAPITAL, amount=Decimal("-100.00"), component=Component.CAPITAL, invoice=paid),
        Line(role=AccountRole.CREDIT, amount=Decimal("100.00")),
    ])  # fmt: skip
    following = InvoiceFactory(customer=customer, amount=Decimal("50.00"))

    txn = invoice_costs_carry(invoice=paid, to_invoice=following, actor="test")

    assert txn.kind == TransactionKind.COST_TRANSFER
    paid.refresh_from_db()
    assert paid.status == "closed" and invoice_balance(paid).open_amount == 0
    moved = invoice_balance(following)
    assert (moved.capital, moved.fees, moved.interest) == (
        Decimal("50.00"),
        Decimal("35.00"),
        Decimal("1.20"),
    )
