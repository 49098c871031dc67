"""Nets Betalingsservice (Denmark): the collection delivery out, agreement and payment information in.

A small fixed-width reader and writer for what direct debit needs, nothing more. Every record is 128
characters, ISO-8859-1, one per line; positions below are 1-based and inclusive. Amounts are in øre
(13 digits), dates DDMMYY, except the debit date of a collection record (DDMMYYYY).

Layout source: Nets, "Betalingsservice – Teknisk vejledning" (data deliveries to and from Nets), as
implemented field by field by the mseebach/PBS-parser project (`lib/records.py`; read as a reference
for positions and transaction codes only, no code taken).

Every delivery:
  BS002 start    1-5 "BS002", 6-13 data supplier CVR no (8), 14-16 "BS1", 17-20 delivery type,
                 21-30 delivery id (10), 31-49 blank, 50-55 date, 56-128 blank
  BS012 section  1-5 "BS012", 6-13 PBS creditor no (8), 14-17 section type, 18-20 blank, 21-25 debtor
                 group (5), 26-40 data supplier's id (15), 41-49 blank, 50-55 date, 56-128 blank
  BS092 end of   1-5 "BS092", 6-13 PBS no, 14-17 section type, 18-20 "000", 21-25 debtor group,
  section        26-31 blank, 32-42 number of BS042 records (11), 43-57 their total (15),
                 58-68 zeros, 69-83 blank, 84-94 zeros, 95-128 blank
  BS992 end      1-5 "BS992", 6-13 CVR no, 14-16 "BS1", 17-20 delivery type, 21-31 sections (11),
                 32-42 BS042 records (11), 43-57 total (15), 58-128 zeros

To Nets, delivery type 0601, section 0112 (collections):
  BS042 0280     6-13 PBS no, 14-17 "0280", 18-22 "00000", 23-27 debtor group, 28-42 customer no (15),
  collection     43-51 agreement (mandate) no (9; zeros when unknown), 52-59 debit date DDMMYYYY,
                 60 sign code ("1": collection), 61-73 amount, 74-103 creditor reference (30),
                 104-105 "00", 106-128 blank

From Nets (agreement sections 0215, payment sections 0211):
  BS042 0230-34  6-13 PBS no, 14-17 transaction code, 18-20 "000", 21-25 debtor group, 26-40 customer
  agreement      no, 41-49 agreement no, 50-55 in force from, 56-61 cancelled on (zeros), 62-128 blank
                 0230 active agreement, 0231 new agreement, 0232 cancelled by the bank, 0233 cancelled
                 by the creditor, 0234 cancelled by Betalingsservice
  BS042 0236-38  6-13 PBS no, 14-17 transaction code, 18-20 "000", 21-25 debtor group, 26-40 customer
  payment        no, 41-49 agreement no, 50-55 debit date, 56 sign code, 57-69 amount, 70-99 creditor
                 reference, 100-103 blank, 104-109 actual debit date, 110-115 booking date,
                 116-128 actual amount
                 0236 completed automatic payment, 0237 rejected payment, 0238 cancelled payment

Pure Python: no Django, no database. Errors are BankFileError (code, message, 1-based line).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from .model import (
    BankFileError,
    fixed_digits,
    fixed_minor,
    fixed_record,
    fixed_text,
    money_from_minor,
    refuse_nul,
)
from .model import column as _field
from .model import column_int as _int

RECORD_LENGTH = 128
ENCODING = "iso-8859-1"
SYSTEM = "BS1"
DELIVERY_COLLECTIONS = "0601"
SECTION_COLLECTIONS = "0112"
COLLECTION = "0280"
SIGN_COLLECTION = "1"

AGREEMENT_ACTIVE = {"0230", "0231"}
AGREEMENT_CANCELLED = {"0232", "0233", "0234"}
PAYMENT_COMPLETED = "0236"
PAYMENT_REJECTED = "0237"
PAYMENT_CANCELLED = "0238"
CODE_TEXTS = {
    "0230": "active agreement",
    "0231": "new agreement",
    "0232": "agreement cancelled by the debtor's bank",
    "0233": "agreement cancelled by the creditor",
    "0234": "agreement cancelled by Betalingsservice",
    "0236": "automatic payment completed",
    "0237": "payment rejected",
    "0238": "payment cancelled",
}


def _record(*parts: str) -> str:
    return fixed_record(*parts, length=RECORD_LENGTH)


# --- the collection delivery out ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Collection:
    customer_no: str  # up to 15 digits
    agreement_no: str  # up to 9 digits; '' when unknown (sent as zeros)
    amount: Decimal
    debit_date: date
    reference: str  # up to 30 characters: our payment reference, returned in the payment information


def collection_delivery(
    *,
    cvr: str,
    pbs_no: str,
    debtor_group: str,
    delivery_id: str,
    day: date,
    collections: Sequence[Collection],
) -> bytes:
    """BS002, one 0112 section of 0280 collection records, BS092, BS992."""
    if not collections:
        raise ValueError("a delivery needs at least one collection")
    cvr, pbs, group = (
        fixed_digits(cvr, 8, "CVR no"),
        fixed_digits(pbs_no, 8, "PBS no"),
        fixed_digits(debtor_group, 5, "debtor group"),
    )
    total = sum((c.amount for c in collections), Decimal("0.00"))
    lines = [
        _record(
            "BS002",
            cvr,
            SYSTEM,
            DELIVERY_COLLECTIONS,
            fixed_digits(delivery_id, 10, "delivery id"),
            " " * 19,
            f"{day:%d%m%y}",
        ),
        _record("BS012", pbs, SECTION_COLLECTIONS, " " * 3, group, " " * 15, " " * 9, f"{day:%d%m%y}"),
    ]
    for c in collections:
        if c.amount <= 0:
            raise ValueError(f"amount {c.amount} must be positive")
        lines.append(
            _record(
                "BS042",
                pbs,
                COLLECTION,
                "00000",
                group,
                fixed_digits(c.customer_no, 15, "customer no"),
                fixed_digits(c.agreement_no or "0", 9, "agreement no"),
                f"{c.debit_date:%d%m%Y}",
                SIGN_COLLECTION,
                fixed_minor(c.amount, 13),
                fixed_text(c.reference, 30),
                "00",
            )
        )
    n = f"{len(collections):011d}"
    lines.append(
        _record(
            "BS092",
            pbs,
            SECTION_COLLECTIONS,
            "000",
            group,
            " " * 6,
            n,
            fixed_minor(total, 15),
            "0" * 11,
            " " * 15,
            "0" * 11,
        )
    )
    lines.append(
        _record("BS992", cvr, SYSTEM, DELIVERY_COLLECTIONS, f"{1:011d}", n, fixed_minor(total, 15), "0" * 71)
    )
    return ("\n".join(lines) + "\n").encode(ENCODING)


# --- reading ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Agreement:
    line: int
    code: str  # 0230-0234
    customer_no: str  # without leading zeros
    agreement_no: str  # without leading zeros
    date: date | None

    @property
    def active(self) -> bool:
        return self.code in AGREEMENT_ACTIVE

    @property
    def text(self) -> str:
        return CODE_TEXTS[self.code]


@dataclass(frozen=True)
class PaymentInfo:
    line: int
    code: str  # 0236-0238, or 0280 in our own delivery
    customer_no: str
    agreement_no: str
    amount: Decimal
    debit_date: date
    reference: str

    @property
    def text(self) -> str:
        return CODE_TEXTS.get(self.code, "collection")


@dataclass(frozen=True)
class Delivery:
    delivery_type: str
    delivery_id: str
    pbs_numbers: tuple[str, ...]
    agreements: tuple[Agreement, ...]
    payments: tuple[PaymentInfo, ...]


def is_betalingsservice(data: bytes) -> bool:
    return data[:5] == b"BS002"


def _date(value: str, lineno: int, what: str, fmt: str = "%d%m%y") -> date | None:
    if value.strip("0 ") == "":
        return None
    try:
        return datetime.strptime(value, fmt).date()
    except ValueError:
        raise BankFileError("bad_date", f"{what} {value!r} is not a date", lineno) from None


def parse_delivery(data: bytes) -> Delivery:
    """Read a Betalingsservice delivery; check its structure, each section's and the delivery's counts and
    totals. Reads Nets' agreement and payment information and our own collection delivery."""
    refuse_nul(data)
    text = data.decode(ENCODING)
    lines = []
    for n, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        if len(line) > RECORD_LENGTH or not line.startswith("BS"):
            raise BankFileError(
                "malformed", f"Betalingsservice records are {RECORD_LENGTH} characters starting BS", n
            )
        lines.append((n, line.ljust(RECORD_LENGTH)))
    if not lines or lines[0][1][:5] != "BS002":
        raise BankFileError(
            "not_a_betalingsservice_file",
            "the first record must be a delivery start (BS002)",
            lines[0][0] if lines else None,
        )
    first_no, first = lines[0]
    end_no, end = lines[-1]
    if end[:5] != "BS992":
        raise BankFileError("malformed", "the last record must be a delivery end (BS992); truncated?", end_no)
    delivery_type = _field(first, 17, 20)
    agreements: list[Agreement] = []
    payments: list[PaymentInfo] = []
    pbs_numbers: list[str] = []
    sections = 0
    records_total, amount_total = 0, Decimal("0.00")
    section: tuple[int, str] | None = None
    in_section, in_amount = 0, Decimal("0.00")
    for n, line in lines[1:-1]:
        kind = line[:5]
        if kind == "BS012":
            if section is not None:
                raise BankFileError("malformed", "section start before the previous section's end", n)
            section = (n, _field(line, 14, 17))
            pbs_numbers.append(_field(line, 6, 13))
            in_section, in_amount = 0, Decimal("0.00")
            sections += 1
        elif kind == "BS092":
            if section is None or _field(line, 14, 17) != section[1]:
                raise BankFileError("malformed", "section end without its section start", n)
            declared = (
                _int(line, 32, 42, n, "number of records"),
                money_from_minor(_int(line, 43, 57, n, "total")),
            )
            if declared != (in_section, in_amount):
                raise BankFileError(
                    "control_total_mismatch",
                    f"the section end says {declared[0]} records of {declared[1]}, the section has {in_section} of {in_amount}",
                    n,
                )
            records_total += in_section
            amount_total += in_amount
            section = None
        elif kind == "BS042":
            if section is None:
                raise BankFileError("malformed", "a BS042 record outside a section", n)
            code = _field(line, 14, 17)
            in_section += 1
            if code in AGREEMENT_ACTIVE | AGREEMENT_CANCELLED:
                agreements.append(
                    Agreement(
                        line=n,
                        code=code,
                        customer_no=str(_int(line, 26, 40, n, "customer no")),
                        agreement_no=str(_int(line, 41, 49, n, "agreement no")),
                        date=_date(_field(line, 50, 55), n, "agreement date"),
                    )
                )
            elif code in (PAYMENT_COMPLETED, PAYMENT_REJECTED, PAYMENT_CANCELLED):
                payment = PaymentInfo(
                    line=n,
                    code=code,
                    customer_no=str(_int(line, 26, 40, n, "customer no")),
                    agreement_no=str(_int(line, 41, 49, n, "agreement no")),
                    amount=money_from_minor(_int(line, 57, 69, n, "amount")),
                    debit_date=_date(_field(line, 50, 55), n, "debit date") or _missing_date(n),
                    reference=_field(line, 70, 99).strip(),
                )
                payments.append(payment)
                in_amount += payment.amount
            elif code == COLLECTION:
                payment = PaymentInfo(
                    line=n,
                    code=code,
                    customer_no=str(_int(line, 28, 42, n, "customer no")),
                    agreement_no=str(_int(line, 43, 51, n, "agreement no")),
                    amount=money_from_minor(_int(line, 61, 73, n, "amount")),
                    debit_date=_date(_field(line, 52, 59), n, "debit date", "%d%m%Y") or _missing_date(n),
                    reference=_field(line, 74, 103).strip(),
                )
                payments.append(payment)
                in_amount += payment.amount
            else:
                raise BankFileError(
                    "not_supported", f"transaction code {code!r} is not used by the ledger", n
                )
        elif kind in ("BS022", "BS052"):  # name/address and text lines: nothing the ledger needs
            continue
        else:
            raise BankFileError("malformed", f"record {kind!r} does not belong in a delivery", n)
    if section is not None:
        raise BankFileError("malformed", "the last section has no end record (BS092)", end_no)
    declared = (
        _int(end, 21, 31, end_no, "number of sections"),
        _int(end, 32, 42, end_no, "number of records"),
        money_from_minor(_int(end, 43, 57, end_no, "total")),
    )
    if declared != (sections, records_total, amount_total):
        raise BankFileError(
            "control_total_mismatch",
            f"the delivery end says {declared[1]} records of {declared[2]} in {declared[0]} sections, "
            f"the delivery has {records_total} of {amount_total} in {sections}",
            end_no,
        )
    return Delivery(
        delivery_type=delivery_type,
        delivery_id=_field(first, 21, 30),
        pbs_numbers=tuple(dict.fromkeys(pbs_numbers)),
        agreements=tuple(agreements),
        payments=tuple(payments),
    )


def _missing_date(lineno: int) -> date:
    raise BankFileError("bad_date", "the debit date is missing", lineno)


# --- deliveries Nets sends, written for tests and the demo ------------------------------------------------------


def information_delivery(
    *,
    cvr: str,
    pbs_no: str,
    debtor_group: str,
    day: date,
    agreements: Sequence[tuple[str, str, str]] = (),
    payments: Sequence[tuple[str, Collection]] = (),
) -> bytes:
    """A delivery from Nets (type 0602): an agreement section of (code, customer no, agreement no) and a
    payment section of (code, collection) each, whichever are given."""
    cvr, pbs, group = (
        fixed_digits(cvr, 8, "CVR no"),
        fixed_digits(pbs_no, 8, "PBS no"),
        fixed_digits(debtor_group, 5, "debtor group"),
    )
    d = f"{day:%d%m%y}"
    lines = [_record("BS002", cvr, SYSTEM, "0602", "1".zfill(10), " " * 19, d)]
    sections, records, total = 0, 0, Decimal("0.00")

    def section(kind: str, body: list[str], amount: Decimal) -> None:
        nonlocal sections, records, total
        lines.append(_record("BS012", pbs, kind, " " * 3, group, " " * 15, " " * 9, d))
        lines.extend(body)
        lines.append(
            _record(
                "BS092",
                pbs,
                kind,
                "000",
                group,
                " " * 6,
                f"{len(body):011d}",
                fixed_minor(amount, 15),
                "0" * 11,
                " " * 15,
                "0" * 11,
            )
        )
        sections, records, total = sections + 1, records + len(body), total + amount

    if agreements:
        section(
            "0215",
            [
                _record(
                    "BS042",
                    pbs,
                    code,
                    "000",
                    group,
                    fixed_digits(no, 15, "customer no"),
                    fixed_digits(agr or "0", 9, "agreement no"),
                    d,
                    "0" * 6,
                )
                for code, no, agr in agreements
            ],
            Decimal("0.00"),
        )
    if payments:
        section(
            "0211",
            [
                _record(
                    "BS042",
                    pbs,
                    code,
                    "000",
                    group,
                    fixed_digits(c.customer_no, 15, "customer no"),
                    fixed_digits(c.agreement_no or "0", 9, "agreement no"),
                    f"{c.debit_date:%d%m%y}",
                    SIGN_COLLECTION,
                    fixed_minor(c.amount, 13),
                    fixed_text(c.reference, 30),
                    " " * 4,
                    f"{c.debit_date:%d%m%y}",
                    d,
                    fixed_minor(c.amount, 13),
                )
                for code, c in payments
            ],
            sum((c.amount for _, c in payments), Decimal("0.00")),
        )
    lines.append(
        _record(
            "BS992",
            cvr,
            SYSTEM,
            "0602",
            f"{sections:011d}",
            f"{records:011d}",
            fixed_minor(total, 15),
            "0" * 71,
        )
    )
    return ("\n".join(lines) + "\n").encode(ENCODING)
