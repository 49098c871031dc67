"""Invoice attachments: PDFs a client sends with an invoice (the API, CUSIN), whose pages follow the invoice
document's in its archived PDF, and so in every channel that carries the PDF (seeds 002; the pages are
appended by distribution/services/attachments.py).

A received attachment is checked before anything is kept: at most INVOICE_ATTACHMENT_MAX_BYTES and
INVOICE_ATTACHMENTS_MAX per invoice, a real PDF (it starts as one and pypdf reads every page of it), not
encrypted (a printer or a bank could not open it). Each refusal is a coded error naming the file.
Whether the invoice's document has gone out already is distribution's to say (above this app):
distribution.services.attachments.invoice_attachment_add refuses a late one for the API.
"""

import hashlib
import io

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from ledger.errors import ValidationFailed
from ledger.models import Invoice, InvoiceAttachment, Ledger, User
from ledger.services.common import _actor_fields


def _refuse(file_name: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(f"attachment {file_name!r}: {message}", code=code, field="file")


def attachment_check(file_name: str, content: bytes) -> int:
    """The pages of an attachment that may be kept; a coded ValidationFailed naming the file otherwise."""
    limit = settings.INVOICE_ATTACHMENT_MAX_BYTES
    if len(content) > limit:
        raise _refuse(
            file_name, f"has {len(content)} bytes; at most {limit} are accepted", "attachment_too_large"
        )
    if not content:
        raise _refuse(file_name, "is empty", "attachment_empty")
    return _pdf_pages(file_name, content)


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
    pages = attachment_check(file_name, content)
    digest = hashlib.sha256(content).hexdigest()
    _, actor_label = _actor_fields(actor)
    company_no = Ledger.objects.values_list("company_no", flat=True).get(invoices__pk=invoice.pk)
    # Stored before the transaction (no file I/O while rows are locked): named by the invoice and the
    # content, so a refusal or a rollback below leaves at most an unreferenced copy of the same bytes.
    storage = storages["documents"]
    name = f"{company_no}/attachments/{invoice.pk}/{digest}.pdf"
    if not storage.exists(name):
        name = storage.save(name, ContentFile(content))
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        same = InvoiceAttachment.objects.filter(invoice=invoice, sha256=digest).first()
        if same is not None:
            return same
        count = InvoiceAttachment.objects.filter(invoice=invoice).count()
        if count >= settings.INVOICE_ATTACHMENTS_MAX:
            raise _refuse(file_name, f"invoice {invoice.invoice_no} has {count} attachments already, the most "
                          "there may be", "too_many_attachments")  # fmt: skip
        return InvoiceAttachment.objects.create(
            ledger_id=invoice.ledger_id, invoice=invoice, position=count + 1, file_name=file_name,
            size=len(content), pages=pages, sha256=digest, archive_name=name, actor=actor_label,
        )  # fmt: skip
