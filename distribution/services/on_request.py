"""Documents an operator or a customer asks for: the debt summary."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from distribution import texts
from distribution.models import (
    Channel,
    Document,
    DocumentStatus,
    PaperRoute,
)
from distribution.services.queueing import debt_summary_request, documents_queue
from distribution.services.sending import _process, _profile, _record
from ledger.errors import InvalidTransition
from ledger.models import (
    Customer,
)

# --- On request ----------------------------------------------------------------------------------


def debt_summary_on_request(*, customer: Customer, booking_date: date, actor: str) -> Document:
    """A debt summary of all the customer's open invoices, rendered and archived now for whoever asked
    (the API), archive only: it is not sent to the customer. One per customer and booking date: asking
    again the same day returns the one archived (source key "debt_summary:request:<customer>:<date>").

    Queued and claimed in one transaction, so the daily distribution never takes it and sends it;
    rendered and archived outside it by the same `_process` as every other document. Raises
    InvalidTransition("document_not_ready") while another request is still rendering it, and
    InvalidTransition("document_render_failed") if rendering failed (recorded; the next request or the
    daily run tries again).
    """
    key = f"debt_summary:request:{customer.pk}:{booking_date.isoformat()}"
    with transaction.atomic():
        documents_queue(
            requests=[debt_summary_request(customer=customer, booking_date=booking_date, source_key=key)]
        )
        document = (
            Document.objects.select_for_update(of=("self",))
            .select_related("ledger", "ledger__client", "customer")
            .get(ledger_id=customer.ledger_id, source_key=key)
        )
        if document.archive_name:
            return document
        if document.status not in (DocumentStatus.QUEUED, DocumentStatus.RETRY):
            raise InvalidTransition(
                f"the debt summary of customer {customer.customer_no} for {booking_date} is "
                f"{document.status}: try again shortly",
                code="document_not_ready",
            )
        _record(
            document,
            to_status=DocumentStatus.PROCESSING,
            actor=actor,
            reason="requested over the API: rendered and archived now, not sent",
            claimed_at=timezone.now(),
            channel=Channel.ARCHIVE_ONLY,
            route=PaperRoute.NONE,
            channel_reason="requested over the API: archive only, not sent to the customer",
            language=texts.language_for(customer.country),
        )
    status, error = _process(document, actor=actor, profile=_profile(document.ledger), day=booking_date)
    if status != DocumentStatus.ARCHIVED:
        raise InvalidTransition(
            f"the debt summary {document.pk} could not be rendered: {error}", code="document_render_failed"
        )
    return document
