"""Reads of documents, print batches and the returned-mail worklist. Tenant-scoped where a user asks."""

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db.models import QuerySet

from ledger.errors import NotFound
from ledger.models import Invoice, Ledger, User
from ledger.selectors import ledgers_for_user

from .models import Document, ReturnedDocument, ReturnKind, ReturnStatus

PAPER_DISTRIBUTION_RETURNED = "paper_distribution_returned"


def archive_path(name: str) -> str:
    """Where an archived PDF is: relative to $LEDGER_DATA_DIR for local files, else the storage name."""
    from distribution.services.common import archive_storage

    storage = archive_storage()
    if not name:
        return ""
    if isinstance(storage, FileSystemStorage):
        try:
            return str(Path(storage.path(name)).relative_to(settings.LEDGER_DATA_DIR))
        except ValueError:
            return storage.path(name)
    return name


def invoice_documents(*, invoice: Invoice) -> list[dict]:
    """The invoice's documents as show_invoice prints them."""
    return [
        {
            "id": d.pk,
            "kind": d.kind,
            "status": d.status,
            "channel": d.channel,
            "route": d.route,
            "reason": d.channel_reason,
            "error": d.channel_error or d.last_error,
            "address": d.address,
            "booking_date": d.booking_date.isoformat(),
            "created": d.created_at.isoformat(),
            "sent_at": d.sent_at.isoformat() if d.sent_at else None,
            "archive": archive_path(d.archive_name),
            "checksum": d.checksum,
            "pages": d.pages,
            "retention_until": d.retention_until.isoformat() if d.retention_until else None,
            "resend_of": d.resend_of_id,
        }
        for d in Document.objects.filter(invoice=invoice).order_by("created_at", "id")
    ]


def invoice_distribution_status(*, invoice: Invoice) -> str:
    """ "paper_distribution_returned" while a returned paper letter of the invoice is in the worklist."""
    returned = ReturnedDocument.objects.filter(
        invoice=invoice, kind=ReturnKind.PAPER_RETURNED, status=ReturnStatus.OPEN
    ).exists()
    return PAPER_DISTRIBUTION_RETURNED if returned else ""


def documents_for_user(*, user: User, ledger: Ledger | None = None) -> QuerySet[Document]:
    qs = Document.objects.filter(ledger__in=ledgers_for_user(user))
    if ledger is not None:
        qs = qs.filter(ledger=ledger)
    return qs.select_related("customer", "invoice").order_by("-created_at", "-id")


def returned_mail_worklist(
    *, user: User | None = None, ledger: Ledger | None = None
) -> QuerySet[ReturnedDocument]:
    """Open returns, oldest first; with a user, only the ledgers that user may see."""
    qs = ReturnedDocument.objects.filter(status=ReturnStatus.OPEN)
    if user is not None:
        qs = qs.filter(ledger__in=ledgers_for_user(user))
    if ledger is not None:
        qs = qs.filter(ledger=ledger)
    return qs.select_related("document", "customer", "invoice").order_by("created_at", "id")


def document_pdf(*, document: Document) -> bytes:
    from distribution.services.common import archive_storage

    with archive_storage().open(document.archive_name) as handle:
        return handle.read()


def invoice_document_get(*, invoice: Invoice, document_id: int) -> Document:
    """One of the invoice's documents (the invoice from a tenant-scoped lookup), else NotFound."""
    document = (
        Document.objects.filter(ledger_id=invoice.ledger_id, invoice=invoice, pk=document_id)
        .select_related("customer", "invoice")
        .first()
    )
    if document is None:
        raise NotFound(
            f"document {document_id} not found for invoice {invoice.invoice_no}", code="document_not_found"
        )
    return document


def archived_document_pdf(*, document: Document) -> bytes:
    """The document's archived PDF; NotFound while it is not archived yet (queued, being rendered, failed)."""
    if not document.archive_name:
        raise NotFound(
            f"document {document.pk} has no archived PDF yet (status {document.status})",
            code="document_not_archived",
        )
    try:
        return document_pdf(document=document)
    except FileNotFoundError as exc:
        raise NotFound(
            f"the archived PDF of document {document.pk} is no longer in the archive",
            code="document_pdf_missing",
        ) from exc


def documents_past_retention(*, as_of, ledger: Ledger | None = None) -> QuerySet[Document]:
    """Archived documents that may be deleted: past their retention date, and never while the invoice
    they belong to is still open (seeds/000 section 6)."""
    qs = Document.objects.filter(retention_until__lt=as_of).exclude(archive_name="")
    if ledger is not None:
        qs = qs.filter(ledger=ledger)
    return qs.exclude(invoice__isnull=False, invoice__closed_on__isnull=True)
