"""Bankgirot Autogiro (Sweden): payment requests out, mandate notices and payment results in.

No maintained Python library exists, so this is a small fixed-width reader and writer for the three
files direct debit needs. One file format, one module (past 500 lines: each record's layout sits next to
its reader and writer, which is what one checks against the manual). Every record is 80 characters, ISO-8859-1, one per line. Amounts are in öre,
right-aligned and zero-padded; dates are YYYYMMDD; positions below are 1-based and inclusive.

Layout source: Bankgirot, "Autogiro – Teknisk manual" (the "nytt format" layouts, in force since
2016), as implemented field by field by the byrokrat/autogiro project (`src/Parser/Grammar.peg`,
GPL-3.0: read as a reference for positions only, no code taken). Payment result codes (position 80 of
TK82 in the payment specification) follow the same manual.

Payment requests ("Betalningsunderlag", to Bankgirot):
  TK01 opening   1-2 "01", 3-10 write date, 11-18 "AUTOGIRO", 19-62 blank, 63-68 Bankgirot customer
                 number (6 digits), 69-78 payee bankgiro number (10 digits), 79-80 blank
  TK82 payment   1-2 "82", 3-10 debit date, 11 period code ("0": once), 12-14 repetitions (blank),
                 15 blank, 16-31 payer number (16 digits), 32-43 amount (12), 44-53 payee bankgiro,
                 54-69 reference (16, text, left-aligned), 70-80 blank
  TK23 cancel    1-2 "23", 3-12 payee bankgiro, 13-28 payer number, 29-36 debit date, 37-48 amount,
                 49-50 "82" (the cancelled payment's type), 51-58 blank (new date), 59-74 reference,
                 75-80 blank. With every selection field filled it cancels that one payment.
  The request file has no closing record (Bankgirot counts the records itself).

Mandate notices ("Medgivandeavisering", from Bankgirot):
  TK01 opening   1-2 "01", 3-10 "AUTOGIRO", 11-24 blank, 25-32 date, 33-44 blank, 45-53 "AG-MEDAVI",
                 54-64 blank, 65-70 customer number, 71-80 payee bankgiro
  TK73 mandate   1-2 "73", 3-12 payee bankgiro, 13-28 payer number, 29-44 payer account (clearing +
                 account), 45-56 payer national id, 57-61 blank or zeros, 62-63 information code,
                 64-65 comment code, 66-73 date, 74-80 blank
  TK09 closing   1-2 "09", 3-10 date, 11-14 "9900", 15-21 number of TK73 records
  Comment codes: 32 new mandate (active); 02, 33 and 98 cancelled (by the payer, the payee or because the
  payer's account closed); 03, 04, 05, 07, 09, 10, 20, 21, 23, 29, 30 refused (not active).

Payment specification ("Betalningsspecifikation", from Bankgirot):
  TK01 opening   1-2 "01", 3-10 "AUTOGIRO", 11-24 blank, 25-44 timestamp (YYYYMMDDhhmmss + 6 digits),
                 45-64 "BET. SPEC & STOPP TK", 65-70 customer number, 71-80 payee bankgiro
  TK15 deposit   1-2 "15", 3-37 payee account (35), 38-45 payment date, 46-50 serial, 51-68 amount
                 deposited (18: the approved payments of the section), 69-71 currency, 72-79 number
                 of TK82 records in the section
  TK82 payment   1-2 "82", 3-10 debit date, 11 period, 12-14 repetitions, 15 blank, 16-31 payer
                 number, 32-43 amount, 44-53 payee bankgiro, 54-69 reference, 70-79 blank,
                 80 result: 0 approved, 1 insufficient funds, 2 no mandate (cancelled or account
                 closed), 9 renewed (Bankgirot tries again the next banking day)
  TK09 closing   1-2 "09", 3-10 date, 11-14 "9900", 15-20 incoming sections, 21-32 incoming payments,
                 33-38 outgoing sections, 39-50 outgoing payments, 51-56 refund sections,
                 57-68 refunds
  Outgoing payments (TK16/TK32) and refunds (TK17/TK77) are not used by the ledger: a file with them
  is refused.

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

RECORD_LENGTH = 80
ENCODING = "iso-8859-1"
MAX_AMOUNT_MINOR = 10**12 - 1  # 12 digits of öre

MANDATE_ACTIVE = {"32"}
MANDATE_CANCELLED = {"02", "33", "98"}
MANDATE_REFUSED = {"03", "04", "05", "07", "09", "10", "20", "21", "23", "29", "30"}
MANDATE_COMMENTS = {
    "02": "cancelled by the payer or the payer's bank",
    "03": "the account type is not approved for Autogiro",
    "04": "the mandate is missing in Bankgirot's register",
    "05": "wrong bank account or personal details",
    "07": "removed: the bank did not answer the account request",
    "09": "the payer's bankgiro number is missing at Bankgirot",
    "10": "the mandate is already registered or being requested",
    "20": "wrong national id, or no mandate agreement with the bankgiro number",
    "21": "wrong payer number",
    "23": "wrong bank account number",
    "29": "wrong payee bankgiro number",
    "30": "the payee bankgiro number is deregistered",
    "32": "new mandate",
    "33": "cancelled",
    "98": "cancelled: the payer's bankgiro number is closed",
}

RESULT_APPROVED = "0"
RESULT_FAILED = {"1", "2"}
RESULT_RENEWED = "9"
RESULT_TEXTS = {
    "0": "approved",
    "1": "insufficient funds (täckning saknas)",
    "2": "no mandate: cancelled or the account is closed (koppling saknas)",
    "9": "renewed: Bankgirot tries again the next banking day",
}


# --- fields -------------------------------------------------------------------------------------------


def _amount(amount: Decimal, width: int = 12) -> str:
    return fixed_minor(amount, width, positive=True)


def _record(*parts: str) -> str:
    return fixed_record(*parts, length=RECORD_LENGTH)


def bankgiro_digits(value: str) -> str:
    """A bankgiro number as digits (dashes and spaces dropped): 7 or 8 digits."""
    digits = "".join(ch for ch in (value or "") if ch.isascii() and ch.isdigit())
    if len(digits) not in (7, 8) or len(digits) != len("".join((value or "").replace("-", "").split())):
        raise ValueError(f"{value!r} is not a bankgiro number (7 or 8 digits)")
    return digits


# --- payment requests out -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRequest:
    payer_number: str  # up to 16 digits: the number the payer's mandate is registered under
    amount: Decimal
    debit_date: date
    reference: str  # up to 16 characters, shown to the payer and returned in the result file


def payment_requests_file(
    *,
    write_date: date,
    customer_number: str,
    bankgiro: str,
    requests: Sequence[PaymentRequest] = (),
    cancellations: Sequence[PaymentRequest] = (),
) -> bytes:
    """A request file: TK01, then a TK82 per payment request and a TK23 per cancellation."""
    if not requests and not cancellations:
        raise ValueError("a request file needs at least one payment or cancellation")
    bg = fixed_digits(bankgiro_digits(bankgiro), 10, "bankgiro number")
    lines = [
        _record(
            "01",
            f"{write_date:%Y%m%d}",
            "AUTOGIRO",
            " " * 44,
            fixed_digits(customer_number, 6, "Bankgirot customer number"),
            bg,
        )
    ]
    for r in requests:
        lines.append(
            _record(
                "82",
                f"{r.debit_date:%Y%m%d}",
                "0",
                "   ",
                " ",
                fixed_digits(r.payer_number, 16, "payer number"),
                _amount(r.amount),
                bg,
                fixed_text(r.reference, 16),
            )
        )
    for r in cancellations:
        lines.append(
            _record(
                "23",
                bg,
                fixed_digits(r.payer_number, 16, "payer number"),
                f"{r.debit_date:%Y%m%d}",
                _amount(r.amount),
                "82",
                " " * 8,
                fixed_text(r.reference, 16),
            )
        )
    return ("\n".join(lines) + "\n").encode(ENCODING)


@dataclass(frozen=True)
class MandateRequest:
    """A new mandate (medgivande) we send: TK04."""

    payer_number: str
    clearing: str  # 4 digits
    account: str  # up to 12 digits
    national_id: str  # YYYYMMDDNNNN


def mandate_requests_file(
    *, write_date: date, customer_number: str, bankgiro: str, mandates: Sequence[MandateRequest]
) -> bytes:
    """A mandate file (medgivandeunderlag): TK01, then a TK04 per new mandate. TK04 (1-based): 1-2 "04",
    3-12 the payee's bankgiro number, 13-28 the payer number, 29-32 the clearing number, 33-44 the account
    number, 45-56 the payer's personal or organisation number (YYYYMMDDNNNN), 57-80 blank."""
    if not mandates:
        raise ValueError("a mandate file needs at least one mandate")
    bg = fixed_digits(bankgiro_digits(bankgiro), 10, "bankgiro number")
    lines = [
        _record(
            "01", f"{write_date:%Y%m%d}", "AUTOGIRO", " " * 44,
            fixed_digits(customer_number, 6, "Bankgirot customer number"), bg,
        )
    ]  # fmt: skip
    for m in mandates:
        lines.append(
            _record(
                "04", bg, fixed_digits(m.payer_number, 16, "payer number"),
                fixed_digits(m.clearing, 4, "clearing number"), fixed_digits(m.account, 12, "account number"),
                fixed_digits(m.national_id, 12, "personal number"),
            )
        )  # fmt: skip
    return ("\n".join(lines) + "\n").encode(ENCODING)


def parse_mandate_requests(data: bytes) -> tuple[MandateRequest, ...]:
    """Read a mandate file back (TK01, TK04): the check of what we write, and for tests."""
    lines = _lines(data)
    first_no, first = lines[0]
    if first[:2] != "01" or _field(first, 11, 18) != "AUTOGIRO":
        raise BankFileError("malformed", "the first record must be an Autogiro opening record (TK01)", first_no)
    mandates = []
    for n, line in lines[1:]:
        if line[:2] != "04":
            raise BankFileError("malformed", f"record type {line[:2]!r} does not belong in a mandate file", n)
        mandates.append(
            MandateRequest(
                payer_number=_field(line, 13, 28).lstrip("0"), clearing=_field(line, 29, 32),
                account=_field(line, 33, 44).lstrip("0"), national_id=_field(line, 45, 56),
            )
        )  # fmt: skip
    return tuple(mandates)


@dataclass(frozen=True)
class RequestFile:
    write_date: date
    customer_number: str
    bankgiro: str
    requests: tuple[PaymentRequest, ...]
    cancellations: tuple[PaymentRequest, ...]


# --- reading ------------------------------------------------------------------------------------------


def _lines(data: bytes) -> list[tuple[int, str]]:
    refuse_nul(data)
    text = data.decode(ENCODING)
    lines = []
    for n, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        if len(line) > RECORD_LENGTH:
            raise BankFileError("malformed", f"Autogiro records are {RECORD_LENGTH} characters", line=n)
        lines.append((n, line.ljust(RECORD_LENGTH)))  # trailing blanks are sometimes trimmed
    if not lines:
        raise BankFileError("malformed", "empty file")
    return lines


def _date(line: str, start: int, lineno: int, what: str) -> date:
    value = _field(line, start, start + 7)
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        raise BankFileError("bad_date", f"{what} {value!r} is not a date YYYYMMDD", lineno) from None


def _money(line: str, start: int, end: int, lineno: int) -> Decimal:
    return money_from_minor(_int(line, start, end, lineno, "amount"))


def parse_payment_requests(data: bytes) -> RequestFile:
    """Read a request file back (TK01, TK82, TK23): the check of what we write, and for tests."""
    lines = _lines(data)
    first_no, first = lines[0]
    if first[:2] != "01" or _field(first, 11, 18) != "AUTOGIRO":
        raise BankFileError(
            "malformed", "the first record must be an Autogiro opening record (TK01)", first_no
        )
    requests, cancellations = [], []
    for n, line in lines[1:]:
        tk = line[:2]
        if tk == "82":
            requests.append(
                PaymentRequest(
                    payer_number=_field(line, 16, 31).lstrip("0"),
                    amount=_money(line, 32, 43, n),
                    debit_date=_date(line, 3, n, "debit date"),
                    reference=_field(line, 54, 69).rstrip(),
                )
            )
        elif tk == "23":
            cancellations.append(
                PaymentRequest(
                    payer_number=_field(line, 13, 28).lstrip("0"),
                    amount=_money(line, 37, 48, n),
                    debit_date=_date(line, 29, n, "debit date"),
                    reference=_field(line, 59, 74).rstrip(),
                )
            )
        else:
            raise BankFileError("malformed", f"record type {tk!r} does not belong in a request file", n)
    return RequestFile(
        write_date=_date(first, 3, first_no, "write date"),
        customer_number=_field(first, 63, 68),
        bankgiro=_field(first, 69, 78).lstrip("0"),
        requests=tuple(requests),
        cancellations=tuple(cancellations),
    )


@dataclass(frozen=True)
class Mandate:
    line: int
    payer_number: str  # without leading zeros
    national_id: str  # digits as Bankgirot has them ('' when not given)
    info_code: str
    comment_code: str
    date: date

    @property
    def active(self) -> bool | None:
        """True: a mandate in force; False: cancelled or refused; None: a notice that changes nothing."""
        if self.comment_code in MANDATE_ACTIVE:
            return True
        if self.comment_code in MANDATE_CANCELLED | MANDATE_REFUSED:
            return False
        return None

    @property
    def text(self) -> str:
        return MANDATE_COMMENTS.get(self.comment_code, f"comment code {self.comment_code}")


@dataclass(frozen=True)
class MandateFile:
    date: date
    bankgiro: str
    mandates: tuple[Mandate, ...]


@dataclass(frozen=True)
class PaymentResult:
    line: int
    payer_number: str
    amount: Decimal
    debit_date: date
    reference: str
    result_code: str

    @property
    def text(self) -> str:
        return RESULT_TEXTS.get(self.result_code, f"result code {self.result_code}")


@dataclass(frozen=True)
class PaymentResultFile:
    created: datetime
    bankgiro: str
    results: tuple[PaymentResult, ...]


def kind_of_file(data: bytes) -> str | None:
    """'mandates', 'payments' or 'requests' for an Autogiro file, None for anything else."""
    head = data[:RECORD_LENGTH].decode(ENCODING, errors="replace")
    if head[:10] == "01AUTOGIRO":
        if head[44:53] == "AG-MEDAVI":
            return "mandates"
        if head[44:64] == "BET. SPEC & STOPP TK":
            return "payments"
    if head[:2] == "01" and head[10:18] == "AUTOGIRO":
        return "requests"
    return None


def _closing(lines: list[tuple[int, str]]) -> tuple[int, str]:
    n, line = lines[-1]
    if line[:2] != "09" or _field(line, 11, 14) != "9900":
        raise BankFileError("malformed", "the last record must be a closing record (TK09); truncated?", n)
    return n, line


def parse_mandates(data: bytes) -> MandateFile:
    """Read a mandate notice file (medgivandeavisering); check its structure and its closing count."""
    lines = _lines(data)
    first_no, first = lines[0]
    if kind_of_file(first.encode(ENCODING)) != "mandates":
        raise BankFileError(
            "not_a_mandate_file", "not an Autogiro mandate notice file (TK01 with AG-MEDAVI)", first_no
        )
    end_no, end = _closing(lines)
    mandates = []
    for n, line in lines[1:-1]:
        if line[:2] != "73":
            raise BankFileError("malformed", f"record type {line[:2]!r} does not belong in a mandate file", n)
        mandates.append(
            Mandate(
                line=n,
                payer_number=_field(line, 13, 28).strip().lstrip("0"),
                national_id=_field(line, 45, 56).strip().lstrip("0"),
                info_code=_field(line, 62, 63),
                comment_code=_field(line, 64, 65),
                date=_date(line, 66, n, "mandate date"),
            )
        )
        if not (mandates[-1].payer_number.isascii() and mandates[-1].payer_number.isdigit()):
            raise BankFileError("malformed", "the payer number (positions 13-28) must be digits", n)
    count = _int(end, 15, 21, end_no, "number of mandate records")
    if count != len(mandates):
        raise BankFileError(
            "record_count_mismatch",
            f"the closing record says {count} mandates, the file has {len(mandates)}",
            end_no,
        )
    return MandateFile(
        date=_date(first, 25, first_no, "file date"),
        bankgiro=_field(first, 71, 80).lstrip("0"),
        mandates=tuple(mandates),
    )


def parse_payment_results(data: bytes) -> PaymentResultFile:
    """Read a payment specification (betalningsspecifikation): each TK82 with its result code; check the
    deposit records' counts and approved totals and the closing record's counts."""
    lines = _lines(data)
    first_no, first = lines[0]
    if kind_of_file(first.encode(ENCODING)) != "payments":
        raise BankFileError(
            "not_a_result_file",
            "not an Autogiro payment specification (TK01 with BET. SPEC & STOPP TK)",
            first_no,
        )
    stamp = _field(first, 25, 38)
    try:
        created = datetime.strptime(stamp, "%Y%m%d%H%M%S")
    except ValueError:
        raise BankFileError("bad_date", f"file timestamp {stamp!r} is not YYYYMMDDhhmmss", first_no) from None
    end_no, end = _closing(lines)
    results: list[PaymentResult] = []
    sections = 0
    section: tuple[int, int, Decimal] | None = None  # line, declared count, declared amount
    in_section: list[PaymentResult] = []

    def close_section() -> None:
        if section is None:
            return
        n, count, amount = section
        approved = sum((r.amount for r in in_section if r.result_code == RESULT_APPROVED), Decimal("0.00"))
        if count != len(in_section):
            raise BankFileError(
                "record_count_mismatch",
                f"the deposit record says {count} payments, the section has {len(in_section)}",
                n,
            )
        if amount != approved:
            raise BankFileError(
                "control_total_mismatch",
                f"the deposit record says {amount}, the approved payments sum to {approved}",
                n,
            )

    for n, line in lines[1:-1]:
        tk = line[:2]
        if tk == "15":
            close_section()
            sections += 1
            currency = _field(line, 69, 71)
            if currency.strip() not in ("SEK", ""):
                raise BankFileError(
                    "currency_mismatch", f"Autogiro pays in SEK, the file says {currency!r}", n
                )
            section = (n, _int(line, 72, 79, n, "number of payments"), _money(line, 51, 68, n))
            in_section = []
        elif tk == "82":
            if section is None:
                raise BankFileError("malformed", "a payment record before any deposit record (TK15)", n)
            code = _field(line, 80, 80)
            if code not in RESULT_TEXTS:
                raise BankFileError("malformed", f"unknown result code {code!r} (position 80)", n)
            result = PaymentResult(
                line=n,
                payer_number=_field(line, 16, 31).strip().lstrip("0"),
                amount=_money(line, 32, 43, n),
                debit_date=_date(line, 3, n, "debit date"),
                reference=_field(line, 54, 69).strip(),
                result_code=code,
            )
            in_section.append(result)
            results.append(result)
        elif tk in ("16", "17", "32", "77"):
            raise BankFileError(
                "not_supported",
                f"record type {tk}: outgoing payments and refunds are not used by the ledger",
                n,
            )
        else:
            raise BankFileError(
                "malformed", f"record type {tk!r} does not belong in a payment specification", n
            )
    close_section()
    declared = (
        _int(end, 15, 20, end_no, "incoming sections"),
        _int(end, 21, 32, end_no, "incoming payments"),
    )
    if declared != (sections, len(results)):
        raise BankFileError(
            "record_count_mismatch",
            f"the closing record says {declared[1]} payments in {declared[0]} sections, "
            f"the file has {len(results)} in {sections}",
            end_no,
        )
    return PaymentResultFile(
        created=created, bankgiro=_field(first, 71, 80).lstrip("0"), results=tuple(results)
    )


# --- files Bankgirot sends, written for tests and the demo ---------------------------------------------------


def mandate_notices_file(
    *, day: date, customer_number: str, bankgiro: str, mandates: Sequence[tuple[str, str, str]]
) -> bytes:
    """A mandate notice file as Bankgirot sends it: (payer number, national id, comment code) each."""
    bg = fixed_digits(bankgiro_digits(bankgiro), 10, "bankgiro number")
    lines = [
        _record(
            "01",
            "AUTOGIRO",
            " " * 14,
            f"{day:%Y%m%d}",
            " " * 12,
            "AG-MEDAVI",
            " " * 11,
            fixed_digits(customer_number, 6, "customer number"),
            bg,
        )
    ]
    for payer_number, national_id, comment in mandates:
        info = "04" if comment in MANDATE_ACTIVE else "46"
        lines.append(
            _record(
                "73",
                bg,
                fixed_digits(payer_number, 16, "payer number"),
                "0" * 16,
                fixed_digits(national_id or "0", 12, "national id"),
                " " * 5,
                info,
                comment,
                f"{day:%Y%m%d}",
            )
        )
    lines.append(_record("09", f"{day:%Y%m%d}", "9900", f"{len(mandates):07d}"))
    return ("\n".join(lines) + "\n").encode(ENCODING)


def payment_results_file(
    *, day: date, customer_number: str, bankgiro: str, results: Sequence[tuple[PaymentRequest, str]]
) -> bytes:
    """A payment specification as Bankgirot sends it: one deposit section with (request, result code) each."""
    bg = fixed_digits(bankgiro_digits(bankgiro), 10, "bankgiro number")
    approved = sum((r.amount for r, code in results if code == RESULT_APPROVED), Decimal("0.00"))
    lines = [
        _record(
            "01",
            "AUTOGIRO",
            " " * 14,
            f"{day:%Y%m%d}120000000000",
            "BET. SPEC & STOPP TK",
            fixed_digits(customer_number, 6, "customer number"),
            bg,
        ),
        _record(
            "15",
            bg.rjust(35, "0"),
            f"{day:%Y%m%d}",
            "00001",
            f"{int(approved * 100):018d}",
            "SEK",
            f"{len(results):08d}",
        ),
    ]
    for r, code in results:
        lines.append(
            _record(
                "82",
                f"{r.debit_date:%Y%m%d}",
                "0",
                "   ",
                " ",
                fixed_digits(r.payer_number, 16, "payer number"),
                _amount(r.amount),
                bg,
                fixed_text(r.reference, 16),
                " " * 10,
                code,
            )
        )
    lines.append(_record("09", f"{day:%Y%m%d}", "9900", "000001", f"{len(results):012d}", "0" * 36))
    return ("\n".join(lines) + "\n").encode(ENCODING)
