"""Nets OCR Giro (Norway) incoming-payment files, read with the `netsgiro` library.

netsgiro parses and validates each 80-column record, and builds the Transmission / Assignment /
Transaction objects. It does not check the end records' counts and totals, so that is done here.
AvtaleGiro files (service code 21: agreements, payment claims, cancellations) are not payment files and
are refused with `not_a_payment_file`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import netsgiro
from netsgiro import converters as ng_converters
from netsgiro import records as ng_records

from .model import (
    FORMAT_OCR_GIRO,
    BankFile,
    BankFileError,
    BankPayment,
    check_totals,
    money_from_minor,
)

CURRENCY = "NOK"
RECORD_LENGTH = 80
# what datetime.strptime() says about a bad DDMMYY date inside netsgiro
_DATE_ERRORS = ("does not match format", "unconverted data remains", "out of range")
_RECORD_CLASSES = {
    cls.RECORD_TYPE: cls
    for cls in (getattr(ng_records, name) for name in ng_records.__all__)
    if isinstance(cls, type) and issubclass(cls, ng_records.Record) and hasattr(cls, "RECORD_TYPE")
}
_REVERSALS = {netsgiro.TransactionType.REVERSING_WITH_KID, netsgiro.TransactionType.REVERSING_WITH_TEXT}
_DATE_CONVERTERS = (ng_converters.to_date, ng_converters.to_date_or_none)
# Per record class, its DDMMYY date fields and their netsgiro converter.
_DATE_FIELDS = {
    cls: [(f.name, f.converter) for f in cls.__attrs_attrs__ if f.converter in _DATE_CONVERTERS]
    for cls in _RECORD_CLASSES.values()
}


class _Dates:
    """netsgiro's date converters, each distinct DDMMYY string converted once per file.

    netsgiro converts every date with datetime.strptime (locale lookups included); a payment file has
    a handful of distinct dates over hundreds of thousands of records. The converter itself is
    netsgiro's, so a bad date fails exactly as before; its attrs converter passes a date through.
    """

    def __init__(self):
        self.known: dict[tuple, object] = {}

    def convert(self, converter, value: str):
        key = (converter, value)
        if key not in self.known:
            self.known[key] = converter(value)
        return self.known[key]


def _lines(data: bytes) -> list[tuple[int, str]]:
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark added by some tool
        data = data[3:]
    text = data.decode("iso-8859-1")
    return [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def _parse_record(lineno: int, line: str, dates: _Dates):
    if len(line) != RECORD_LENGTH:
        raise BankFileError(
            "malformed", f"OCR Giro records are {RECORD_LENGTH} characters, got {len(line)}", lineno
        )
    try:
        # What netsgiro.records.parse() and Record.from_string() do for one line, without rebuilding
        # the class map each time, and with the dates converted once per distinct value.
        record_type = netsgiro.RecordType(int(line[6:8])) if line[6:8].isascii() and line[6:8].isdigit() else None
        if record_type not in _RECORD_CLASSES:
            raise ValueError(f"unknown record type {line[6:8]!r}")
        cls = _RECORD_CLASSES[record_type]
        for pattern in cls._PATTERNS:
            match = pattern.match(line)
            if match is not None:
                fields = match.groupdict()
                for name, converter in _DATE_FIELDS[cls]:
                    if fields.get(name) is not None:
                        fields[name] = dates.convert(converter, fields[name])
                record = cls(**fields)
                break
        else:
            raise ValueError(f"{line!r} did not match {cls.__name__} record formats")
    except (ValueError, KeyError, TypeError) as exc:
        code = "bad_date" if any(m in str(exc) for m in _DATE_ERRORS) else "malformed"
        raise BankFileError(code, f"not a valid OCR Giro record: {exc}", lineno) from exc
    return record


def _payment(start: ng_records.AssignmentStart, number: int, lineno: int, item1, item2, item3) -> BankPayment:
    """One transaction's payment, from its amount items 1-3."""
    if item2 is None:
        raise BankFileError("malformed", f"transaction {number} has no amount item 2", lineno)
    amount = money_from_minor(item1.amount)
    if item1.sign == "-":
        amount = -amount
    debit_account = (item2.debit_account or "").strip()
    archive = (item2.reference or "").strip() or "0"
    return BankPayment(
        archive_ref=f"{archive}-{start.assignment_number}-{number:07d}",
        amount=amount,
        currency=CURRENCY,
        reference=(item1.kid or "").strip(),
        text=((item3.text if item3 is not None else None) or "").strip(),
        payer_name="",
        payer_account="" if not debit_account.strip("0") else debit_account,
        booking_date=item1.nets_date,
        value_date=item1.nets_date,
        receiving_account=start.assignment_account,
        line=lineno,
        kind="reversal" if item1.transaction_type in _REVERSALS else "payment",
    )


class OcrGiroStream:
    """An OCR Giro file read one payment at a time, checked as it is read.

    Opening it checks what can be checked at once (not empty, not AvtaleGiro, a transmission start
    first and a transmission end last) and reads the assignments' receiving accounts. `payments()`
    then parses record by record (netsgiro checks each) and yields each transaction's payment as soon
    as it is complete; the end records' counts and totals are checked when they are reached, so a
    file is only known to be good once `payments()` has run to its end. `parse_ocr_giro` reads it
    whole; the payments import books while it reads, in one database transaction that a bad file rolls
    back.
    """

    format = FORMAT_OCR_GIRO
    test = False

    def __init__(self, data: bytes):
        self.lines = _lines(data)
        if not self.lines:
            raise BankFileError("malformed", "empty OCR Giro file")
        for lineno, line in self.lines:
            if line.startswith("NY21"):
                raise BankFileError(
                    "not_a_payment_file",
                    "this is an AvtaleGiro file (service code 21: agreements or payment claims), "
                    "not an OCR Giro payment file",
                    lineno,
                )
        self.dates = _Dates()
        first_line, self.start = self.lines[0][0], _parse_record(*self.lines[0], self.dates)
        if not isinstance(self.start, ng_records.TransmissionStart):
            raise BankFileError(
                "malformed", "the first record must be a transmission start (NY000010)", first_line
            )
        self.end_line, self.end = self.lines[-1][0], _parse_record(*self.lines[-1], self.dates)
        if not isinstance(self.end, ng_records.TransmissionEnd):
            raise BankFileError(
                "malformed",
                "the last record must be a transmission end (NY000089); truncated?",
                self.end_line,
            )
        accounts = [
            _parse_record(lineno, line, self.dates).assignment_account
            for lineno, line in self.lines[1:-1]
            if line[6:8] == "20"  # assignment start records
        ]
        self.receiving_accounts = tuple(dict.fromkeys(a for a in accounts if a))
        self.file_id = self.start.transmission_number
        self.count = self.end.num_transactions or 0  # as declared; payments() checks it

    def references(self) -> set[str]:
        """The KIDs of the file's transactions, read straight from the amount item 1 records (columns
        50-74), so that the invoices can be looked up before the records are parsed; `payments()`
        gives each payment's own, checked."""
        return {line[49:74].strip() for _, line in self.lines if line[6:8] == "30"} - {""}

    def payments(self) -> Iterator[BankPayment]:
        total_tx = total_amount = 0
        seen_refs: dict[str, int] = {}
        current: ng_records.AssignmentStart | None = None
        current_records = current_amount = 0
        current_numbers: set[int] = set()
        pending = None  # the transaction being read: [number, line, item 1, item 2, item 3]

        def complete(pending):
            payment = _payment(current, *pending)
            # Archive references are unique in the file: a repeat gets #2, #3, ... in file order.
            n = seen_refs.get(payment.archive_ref, 0) + 1
            seen_refs[payment.archive_ref] = n
            if n > 1:
                payment = replace(payment, archive_ref=f"{payment.archive_ref}#{n}")
            return payment

        for lineno, line in self.lines[1:-1]:
            rec = _parse_record(lineno, line, self.dates)
            if isinstance(rec, ng_records.AssignmentStart):
                if current is not None:
                    raise BankFileError(
                        "malformed", "assignment start before the previous assignment's end", lineno
                    )
                if rec.service_code != netsgiro.ServiceCode.OCR_GIRO:
                    raise BankFileError(
                        "not_a_payment_file",
                        f"service code {int(rec.service_code):02d} is not OCR Giro",
                        lineno,
                    )
                current, current_records, current_numbers, current_amount = rec, 1, set(), 0
                continue
            if current is None:
                raise BankFileError("malformed", f"{type(rec).__name__} record outside an assignment", lineno)
            current_records += 1
            if isinstance(rec, ng_records.AssignmentEnd):
                if pending is not None:
                    yield complete(pending)
                    pending = None
                if rec.num_transactions != len(current_numbers):
                    raise BankFileError(
                        "record_count_mismatch",
                        f"assignment {current.assignment_number} end record says {rec.num_transactions} "
                        f"transactions, found {len(current_numbers)}",
                        lineno,
                    )
                if rec.num_records != current_records:
                    raise BankFileError(
                        "record_count_mismatch",
                        f"assignment {current.assignment_number} end record says {rec.num_records} records, "
                        f"found {current_records}",
                        lineno,
                    )
                if (rec.total_amount or 0) != current_amount:
                    raise BankFileError(
                        "control_total_mismatch",
                        f"assignment {current.assignment_number} end record says "
                        f"{money_from_minor(rec.total_amount or 0)} NOK, transactions sum to "
                        f"{money_from_minor(current_amount)}",
                        lineno,
                    )
                total_tx += len(current_numbers)
                total_amount += current_amount
                current = None
                continue
            if isinstance(rec, ng_records.TransactionAmountItem1):
                if rec.transaction_number in current_numbers:
                    raise BankFileError(
                        "malformed", f"transaction number {rec.transaction_number} repeated", lineno
                    )
                if pending is not None:
                    yield complete(pending)
                current_numbers.add(rec.transaction_number)
                pending = [rec.transaction_number, lineno, rec, None, None]
                current_amount += -rec.amount if rec.sign == "-" else rec.amount
            elif isinstance(rec, ng_records.TransactionRecord):
                if pending is None or pending[0] != rec.transaction_number:
                    raise BankFileError("malformed", "transaction record without its amount item 1", lineno)
                if (
                    isinstance(rec, ng_records.TransactionAmountItem2)
                    and pending[3] is None
                    and pending[4] is None
                ):
                    pending[3] = rec
                elif (
                    isinstance(rec, ng_records.TransactionAmountItem3)
                    and pending[3] is not None
                    and pending[4] is None
                ):
                    pending[4] = rec
                else:
                    raise BankFileError(
                        "malformed",
                        f"transaction {rec.transaction_number}: {type(rec).__name__} out of order "
                        "(amount item 1, then 2, then an optional 3)",
                        lineno,
                    )
            else:
                raise BankFileError("malformed", f"unexpected {type(rec).__name__} record", lineno)
        if current is not None:
            raise BankFileError(
                "malformed", f"assignment {current.assignment_number} has no end record", self.end_line
            )

        end, all_records = self.end, len(self.lines)
        if end.num_transactions != total_tx:
            raise BankFileError(
                "record_count_mismatch",
                f"transmission end record says {end.num_transactions} transactions, found {total_tx}",
                self.end_line,
            )
        if end.num_records != all_records:
            raise BankFileError(
                "record_count_mismatch",
                f"transmission end record says {end.num_records} records, found {all_records}",
                self.end_line,
            )
        if end.total_amount != total_amount:
            raise BankFileError(
                "control_total_mismatch",
                f"transmission end record says {money_from_minor(end.total_amount)} NOK, "
                f"transactions sum to {money_from_minor(total_amount)}",
                self.end_line,
            )


def parse_ocr_giro(data: bytes, *, name: str = "") -> BankFile:
    stream = OcrGiroStream(data)
    payments = tuple(stream.payments())
    totals = (
        {CURRENCY: money_from_minor(stream.end.total_amount)} if payments or stream.end.total_amount else {}
    )
    check_totals(payments, totals)
    return BankFile(
        format=FORMAT_OCR_GIRO,
        file_id=stream.file_id,
        created=None,
        receiving_accounts=stream.receiving_accounts,
        payments=payments,
        totals=totals,
    )
