from datetime import date
from decimal import Decimal

import pytest

from ledger.errors import InvalidTransition, ValidationFailed
from ledger.models import (
    AccountRole,
    Invoice,
    InvoiceEvent,
    InvoiceStatus,
    JournalTransaction,
    Posting,
    TransactionKind,
)
from ledger.selectors import invoice_balance
from ledger.services.invoice_changes import invoice_credit
from tests.factories import InvoiceFactory
from tests.helpers import book_costs


def test_partial_credit_reduces_capital_and_keeps_invoice_open(db):
    invoice = InvoiceFactory(amount=Decimal("1000.00"))
    txn = invoice_credit(
        invoice=invoice,
        amount=Decimal("250.00"),
        reason="Price correction",
        actor="kari",
        booking_date=date(2026, 1, 10),
    )

    assert txn.kind == TransactionKind.CREDIT
    balance = invoice_balance(invoice)
    assert balance.capital == Decimal("750.00")
    postings = {
        p.account.role: p.amount for p in Posting.objects.filter(transaction=txn).select_related("account")
    }
    assert postings == {
        AccountRole.RECEIVABLE_CAPITAL: Decimal("-250.00"),
        AccountRole.CREDIT: Decimal("250.00"),
    }
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    event = InvoiceEvent.objects.filter(invoice=invoice).last()
    assert (event.kind, event.actor, event.reason, event.booking_date) == (
        "credited",
        "kari",
        "Price correction",
        date(2026, 1, 10),
    )


def test_whole_credit_cancels_capital_fees_and_interest_and_closes(db):
    invoice = InvoiceFactory(amount=Decimal("1000.00"))
    book_costs(invoice, fee=Decimal("35.00"))
    txn = invoice_credit(
        invoice=invoice, actor="test", reason="Cancelled order", booking_date=date(2026, 2, 2)
    )

    postings = {
        p.account.role: p.amount for p in Posting.objects.filter(transaction=txn).select_related("account")
    }
    assert postings[AccountRole.CREDIT] == Decimal("1000.00")
    assert postings[AccountRole.FEE_INCOME] == Decimal("35.00")
    assert invoice_balance(invoice).open_amount == 0
    invoice.refresh_from_db()
    assert (invoice.status, invoice.closed_on) == (InvoiceStatus.CLOSED, date(2026, 2, 2))
    assert list(InvoiceEvent.objects.filter(invoice=invoice).values_list("kind", flat=True)) == [
        "registered",
        "credited",
        "closed",
    ]


def test_crediting_more_than_open_capital_fails_and_writes_nothing(db):
    invoice = InvoiceFactory(amount=Decimal("100.00"))
    with pytest.raises(ValidationFailed) as excinfo:
        invoice_credit(invoice=invoice, amount=Decimal("100.01"), actor="test")
    assert excinfo.value.code == "credit_exceeds_open"
    assert JournalTransaction.objects.filter(invoice=invoice).count() == 1
    assert InvoiceEvent.objects.filter(invoice=invoice).count() == 1


def test_credit_on_closed_invoice_is_an_invalid_transition(db):
    invoice = InvoiceFactory()
    invoice_credit(invoice=invoice, actor="test")
    with pytest.raises(InvalidTransition) as excinfo:
        invoice_credit(invoice=invoice, amount=Decimal("1"), actor="test")
    assert excinfo.value.code == "invoice_closed"
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.CLOSED


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-10")])
def test_credit_amount_must_be_positive(db, amount):
    invoice = InvoiceFactory()
    with pytest.raises(ValidationFailed) as excinfo:
        invoice_credit(invoice=invoice, amount=amount, actor="test")
    assert excinfo.value.code == "amount_not_positive"
    assert JournalTransaction.objects.filter(invoice=invoice).count() == 1


def test_credit_with_unknown_cause_writes_nothing(db):
    invoice = InvoiceFactory()
    with pytest.raises(ValidationFailed):
        invoice_credit(invoice=invoice, amount=Decimal("10"), cause="BecauseISaidSo", actor="test")
    assert JournalTransaction.objects.filter(invoice=invoice).count() == 1
