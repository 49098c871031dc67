"""Writes of the accounting app: the day's accounting files and the settlement to the client.

`accounting_files_write` writes one ledger's files for one booking date to its outbox: Accounting
Detail (XML + CSV), SIE4, Bill Journal, Customer Journal (a file only when the day has something to
report). Each file is recorded with its digest. Running the day again writes nothing when the content
is the same; when it changed (something was booked later with that booking date) the day's file is
written again in full under the next sequence number (`_2`, `_3`, ...): a file once handed out is never
rewritten. All files of a run are written, or none (a failure removes what the run wrote and rolls
back its records).

`settlement_book` settles a ledger's completed period (see accounting.settlement).
"""

import hashlib
from datetime import date, timedelta
from pathlib import Path

from django.db import connection, transaction

from ledger.bulk import _copy_rows
from ledger.errors import NotFound
from ledger.models import AccountRole, Ledger, TransactionKind, User
from ledger.outbox import company_dir, write_atomic
from ledger.services.common import _actor_fields
from ledger.services.journal import Line, journal_book
from ledger.services.outbox_files import outbox_file_write, outbox_files_publish

from . import daily, selectors, settlement
from .models import AccountingFile, AccountingFileKind, Settlement, SettlementAgreement, SettlementItem
from .pdf import balance_report_pdf
from .xmlfiles import AccountingFileError

ACCOUNTING_ACTOR = "accounting"

FILE_NAMES = {
    AccountingFileKind.ACCOUNTING_DETAIL_XML: ("ACCOUNTINGDETAIL", "xml"),
    AccountingFileKind.ACCOUNTING_DETAIL_CSV: ("ACCOUNTINGDETAIL", "csv"),
    AccountingFileKind.SIE4: ("SIE4", "si"),
    AccountingFileKind.BILL_JOURNAL: ("BILLJOURNAL", "xml"),
    AccountingFileKind.CUSTOMER_JOURNAL: ("CUSTOMERJOURNAL", "xml"),
}


def lock_ledger(ledger: Ledger, purpose: str) -> None:
    """Serialise one kind of job per ledger until the transaction ends (other work is not blocked)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s), %s)", [purpose, ledger.id])


def file_name(kind: str, ledger: Ledger, as_of: date, sequence: int) -> str:
    prefix, extension = FILE_NAMES[kind]
    suffix = "" if sequence == 1 else f"_{sequence}"
    return f"{prefix}_{ledger.company_no}_{as_of:%Y%m%d}{suffix}.{extension}"


def _day_contents(ledger: Ledger, as_of: date) -> list[tuple[str, bytes, int]]:
    """(kind, content, records) for each file the day has something for."""
    contents = []
    rows = selectors.day_postings(ledger=ledger, booking_date=as_of)
    if rows:
        totals = daily.control_totals(rows)  # refuses a transaction that does not balance
        contents.append(
            (
                AccountingFileKind.ACCOUNTING_DETAIL_XML,
                daily.accounting_detail_xml(ledger=ledger, booking_date=as_of, rows=rows, totals=totals),
                len(rows),
            )
        )
        contents.append(
            (
                AccountingFileKind.ACCOUNTING_DETAIL_CSV,
                daily.accounting_detail_csv(ledger=ledger, booking_date=as_of, rows=rows, totals=totals),
                len(rows),
            )
        )
        accounts = selectors.day_account_totals(ledger=ledger, booking_date=as_of)
        contents.append(
            (
                AccountingFileKind.SIE4,
                daily.sie4(ledger=ledger, booking_date=as_of, totals=accounts),
                len(accounts),
            )
        )
    invoice_events = selectors.day_invoice_events(ledger=ledger, booking_date=as_of)
    if invoice_events:
        contents.append(
            (
                AccountingFileKind.BILL_JOURNAL,
                daily.bill_journal(ledger=ledger, booking_date=as_of, events=invoice_events),
                len(invoice_events),
            )
        )
    customer_events = selectors.day_customer_events(ledger=ledger, booking_date=as_of)
    if customer_events:
        contents.append(
            (
                AccountingFileKind.CUSTOMER_JOURNAL,
                daily.customer_journal(ledger=ledger, booking_date=as_of, events=customer_events),
                len(customer_events),
            )
        )
    return contents


def accounting_files_write(
    *, ledger: Ledger, as_of: date, actor: User | str | None = ACCOUNTING_ACTOR
) -> dict:
    """Write the ledger's accounting files for booking date `as_of` to its outbox (see module doc)."""
    outbox_files_publish(ledger=ledger)  # what a run killed after its commit left hidden
    written: list[Path] = []
    _, actor_label = _actor_fields(actor)
    result = {
        "ok": True,
        "ledger": ledger.company_no,
        "date": as_of.isoformat(),
        "written": [],
        "unchanged": [],
    }
    try:
        with transaction.atomic():
            lock_ledger(ledger, "accounting_files")
            outbox = company_dir(ledger.company_no, "outbox")
            for kind, content, records in _day_contents(ledger, as_of):
                digest = hashlib.sha256(content).hexdigest()
                latest = (
                    AccountingFile.objects.filter(ledger=ledger, kind=kind, as_of=as_of)
                    .order_by("-sequence")
                    .first()
                )
                if latest is not None and latest.digest == digest:
                    result["unchanged"].append(latest.file_name)
                    continue
                sequence = latest.sequence + 1 if latest else 1
                name = file_name(kind, ledger, as_of, sequence)
                outbox_file_write(ledger=ledger, path=outbox / name, content=content, written=written)
                AccountingFile.objects.create(
                    ledger=ledger,
                    kind=kind,
                    as_of=as_of,
                    sequence=sequence,
                    file_name=name,
                    digest=digest,
                    size=len(content),
                    records=records,
                    actor=actor_label,
                )
                result["written"].append(name)
    except BaseException:
        # Nothing of a failed run stays behind: its records are rolled back, so its files must go too.
        for path in written:
            path.unlink(missing_ok=True)
        raise
    outbox_files_publish(ledger=ledger)
    return result


# --- Settlement to the client ----------------------------------------------------------------------


def _settlement_lines(figures: settlement.Figures) -> list[Line]:
    """The settlement transaction; lines of zero are left out (see accounting.settlement)."""
    candidates = [
        Line(role=AccountRole.INVOICE_CLEARING, amount=figures.collected_capital),
        Line(role=AccountRole.INTEREST_INCOME, amount=figures.collected_interest - figures.retained_interest),
        Line(role=AccountRole.FEE_INCOME, amount=figures.collected_fees - figures.retained_fees),
        Line(role=AccountRole.PAYABLE_TO_CLIENT, amount=-figures.client_share),
        Line(role=AccountRole.PAYABLE_TO_CLIENT, amount=figures.deducted),
        Line(role=AccountRole.FEE_INCOME, amount=-figures.deducted),
        Line(role=AccountRole.PAYABLE_TO_CLIENT, amount=figures.payout),
        Line(role=AccountRole.CLIENT_FUNDS_BANK, amount=-figures.payout),
        # The collection client-funds account's money, moved to the client-funds account by its own transfer.
        Line(role=AccountRole.CLIENT_FUNDS_BANK, amount=figures.collection_transferred),
        Line(role=AccountRole.COLLECTION_FUNDS_BANK, amount=-figures.collection_transferred),
    ]
    return [line for line in candidates if line.amount != 0]


def _agreement(ledger: Ledger) -> SettlementAgreement:
    agreement = SettlementAgreement.objects.filter(ledger=ledger).first()
    if agreement is None:
        raise NotFound(
            f"ledger {ledger.company_no} has no settlement agreement", code="settlement_agreement_missing"
        )
    return agreement


def settlement_book(*, ledger: Ledger, as_of: date, actor: User | str | None = ACCOUNTING_ACTOR) -> dict:
    """Settle the ledger's latest period that ended before `as_of` (daily, weekly or monthly by its
    agreement), booked on `as_of`: the Balance Report (XML, then PDF), the settlement transaction, a
    pain.001 credit transfer of the payout to the client and, if agreed, the OCR settlement file.

    Idempotent: a settled period is not settled again (its missing PDF is written, nothing else). All
    or nothing: on any failure no settlement, booking or file (except a PDF, see below) remains.
    The PDF is rendered after the commit (slow, and no reason to hold the transaction); if that fails,
    running again writes it."""
    agreement = _agreement(ledger)
    period_end = settlement.period_end_before(agreement.frequency, as_of)
    outbox_files_publish(ledger=ledger)  # what a run killed after its commit left hidden
    written: list[Path] = []
    created_by_id, actor_label = _actor_fields(actor)
    try:
        with transaction.atomic():
            # Checked under the lock: a second worker waits here, then finds the period settled.
            lock_ledger(ledger, "settlement")
            record = (
                Settlement.objects.filter(ledger=ledger, period_end__gte=period_end)
                .order_by("-period_end")
                .first()
            )
            if record is None:
                record = _settle(
                    ledger, agreement, period_end, as_of, actor, created_by_id, actor_label, written
                )
                settled = True
            else:
                settled = False
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    outbox_files_publish(ledger=ledger)
    pdf = balance_report_pdf_write(settlement=record)
    return {
        "ok": True,
        "ledger": ledger.company_no,
        "settled": settled,
        **_settlement_summary(record),
        "pdf": pdf,
    }


def _settle(ledger, agreement, period_end, as_of, actor, created_by_id, actor_label, written) -> Settlement:
    """Book and write one settlement (inside settlement_book's transaction and lock)."""
    previous = Settlement.objects.filter(ledger=ledger).order_by("-period_end").first()
    rows = settlement.unsettled_collections(ledger=ledger, until=period_end)
    start = (
        previous.period_end + timedelta(days=1)
        if previous
        else min(
            [settlement.natural_period_start(agreement.frequency, period_end)]
            + [r.booking_date for r in rows]
        )
    )
    fee_lines = settlement.service_fees(ledger, start, period_end)
    figures = settlement.figures(
        agreement=agreement,
        rows=rows,
        fee_lines=fee_lines,
        brought_forward=settlement.payable_balance(ledger),
        collection_balance=settlement.collection_funds_balance(ledger),
    )
    lines = _settlement_lines(figures)
    txn = None
    if lines:
        txn = journal_book(
            ledger=ledger,
            kind=TransactionKind.SETTLEMENT,
            booking_date=as_of,
            lines=lines,
            actor=actor,
            description=f"Settlement {start.isoformat()}..{period_end.isoformat()}",
        )
    report_name = f"BALANCEREPORT_{ledger.company_no}_{start:%Y%m%d}_{period_end:%Y%m%d}.xml"
    record = Settlement.objects.create(
        ledger=ledger,
        period_start=start,
        period_end=period_end,
        booking_date=as_of,
        currency=ledger.currency,
        collected_capital=figures.collected_capital,
        collected_interest=figures.collected_interest,
        collected_fees=figures.collected_fees,
        retained_fees=figures.retained_fees,
        retained_interest=figures.retained_interest,
        client_share=figures.client_share,
        brought_forward=figures.brought_forward,
        service_fees=figures.service_fees,
        fees_deducted=agreement.fees_deducted,
        payout=figures.payout,
        carried_forward=figures.carried_forward,
        collection_transferred=figures.collection_transferred,
        transaction=txn,
        balance_report_file=report_name,
        created_by_id=created_by_id,
        actor=actor_label,
    )
    _copy_rows(
        SettlementItem._meta.db_table,
        ["settlement_id", "transaction_id", "booking_date", "capital", "fees", "interest"],
        ((record.id, r.transaction_id, r.booking_date, r.capital, r.fees, r.interest) for r in rows),
    )
    outbox = company_dir(ledger.company_no, "outbox")
    report = settlement.balance_report_xml(
        settlement=record,
        agreement=agreement,
        records=settlement.daily_records(agreement, rows),
        sales=settlement.sales_specification(record),
        fee_lines=fee_lines,
    )
    outbox_file_write(ledger=ledger, path=outbox / report_name, content=report, written=written)
    if figures.payout > 0 or figures.collection_transferred > 0:
        message_id = settlement.settlement_message_id(ledger, record)
        content = settlement.settlement_pain001(settlement=record, agreement=agreement, message_id=message_id)
        record.payment_file = f"{message_id}.xml"
        outbox_file_write(ledger=ledger, path=outbox / record.payment_file, content=content, written=written)
    if agreement.ocr_report:
        payments = settlement.ocr_payments(record, agreement)
        if payments:
            content = settlement.ocr_settlement_file(
                settlement=record, agreement=agreement, payments=payments
            )
            record.ocr_file = f"OCRSETTLEMENT_{ledger.company_no}_{period_end:%Y%m%d}.txt"
            outbox_file_write(ledger=ledger, path=outbox / record.ocr_file, content=content, written=written)
    record.save(update_fields=["payment_file", "ocr_file"])
    return record


def _settlement_summary(record: Settlement) -> dict:
    return {
        "settlement": record.id,
        "period_start": record.period_start.isoformat(),
        "period_end": record.period_end.isoformat(),
        "payout": record.payout,
        "service_fees": record.service_fees,
        "currency": record.currency,
        "files": [
            name for name in (record.balance_report_file, record.payment_file, record.ocr_file) if name
        ],
    }


def balance_report_pdf_write(*, settlement: Settlement) -> str:
    """Render the Balance Report PDF from its XML in the outbox, unless it was written before.
    Returns the PDF's file name. Runs outside the settlement's transaction and lock, so two workers
    may render it at once: the file is published with a hard link, which never replaces a file, and
    whoever comes second keeps the first one. Once written it is recorded, so a client who has
    fetched and removed the files does not make a later run fail."""
    if settlement.balance_report_pdf:
        return settlement.balance_report_pdf
    outbox = company_dir(settlement.ledger.company_no, "outbox")
    xml_path = outbox / settlement.balance_report_file
    path = outbox / settlement.balance_report_file.replace(".xml", ".pdf")
    if not path.exists():
        if not xml_path.exists():
            raise AccountingFileError(
                f"{xml_path.name} is no longer in the outbox: the PDF cannot be rendered",
                code="balance_report_missing",
            )
        try:
            write_atomic(path, balance_report_pdf(xml_path), overwrite=False)
        except FileExistsError:  # another worker wrote it a moment ago
            pass
    Settlement.objects.filter(pk=settlement.pk).update(balance_report_pdf=path.name)
    settlement.balance_report_pdf = path.name
    return path.name
