"""Distribution: queue documents, choose the channel, render, archive, send, and handle returns.

Queueing is set-based and runs inside the caller's transaction. Distribution claims documents with a
conditional UPDATE (two workers never take the same one), then renders, archives and sends each one
outside any transaction; only the short bookkeeping writes are transactions.
"""

import csv
import hashlib
import io
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone
from pypdf import PdfWriter

from ledger.addresses import address_clean
from ledger.errors import InvalidTransition, ValidationFailed
from ledger.models import (
    Customer,
    CustomerConsent,
    CustomerEvent,
    CustomerEventKind,
    InvoiceStatus,
    Ledger,
    User,
)
from ledger.outbox import write_atomic
from ledger.selectors import invoice_balance

from . import texts
from .channels import channel_choose
from .models import (
    MAX_SEND_ATTEMPTS,
    Channel,
    ClientDocumentProfile,
    Document,
    DocumentEvent,
    DocumentKind,
    DocumentStatus,
    PaperRoute,
    PrintBatch,
    ReturnedDocument,
    ReturnKind,
    ReturnStatus,
)
from .render import document_context, document_render, portal_link
from .senders import (
    SendFailed,
    distribution_outbox,
    ehf_write,
    einvoice_record_write,
    email_send,
    pdf_file_name,
    relative_to_data_dir,
    sms_send,
)

logger = logging.getLogger(__name__)

DISTRIBUTION_ACTOR = "distribution"
# Small claims: workers share the tail of the day evenly, and a dead worker strands few documents.
CLAIM_BATCH = 25


def _actor_fields(actor: User | str | None) -> tuple[int | None, str]:
    if actor is None:
        return None, DISTRIBUTION_ACTOR
    if isinstance(actor, str):
        return None, actor
    return actor.pk, actor.get_username()


def archive_storage():
    """The document archive: STORAGES["documents"] (local files or an S3-compatible bucket)."""
    return storages["documents"]


# --- Queueing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentRequest:
    ledger_id: int
    customer_id: int
    invoice_id: int | None  # None for a debt summary / payout notice without an invoice
    kind: str  # a DocumentKind value
    booking_date: date
    source_key: str  # unique per ledger: queueing the same key again is a no-op
    facts: dict  # JSON-able facts the caller knows (fee, deadline, interest_rate, interest_from, ...)


_INSERT_SELECT = """
    INSERT INTO distribution_document
        (ledger_id, customer_id, invoice_id, kind, booking_date, source_key, facts, status, channel, route,
         channel_reason, channel_error, address, language, archive_name, checksum, attempts, last_error,
         resend_of_id, created_at)
    SELECT r.ledger_id, r.customer_id, r.invoice_id, r.kind, r.booking_date, r.source_key, r.facts::jsonb,
           'queued', '', '', '', '', '{}'::jsonb, '', '', '', 0, '', r.resend_of_id, now()
"""


def documents_queue(*, requests: Sequence[DocumentRequest]) -> int:
    """Queue documents: one INSERT ... ON CONFLICT (ledger, source_key) DO NOTHING over arrays, in the
    caller's transaction, nothing rendered. Returns how many were new. Raises ValidationFailed (and
    queues nothing) on an unknown kind, an empty or over-long source key, facts that are not JSON, or a
    customer or invoice that is not of the request's ledger (or an invoice of another customer)."""
    return _queue(requests, resend_of=None)


def _queue(requests: Sequence[DocumentRequest], *, resend_of: Sequence[int | None] | None) -> int:
    if not requests:
        return 0
    kinds = set(DocumentKind.values)
    columns = defaultdict(list)
    for n, r in enumerate(requests):
        if r.kind not in kinds:
            raise ValidationFailed(
                f"request {n}: unknown document kind {r.kind!r}", code="unknown_document_kind"
            )
        if not r.source_key or len(r.source_key) > 200:
            raise ValidationFailed(
                f"request {n}: source_key must be 1-200 characters", code="invalid_source_key"
            )
        if not isinstance(r.booking_date, date):
            raise ValidationFailed(f"request {n}: booking_date must be a date", code="invalid_booking_date")
        try:
            # Decimal and date values become strings ("35.00", "2026-03-01"), as the renderer reads them.
            facts = json.dumps(r.facts or {}, cls=DjangoJSONEncoder)
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(f"request {n}: facts are not JSON: {exc}", code="invalid_facts") from exc
        columns["ledger_id"].append(r.ledger_id)
        columns["customer_id"].append(r.customer_id)
        columns["invoice_id"].append(r.invoice_id)
        columns["kind"].append(r.kind)
        columns["booking_date"].append(r.booking_date)
        columns["source_key"].append(r.source_key)
        columns["facts"].append(facts)
    resend_ids = list(resend_of) if resend_of is not None else [None] * len(requests)
    arrays = [
        columns["ledger_id"],
        columns["customer_id"],
        columns["invoice_id"],
        columns["kind"],
        columns["booking_date"],
        columns["source_key"],
        columns["facts"],
        resend_ids,
    ]
    unnest = """unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::text[], %s::date[], %s::text[],
                       %s::text[], %s::bigint[])
                AS r(ledger_id, customer_id, invoice_id, kind, booking_date, source_key, facts, resend_of_id)"""
    with connection.cursor() as cursor:
        # Tenancy, checked before writing so the caller gets a coded error rather than a key violation.
        cursor.execute(
            f"""SELECT r.source_key FROM {unnest}
                 LEFT JOIN ledger_customer c ON c.id = r.customer_id AND c.ledger_id = r.ledger_id
                 LEFT JOIN ledger_invoice i ON i.id = r.invoice_id
                WHERE c.id IS NULL
                   OR (r.invoice_id IS NOT NULL
                       AND (i.id IS NULL OR i.ledger_id <> r.ledger_id OR i.customer_id <> r.customer_id))
                LIMIT 5""",
            arrays,
        )
        wrong = [row[0] for row in cursor.fetchall()]
        if wrong:
            raise ValidationFailed(
                f"customer or invoice not of the request's ledger (or invoice not of that customer): "
                f"{', '.join(wrong)}",
                code="document_party_mismatch",
            )
        cursor.execute(
            f"{_INSERT_SELECT} FROM {unnest} ON CONFLICT (ledger_id, source_key) DO NOTHING",
            arrays,
        )
        return cursor.rowcount


def invoice_documents_queue(*, ledger: Ledger, as_of: date) -> int:
    """Queue an `invoice` document (source key "invoice:<id>") for every open InvoiceWithDistribution
    invoice of the ledger dated on or before as_of that has none yet. One statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""{_INSERT_SELECT}
                 FROM (SELECT i.ledger_id, i.customer_id, i.id AS invoice_id, 'invoice' AS kind,
                              %s::date AS booking_date, 'invoice:' || i.id AS source_key, '{{}}' AS facts,
                              NULL::bigint AS resend_of_id
                         FROM ledger_invoice i
                        WHERE i.ledger_id = %s AND i.with_distribution AND i.status <> %s
                          AND i.invoice_date <= %s
                          AND NOT EXISTS (SELECT 1 FROM distribution_document d
                                           WHERE d.ledger_id = i.ledger_id
                                             AND d.source_key = 'invoice:' || i.id)) AS r
               ON CONFLICT (ledger_id, source_key) DO NOTHING""",
            [as_of, ledger.id, InvoiceStatus.CLOSED, as_of],
        )
        return cursor.rowcount


# --- Distribution --------------------------------------------------------------------------------


def _claim(*, as_of: date, ledger: Ledger | None, run_started, limit: int) -> list[int]:
    """Take up to `limit` documents due for distribution: queued ones, ones that failed in an earlier
    run, and ones whose worker died (processing for longer than DOCUMENT_CLAIM_STALE_SECONDS).
    FOR UPDATE SKIP LOCKED plus the status condition: a document is taken by one worker only."""
    stale_before = timezone.now() - timedelta(seconds=settings.DOCUMENT_CLAIM_STALE_SECONDS)
    ledger_filter = "AND ledger_id = %s" if ledger is not None else ""
    params = [as_of, run_started, stale_before] + ([ledger.id] if ledger is not None else []) + [limit]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""WITH picked AS (
                    SELECT id, status FROM distribution_document
                     WHERE booking_date <= %s
                       AND (status = 'queued'
                            OR (status = 'retry' AND claimed_at < %s)
                            OR (status = 'processing' AND claimed_at < %s))
                       {ledger_filter}
                     ORDER BY id
                     LIMIT %s
                       FOR UPDATE SKIP LOCKED)
                UPDATE distribution_document d SET status = 'processing', claimed_at = clock_timestamp()
                  FROM picked WHERE d.id = picked.id
                RETURNING d.id, picked.status""",
            params,
        )
        rows = cursor.fetchall()
        DocumentEvent.objects.bulk_create(
            DocumentEvent(
                document_id=doc_id,
                from_status=old,
                to_status=DocumentStatus.PROCESSING,
                reason="claimed for distribution"
                if old != "processing"
                else "taken over from a stalled worker",
                actor=DISTRIBUTION_ACTOR,
            )
            for doc_id, old in rows
        )
    return sorted(doc_id for doc_id, _ in rows)


def _retention_until(document: Document, profile: ClientDocumentProfile | None) -> date:
    years = profile.retention_years if profile is not None else 10
    day = document.booking_date
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _profile(ledger: Ledger) -> ClientDocumentProfile | None:
    return ClientDocumentProfile.objects.filter(client_id=ledger.client_id).first()


def _choose(document: Document, profile: ClientDocumentProfile | None):
    customer = document.customer
    facts = document.facts or {}
    new_address = facts.get("new_address") if "new_address" in facts else None
    distribution_type = ""
    if document.invoice is not None:
        distribution_type = document.invoice.distribution_type
    distribution_type = distribution_type or customer.distribution_type
    return channel_choose(
        kind=document.kind,
        customer=customer,
        ledger_country=document.ledger.country,
        booking_date=document.booking_date,
        consents=CustomerConsent.objects.filter(customer_id=customer.id),
        distribution_type=distribution_type,
        paper_kinds=profile.paper_kinds if profile is not None else (),
        new_address=new_address,
    )


def _archive(document: Document, pdf: bytes) -> tuple[str, str]:
    """Store the PDF once; returns (storage name, SHA-256)."""
    checksum = hashlib.sha256(pdf).hexdigest()
    storage = archive_storage()
    wanted = f"{document.ledger.company_no}/{document.booking_date:%Y/%m}/{pdf_file_name(document)}"
    if storage.exists(wanted):
        # A worker died after archiving and before recording it: the name is this document's own.
        storage.delete(wanted)
    return storage.save(wanted, ContentFile(pdf)), checksum


def _record(
    document: Document,
    *,
    to_status: str,
    actor: str,
    reason: str = "",
    attempt_no=None,
    detail=None,
    **fields,
) -> None:
    """One short transaction: move the document (only if still ours: status processing) and record it."""
    with transaction.atomic():
        updated = Document.objects.filter(pk=document.pk, status=document.status).update(
            status=to_status, **fields
        )
        if not updated:
            raise InvalidTransition(
                f"document {document.pk} is no longer {document.status}", code="document_not_claimed"
            )
        DocumentEvent.objects.create(
            document_id=document.pk,
            from_status=document.status,
            to_status=to_status,
            channel=fields.get("channel", document.channel),
            attempt_no=attempt_no,
            reason=reason[:1000],
            detail=detail or {},
            actor=actor,
        )
    document.status = to_status
    for key, value in fields.items():
        setattr(document, key, value)


# Kinds that ask for money: not sent once the claim is settled between queueing and distribution.
_DEMANDS = frozenset(DocumentKind.values) - {
    DocumentKind.INVOICE,
    DocumentKind.PAYOUT_NOTICE,
    DocumentKind.DEBT_SUMMARY,
}


def _nothing_owed(document: Document) -> bool:
    if document.kind not in _DEMANDS or document.invoice is None or document.archive_name:
        return False
    balance = invoice_balance(document.invoice)
    if document.kind == DocumentKind.COST_CLAIM:
        return balance.fees + balance.interest <= 0
    return document.invoice.status == InvoiceStatus.CLOSED or balance.open_amount <= 0


def _process(document: Document, *, actor: str, profile) -> tuple[str, str]:
    """Choose, render, archive, send one claimed document. Returns (status, error)."""
    attempt_no = document.attempts + 1
    try:
        if not document.channel:
            choice = _choose(document, profile)
            document.channel, document.route = choice.channel, choice.route
            document.address, document.channel_reason = choice.address, choice.reason
            document.channel_error = choice.error
            document.language = texts.language_for(document.customer.country)
        if _nothing_owed(document):
            _record(
                document,
                to_status=DocumentStatus.CANCELLED,
                actor=actor,
                reason="nothing owed any more when it was due to be rendered (paid, credited or closed)",
            )
            return DocumentStatus.CANCELLED, ""
        link = portal_link(document)
        if document.archive_name:
            # A retry sends exactly what was archived.
            pdf = archive_storage().open(document.archive_name).read()
            context = document_context(document, link=link)
        else:
            rendered = document_render(document, link=link)
            pdf, context = rendered.pdf, rendered.context
            name, checksum = _archive(document, pdf)
            with transaction.atomic():
                Document.objects.filter(pk=document.pk, status=DocumentStatus.PROCESSING).update(
                    channel=document.channel,
                    route=document.route,
                    address=document.address,
                    channel_reason=document.channel_reason,
                    channel_error=document.channel_error,
                    language=document.language,
                    archive_name=name,
                    checksum=checksum,
                    pages=rendered.pages,
                    retention_until=_retention_until(document, profile),
                )
            document.archive_name, document.checksum, document.pages = name, checksum, rendered.pages
            document.retention_until = _retention_until(document, profile)

        detail = {}
        if document.channel == Channel.ARCHIVE_ONLY:
            status, reason = DocumentStatus.ARCHIVED, document.channel_reason
        elif document.channel == Channel.PAPER:
            if document.route != PaperRoute.PROTECTED_IDENTITY and not all(
                (document.address or {}).get(k) for k in ("line1", "postal_code", "city")
            ):
                raise SendFailed("no postal address", code="no_postal_address", permanent=True)
            status, reason = DocumentStatus.AWAITING_PRINT, "archived; goes in the day's print batch"
        else:
            if document.channel == Channel.EMAIL:
                detail = email_send(document, context=context, pdf=pdf, attempt_no=attempt_no)
            elif document.channel == Channel.SMS:
                detail = sms_send(document, context=context, attempt_no=attempt_no)
            elif document.channel in (Channel.EINVOICE_B2C, Channel.KIVRA):
                detail = einvoice_record_write(document, context=context, pdf=pdf, checksum=document.checksum)
            elif document.channel == Channel.EINVOICE_B2B:
                detail = ehf_write(document, pdf=pdf)
            status, reason = DocumentStatus.SENT, f"sent by {document.channel}"
        _record(
            document,
            to_status=status,
            actor=actor,
            reason=reason,
            attempt_no=attempt_no if status == DocumentStatus.SENT else None,
            detail=detail,
            attempts=attempt_no if status == DocumentStatus.SENT else document.attempts,
            sent_at=timezone.now() if status == DocumentStatus.SENT else None,
            channel=document.channel,
            route=document.route,
            address=document.address,
            channel_reason=document.channel_reason,
            channel_error=document.channel_error,
            language=document.language,
            last_error="",
        )
        return status, ""
    except Exception as exc:  # one document's failure is recorded; the run goes on
        if isinstance(exc, InvalidTransition) and exc.code == "document_not_claimed":
            return "skipped", str(exc)
        permanent = getattr(exc, "permanent", False)
        code = getattr(exc, "code", type(exc).__name__)
        message = f"{code}: {exc}"
        if not isinstance(exc, SendFailed):
            logger.exception("document %s failed", document.pk)
        status = (
            DocumentStatus.FAILED if permanent or attempt_no >= MAX_SEND_ATTEMPTS else DocumentStatus.RETRY
        )
        _record(
            document,
            to_status=status,
            actor=actor,
            reason=message,
            attempt_no=attempt_no,
            detail={"code": code, "permanent": permanent},
            attempts=attempt_no,
            last_error=message[:1000],
            channel=document.channel,
            route=document.route,
            address=document.address,
            channel_reason=document.channel_reason,
            channel_error=document.channel_error,
            language=document.language,
        )
        return status, message


def documents_distribute(*, as_of: date, ledger: Ledger | None = None, actor=DISTRIBUTION_ACTOR) -> dict:
    """Distribute every document due by as_of (of one ledger, or all): claim, choose the channel,
    render, archive, send; then write the day's print batches. Safe to run twice and in parallel.

    Returns {"as_of", "documents", "by_kind", "by_channel", "by_status", "print_batches", "errors"}.
    """
    _, actor_label = _actor_fields(actor)
    run_started = timezone.now()
    by_kind, by_channel, by_status = Counter(), Counter(), Counter()
    errors = []
    profiles = {}
    while True:
        ids = _claim(as_of=as_of, ledger=ledger, run_started=run_started, limit=CLAIM_BATCH)
        if not ids:
            break
        documents = Document.objects.filter(pk__in=ids).select_related(
            "ledger", "ledger__client", "customer", "invoice"
        )
        for document in documents.order_by("id"):
            if document.ledger.client_id not in profiles:
                profiles[document.ledger.client_id] = _profile(document.ledger)
            status, error = _process(document, actor=actor_label, profile=profiles[document.ledger.client_id])
            by_kind[str(document.kind)] += 1
            by_channel[str(document.channel or "none")] += 1
            by_status[str(status)] += 1
            if error:
                errors.append({"document": document.pk, "kind": document.kind, "error": error})
    batches = print_batches_write(as_of=as_of, ledger=ledger, actor=actor_label)
    return {
        "as_of": as_of.isoformat(),
        "ledger": ledger.company_no if ledger is not None else None,
        "documents": sum(by_kind.values()),
        "by_kind": dict(sorted(by_kind.items())),
        "by_channel": dict(sorted(by_channel.items())),
        "by_status": dict(sorted(by_status.items())),
        "print_batches": batches,
        "errors": errors,
    }


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
            requests=[
                DocumentRequest(
                    ledger_id=customer.ledger_id,
                    customer_id=customer.pk,
                    invoice_id=None,
                    kind=DocumentKind.DEBT_SUMMARY,
                    booking_date=booking_date,
                    source_key=key,
                    facts={},
                )
            ]
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
    status, error = _process(document, actor=actor, profile=_profile(document.ledger))
    if status != DocumentStatus.ARCHIVED:
        raise InvalidTransition(
            f"the debt summary {document.pk} could not be rendered: {error}", code="document_render_failed"
        )
    return document


# --- Paper: the print batch ----------------------------------------------------------------------

MANIFEST_COLUMNS = [
    "sequence",
    "document_id",
    "kind",
    "customer_no",
    "invoice_no",
    "route",
    "name",
    "co",
    "line1",
    "line2",
    "postal_code",
    "city",
    "country",
    "national_id",
    "pages",
    "first_page",
    "file",
    "sha256",
]


def _batch_assign(*, ledger_id: int, as_of: date, actor: str) -> PrintBatch | None:
    """Give the ledger's archived paper documents a new print batch (rows only)."""
    with transaction.atomic():
        ids = list(
            Document.objects.select_for_update(skip_locked=True)
            .filter(
                ledger_id=ledger_id,
                status=DocumentStatus.AWAITING_PRINT,
                print_batch__isnull=True,
                booking_date__lte=as_of,
            )
            .order_by("id")
            .values_list("id", flat=True)
        )
        if not ids:
            return None
        # The sequence per ledger and day; the unique key settles a race between two workers.
        ledger = Ledger.objects.select_for_update().get(pk=ledger_id)
        last = PrintBatch.objects.filter(ledger_id=ledger_id, batch_date=as_of).aggregate(n=Max("sequence"))[
            "n"
        ]
        sequence = (last or 0) + 1
        documents = Document.objects.filter(pk__in=ids)
        batch = PrintBatch.objects.create(
            ledger_id=ledger_id,
            batch_date=as_of,
            sequence=sequence,
            folder=relative_to_data_dir(
                distribution_outbox("print", ledger.company_no) / f"{as_of.isoformat()}-{sequence:03d}"
            ),
            count=len(ids),
            pages=sum(d.pages or 0 for d in documents),
            actor=actor,
        )
        documents.update(print_batch=batch)
    return batch


def _batch_write_files(batch: PrintBatch) -> None:
    """The letters as one PDF (`batch.pdf`, in manifest order; each letter also on its own), then the
    manifest with each letter's first page (the provider takes a folder once its manifest is there)."""
    folder = settings.LEDGER_DATA_DIR / batch.folder
    storage = archive_storage()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    combined = PdfWriter()
    documents = batch.documents.select_related("customer", "invoice").order_by("id")
    for n, d in enumerate(documents, start=1):
        file_name = f"{n:05d}-{pdf_file_name(d)}"
        content = storage.open(d.archive_name).read()
        write_atomic(folder / file_name, content)
        first_page = len(combined.pages) + 1
        combined.append(io.BytesIO(content))
        a = d.address or {}
        writer.writerow(
            [
                n,
                d.pk,
                d.kind,
                d.customer.customer_no,
                d.invoice.invoice_no if d.invoice else "",
                d.route,
                a.get("name", ""),
                a.get("co", ""),
                a.get("line1", ""),
                a.get("line2", ""),
                a.get("postal_code", ""),
                a.get("city", ""),
                a.get("country", ""),
                a.get("national_id", ""),
                d.pages or 0,
                first_page,
                file_name,
                d.checksum,
            ]
        )
    pdf = io.BytesIO()
    combined.write(pdf)
    write_atomic(folder / "batch.pdf", pdf.getvalue())
    write_atomic(folder / "manifest.csv", out.getvalue().encode("utf-8"))


def print_batches_write(
    *, as_of: date, ledger: Ledger | None = None, actor: str = DISTRIBUTION_ACTOR
) -> list:
    """Write the print batches of the day: new ones for archived paper documents, and any batch a
    dead worker left half-written (its documents still awaiting print). Documents become sent."""
    ledger_ids = (
        [ledger.id]
        if ledger is not None
        else list(
            Document.objects.filter(status=DocumentStatus.AWAITING_PRINT, booking_date__lte=as_of)
            .values_list("ledger_id", flat=True)
            .distinct()
        )
    )
    written = []
    for ledger_id in ledger_ids:
        _batch_assign(ledger_id=ledger_id, as_of=as_of, actor=actor)
        unfinished = PrintBatch.objects.filter(
            ledger_id=ledger_id, documents__status=DocumentStatus.AWAITING_PRINT
        ).distinct()
        for batch in unfinished:
            with transaction.atomic():
                # Lock the batch's documents so a parallel run does not write the same folder twice.
                docs = list(
                    Document.objects.select_for_update(skip_locked=True).filter(
                        print_batch=batch, status=DocumentStatus.AWAITING_PRINT
                    )
                )
                if not docs:
                    continue
                _batch_write_files(batch)
                now = timezone.now()
                # The print batch is the paper letter's send attempt (after any that failed before).
                Document.objects.filter(pk__in=[d.pk for d in docs]).update(
                    status=DocumentStatus.SENT, sent_at=now, attempts=F("attempts") + 1
                )
                DocumentEvent.objects.bulk_create(
                    DocumentEvent(
                        document_id=d.pk,
                        from_status=DocumentStatus.AWAITING_PRINT,
                        to_status=DocumentStatus.SENT,
                        channel=Channel.PAPER,
                        attempt_no=d.attempts + 1,
                        reason=f"in print batch {batch.folder}",
                        detail={"batch": batch.folder},
                        actor=actor,
                    )
                    for d in docs
                )
            written.append({"folder": batch.folder, "documents": batch.count, "pages": batch.pages})
    return written


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
