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
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ledger import references
from ledger.addresses import address_clean
from ledger.bulk import customer_nos_in, gc_paused
from ledger.edi_ids import edi_id_clean
from ledger.errors import InvalidTransition, LedgerError, ValidationFailed
from ledger.models import Customer, Invoice, Ledger, LegalEntity
from ledger.money import ZERO
from ledger.national_ids import InvalidNationalId, national_id_check
from ledger.services.customers import CustomerInput, customers_upsert
from ledger.services.invoice_changes import invoice_credit
from ledger.services.registration import InvoiceInput, _existing, invoices_register_rows

from . import receipts, xmlread
from .models import CusinBatch, CusinFile, FileStatus
from .records import CreditRecord, CusinRecord, InvoiceRecord, parse_record

FILE_NAME = re.compile(r"^CUSIN_(?P<company_no>[0-9]+)_(?P<stamp>[0-9]{14})_(?P<serial>[0-9]+)\.xml$")
BATCH_SIZE = 500  # CUSINInfo elements per committed batch


def _error(
    code: str, message: str, *, customer_no: str = "", invoice_no: str = "", line: int | None = None
) -> dict:
    return {
        "code": code,
        "customer_no": customer_no,
        "invoice_no": invoice_no,
        "line": line,
        "message": message,
    }


@dataclass
class _BatchResult:
    customers: int = 0
    invoices: int = 0
    failed_customers: int = 0
    failed_invoices: int = 0
    credits: int = 0
    failed_credits: int = 0
    total: Decimal = ZERO
    errors: list = field(default_factory=list)


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
            return file_row.receipt  # the same file again: nothing more to book, the same receipt
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
            for batch_no, records in batches:
                book(batch_no, records)
                if validation.done():
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


@dataclass
class _Checked:
    record: CusinRecord
    customer_input: CustomerInput | None = None
    customer_failed: bool = False
    good_invoices: list = field(default_factory=list)


def _customer_input(ledger: Ledger, record: CusinRecord, existing: Customer | None) -> CustomerInput:
    """The customer as it will be after this file: what the file gives, else what we had."""
    info = record.customer

    def given(value, attribute, default=""):
        if value not in ("", None, {}):
            return value
        return getattr(existing, attribute) if existing is not None else default

    name = given(info.name, "name")
    if not name:
        raise _RecordError("MissingMandatoryField", "CustomerInfo/Name is required for a new customer")
    # The number decides the entity when the file leaves LegalEntity out, and must match it when given
    # (the number we have, when the file gives only the entity).
    national_id = info.reg_no or (existing.national_id if existing is not None else "")
    id_country = info.reg_no_country if info.reg_no else (existing.national_id_country if existing else "")
    legal_entity, inferred, checked = info.legal_entity, False, False
    if national_id and (info.reg_no or legal_entity):
        try:
            checked_id = national_id_check(national_id, country=id_country or ledger.country, legal_entity=legal_entity)
        except InvalidNationalId as exc:
            raise _RecordError("InvalidRegNo", f"RegNo {exc}") from exc
        national_id, legal_entity, inferred, checked = (checked_id.number, checked_id.legal_entity,
                                                        checked_id.inferred, True)  # fmt: skip
    else:
        legal_entity = given(legal_entity, "legal_entity", LegalEntity.PRIVATE)
    address = info.legal_address
    if address:
        street = {
            "address_line1": address["street"],
            "co_address": address["co"],
            "postal_code": address["postal_code"],
            "city": address["city"],
            "country": address["country"] or ledger.country,
        }
    else:
        street = {
            k: given("", k, ledger.country if k == "country" else "")
            for k in ("address_line1", "co_address", "postal_code", "city", "country")
        }
    try:
        checked = address_clean({"country": street["country"], "postal_code": street["postal_code"]},
                                default_country=ledger.country)  # fmt: skip
        billing = info.billing_address
        if billing:
            billing = address_clean(billing, default_country=checked["country"] or ledger.country,
                                    what="billing ")  # fmt: skip
    except ValidationFailed as exc:
        raise _RecordError("InvalidAddress", f"CustomerInfo address: {exc.message}") from exc
    street.update(checked)
    try:
        edi = {
            "van": info.edi["van"],
            "buyer_id": edi_id_clean(info.edi["buyer_id"], country=street["country"] or ledger.country,
                                     field="EDIInfo/BuyerId"),
            "seller_id": edi_id_clean(info.edi["seller_id"], country=ledger.country, field="EDIInfo/SellerId"),
        }  # fmt: skip
    except ValidationFailed as exc:
        raise _RecordError("InvalidEdiId", exc.message) from exc
    return CustomerInput(
        customer_no=record.customer_no,
        name=name,
        legal_entity=legal_entity,
        legal_entity_inferred=inferred,
        national_id_checked=checked,
        national_id=given(national_id, "national_id"),
        national_id_country=given(info.reg_no_country, "national_id_country"),
        email=given(info.email, "email"),
        phone=given(info.phone, "phone"),
        address_line2=existing.address_line2 if existing else "",
        **street,
        billing_address=given(billing, "billing_address", {}),
        protected_identity=given(info.protected_identity, "protected_identity", False),
        distribution_type=given(info.distribution_type, "distribution_type"),
        edi_van=given(edi["van"], "edi_van"),
        edi_buyer_id=given(edi["buyer_id"], "edi_buyer_id"),
        edi_seller_id=given(edi["seller_id"], "edi_seller_id"),
        consents=info.consents,
    )


class _RecordError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _invoice_problem(
    ledger, invoice: InvoiceRecord, index: xmlread.FileIndex, existing_invoices, existing_refs
):
    """(code, message) when the invoice cannot be booked, else None."""
    first_line = index.first_invoice_line.get(invoice.invoice_no)
    if first_line != invoice.line:
        return (
            "DuplicateBillNo",
            f"InvoiceNo {invoice.invoice_no} appears earlier in this file (line {first_line})",
        )
    if invoice.invoice_no in existing_invoices:
        return (
            "DuplicateBillNo",
            f"InvoiceNo {invoice.invoice_no} is already registered in ledger {ledger.company_no}",
        )
    if invoice.print_block_error:
        return "InvalidPrintBlock", invoice.print_block_error
    if invoice.currency != ledger.currency:
        return "CurrencyMismatch", f"currency {invoice.currency} is not the ledger's {ledger.currency}"
    if invoice.total_amount is not None and invoice.total_amount != invoice.amount:
        return (
            "AmountMismatch",
            f"AmountExclVat {invoice.amount_excl_vat} + VatAmount {invoice.vat_amount} = "
            f"{invoice.amount}, but TotalAmount is {invoice.total_amount}",
        )
    if invoice.amount <= 0:
        return "AmountMismatch", f"the invoice amount must be positive, got {invoice.amount}"
    if invoice.due_date and invoice.due_date < invoice.invoice_date:
        return "InvalidDueDate", f"DueDate {invoice.due_date} is before InvoiceDate {invoice.invoice_date}"
    if invoice.payment_ref:
        ref = "".join(invoice.payment_ref.split())
        first_ref_line = index.first_ref_line.get(ref)
        if first_ref_line != invoice.line:
            return (
                "PaymentRefNoInUse",
                f"PaymentRefNo {ref} appears earlier in this file (line {first_ref_line})",
            )
        if ref in existing_refs:
            return "PaymentRefNoInUse", f"PaymentRefNo {ref} is already used in ledger {ledger.company_no}"
        try:
            references.validate(
                ref, scheme=references.ReferenceScheme(ledger.reference_scheme), ledger_id=ledger.ledger_no
            )
        except references.InvalidReference as exc:
            return "InvalidPaymentRefNo", f"PaymentRefNo {ref}: {exc}"
    return None


def _check_records(
    ledger, *, records, index, existing_customers, existing_invoices, existing_refs, result: _BatchResult
) -> list[_Checked]:
    checked = []
    for record in records:
        item = _Checked(record=record)
        checked.append(item)
        result.customers += 1
        result.invoices += len(record.invoices)
        result.credits += len(record.credits)
        try:
            first_line = index.first_customer_line.get(record.customer_no)
            if first_line != record.line:
                raise _RecordError(
                    "DuplicateCustomerNo",
                    f"CustomerNo {record.customer_no} appears earlier in this file (line {first_line})",
                )
            existing = existing_customers.get(record.customer_no)
            if record.customer is not None:
                item.customer_input = _customer_input(ledger, record, existing)
            elif existing is None:
                raise _RecordError(
                    "MissingMandatoryField",
                    f"customer {record.customer_no} is new: CustomerInfo with Name is required",
                )
        except _RecordError as exc:
            item.customer_failed = True
            result.failed_customers += 1
            result.failed_invoices += len(record.invoices)
            result.failed_credits += len(record.credits)
            result.errors.append(
                _error(exc.code, exc.message, customer_no=record.customer_no, line=record.line)
            )
            continue
        for invoice in record.invoices:
            problem = _invoice_problem(ledger, invoice, index, existing_invoices, existing_refs)
            if problem:
                result.failed_invoices += 1
                result.errors.append(
                    _error(
                        problem[0],
                        problem[1],
                        customer_no=record.customer_no,
                        invoice_no=invoice.invoice_no,
                        line=invoice.line,
                    )
                )
            else:
                item.good_invoices.append(invoice)
    return checked


def _book_batch(*, file_row, batch_no, records, ledger, actor, booking_date, index) -> None:
    customer_nos = [r.customer_no for r in records]
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
            upserted = customers_upsert(
                ledger=ledger,
                actor=actor,
                booking_date=booking_date,
                source=file_row.file_name,
                customers=[c.customer_input for c in checked if c.customer_input and not c.customer_failed],
            )
            customers = {**existing_customers, **upserted}
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


def _apply_credits(record: CusinRecord, *, ledger, actor, booking_date, result: _BatchResult) -> None:
    for credit in record.credits:
        problem = _credit(credit, record=record, ledger=ledger, actor=actor, booking_date=booking_date)
        if problem:
            result.failed_credits += 1
            result.errors.append(
                _error(
                    problem[0],
                    problem[1],
                    customer_no=record.customer_no,
                    invoice_no=credit.credited_invoice_no,
                    line=credit.line,
                )
            )


def _credit(credit: CreditRecord, *, record, ledger, actor, booking_date):
    invoice = Invoice.objects.filter(
        ledger=ledger, invoice_no=credit.credited_invoice_no, customer__customer_no=record.customer_no
    ).first()
    if invoice is None:
        return "UnknownInvoice", (
            f"CreditedInvoiceNo {credit.credited_invoice_no} is not an invoice of customer "
            f"{record.customer_no} in ledger {ledger.company_no}"
        )
    if credit.currency and credit.currency != ledger.currency:
        return "CurrencyMismatch", f"credit currency {credit.currency} is not the ledger's {ledger.currency}"
    reason = (
        " ".join(
            filter(
                None, [f"credit note {credit.credit_note_no}" if credit.credit_note_no else "", credit.reason]
            )
        )
        or "credited by CUSIN"
    )
    try:
        invoice_credit(
            invoice=invoice,
            amount=credit.amount,
            reason=reason,
            cause=credit.cause,
            actor=actor,
            booking_date=booking_date,
        )
    except InvalidTransition as exc:
        return "InvoiceClosed", exc.message
    except LedgerError as exc:
        code = "CreditExceedsOpen" if exc.code in ("credit_exceeds_open", "nothing_open") else "InvalidCredit"
        return code, exc.message
    return None


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
