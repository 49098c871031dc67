"""Invoice attachments: PDFs a client sends with an invoice (the API, CUSIN), whose pages follow the invoice
document's in its archived PDF, and so in every channel that carries the PDF (seeds 002).

A received attachment is checked before anything is kept: at most INVOICE_ATTACHMENT_MAX_BYTES and
INVOICE_ATTACHMENTS_MAX per invoice, a real PDF (it starts as one and pypdf reads every page of it), not
encrypted (a printer or a bank could not open it). Each refusal is a coded error naming the file. An
attachment comes before the invoice document goes out: once it has, the customer has the invoice
without it, and a new attachment is refused rather than silently never sent.
"""

import hashlib
import io

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

from distribution.models import Document, DocumentKind, DocumentStatus, InvoiceAttachment
from distribution.services.common import archive_storage
from ledger.errors import InvalidTransition, ValidationFailed
from ledger.models import Invoice, User
from ledger.services.common import _actor_fields

# What a document that carries the invoice's attachments is.
CARRIES_ATTACHMENTS = (DocumentKind.INVOICE,)


def _refuse(file_name: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(f"attachment {file_name!r}: {message}", code=code, field="file")


def _pdf_pages(file_name: str, content: bytes) -> int:
    if not content.startswith(b"%PDF-"):
        raise _refuse(file_name, "is not a PDF (a PDF starts with %PDF-)", "attachment_not_pdf")
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            raise _refuse(file_name, "is encrypted: send it without a password", "attachment_encrypted")
        pages = len(reader.pages)
        for page in reader.pages:  # every page readable, not just the count in the trailer
            page.get_contents()
    except ValidationFailed:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise _refuse(file_name, f"is not a readable PDF: {exc}", "attachment_not_pdf") from exc
    if pages < 1:
        raise _refuse(file_name, "has no pages", "attachment_empty")
    return pages


def invoice_attachment_add(
    *, invoice: Invoice, file_name: str, content: bytes, actor: User | str | None
) -> InvoiceAttachment:
    """Keep a PDF to follow the invoice document. The same file twice is one attachment."""
    file_name = (file_name or "attachment.pdf").replace("/", "_").replace("\\", "_")[:200]
    limit = settings.INVOICE_ATTACHMENT_MAX_BYTES
    if len(content) > limit:
        raise _refuse(file_name, f"has {len(content)} bytes; at most {limit} are accepted", "attachment_too_large")
    if not content:
        raise _refuse(file_name, "is empty", "attachment_empty")
    pages = _pdf_pages(file_name, content)
    digest = hashlib.sha256(content).hexdigest()
    _, actor_label = _actor_fields(actor)
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        same = InvoiceAttachment.objects.filter(invoice=invoice, sha256=digest).first()
        if same is not None:
            return same
        gone = Document.objects.filter(
            invoice=invoice, kind__in=CARRIES_ATTACHMENTS, archive_name__gt=""
        ).exclude(status__in=[DocumentStatus.FAILED, DocumentStatus.CANCELLED])
        if gone.exists():
            raise InvalidTransition(
                f"invoice {invoice.invoice_no}: its document is already rendered and on its way; an attachment "
                "has to come with the invoice", code="attachment_too_late",
            )  # fmt: skip
        count = InvoiceAttachment.objects.filter(invoice=invoice).count()
        if count >= settings.INVOICE_ATTACHMENTS_MAX:
            raise _refuse(file_name, f"invoice {invoice.invoice_no} has {count} attachments already, the most "
                          "there may be", "too_many_attachments")  # fmt: skip
        name = archive_storage().save(
            f"{invoice.ledger.company_no}/attachments/{invoice.pk}/{digest}.pdf", ContentFile(content)
        )
        # The archived file outlives a rollback here: harmless, it is named by its content and unreferenced.
        return InvoiceAttachment.objects.create(
            ledger_id=invoice.ledger_id, invoice=invoice, position=count + 1, file_name=file_name,
            size=len(content), pages=pages, sha256=digest, archive_name=name, actor=actor_label,
        )  # fmt: skip


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
