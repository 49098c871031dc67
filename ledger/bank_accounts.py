"""Bank accounts money may leave for, checked by their check digits before anything is booked.

Every payout (refunds to customers and payers), the client's settlement account and the pain.001/OCR
writers go through `bank_account_clean`, so no caller can send money to a number that fails its checks:
- an IBAN, from any country (ISO 13616 mod 97 and the country's BBAN format: python-stdnum);
- Norway: kontonummer, 11 digits, mod 11 (python-stdnum);
- Sweden: clearing number + account, each bank's type and check (bankkonto, after Bankgirot's
  "Bankernas kontonummeruppbyggnad"); or a bankgiro / plusgiro number (mod 10), written with its
  prefix ("BG 5050-1055", "PG 4789-4") or in its usual shape (bankgiro NNN-NNNN or NNNN-NNNN);
- Denmark: reg. no. (4 digits) + account (up to 10 digits). Danish account numbers have had no common
  check digit since the banks merged their numbering, so only the shape is checked; the IBAN is safer.
The cleaned form is what is stored: IBAN and Norwegian accounts compact, Swedish bank accounts
"CCCC-AAAAAAA", giro numbers "BG 5050-1055" / "PG 4789-4", Danish "RRRR-AAAAAAAAAA".
"""

import re
from dataclasses import dataclass

import bankkonto
from stdnum import iban, luhn
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.no import kontonr

from .errors import ValidationFailed

_SEPARATORS = re.compile(r"[\s.\-]")
_IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$")
_GIRO_PREFIX = re.compile(r"^(BG|PG|BANKGIRO|PLUSGIRO)\s*:?\s*(.*)$", re.IGNORECASE)


class Kind:
    IBAN = "iban"
    NO_ACCOUNT = "no_account"
    SE_ACCOUNT = "se_account"
    SE_BANKGIRO = "se_bankgiro"
    SE_PLUSGIRO = "se_plusgiro"
    DK_ACCOUNT = "dk_account"


@dataclass(frozen=True)
class BankAccount:
    kind: str
    number: str  # the cleaned form, as stored

    @property
    def digits(self) -> str:
        """The number without separators or prefix: what a bank file carries."""
        return _SEPARATORS.sub("", _GIRO_PREFIX.sub(r"\2", self.number)).upper()


def bank_account_clean(
    value: str, *, country: str, field: str = "bank_account", what: str = "bank account"
) -> str:
    """The account in its stored form, or ValidationFailed (code `invalid_bank_account`, naming the
    field) when it fails its format or check digits. `country` is the ledger's: which domestic forms
    are understood besides the IBAN."""
    return bank_account_parse(value, country=country, field=field, what=what).number


def bank_account_parse(
    value: str,
    *,
    country: str,
    field: str = "bank_account",
    what: str = "bank account",
    bare_giro: str | None = None,
) -> BankAccount:
    """`bare_giro` (Kind.SE_BANKGIRO or SE_PLUSGIRO) says what a Swedish number of up to 8 digits without
    a prefix is, where the caller knows (a Swedish ledger's own client-funds account is its bankgiro)."""
    raw = (value or "").strip()
    if not raw:
        raise ValidationFailed(f"{what} is missing", code="bank_account_missing", field=field)

    def refuse(why: str) -> ValidationFailed:
        return ValidationFailed(f"{what} {raw!r} {why}", code="invalid_bank_account", field=field,
                                params={"account": raw})  # fmt: skip

    country = (country or "").upper()
    if country == "SE" and _GIRO_PREFIX.match(raw):  # "BG50501055" would look like an IBAN
        return _swedish(raw, refuse, bare_giro)
    compact = _SEPARATORS.sub("", raw).upper()
    if _IBAN_SHAPE.match(compact):
        try:
            return BankAccount(Kind.IBAN, iban.validate(compact))
        except StdnumError as exc:
            raise refuse(f"is not a valid IBAN ({exc})") from None
    if country == "NO":
        if not compact.isdigit() or len(compact) != 11:
            raise refuse("is not a Norwegian account number (11 digits) or an IBAN")
        if not kontonr.is_valid(compact):
            raise refuse("fails the account number's check digit (mod 11)")
        return BankAccount(Kind.NO_ACCOUNT, compact)
    if country == "SE":
        return _swedish(raw, refuse, bare_giro)
    if country == "DK":
        return _danish(raw, refuse)
    raise refuse("is not an IBAN (for this country only an IBAN is accepted)")


def _swedish(raw: str, refuse, bare_giro: str | None) -> BankAccount:
    prefix = _GIRO_PREFIX.match(raw)
    if prefix:
        giro = Kind.SE_BANKGIRO if prefix.group(1).upper() in {"BG", "BANKGIRO"} else Kind.SE_PLUSGIRO
        return _giro(prefix.group(2), giro, refuse)
    compact = _SEPARATORS.sub("", raw)
    if not compact.isdigit():
        raise refuse("is not a Swedish account number, bankgiro or plusgiro number, or an IBAN")
    if len(compact) <= 8:
        # A giro number. Bankgiro is written NNN-NNNN or NNNN-NNNN; anything else must say which it is.
        if bare_giro:
            return _giro(raw, bare_giro, refuse)
        if re.fullmatch(r"\d{3,4}-\d{4}", raw.replace(" ", "")):
            return _giro(raw, Kind.SE_BANKGIRO, refuse)
        raise refuse("is too short for a bank account: write a giro number as 'BG 5050-1055' or 'PG 4789-4'")
    # Swedbank's clearing numbers starting with 8 have five digits.
    split = 5 if compact.startswith("8") else 4
    clearing, account = compact[:split], compact[split:]
    try:
        bankkonto.validate(clearing, account)
    except bankkonto.BankkontoException as exc:
        raise refuse(f"is not a valid Swedish clearing and account number ({exc})") from None
    return BankAccount(Kind.SE_ACCOUNT, f"{clearing}-{account}")


def _giro(number: str, kind: str, refuse) -> BankAccount:
    digits = _SEPARATORS.sub("", number)
    label = "bankgiro" if kind == Kind.SE_BANKGIRO else "plusgiro"
    lengths = (7, 8) if kind == Kind.SE_BANKGIRO else range(2, 9)
    if not digits.isdigit() or len(digits) not in lengths:
        raise refuse(f"is not a {label} number")
    if not luhn.is_valid(digits):
        raise refuse(f"fails the {label} number's check digit (mod 10)")
    if kind == Kind.SE_BANKGIRO:
        return BankAccount(kind, f"BG {digits[:-4]}-{digits[-4:]}")
    return BankAccount(kind, f"PG {digits[:-1]}-{digits[-1]}")


def _danish(raw: str, refuse) -> BankAccount:
    parts = [p for p in re.split(r"[\s\-]+", raw) if p]
    if len(parts) == 2:
        reg, account = parts
    else:
        compact = _SEPARATORS.sub("", raw)
        reg, account = compact[:4], compact[4:]
    if not (reg.isdigit() and len(reg) == 4 and reg != "0000"):
        raise refuse("is not a Danish reg. no. (4 digits) and account, or an IBAN")
    if not (account.isdigit() and 1 <= len(account) <= 10 and int(account) > 0):
        raise refuse("is not a Danish account number (up to 10 digits after the reg. no.), or an IBAN")
    return BankAccount(Kind.DK_ACCOUNT, f"{reg}-{account.zfill(10)}")


def bank_account_display(value: str, *, country: str) -> str:
    """The account as people write it: a Norwegian one "1234 56 78903", an IBAN in groups of four, giro
    and Swedish/Danish numbers as stored. A number that does not read as an account is shown as it is."""
    try:
        account = bank_account_parse(value, country=country, bare_giro=Kind.SE_BANKGIRO)
    except ValidationFailed:
        return value or ""
    if account.kind == Kind.NO_ACCOUNT:
        n = account.number
        return f"{n[:4]} {n[4:6]} {n[6:]}"
    if account.kind == Kind.IBAN:
        return " ".join(account.number[i : i + 4] for i in range(0, len(account.number), 4))
    return account.number
