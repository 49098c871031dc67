"""The invoice's attachments (ledger/services/attachments.py) appended after its own document's pages, in
the one archived PDF every channel sends."""

import io

from pypdf import PdfWriter

from distribution.models import Document, DocumentKind
from distribution.services.common import archive_storage
from ledger.models import InvoiceAttachment

# What a document that carries the invoice's attachments is.
CARRIES_ATTACHMENTS = (DocumentKind.INVOICE,)


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
