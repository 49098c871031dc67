"""Stop or recall a claim in collection on the client's request (seeds 001 section 2.5: the client may
ask for a claim that has gone to collection to be stopped or deleted).

- stop: no further collection step is taken; everything charged so far (principal, fees, interest)
  stays owed, and payments are still matched to the claim.
- recall: the claim leaves collection: the collection fees it was charged (payment demand, heavy fee)
  are credited off it, since the creditor withdrew the collection they paid for; principal and the
  interest booked stay owed to the client.

Either way the claim is no longer active (escalation skips it), and both an invoice event (the Bill
Journal) and a claim event record who asked, when and why.
"""

from datetime import date

from django.db import transaction
from django.utils import timezone

from ledger.errors import InvalidTransition, ValidationFailed
from ledger.models import Invoice, InvoiceEventKind, InvoiceStatus, User
from ledger.selectors import invoice_balance
from ledger.services.common import _actor_fields
from ledger.services.invoice_changes import _invoice_event, _lock_invoice, invoice_fees_credit

from .models import Claim, ClaimEvent, ClaimEventKind, ClaimStatus, StepKind

# The levels at which a claim is in collection: from the payment demand on.
COLLECTION_LEVELS = (
    StepKind.PAYMENT_DEMAND,
    StepKind.CALL_TASK,
    StepKind.HEAVY_FEE,
    StepKind.LEGAL_NOTICE,
    StepKind.LEGAL_ACTION,
    StepKind.SURVEILLANCE,
)


def pay_to_account(*, ledger, level: str) -> str:
    """Where a claim at `level` is paid: the collection client-funds account once it is in collection
    (seeds 000 section 7), when the ledger has one; else the client-funds account."""
    if level in COLLECTION_LEVELS and ledger.collection_funds_account:
        return ledger.collection_funds_account
    return ledger.client_funds_account


def claim_collection_stop(
    *,
    invoice: Invoice,
    actor: User | str | None,
    reason: str,
    recall: bool = False,
    booking_date: date | None = None,
) -> Claim:
    """Stop (or, with recall, recall) the claim of an invoice in collection. Raises InvalidTransition
    (`not_in_collection`, `claim_not_active`, `invoice_closed`) or ValidationFailed (`reason_required`)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("say who asked and why", code="reason_required", field="reason")
    with transaction.atomic():
        invoice = _lock_invoice(invoice)
        if invoice.status == InvoiceStatus.CLOSED:
            raise InvalidTransition(f"invoice {invoice.invoice_no} is closed", code="invoice_closed")
        claim = Claim.objects.select_for_update().filter(invoice=invoice).first()
        if claim is None or claim.level not in COLLECTION_LEVELS:
            raise InvalidTransition(
                f"invoice {invoice.invoice_no} is not in collection (level {claim.level if claim else 'none'})",
                code="not_in_collection",
            )
        if claim.status != ClaimStatus.ACTIVE:
            raise InvalidTransition(
                f"the claim of invoice {invoice.invoice_no} is {claim.status}, not active",
                code="claim_not_active",
            )
        booking_date = booking_date or invoice.ledger.today()
        credited = None
        if recall:
            fees = min(claim.collection_fees_charged, invoice_balance(invoice).fees)
            if fees > 0:
                credited = invoice_fees_credit(
                    invoice=invoice, amount=fees, actor=actor, booking_date=booking_date,
                    reason=f"collection fees taken off: claim recalled from collection ({reason})",
                )  # fmt: skip
                invoice.refresh_from_db()
        claim.status = ClaimStatus.RECALLED if recall else ClaimStatus.STOPPED
        claim.next_on = None
        claim.updated_at = timezone.now()
        claim.save(update_fields=["status", "next_on", "updated_at"])
        created_by_id, actor_label = _actor_fields(actor)
        ClaimEvent.objects.create(
            ledger_id=invoice.ledger_id,
            claim=claim,
            invoice=invoice,
            kind=ClaimEventKind.RECALLED if recall else ClaimEventKind.STOPPED,
            step_kind=claim.level,
            booking_date=booking_date,
            reason=reason[:300],
            fee_transaction=credited,
            created_by_id=created_by_id,
            actor=actor_label,
        )
        if invoice.status != InvoiceStatus.CLOSED:
            _invoice_event(
                invoice,
                kind=InvoiceEventKind.COLLECTION_RECALLED if recall else InvoiceEventKind.COLLECTION_STOPPED,
                from_status=invoice.status,
                booking_date=booking_date,
                actor=actor,
                reason=reason,
                txn=credited,
            )
    return claim
