"""CUSIN import: one service for sFTP files, the command line and API uploads.

The file is checked whole first (name, size, hostile XML, header, ledger, digest, serial, schema);
a file failing any of these is rejected whole and books nothing. Then its customers are booked in
batches, each batch in one database transaction together with its CusinBatch row: a bad customer or
invoice fails alone, and a crash mid-file can be re-run to book only what was not booked yet.
"""

import hashlib
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cusin.checks import _BatchResult, _check_records, _error
from cusin.credits import _apply_credits
from ledger.bulk import customer_nos_in, gc_paused
from ledger.errors import LedgerError
from ledger.models import Customer, Invoice, Ledger
from ledger.money import ZERO
from ledger.services.attachments import invoice_attachment_add
from ledger.services.customers import customers_upsert
from ledger.services.registration import InvoiceInput, _existing, invoices_register_rows

from . import receipts, xmlread
from .models import CusinBatch, CusinFile, FileStatus
from .records import parse_record

FILE_NAME = re.compile(r"^CUSIN_(?P<company_no>[0-9]+)_(?P<stamp>[0-9]{14})_(?P<serial>[0-9]+)\.xml$")
BATCH_SIZE = 500  # CUSINInfo elements per committed batch
SUBTRANSACTIONS_HELD_MAX = 64  # PGPROC_MAX_CACHED_SUBXIDS


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest()


def cusin_import(
    *,
    path: Path,
    actor: str = "cusin",
    source: str = "cli",
    booking_date: date | None = None,
    write_outbox: bool = True,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Import one CUSIN file and return its receipt (also written to the ledger's outbox)."""
    path = Path(path)
    name = path.name
    match = FILE_NAME.match(name)
    company_no = match["company_no"] if match else ""
    file_row, ledger, size = None, None, path.stat().st_size
    try:
        if size > settings.CUSIN_MAX_FILE_BYTES:
            raise xmlread.CusinFileError(
                "FileTooLarge",
                f"the file has {size} bytes; at most {settings.CUSIN_MAX_FILE_BYTES} are accepted",
            )
        if match is None:
            raise xmlread.CusinFileError(
                "InvalidFileName", f"{name!r} does not follow CUSIN_<CompanyNo>_<YYYYMMDDhhmmss>_<Serial>.xml"
            )
        xmlread.check_prolog(path)
        header = xmlread.read_header(path)
        if header.company_no != company_no:
            raise xmlread.CusinFileError(
                "InvalidFileName",
                f"the file name says CompanyNo {company_no}, the file says {header.company_no}",
                1,
            )
        ledger = Ledger.objects.filter(company_no=company_no).first()
        if ledger is None:
            raise xmlread.CusinFileError("UnknownCompanyNo", f"no ledger has CompanyNo {company_no}", 1)
        file_row, finished = _claim_file(
            ledger=ledger,
            name=name,
            serial=int(match["serial"]),
            digest=_digest(path),
            size=size,
            source=source,
        )
        if finished:
            # The same file again, or a retry after the receipt could not be written (a full disk, a
            # worker killed after the booking): nothing more to book; the same receipt, written again.
            if write_outbox:
                receipts.write_to_outbox(file_row.receipt, company_no)
            return file_row.receipt
        with (
            gc_paused(),
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="cusin-validator") as validator,
        ):
            # The validation pass runs alongside the booking (see _book_batches).
            validation = validator.submit(_validate, path, header.version)
            _book_batches(
                file_row=file_row,
                path=path,
                ledger=ledger,
                actor=actor,
                booking_date=booking_date or ledger.today(),
                batch_size=batch_size,
                validation=validation,
                progress=progress,
            )
    except xmlread.CusinFileError as exc:
        receipt = rejected_receipt(name, company_no, exc)
        if file_row is not None:
            CusinFile.objects.filter(pk=file_row.pk).update(
                status=FileStatus.REJECTED, receipt=receipt, finished_at=timezone.now()
            )
        else:  # kept on record too, so operators see every file that came in
            CusinFile.objects.create(
                ledger=ledger,
                company_no=company_no,
                file_name=name,
                serial=int(match["serial"]) if match else None,
                digest=_digest(path),
                size=size,
                source=source,
                status=FileStatus.REJECTED,
                receipt=receipt,
                finished_at=timezone.now(),
            )
        if write_outbox and company_no:
            receipts.write_to_outbox(receipt, company_no)
        return receipt

    receipt = _finish(file_row=file_row, header=header, ledger=ledger)
    if write_outbox:
        receipts.write_to_outbox(receipt, company_no)
    return receipt


def _claim_file(*, ledger, name, serial, digest, size, source) -> tuple[CusinFile, bool]:
    """Find or create the file's row: (row, already finished). Raises CusinFileError for a duplicate."""
    with transaction.atomic():
        same = (
            CusinFile.objects.select_for_update()
            .filter(ledger=ledger, digest=digest)
            .exclude(status=FileStatus.REJECTED)
            .first()
        )
        if same is not None:
            if same.file_name != name:
                raise xmlread.CusinFileError(
                    "DuplicateFile", f"the same content was already received as {same.file_name}"
                )
            return same, same.status != FileStatus.PROCESSING
        taken = (
            CusinFile.objects.filter(ledger=ledger, serial=serial).exclude(status=FileStatus.REJECTED).first()
        )
        if taken is not None:
            raise xmlread.CusinFileError(
                "SerialReused",
                f"serial {serial} was already used by {taken.file_name}; a serial is never reused",
            )
        try:
            with transaction.atomic():
                row = CusinFile.objects.create(
                    ledger=ledger,
                    company_no=ledger.company_no,
                    file_name=name,
                    serial=serial,
                    digest=digest,
                    size=size,
                    source=source,
                )
        except IntegrityError as exc:  # another worker claimed it between our check and insert
            raise xmlread.CusinFileError(
                "DuplicateFile", "the file is being imported by another worker"
            ) from exc
    return row, False


def _validate(path: Path, version: str) -> xmlread.FileIndex:
    """The validation pass (in its own thread: no database here)."""
    index = xmlread.validate(path, version)
    if index.invoices > settings.CUSIN_MAX_INVOICES:
        raise xmlread.CusinFileError(
            "TooManyInvoices",
            f"the file has {index.invoices} invoices; at most {settings.CUSIN_MAX_INVOICES} per file",
        )
    return index


def _record_batches(path: Path, size: int, index: xmlread.FileIndex):
    """The file's records in batches; `index` learns where each number first appears as they are read
    (in file order, so a number's first line is known before any repeat of it is booked)."""
    batch = []
    for element in xmlread.iter_records(path):
        record = parse_record(element)  # parsed before the reader clears the element
        index.first_customer_line.setdefault(record.customer_no, record.line)
        for invoice in record.invoices:
            index.invoices += 1
            index.first_invoice_line.setdefault(invoice.invoice_no, invoice.line)
            ref = "".join(invoice.payment_ref.split())
            if ref:
                index.first_ref_line.setdefault(ref, invoice.line)
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _read_ahead(batches):
    """Yield the batches while the next one is read in a background thread.

    Booking a batch mostly waits on PostgreSQL (the GIL is released meanwhile), so the XML of the
    next batch is parsed in that time. Only the reader thread touches lxml, only this one the database.
    """
    end = object()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cusin-reader") as reader:
        upcoming = reader.submit(next, batches, end)
        while (batch := upcoming.result()) is not end:
            upcoming = reader.submit(next, batches, end)
            yield batch


def _book_batches(*, file_row, path, ledger, actor, booking_date, batch_size, validation, progress) -> None:
    """Book the file batch by batch while `validation` (the validation pass, in another thread) runs.

    Until the validation pass has passed the whole file, the batches booked meanwhile are held in one
    database transaction: a file it rejects books nothing (and if booking meets something the schema
    forbids first, the validation's finding is the file's error). From then on each batch commits
    on its own, and a re-run books only the batches not booked yet.
    """
    done = set(CusinBatch.objects.filter(file=file_row).values_list("batch_no", flat=True))
    index = xmlread.FileIndex()  # filled in as the records are read
    batches = enumerate(_read_ahead(_record_batches(path, batch_size, index)), start=1)
    invoices_read, total = 0, None

    def book(batch_no, records):
        nonlocal invoices_read
        invoices_read += sum(len(r.invoices) for r in records)
        if batch_no not in done:  # batches an earlier run booked are skipped
            _book_batch(
                file_row=file_row,
                batch_no=batch_no,
                records=records,
                ledger=ledger,
                actor=actor,
                booking_date=booking_date,
                index=index,
            )
        if progress and total is not None:
            progress(invoices_read, total)

    try:
        with transaction.atomic():
            # Each batch's savepoints (its own and the services') are subtransactions of the held
            # transaction; past PostgreSQL's 64 cached per session, every other session's snapshot
            # checks read pg_subtrans. So the held batches stop before that: the rest wait for the
            # validation's verdict and then commit one by one.
            first, per_batch = connection.savepoint_state, 0
            for batch_no, records in batches:
                before = connection.savepoint_state
                book(batch_no, records)
                per_batch = max(per_batch, connection.savepoint_state - before)
                held = connection.savepoint_state - first
                if validation.done() or held + per_batch > SUBTRANSACTIONS_HELD_MAX:
                    break
            total = validation.result().invoices  # a CusinFileError here rolls the held batches back
            CusinFile.objects.filter(pk=file_row.pk).update(passed_xsd_validation=True)
    except Exception:
        validation.result()  # the file's own error, if it has one
        raise
    if progress:
        progress(invoices_read, total)
    for batch_no, records in batches:
        book(batch_no, records)


def _refuse_orphaned_wards(checked, existing_customers, result) -> None:
    """A customer whose guardian is earlier in the file but was refused there is refused too (the checks
    saw the guardian's number; only now is it known that the record did not pass)."""
    upserting = {c.record.customer_no for c in checked if c.customer_input and not c.customer_failed}
    for c in checked:
        guardian = c.customer_input.guardian_customer_no if c.customer_input and not c.customer_failed else None
        if guardian and guardian not in existing_customers and guardian not in upserting:
            c.customer_failed = True
            result.failed_customers += 1
            result.failed_invoices += len(c.good_invoices)  # the others were counted by the checks
            result.failed_credits += len(c.record.credits)
            result.errors.append(_error("UnknownGuardian", f"GuardianCustomerNo {guardian}: its customer record "
                                        "was refused", customer_no=c.record.customer_no, line=c.record.line))  # fmt: skip


def _book_batch(*, file_row, batch_no, records, ledger, actor, booking_date, index) -> None:
    # Guardians and other payers too: they may be customers of the ledger outside this batch.
    customer_nos = [r.customer_no for r in records] + [
        number
        for r in records
        for number in (
            r.customer.guardian_customer_no if r.customer else None,
            *(i.payer_customer_no for i in r.invoices),
        )
        if number
    ]
    invoice_nos = [i.invoice_no for r in records for i in r.invoices]
    refs = ["".join(i.payment_ref.split()) for r in records for i in r.invoices if i.payment_ref]
    result = _BatchResult()
    try:
        with transaction.atomic():
            # Numbers as one array parameter, and plain queries: the ORM's building of 500- and 1,000-value
            # IN lists cost more than running them.
            existing_customers = {
                c.customer_no: c
                for c in Customer.objects.filter(ledger=ledger, customer_no__in=customer_nos_in(customer_nos))
            }
            existing_invoices = _existing(ledger, "invoice_no", invoice_nos)
            existing_refs = _existing(ledger, "payment_ref", refs)
            checked = _check_records(
                ledger,
                records=records,
                index=index,
                existing_customers=existing_customers,
                existing_invoices=existing_invoices,
                existing_refs=existing_refs,
                result=result,
            )
            _refuse_orphaned_wards(checked, existing_customers, result)
            upserted = customers_upsert(
                ledger=ledger,
                actor=actor,
                booking_date=booking_date,
                source=file_row.file_name,
                customers=[c.customer_input for c in checked if c.customer_input and not c.customer_failed],
            )
            customers = {**existing_customers, **upserted}
            for c in checked:  # a payer earlier in the file whose own record was refused
                for i in [i for i in c.good_invoices if i.payer_customer_no and i.payer_customer_no not in customers]:
                    c.good_invoices.remove(i)
                    result.failed_invoices += 1
                    result.errors.append(_error("UnknownPayer", f"PayerCustomerNo {i.payer_customer_no}: its "
                                                "customer record was refused", customer_no=c.record.customer_no,
                                                invoice_no=i.invoice_no, line=i.line))  # fmt: skip
            inputs = [
                InvoiceInput(
                    customer=customer,
                    invoice_no=i.invoice_no,
                    invoice_date=i.invoice_date,
                    due_date=i.due_date,
                    amount=i.amount,
                    currency=i.currency,
                    payment_ref=i.payment_ref or None,
                    reference_text=i.reference_text,
                    amount_excl_vat=i.amount_excl_vat,
                    vat_amount=i.vat_amount,
                    with_distribution=i.with_distribution,
                    distribution_type=customer.distribution_type,
                    print_blocks=i.print_blocks,
                    payer=customers[i.payer_customer_no] if i.payer_customer_no else None,
                )
                for c in checked
                if not c.customer_failed and c.good_invoices
                for customer in (customers[c.record.customer_no],)
                for i in c.good_invoices
            ]
            # The existence checks above, in this database transaction, are the ones registration makes.
            registered = invoices_register_rows(
                ledger=ledger, invoices=inputs, actor=actor, booking_date=booking_date, existence_checked=True
            )
            result.total = sum((i.amount for i in registered), ZERO)
            _attachments_keep(checked, registered, actor=actor)
            for c in checked:
                if not c.customer_failed:
                    _apply_credits(
                        c.record, ledger=ledger, actor=actor, booking_date=booking_date, result=result
                    )
            _save_batch(file_row, batch_no, result)
    except LedgerError as exc:
        # Unexpected after the checks above (e.g. a concurrent registration): the batch is refused as
        # a whole, every invoice in it listed, and the file goes on with the next batch.
        failed = _BatchResult(
            customers=len(records),
            invoices=len(invoice_nos),
            failed_customers=len(records),
            failed_invoices=len(invoice_nos),
            credits=sum(len(r.credits) for r in records),
            failed_credits=sum(len(r.credits) for r in records),
        )
        failed.errors = [
            _error(
                "BatchFailed",
                f"batch {batch_no} could not be booked: {exc.message}",
                customer_no=r.customer_no,
                line=r.line,
            )
            for r in records
        ]
        with transaction.atomic():
            _save_batch(file_row, batch_no, failed)


def _attachments_keep(checked, registered, *, actor) -> None:
    """The registered invoices' attachments (checked with the invoice: InvalidAttachment), kept."""
    attachments = {i.invoice_no: i.attachments for c in checked if not c.customer_failed
                   for i in c.good_invoices if i.attachments}  # fmt: skip
    for row in registered:
        for file_name, content in attachments.get(row.invoice_no, ()):
            invoice_attachment_add(invoice=Invoice(pk=row.id), file_name=file_name, content=content, actor=actor)


def _save_batch(file_row, batch_no, result: _BatchResult) -> None:
    CusinBatch.objects.create(
        file=file_row,
        batch_no=batch_no,
        customers=result.customers,
        invoices=result.invoices,
        failed_customers=result.failed_customers,
        failed_invoices=result.failed_invoices,
        total_invoice_amount=result.total,
        credits=result.credits,
        failed_credits=result.failed_credits,
        errors=result.errors,
    )


def _finish(*, file_row, header, ledger) -> dict:
    totals = {
        "customers": 0,
        "invoices": 0,
        "failed_customers": 0,
        "failed_invoices": 0,
        "credits": 0,
        "failed_credits": 0,
    }
    total_amount, errors = ZERO, []
    for batch in CusinBatch.objects.filter(file=file_row).order_by("batch_no"):
        for key in totals:
            totals[key] += getattr(batch, key)
        total_amount += batch.total_invoice_amount
        errors += batch.errors
    failed = totals["failed_customers"] or totals["failed_invoices"] or totals["failed_credits"]
    status = FileStatus.PARTIALLY_ACCEPTED if failed else FileStatus.ACCEPTED
    receipt = {
        "file": file_row.file_name,
        "company_no": ledger.company_no,
        "status": status.value,
        "passed_xsd_validation": True,
        "distribution_date": header.distribution_date,
        **totals,
        "total_invoice_amount": str(total_amount),
        "currency": ledger.currency,
        "processed_at": timezone.now().isoformat(timespec="seconds"),
        "errors": errors,
    }
    CusinFile.objects.filter(pk=file_row.pk).update(
        status=status, receipt=receipt, finished_at=timezone.now()
    )
    return receipt


def rejected_receipt(name: str, company_no: str, exc: xmlread.CusinFileError) -> dict:
    return {
        "file": name,
        "company_no": company_no,
        "status": FileStatus.REJECTED.value,
        "passed_xsd_validation": False,
        "distribution_date": None,
        "customers": 0,
        "invoices": 0,
        "failed_customers": 0,
        "failed_invoices": 0,
        "credits": 0,
        "failed_credits": 0,
        "total_invoice_amount": "0.00",
        "currency": None,
        "processed_at": timezone.now().isoformat(timespec="seconds"),
        "errors": [_error(exc.code, exc.message, line=exc.line)],
    }
