"""Respite and dispute: an invoice paused (until a date, or until the dispute is closed) and resumed."""

from datetime import date, timedelta

from django.db import transaction

from ledger.errors import InvalidTransition, ValidationFailed
from ledger.models import (
    Invoice,
    InvoiceEventKind,
    InvoiceStatus,
    User,
)
from ledger.services.invoice_changes import _guard_not_closed, _invoice_transition, _lock_invoice


def invoice_respite_set(
    *,
    invoice: Invoice,
    until: date,
    actor: User | str | None,
    reason: str = "",
    booking_date: date | None = None,
) -> Invoice:
    """Pause the claim timeline until a date (or move an existing respite)."""
    with transaction.atomic():
        invoice = _lock_invoice(invoice)
        _guard_not_closed(invoice, "set a respite")
        booking_date = booking_date or invoice.ledger.today()
        if invoice.status == InvoiceStatus.DISPUTED:
            raise InvalidTransition(
                f"invoice {invoice.invoice_no} is disputed: close the dispute first", code="invoice_disputed"
            )
        if until <= booking_date:
            raise ValidationFailed(
                f"respite date {until} must be after {booking_date}",
                code="respite_date_not_future",
                field="until",
            )
        latest = booking_date + timedelta(days=invoice.ledger.max_respite_days)
        if until > latest:
            raise ValidationFailed(
                f"a respite until {until} is longer than this ledger allows: at most "
                f"{invoice.ledger.max_respite_days} days, until {latest}",
                code="respite_too_long",
                field="until",
                params={"days": invoice.ledger.max_respite_days, "until": latest},
            )
        _invoice_transition(
            invoice,
            to_status=InvoiceStatus.RESPITE,
            kind=InvoiceEventKind.RESPITE_SET,
            booking_date=booking_date,
            actor=actor,
            respite_until=until,
            reason=reason or f"respite until {until.isoformat()}",
        )
    return invoice


def invoice_respite_clear(
    *, invoice: Invoice, actor: User | str | None, reason: str = "", booking_date: date | None = None
) -> Invoice:
    with transaction.atomic():
        invoice = _lock_invoice(invoice)
        if invoice.status != InvoiceStatus.RESPITE:
            raise InvalidTransition(f"invoice {invoice.invoice_no} has no respite", code="no_respite")
        _invoice_transition(
            invoice,
            to_status=InvoiceStatus.OPEN,
            kind=InvoiceEventKind.RESPITE_CLEARED,
            booking_date=booking_date or invoice.ledger.today(),
            actor=actor,
            reason=reason,
        )
    return invoice


def invoice_dispute_open(
    *, invoice: Invoice, actor: User | str | None, reason: str, booking_date: date | None = None
) -> Invoice:
    """Stop the claim timeline while the customer's complaint is handled."""
    if not reason:
        raise ValidationFailed("a dispute needs a reason", field="reason")
    with transaction.atomic():
        invoice = _lock_invoice(invoice)
        _guard_not_closed(invoice, "open a dispute")
        if invoice.status == InvoiceStatus.DISPUTED:
            raise InvalidTransition(
                f"invoice {invoice.invoice_no} is already disputed", code="already_disputed"
            )
        _invoice_transition(
            invoice,
            to_status=InvoiceStatus.DISPUTED,
            kind=InvoiceEventKind.DISPUTE_OPENED,
            booking_date=booking_date or invoice.ledger.today(),
            actor=actor,
            reason=reason,
        )
    return invoice


def invoice_dispute_close(
    *, invoice: Invoice, actor: User | str | None, reason: str = "", booking_date: date | None = None
) -> Invoice:
    with transaction.atomic():
        invoice = _lock_invoice(invoice)
        if invoice.status != InvoiceStatus.DISPUTED:
            raise InvalidTransition(f"invoice {invoice.invoice_no} is not disputed", code="not_disputed")
        _invoice_transition(
            invoice,
            to_status=InvoiceStatus.OPEN,
            kind=InvoiceEventKind.DISPUTE_CLOSED,
            booking_date=booking_date or invoice.ledger.today(),
            actor=actor,
            reason=reason,
        )
    return invoice
