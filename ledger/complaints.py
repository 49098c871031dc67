"""The complaints worklist's decision: a disputed invoice is resolved in the customer's favour (credited,
whole or in part, with the cause Complaint) or not (the claim process resumes), with a note; one
transaction for the whole decision."""

from decimal import Decimal

from django.db import transaction

from ledger.services.invoice_changes import invoice_credit
from ledger.services.respite_dispute import invoice_dispute_close

from .errors import InvalidTransition, ValidationFailed
from .models import Cause, Invoice, InvoiceStatus, User


def complaint_resolve(
    *,
    invoice: Invoice,
    in_customers_favour: bool,
    note: str,
    actor: User | str | None,
    amount: Decimal | None = None,
) -> Invoice:
    """Close the dispute; in the customer's favour, credit `amount` of the principal (None: the whole
    claim with its costs). Raises InvalidTransition (`not_disputed`) or ValidationFailed."""
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("write what was decided and why", code="reason_required", field="note")
    with transaction.atomic():
        if invoice.status != InvoiceStatus.DISPUTED:
            raise InvalidTransition(f"invoice {invoice.invoice_no} is not disputed", code="not_disputed")
        decision = "in the customer's favour" if in_customers_favour else "not in the customer's favour"
        invoice = invoice_dispute_close(
            invoice=invoice, actor=actor, reason=f"complaint resolved {decision}: {note}"
        )
        if in_customers_favour:
            invoice_credit(invoice=invoice, actor=actor, amount=amount, cause=Cause.COMPLAINT,
                           reason=f"complaint upheld: {note}")  # fmt: skip
            invoice.refresh_from_db()
    return invoice
