"""Nets OCR Giro (Norway) incoming-payment files, read with the `netsgiro` library.

netsgiro parses and validates each 80-column record, and builds the Transmission / Assignment /
Transaction objects. It does not check the end records' counts and totals, so that is done here.
AvtaleGiro files (service code 21: agreements, payment claims, cancellations) are not payment files and
are refused with `not_a_payment_file`.
"""

from __future__ import annotations

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
    unique_archive_refs,
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
        record_type = netsgiro.RecordType(int(line[6:8])) if line[6:8].isdigit() else None
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


def _assignment_payments(start: ng_records.AssignmentStart, transactions: dict[int, list]) -> list[dict]:
    """The payments of one assignment, in file order, from each transaction's amount items 1-3."""
    payments = []
    for number, (lineno, item1, item2, item3) in transactions.items():
        if item2 is None:
            raise BankFileError("malformed", f"transaction {number} has no amount item 2", lineno)
        amount = money_from_minor(item1.amount)
        if item1.sign == "-":
            amount = -amount
        debit_account = (item2.debit_account or "").strip()
        archive = (item2.reference or "").strip() or "0"
        payments.append(
            dict(
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
        )
    return payments


def parse_ocr_giro(data: bytes, *, name: str = "") -> BankFile:
    lines = _lines(data)
    if not lines:
        raise BankFileError("malformed", "empty OCR Giro file")

    for lineno, line in lines:
        if line.startswith("NY21"):
            raise BankFileError(
                "not_a_payment_file",
                "this is an AvtaleGiro file (service code 21: agreements or payment claims), "
                "not an OCR Giro payment file",
                lineno,
            )

    dates = _Dates()
    recs = [(lineno, _parse_record(lineno, line, dates)) for lineno, line in lines]

    first_line, start = recs[0]
    if not isinstance(start, ng_records.TransmissionStart):
        raise BankFileError(
            "malformed", "the first record must be a transmission start (NY000010)", first_line
        )
    end_line, end = recs[-1]
    if not isinstance(end, ng_records.TransmissionEnd):
        raise BankFileError(
            "malformed", "the last record must be a transmission end (NY000089); truncated?", end_line
        )

    # Walk the assignments ourselves: we need line numbers and the end records' control figures, and
    # the payments are built straight from the records (netsgiro's Transmission / Transaction objects
    # would validate every field a second time; for a 100,000-payment file that was a third of the parse).
    raw: list[dict] = []
    accounts: list[str] = []
    total_tx = 0
    total_amount = 0
    current: ng_records.AssignmentStart | None = None
    current_records = 0
    current_tx: dict[int, list] = {}  # transaction number -> [line, amount item 1, item 2, item 3]
    current_amount = 0
    for lineno, rec in recs[1:-1]:
        if isinstance(rec, ng_records.AssignmentStart):
            if current is not None:
                raise BankFileError(
                    "malformed", "assignment start before the previous assignment's end", lineno
                )
            if rec.service_code != netsgiro.ServiceCode.OCR_GIRO:
                raise BankFileError(
                    "not_a_payment_file", f"service code {int(rec.service_code):02d} is not OCR Giro", lineno
                )
            current, current_records, current_tx, current_amount = rec, 1, {}, 0
            continue
        if current is None:
            raise BankFileError("malformed", f"{type(rec).__name__} record outside an assignment", lineno)
        current_records += 1
        if isinstance(rec, ng_records.AssignmentEnd):
            if rec.num_transactions != len(current_tx):
                raise BankFileError(
                    "record_count_mismatch",
                    f"assignment {current.assignment_number} end record says {rec.num_transactions} "
                    f"transactions, found {len(current_tx)}",
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
                    f"assignment {current.assignment_number} end record says {money_from_minor(rec.total_amount or 0)}"
                    f" NOK, transactions sum to {money_from_minor(current_amount)}",
                    lineno,
                )
            raw += _assignment_payments(current, current_tx)
            accounts.append(current.assignment_account)
            total_tx += len(current_tx)
            total_amount += current_amount
            current = None
            continue
        if isinstance(rec, ng_records.TransactionAmountItem1):
            if rec.transaction_number in current_tx:
                raise BankFileError(
                    "malformed", f"transaction number {rec.transaction_number} repeated", lineno
                )
            current_tx[rec.transaction_number] = [lineno, rec, None, None]
            current_amount += -rec.amount if rec.sign == "-" else rec.amount
        elif isinstance(rec, ng_records.TransactionRecord):
            parts = current_tx.get(rec.transaction_number)
            if parts is None:
                raise BankFileError("malformed", "transaction record without its amount item 1", lineno)
            if isinstance(rec, ng_records.TransactionAmountItem2) and parts[2] is None and parts[3] is None:
                parts[2] = rec
            elif (
                isinstance(rec, ng_records.TransactionAmountItem3)
                and parts[2] is not None
                and parts[3] is None
            ):
                parts[3] = rec
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
            "malformed", f"assignment {current.assignment_number} has no end record", end_line
        )

    all_records = len(recs)
    if end.num_transactions != total_tx:
        raise BankFileError(
            "record_count_mismatch",
            f"transmission end record says {end.num_transactions} transactions, found {total_tx}",
            end_line,
        )
    if end.num_records != all_records:
        raise BankFileError(
            "record_count_mismatch",
            f"transmission end record says {end.num_records} records, found {all_records}",
            end_line,
        )
    if end.total_amount != total_amount:
        raise BankFileError(
            "control_total_mismatch",
            f"transmission end record says {money_from_minor(end.total_amount)} NOK, "
            f"transactions sum to {money_from_minor(total_amount)}",
            end_line,
        )

    refs = unique_archive_refs([r["archive_ref"] for r in raw])
    payments = tuple(BankPayment(**{**r, "archive_ref": ref}) for r, ref in zip(raw, refs, strict=True))

    totals = {CURRENCY: money_from_minor(end.total_amount)} if payments or end.total_amount else {}
    check_totals(payments, totals)
    return BankFile(
        format=FORMAT_OCR_GIRO,
        file_id=start.transmission_number,
        created=None,
        receiving_accounts=tuple(dict.fromkeys(accounts)),
        payments=payments,
        totals=totals,
    )
