"""Paper: the day's print batch (the PDFs merged, a manifest) for the print house."""

import csv
import io
from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from pypdf import PdfWriter

from distribution.models import (
    Channel,
    Document,
    DocumentEvent,
    DocumentStatus,
    PrintBatch,
)
from distribution.senders import (
    distribution_outbox,
    pdf_file_name,
    relative_to_data_dir,
)
from distribution.services.common import DISTRIBUTION_ACTOR, archive_storage
from ledger.models import (
    Ledger,
)
from ledger.outbox import write_atomic

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
        ledger = Ledger.objects.select_for_update(no_key=True).get(pk=ledger_id)
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
