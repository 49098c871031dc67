"""The invoice's attachments (ledger/services/attachments.py) appended after its own document's pages, in
the one archived PDF every channel sends."""

import io

from pypdf import PdfWriter

from distribution.models import Document, DocumentKind, DocumentStatus
from distribution.services.common import archive_storage
from ledger.errors import InvalidTransition
from ledger.models import Invoice, InvoiceAttachment, User
from ledger.services import attachments

# What a document that carries the invoice's attachments is.
CARRIES_ATTACHMENTS = (DocumentKind.INVOICE,)


def invoice_attachment_add(
    *, invoice: Invoice, file_name: str, content: bytes, actor: User | str | None
) -> InvoiceAttachment:
    """ledger.services.attachments.invoice_attachment_add for an invoice that may have gone out: once its
    document is rendered, the customer gets the invoice without what comes later, so a new attachment is
    refused rather than silently never sent."""
    rendered = Document.objects.filter(
        invoice_id=invoice.pk, kind__in=CARRIES_ATTACHMENTS, archive_name__gt=""
    ).exclude(status__in=[DocumentStatus.FAILED, DocumentStatus.CANCELLED])
    if rendered.exists():
        raise InvalidTransition(
            f"invoice {invoice.invoice_no}: its document is already rendered and on its way; an attachment "
            "has to come with the invoice", code="attachment_too_late",
        )  # fmt: skip
    return attachments.invoice_attachment_add(
        invoice=invoice, file_name=file_name, content=content, actor=actor
    )


def attachments_append(document: Document, pdf: bytes, pages: int) -> tuple[bytes, int]:
    """The document's PDF with its invoice's attachments' pages after its own (for the kinds that carry
    them); the PDF unchanged when there are none."""
    if document.kind not in CARRIES_ATTACHMENTS or document.invoice_id is None:
        return pdf, pages
    attachments = list(InvoiceAttachment.objects.filter(invoice_id=document.invoice_id).order_by("position"))
    if not attachments:
        return pdf, pages
    writer = PdfWriter()
    writer.append(io.BytesIO(pdf))
    storage = archive_storage()
    for attachment in attachments:
        with storage.open(attachment.archive_name) as handle:
            writer.append(io.BytesIO(handle.read()))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), pages + sum(a.pages for a in attachments)
