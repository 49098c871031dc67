"""The common data model every bank-file parser produces. Pure Python: no Django, no database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

CENT = Decimal("0.01")

FORMAT_OCR_GIRO = "ocr_giro"
FORMAT_BGMAX = "bgmax"
FORMAT_CAMT054 = "camt054"
FORMATS = (FORMAT_OCR_GIRO, FORMAT_BGMAX, FORMAT_CAMT054)


class BankFileError(ValueError):
    """A bank file that cannot be accepted. `code` is stable; `line` is 1-based when known.

    Codes: unknown_format, not_a_payment_file, malformed, unsafe_xml, bad_date, bad_amount,
    control_total_mismatch, record_count_mismatch, currency_mismatch, duplicate_archive_ref.
    """

    def __init__(self, code: str, message: str, line: int | None = None):
        self.code = code
        self.message = message
        self.line = line
        super().__init__(f"{message} (line {line})" if line is not None else message)

    def as_dict(self) -> dict:
        data: dict = {"code": self.code, "message": self.message}
        if self.line is not None:
            data["line"] = self.line
        return data


@dataclass(frozen=True)
class BankPayment:
    """One incoming payment (or a BgMax deduction) as reported by the bank."""

    archive_ref: str  # the bank's reference for this payment; stable and unique within the file
    amount: Decimal  # positive for money in; BgMax TK21 deductions are negative
    currency: str
    reference: str  # structured reference (KID / OCR / creditor reference), '' if none
    text: str  # unstructured remittance text / information records
    payer_name: str
    payer_account: str
    booking_date: date
    value_date: date
    receiving_account: str  # the account the money came in to
    line: int | None  # 1-based line of the payment record in the file
    kind: str = "payment"  # "payment", "deduction" (BgMax TK21), "reversal", ...


@dataclass(frozen=True)
class BankFile:
    format: str  # "ocr_giro" | "bgmax" | "camt054"
    file_id: str  # transmission / message id
    created: datetime | None
    receiving_accounts: tuple[str, ...]
    payments: tuple[BankPayment, ...]
    totals: dict[str, Decimal] = field(hash=False)  # per currency, as declared by the file itself
    test: bool = False  # the file says it is a test file (BgMax test mark 'T')

    def total(self, currency: str) -> Decimal:
        return self.totals.get(currency, Decimal("0.00"))


def money_from_minor(units: int) -> Decimal:
    """Øre / öre (an int) to a Decimal with two places."""
    return (Decimal(units) / 100).quantize(CENT)


def sum_by_currency(payments: Iterable[BankPayment]) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for p in payments:
        sums[p.currency] = sums.get(p.currency, Decimal("0.00")) + p.amount
    return {cur: amount.quantize(CENT) for cur, amount in sums.items()}


def check_totals(payments: Iterable[BankPayment], declared: dict[str, Decimal]) -> None:
    """The declared per-currency totals must equal the sum of the payments."""
    actual = sum_by_currency(payments)
    keys = set(actual) | set(declared)
    for cur in sorted(keys):
        a = actual.get(cur, Decimal("0.00"))
        d = declared.get(cur, Decimal("0.00"))
        if a != d:
            raise BankFileError(
                "control_total_mismatch", f"the file declares {cur} {d} in total but its payments sum to {a}"
            )


def unique_archive_refs(refs: list[str]) -> list[str]:
    """Keep each ref; make repeats unique and stable by appending '#2', '#3', ... in file order."""
    seen: dict[str, int] = {}
    taken = set(refs)
    out = []
    for ref in refs:
        n = seen.get(ref, 0) + 1
        seen[ref] = n
        if n == 1:
            out.append(ref)
            continue
        candidate = f"{ref}#{n}"
        while candidate in taken:
            n += 1
            candidate = f"{ref}#{n}"
        seen[ref] = n
        taken.add(candidate)
        out.append(candidate)
    return out


def nul_byte_line(data: bytes) -> int | None:
    """The line of the first NUL byte, if the file holds one: no bank file is made of anything but text,
    and PostgreSQL cannot keep a NUL in a text column (a reference with one failed the whole import with
    a database error; found by tests/ledger/test_payments_import_fuzz.py)."""
    at = data.find(b"\x00")
    return None if at < 0 else data.count(b"\n", 0, at) + 1


def refuse_nul(data: bytes) -> None:
    """BankFileError `malformed` naming the line when the file holds a NUL byte."""
    line = nul_byte_line(data)
    if line is not None:
        raise BankFileError("malformed", "the file holds a NUL byte (0x00): a bank file is text", line)


# --- Fixed-width fields of the files we read and write (Autogiro, Betalingsservice) ----------------


def column(line: str, start: int, end: int) -> str:
    """Positions start..end, 1-based and inclusive, as the banks' manuals write them."""
    return line[start - 1 : end]


def column_int(line: str, start: int, end: int, lineno: int, what: str) -> int:
    """A numeric field read: BankFileError naming the field and its positions when it is not digits."""
    value = column(line, start, end).strip()
    if not (value.isascii() and value.isdigit()):  # str.isdigit() takes '²' too, which int() refuses
        raise BankFileError(
            "malformed", f"{what} (positions {start}-{end}) must be digits, got {value!r}", lineno
        )
    return int(value)


def fixed_digits(value: str | int, width: int, what: str) -> str:
    """A numeric field: digits only, right-aligned and zero-padded; ValueError naming the field if not."""
    text = str(value)
    if not (text.isascii() and text.isdigit()) or len(text) > width:
        raise ValueError(f"{what} must be at most {width} digits, got {value!r}")
    return text.zfill(width)


def fixed_minor(amount: Decimal, width: int, *, positive: bool = False) -> str:
    """An amount in minor units (öre, øre), zero-padded; ValueError if it is not whole minor units, is
    negative (or zero, when it must be positive) or needs more than width digits."""
    minor = int((amount * 100).to_integral_value())
    if minor != amount * 100 or minor < int(positive) or minor > 10**width - 1:
        sign = "positive" if positive else "at least zero"
        raise ValueError(f"amount {amount} must be {sign}, in whole minor units, at most {width} digits")
    return f"{minor:0{width}d}"


def fixed_record(*parts: str, length: int) -> str:
    """One record of a fixed-width file: the fields joined, padded to the record length; ValueError if the
    fields are longer."""
    line = "".join(parts)
    if len(line) > length:
        raise ValueError(f"record is {len(line)} characters, at most {length}: {line!r}")
    return line.ljust(length)


def fixed_text(value: str, width: int, encoding: str = "iso-8859-1") -> str:
    """A text field: one line in the file's encoding, left-aligned and cut to width."""
    text = " ".join((value or "").split()).encode(encoding, errors="replace").decode(encoding)
    return text[:width].ljust(width)
