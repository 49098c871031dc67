"""Documents an operator asks for: a copy of a document sent again, a debt summary sent to the customer.

Each is queued like any other document (the channel is chosen as always) and the distribution of the
ledger's day is started once the request is committed, so the letter goes out now rather than with the
next business day.
"""

from datetime import date

from django.db import transaction

from distribution.services.common import _actor_fields
from distribution.services.queueing import DocumentRequest, debt_summary_request, documents_queue
from ledger.errors import InvalidTransition
from ledger.models import Customer, CustomerEvent, CustomerEventKind, User

from .models import Document, DocumentEvent, DocumentKind, DocumentStatus

# A document that went out (or was archived): only such a one has a copy to send.
_DISTRIBUTED = (
    DocumentStatus.SENT,
    DocumentStatus.AWAITING_PRINT,
    DocumentStatus.ARCHIVED,
    DocumentStatus.RETURNED,
)


def _distribute_after_commit(ledger, booking_date: date) -> None:
    """Start the ledger's distribution now. Robust: with the broker (Redis) down the request still
    succeeds (the failure is logged); the document is queued in the database and goes with the next
    distribution run (the business day's, or the next request's) once the broker is back."""
    from .tasks import distribute_documents

    transaction.on_commit(
        lambda: distribute_documents.delay(booking_date.isoformat(), ledger.company_no), robust=True
    )


def document_copy_send(
    *, document: Document, actor: User | str | None, booking_date: date | None = None
) -> Document:
    """Send a copy of a document again, by the customer's channel; the original records the request."""
    if document.status not in _DISTRIBUTED:
        raise InvalidTransition(
            f"document {document.pk} is {document.status}: only a document that went out has a copy to send",
            code="document_not_sent",
        )
    created_by_id, actor_label = _actor_fields(actor)
    with transaction.atomic():
        document = Document.objects.select_for_update().select_related("ledger").get(pk=document.pk)
        booking_date = booking_date or document.ledger.today()
        copies = Document.objects.filter(
            ledger_id=document.ledger_id, source_key__startswith=f"copy:{document.pk}:"
        ).count()
        key = f"copy:{document.pk}:{copies + 1}"
        documents_queue(
            requests=[
                DocumentRequest(
                    ledger_id=document.ledger_id,
                    customer_id=document.customer_id,
                    invoice_id=document.invoice_id,
                    kind=document.kind,
                    booking_date=booking_date,
                    source_key=key,
                    facts={**(document.facts or {}), "copy_of": document.pk},
                )
            ]
        )
        copy = Document.objects.get(ledger_id=document.ledger_id, source_key=key)
        DocumentEvent.objects.create(
            document=document, from_status=document.status, to_status=document.status,
            reason=f"copy requested: document {copy.pk}", created_by_id=created_by_id, actor=actor_label,
        )  # fmt: skip
        _distribute_after_commit(document.ledger, booking_date)
    return copy


def debt_summary_send(
    *, customer: Customer, actor: User | str | None, booking_date: date | None = None
) -> Document:
    """A debt summary of all the customer's open invoices, sent by their channel: at most one a day (the
    same request again the same day returns the one queued)."""
    created_by_id, actor_label = _actor_fields(actor)
    with transaction.atomic():
        booking_date = booking_date or customer.ledger.today()
        key = f"debt_summary:send:{customer.pk}:{booking_date.isoformat()}"
        new = documents_queue(
            requests=[
                debt_summary_request(customer=customer, booking_date=booking_date, source_key=key)
            ]
        )
        document = Document.objects.get(ledger_id=customer.ledger_id, source_key=key)
        if new:
            CustomerEvent.objects.create(
                ledger_id=customer.ledger_id, customer=customer, kind=CustomerEventKind.NOTIFICATION_SENT,
                booking_date=booking_date, new_value={"document": document.pk, "kind": DocumentKind.DEBT_SUMMARY},
                reason="debt summary sent on request", created_by_id=created_by_id, actor=actor_label,
            )  # fmt: skip
            _distribute_after_commit(customer.ledger, booking_date)
    return document
