"""Distribution: documents claimed with a conditional UPDATE (two workers never take the same one), then
rendered, archived and sent each outside any transaction; only the short bookkeeping writes are
transactions (`documents_distribute`)."""

import hashlib
import logging
from collections import Counter
from datetime import date, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from distribution import texts
from distribution.channels import channel_choose
from distribution.models import (
    MAX_SEND_ATTEMPTS,
    Channel,
    ClientDocumentProfile,
    Document,
    DocumentEvent,
    DocumentKind,
    DocumentStatus,
    PaperRoute,
)
from distribution.render import document_context, document_render, portal_link
from distribution.senders import (
    SendFailed,
    ehf_write,
    einvoice_record_write,
    email_send,
    pdf_file_name,
    sms_send,
)
from distribution.services.attachments import attachments_append
from distribution.services.common import CLAIM_BATCH, DISTRIBUTION_ACTOR, _actor_fields, archive_storage
from distribution.services.efaktura_matching import efaktura_match, efaktura_match_needed
from distribution.services.print_batches import print_batches_write
from ledger.errors import InvalidTransition
from ledger.models import (
    CustomerConsent,
    InvoiceStatus,
    Ledger,
)
from ledger.selectors import invoice_balance

logger = logging.getLogger(__name__)

# --- Distribution --------------------------------------------------------------------------------


def _claim(*, as_of: date, ledger: Ledger | None, run_started, limit: int) -> list[int]:
    """Take up to `limit` documents due for distribution: queued ones, ones that failed in an earlier
    run, and ones whose worker died (processing for longer than DOCUMENT_CLAIM_STALE_SECONDS).
    FOR UPDATE SKIP LOCKED plus the status condition: a document is taken by one worker only."""
    stale_before = timezone.now() - timedelta(seconds=settings.DOCUMENT_CLAIM_STALE_SECONDS)
    ledger_filter = "AND ledger_id = %s" if ledger is not None else ""
    backoff = settings.DOCUMENT_RETRY_BACKOFF_SECONDS
    params = [as_of, run_started, backoff, stale_before] + ([ledger.id] if ledger is not None else []) + [limit]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""WITH picked AS (
                    SELECT id, status FROM distribution_document
                     WHERE booking_date <= %s
                       AND (status = 'queued'
                            -- a failed attempt is retried by a later run, after a wait that doubles with
                            -- each attempt (DOCUMENT_RETRY_BACKOFF_SECONDS, 2x, 4x, ...)
                            OR (status = 'retry' AND claimed_at < %s
                                AND claimed_at + make_interval(secs => %s * power(2, greatest(attempts - 1, 0)))
                                    <= clock_timestamp())
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
    receiver = ""
    if efaktura_match_needed(customer, document.ledger.country):
        match = efaktura_match(customer=customer, today=document.booking_date)
        receiver = match.receiver_id if match.accepts_all else ""
    return channel_choose(
        kind=document.kind,
        customer=customer,
        ledger_country=document.ledger.country,
        booking_date=document.booking_date,
        consents=CustomerConsent.objects.filter(customer_id=customer.id),
        distribution_type=distribution_type,
        paper_kinds=profile.paper_kinds if profile is not None else (),
        new_address=new_address,
        efaktura_receiver=receiver,
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


def _process(document: Document, *, actor: str, profile, day: date) -> tuple[str, str]:
    """Choose, render, archive, send one claimed document on the business day `day` (the day it is
    charged for, accounting.settlement). Returns (status, error)."""
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
            # the invoice's attachments' pages follow its own, in the one archived PDF every channel sends
            pdf, pages = attachments_append(document, rendered.pdf, rendered.pages)
            context = rendered.context
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
                    pages=pages,
                    retention_until=_retention_until(document, profile),
                )
            document.archive_name, document.checksum, document.pages = name, checksum, pages
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
            distributed_on=day,
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
            status, error = _process(
                document, actor=actor_label, profile=profiles[document.ledger.client_id], day=as_of
            )
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
