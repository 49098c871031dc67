from datetime import date
from decimal import Decimal

import pytest

from ledger.errors import InvalidTransition, ValidationFailed
from ledger.models import (
    AccountRole,
    Cause,
    InvoiceStatus,
    JournalTransaction,
    Posting,
)
from ledger.selectors import invoice_balance
from ledger.services.invoice_changes import invoice_write_off
from tests.factories import InvoiceFactory
from tests.helpers import book_costs


def roles(txn):
    return {
        p.account.role: p.amount for p in Posting.objects.filter(transaction=txn).select_related("account")
    }


def test_partial_write_off_takes_interest_then_fees_then_capital(db):
    invoice = InvoiceFactory(amount=Decimal("1000.00"))
    book_costs(invoice, fee=Decimal("35.00"), interest=Decimal("12.50"))
    txn = invoice_write_off(
        invoice=invoice,
        amount=Decimal("100.00"),
        cause=Cause.SETTLEMENT,
        actor="test",
        reason="Agreed settlement",
        booking_date=date(2026, 3, 1),
    )

    assert txn.cause == "Settlement"
    assert roles(txn) == {
        AccountRole.RECEIVABLE_INTEREST: Decimal("-12.50"),
        AccountRole.INTEREST_INCOME: Decimal("12.50"),
        AccountRole.RECEIVABLE_FEE: Decimal("-35.00"),
        AccountRole.FEE_INCOME: Decimal("35.00"),
        AccountRole.RECEIVABLE_CAPITAL: Decimal("-52.50"),
        AccountRole.LOSS_ON_RECEIVABLES: Decimal("52.50"),
    }
    balance = invoice_balance(invoice)
    assert (balance.capital, balance.fees, balance.interest) == (Decimal("947.50"), 0, 0)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN


def test_full_write_off_closes_the_invoice(db):
    invoice = InvoiceFactory(amount=Decimal("500.00"))
    invoice_write_off(invoice=invoice, cause=Cause.BANKRUPTCY, actor="test", booking_date=date(2026, 3, 1))
    invoice.refresh_from_db()
    assert (invoice.status, invoice.closed_on) == (InvoiceStatus.CLOSED, date(2026, 3, 1))
    assert invoice_balance(invoice).open_amount == 0
    assert list(invoice.events.values_list("kind", "reason")) == [
        ("registered", ""),
        ("written_off", "Bankruptcy"),
        ("closed", "written off"),
    ]


def test_write_off_needs_a_known_cause(db):
    invoice = InvoiceFactory()
    with pytest.raises(ValidationFailed) as excinfo:
        invoice_write_off(invoice=invoice, cause="Boredom", actor="test")
    assert (excinfo.value.code, excinfo.value.field) == ("invalid_cause", "cause")
    assert JournalTransaction.objects.filter(invoice=invoice).count() == 1


def test_write_off_more_than_open_fails_and_writes_nothing(db):
    invoice = InvoiceFactory(amount=Decimal("100.00"))
    with pytest.raises(ValidationFailed) as excinfo:
        invoice_write_off(invoice=invoice, amount=Decimal("100.01"), cause=Cause.FRAUD, actor="test")
    assert excinfo.value.code == "write_off_exceeds_open"
    assert JournalTransaction.objects.filter(invoice=invoice).count() == 1
    assert invoice.events.count() == 1


def test_write_off_of_closed_invoice_is_refused(db):
    invoice = InvoiceFactory()
    invoice_write_off(invoice=invoice, cause=Cause.DECEASED, actor="test")
    with pytest.raises(InvalidTransition) as excinfo:
        invoice_write_off(invoice=invoice, cause=Cause.DECEASED, actor="test")
    assert excinfo.value.code == "invoice_closed"
