"""Returned documents: registered, re-addressed and sent again, or marked unreachable."""

from datetime import date

from django.db import transaction

from distribution.models import (
    Channel,
    Document,
    DocumentEvent,
    DocumentStatus,
    ReturnedDocument,
    ReturnKind,
    ReturnStatus,
)
from distribution.services.common import _actor_fields
from distribution.services.queueing import DocumentRequest, _queue
from ledger.addresses import address_clean
from ledger.errors import InvalidTransition, ValidationFailed
from ledger.models import (
    CustomerEvent,
    CustomerEventKind,
    Ledger,
    User,
)

# --- Returns -------------------------------------------------------------------------------------

_RETURN_CHANNELS = {
    ReturnKind.PAPER_RETURNED: {Channel.PAPER},
    ReturnKind.EMAIL_BOUNCED: {Channel.EMAIL},
    ReturnKind.EINVOICE_REJECTED: {Channel.EINVOICE_B2C, Channel.EINVOICE_B2B, Channel.KIVRA},
}


def _resend_queue(document: Document, *, booking_date: date, new_address: dict | None) -> Document:
    """Queue a paper copy of a returned document (the new address, or the registered postal one)."""
    facts = {**(document.facts or {}), "new_address": new_address or {}}
    key = f"resend:{document.pk}"
    _queue(
        [
            DocumentRequest(
                ledger_id=document.ledger_id,
                customer_id=document.customer_id,
                invoice_id=document.invoice_id,
                kind=document.kind,
                booking_date=booking_date,
                source_key=key,
                facts=facts,
            )
        ],
        resend_of=[document.pk],
    )
    return Document.objects.get(ledger_id=document.ledger_id, source_key=key)


def document_return_register(
    *,
    document: Document,
    kind: str,
    reason: str,
    booking_date: date,
    actor: User | str | None,
    new_address: dict | None = None,
) -> ReturnedDocument:
    """A sent document came back. Paper returned: the claim is marked "paper distribution returned" and
    the item stays in the returned-mail worklist, unless the post gave a new address (a paper copy goes
    there). A bounced e-mail or rejected e-invoice: a paper copy goes to the postal address at once."""
    if kind not in ReturnKind.values:
        raise ValidationFailed(f"unknown return kind {kind!r}", code="unknown_return_kind")
    if not reason:
        raise ValidationFailed("a return needs a reason", code="reason_required")
    created_by, actor_label = _actor_fields(actor)
    with transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document.pk)
        if document.status != DocumentStatus.SENT:
            raise InvalidTransition(
                f"only a sent document can come back; document {document.pk} is {document.status}",
                code="document_not_sent",
            )
        if document.channel not in _RETURN_CHANNELS[kind]:
            raise InvalidTransition(
                f"a {kind} return does not fit a document sent by {document.channel}",
                code="return_channel_mismatch",
            )
        Document.objects.filter(pk=document.pk).update(status=DocumentStatus.RETURNED)
        DocumentEvent.objects.create(
            document=document,
            from_status=DocumentStatus.SENT,
            to_status=DocumentStatus.RETURNED,
            channel=document.channel,
            reason=f"{kind}: {reason}",
            detail={"new_address": new_address} if new_address else {},
            created_by_id=created_by,
            actor=actor_label,
        )
        item = ReturnedDocument.objects.create(
            ledger_id=document.ledger_id,
            document=document,
            customer_id=document.customer_id,
            invoice_id=document.invoice_id,
            kind=kind,
            booking_date=booking_date,
            reason=reason,
            created_by_id=created_by,
            actor=actor_label,
        )
        CustomerEvent.objects.create(
            ledger_id=document.ledger_id,
            customer_id=document.customer_id,
            kind=CustomerEventKind.RETURNED_MAIL,
            booking_date=booking_date,
            old_value={"document": document.pk, "channel": document.channel, "address": document.address},
            new_value={"new_address": new_address} if new_address else {},
            reason=f"{kind}: {reason}",
            created_by_id=created_by,
            actor=actor_label,
        )
        if kind != ReturnKind.PAPER_RETURNED or new_address:
            _resolve(item, document=document, booking_date=booking_date, new_address=new_address)
    return item


def _resolve(item: ReturnedDocument, *, document: Document, booking_date: date, new_address: dict | None):
    resend = _resend_queue(document, booking_date=booking_date, new_address=new_address)
    item.status, item.resent_document, item.resolved_on = ReturnStatus.RESENT, resend, booking_date
    item.save(update_fields=["status", "resent_document", "resolved_on"])


def returned_document_readdress(
    *, item: ReturnedDocument, address: dict, booking_date: date, actor: User | str | None
) -> ReturnedDocument:
    """An operator found a new address for a returned letter: a paper copy goes there, the customer
    event records it, and the item leaves the worklist."""
    created_by, actor_label = _actor_fields(actor)
    if not all(address.get(k) for k in ("line1", "postal_code", "city")):
        raise ValidationFailed("a new address needs line1, postal_code and city", code="incomplete_address")
    address = address_clean(address, default_country=item.ledger.country)
    with transaction.atomic():
        item = ReturnedDocument.objects.select_for_update().get(pk=item.pk)
        if item.status != ReturnStatus.OPEN:
            raise InvalidTransition(
                f"returned document {item.pk} is already {item.status}", code="return_not_open"
            )
        CustomerEvent.objects.create(
            ledger_id=item.ledger_id,
            customer_id=item.customer_id,
            kind=CustomerEventKind.RETURNED_MAIL,
            booking_date=booking_date,
            old_value={"document": item.document_id},
            new_value={"new_address": address},
            reason="new address for returned mail: paper copy re-sent",
            created_by_id=created_by,
            actor=actor_label,
        )
        _resolve(item, document=item.document, booking_date=booking_date, new_address=address)
    return item


def returned_document_unreachable(
    *, item: ReturnedDocument, reason: str, booking_date: date, actor: User | str | None
) -> ReturnedDocument:
    """No address could be found for a returned letter: the item leaves the worklist as unreachable and
    the customer event records it (the claim goes on; the next letters still go to the registered address)."""
    created_by, actor_label = _actor_fields(actor)
    if not (reason or "").strip():
        raise ValidationFailed("say what was tried", code="reason_required", field="reason")
    with transaction.atomic():
        item = ReturnedDocument.objects.select_for_update().get(pk=item.pk)
        if item.status != ReturnStatus.OPEN:
            raise InvalidTransition(
                f"returned document {item.pk} is already {item.status}", code="return_not_open"
            )
        item.status, item.resolved_on = ReturnStatus.UNREACHABLE, booking_date
        item.save(update_fields=["status", "resolved_on"])
        CustomerEvent.objects.create(
            ledger_id=item.ledger_id, customer_id=item.customer_id, kind=CustomerEventKind.RETURNED_MAIL,
            booking_date=booking_date, old_value={"document": item.document_id}, new_value={"unreachable": True},
            reason=reason.strip()[:500], created_by_id=created_by, actor=actor_label,
        )  # fmt: skip
    return item


def document_for_return(*, ledger: Ledger, document_id: int) -> Document:
    """The ledger's document (a returns file names documents by id)."""
    document = Document.objects.filter(ledger=ledger, pk=document_id).first()
    if document is None:
        raise ValidationFailed(
            f"document {document_id} not found in ledger {ledger.company_no}", code="document_not_found"
        )
    return document
