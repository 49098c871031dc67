"""Small bookings tests need before the claims process exists to make them."""

from datetime import date
from decimal import Decimal

from ledger.models import AccountRole, Component, TransactionKind
from ledger.services import Line, journal_book


def book_costs(invoice, *, fee: Decimal = Decimal(0), interest: Decimal = Decimal(0), day=date(2026, 2, 1)):
    """Book a fee and/or interest on an invoice, as the claim process will."""
    lines = []
    if fee:
        lines += [Line(role=AccountRole.RECEIVABLE_FEE, amount=fee, component=Component.FEE, invoice=invoice),
                  Line(role=AccountRole.FEE_INCOME, amount=-fee, invoice=invoice)]
    if interest:
        lines += [Line(role=AccountRole.RECEIVABLE_INTEREST, amount=interest, component=Component.INTEREST,
                       invoice=invoice),
                  Line(role=AccountRole.INTEREST_INCOME, amount=-interest, invoice=invoice)]
    return journal_book(ledger=invoice.ledger, kind=TransactionKind.FEE, booking_date=day, actor="test",
                        invoice=invoice, lines=lines)
