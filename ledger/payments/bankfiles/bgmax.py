"""Bankgirot BgMax (Sweden) incoming-payment files: 80-column records, ISO-8859-1.

Column positions (1-based, inclusive), per Bankgirot's BgMax technical manual; every one was checked
against the sample files' known totals and counts (see tests/ledger/test_bankfiles.py):

    TK01 start     3-22 layout name "BGMAX", 23-24 version, 25-44 timestamp YYYYMMDDhhmmssµµµµµµ,
                   45 test mark (T/P)
    TK05 opening   3-12 receiving bankgiro, 13-22 receiving plusgiro, 23-25 currency
    TK20 payment   3-12 sender bankgiro, 13-37 reference, 38-55 amount (öre), 56 reference code,
    TK21 deduction 57 channel code, 58-69 BGC serial number (löpnummer), 70 image flag,
                   (TK21 only) 71 deduction code
    TK22/TK23      extra reference (TK23 negative): same positions as TK20, 3-70
    TK25 info      3-52 information text
    TK26 name      3-37 name, 38-72 extra name
    TK27 address 1 3-37 address, 38-46 postcode
    TK28 address 2 3-37 town, 38-72 country, 73-74 country code
    TK29 org no    3-14 organisation / personal number
    TK15 deposit   3-37 receiving bank account, 38-45 payment date YYYYMMDD, 46-50 deposit serial,
                   51-68 deposit amount (öre), 69-71 currency, 72-79 number of payments (TK20 + TK21),
                   80 deposit type
    TK70 end       3-10 number of TK20, 11-18 number of TK21, 19-26 number of TK22 + TK23,
                   27-34 number of TK15

Reference codes: 0/1 no reference, 2 OCR reference, 3 several references (see TK22/TK23),
4 one reference (not OCR), 5 wrong reference.

Tolerated damage: lines shorter than 80 characters (trailing spaces stripped) are padded, tabs are
expanded (8-column stops), CRLF or LF, blank lines (also trailing ones) are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from .model import (
    CENT,
    FORMAT_BGMAX,
    BankFile,
    BankFileError,
    BankPayment,
    check_totals,
    money_from_minor,
    unique_archive_refs,
)
from .model import column as _field

RECORD_LENGTH = 80
REF_CODE_OCR = "2"
REF_CODE_WRONG = "5"


def _digits(value: str, what: str, lineno: int, code: str = "malformed") -> int:
    value = value.strip()
    if not value.isdigit() or not value.isascii():
        raise BankFileError(code, f"{what} must be digits, got {value!r}", lineno)
    return int(value)


def _amount(line: str, start: int, end: int, lineno: int) -> Decimal:
    return money_from_minor(_digits(_field(line, start, end), "amount", lineno, "bad_amount"))


def _date(value: str, lineno: int) -> date:
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError as exc:
        raise BankFileError("bad_date", f"not a date (YYYYMMDD): {value!r}", lineno) from exc


def _account(value: str) -> str:
    """A bankgiro number without its leading zeros; '' for an all-zero (unknown) one."""
    return value.strip().lstrip("0")


@dataclass
class _Payment:
    lineno: int
    kind: str
    sender: str
    reference: str
    ref_code: str
    amount: Decimal
    serial: str
    texts: list[str] = field(default_factory=list)
    name: str = ""


@dataclass
class _Deposit:
    lineno: int
    bankgiro: str
    currency: str
    payments: list[_Payment] = field(default_factory=list)


def _records(data: bytes):
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark added by some tool
        data = data[3:]
    text = data.decode("iso-8859-1")
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.expandtabs(8).rstrip()
        if not line:
            continue
        if len(line) > RECORD_LENGTH:
            raise BankFileError(
                "malformed", f"BgMax records are {RECORD_LENGTH} characters, got {len(line)}", lineno
            )
        yield lineno, line.ljust(RECORD_LENGTH)


def _reference_record(line: str, lineno: int) -> tuple[str, Decimal, str]:
    reference = _field(line, 13, 37).strip()
    amount = _amount(line, 38, 55, lineno)
    ref_code = _field(line, 56, 56)
    return reference, amount, ref_code


def parse_bgmax(data: bytes, *, name: str = "") -> BankFile:
    records = list(_records(data))
    if not records:
        raise BankFileError("malformed", "empty BgMax file")
    lineno, start = records[0]
    if _field(start, 1, 2) != "01" or _field(start, 3, 22).strip() != "BGMAX":
        raise BankFileError("malformed", "the first record must be a BgMax start record (01BGMAX)", lineno)
    stamp = _field(start, 25, 44)
    try:
        created = datetime.strptime(stamp, "%Y%m%d%H%M%S%f")
    except ValueError as exc:
        raise BankFileError("bad_date", f"bad timestamp in the start record: {stamp!r}", lineno) from exc
    test_mark = _field(start, 45, 45)
    if test_mark not in ("T", "P"):
        raise BankFileError("malformed", f"test mark must be T or P, got {test_mark!r}", lineno)

    counts = {"20": 0, "21": 0, "22": 0, "23": 0, "15": 0}
    deposit: _Deposit | None = None
    payment: _Payment | None = None
    raw_payments: list[dict] = []
    totals: dict[str, Decimal] = {}
    accounts: dict[str, None] = {}
    end: tuple[int, str] | None = None

    for lineno, line in records[1:]:
        tk = _field(line, 1, 2)
        if end is not None:
            raise BankFileError("malformed", "records after the TK70 end record", lineno)
        if tk == "05":
            if deposit is not None:
                raise BankFileError(
                    "malformed", "TK05 opening record before the previous deposit's TK15", lineno
                )
            currency = _field(line, 23, 25).strip()
            if len(currency) != 3 or not currency.isalpha():
                raise BankFileError(
                    "malformed", f"bad currency {currency!r} in the TK05 opening record", lineno
                )
            bankgiro = _account(_field(line, 3, 12))
            _digits(_field(line, 3, 12), "receiving bankgiro", lineno)
            deposit = _Deposit(lineno, bankgiro, currency)
            payment = None
            accounts.setdefault(bankgiro)
        elif tk in ("20", "21"):
            if deposit is None:
                raise BankFileError("malformed", f"TK{tk} payment record outside a deposit (no TK05)", lineno)
            counts[tk] += 1
            reference, amount, ref_code = _reference_record(line, lineno)
            sender = _field(line, 3, 12)
            _digits(sender, "sender bankgiro", lineno)
            payment = _Payment(
                lineno=lineno,
                kind="payment" if tk == "20" else "deduction",
                sender=_account(sender),
                reference=reference,
                ref_code=ref_code,
                amount=amount if tk == "20" else -amount,
                serial=_field(line, 58, 69).strip(),
            )
            if ref_code != REF_CODE_OCR and reference:
                payment.texts.append(reference)
            deposit.payments.append(payment)
        elif tk in ("22", "23", "25", "26", "27", "28", "29"):
            if payment is None:
                raise BankFileError(
                    "malformed", f"TK{tk} record without a TK20/TK21 payment before it", lineno
                )
            if tk in ("22", "23"):
                counts[tk] += 1
                reference, amount, ref_code = _reference_record(line, lineno)
                entry = f"Extra reference {reference}" if reference else "Extra reference"
                if amount:
                    entry += f" {'-' if tk == '23' else ''}{amount}"
                if ref_code == REF_CODE_WRONG:
                    entry += " (wrong reference)"
                payment.texts.append(entry)
            elif tk == "25":
                info = _field(line, 3, 52).strip()
                if info:
                    payment.texts.append(info)
            elif tk == "26":
                payment.name = " ".join(
                    p for p in (_field(line, 3, 37).strip(), _field(line, 38, 72).strip()) if p
                )
        elif tk == "15":
            if deposit is None:
                raise BankFileError("malformed", "TK15 deposit record without a TK05 opening record", lineno)
            counts["15"] += 1
            pay_date = _date(_field(line, 38, 45), lineno)
            serial = _field(line, 46, 50)
            _digits(serial, "deposit serial number", lineno)
            declared = _amount(line, 51, 68, lineno)
            currency = _field(line, 69, 71)
            declared_count = _digits(_field(line, 72, 79), "number of payments", lineno)
            if currency != deposit.currency:
                raise BankFileError(
                    "currency_mismatch",
                    f"deposit currency {currency!r} differs from TK05's {deposit.currency!r}",
                    lineno,
                )
            if declared_count != len(deposit.payments):
                raise BankFileError(
                    "record_count_mismatch",
                    f"TK15 deposit says {declared_count} payments, found {len(deposit.payments)}",
                    lineno,
                )
            actual = sum((p.amount for p in deposit.payments), Decimal("0.00")).quantize(CENT)
            if declared != actual:
                raise BankFileError(
                    "control_total_mismatch",
                    f"TK15 deposit amount {currency} {declared} differs from its payments' sum {actual}",
                    lineno,
                )
            totals[currency] = totals.get(currency, Decimal("0.00")) + declared
            for p in deposit.payments:
                raw_payments.append(
                    dict(
                        archive_ref=f"{pay_date:%Y%m%d}-{serial}-{p.serial}",
                        amount=p.amount,
                        currency=currency,
                        reference=p.reference if p.ref_code == REF_CODE_OCR else "",
                        text="\n".join(p.texts),
                        payer_name=p.name,
                        payer_account=p.sender,
                        booking_date=pay_date,
                        value_date=pay_date,
                        receiving_account=deposit.bankgiro,
                        line=p.lineno,
                        kind=p.kind,
                    )
                )
            deposit = None
            payment = None
        elif tk == "70":
            if deposit is not None:
                raise BankFileError(
                    "malformed", "TK70 end record inside an open deposit (missing TK15)", lineno
                )
            end = (lineno, line)
        else:
            raise BankFileError("malformed", f"unknown BgMax record type {tk!r}", lineno)

    if end is None:
        raise BankFileError("malformed", "no TK70 end record: the file is truncated", records[-1][0])
    lineno, line = end
    expected = {
        "TK20 payment": (_digits(_field(line, 3, 10), "count", lineno), counts["20"]),
        "TK21 deduction": (_digits(_field(line, 11, 18), "count", lineno), counts["21"]),
        "TK22/TK23 extra reference": (
            _digits(_field(line, 19, 26), "count", lineno),
            counts["22"] + counts["23"],
        ),
        "TK15 deposit": (_digits(_field(line, 27, 34), "count", lineno), counts["15"]),
    }
    for what, (declared_n, found) in expected.items():
        if declared_n != found:
            raise BankFileError(
                "record_count_mismatch",
                f"TK70 end record says {declared_n} {what} records, found {found}",
                lineno,
            )

    refs = unique_archive_refs([r["archive_ref"] for r in raw_payments])
    payments = tuple(
        BankPayment(**{**r, "archive_ref": ref}) for r, ref in zip(raw_payments, refs, strict=True)
    )
    check_totals(payments, totals)
    return BankFile(
        format=FORMAT_BGMAX,
        file_id=stamp,
        created=created,
        receiving_accounts=tuple(accounts),
        payments=payments,
        totals={cur: amount.quantize(CENT) for cur, amount in totals.items()},
        test=test_mark == "T",
    )
