"""Payment references: Norwegian KID and Swedish OCR (PayEx layout).

KID (Norway), 12 digits by default::

    CCCCCCC SSSS K
    customer number (zero-padded to 7; longer numbers are used as is)
    + 4-digit serial per customer (0000 = customer identifier only)
    + check digit (Luhn / mod 10 by default, mod 11 per ledger)

OCR (Sweden), 14 digits by default::

    N LLLLL SSSSSS T K
    length of the ledger id + ledger id + serial per ledger (zero-padded)
    + length digit (total length mod 10) + Luhn check digit

The 13-digit OCR variant has no length digit.

Everything is a string of ASCII digits in and out; errors raise
``InvalidReference`` (a ``ValueError``).
"""

import enum


class ReferenceScheme(enum.StrEnum):  # str subclass: values double as Django TextChoices values
    KID_MOD10 = "kid_mod10"
    KID_MOD11 = "kid_mod11"
    OCR_14 = "ocr14"  # with length digit
    OCR_13 = "ocr13"  # without length digit


class InvalidReference(ValueError):
    """A payment reference (or a part used to build one) is not valid."""


class NoCheckDigit(InvalidReference):
    """Modulus 11 has no check digit for this body: the serial must be skipped, not reported."""


KID_CUSTOMER_WIDTH = 7
KID_SERIAL_WIDTH = 4
KID_MIN_LENGTH = KID_CUSTOMER_WIDTH + KID_SERIAL_WIDTH + 1
KID_MAX_LENGTH = 25
KID_MAX_SERIAL = 10**KID_SERIAL_WIDTH - 1

OCR_LENGTHS = (13, 14)
OCR_LEDGER_ID_MAX_LENGTH = 9

# The mod-11 check "digit" when 11 - (sum mod 11) == 10; only valid in validation.
MOD11_IMPOSSIBLE = "-"

_MOD11_WEIGHTS = (2, 3, 4, 5, 6, 7)


def _is_digits(value: str) -> bool:
    # str.isdigit() alone also accepts non-ASCII digits such as '²' or '٣'.
    return bool(value) and value.isascii() and value.isdigit()


def _require_digits(value: str, what: str) -> None:
    if not isinstance(value, str) or not _is_digits(value):
        raise InvalidReference(f"{what} must be a non-empty string of digits 0-9, got {value!r}")


def _normalise(reference: str) -> str:
    if not isinstance(reference, str):
        raise InvalidReference(f"reference must be a string, got {type(reference).__name__}")
    return "".join(reference.split())


# Each digit doubled, with the two digits of the product added: 0 2 4 6 8 1 3 5 7 9.
_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")


def mod10_check_digit(digits: str) -> str:
    """Luhn (modulus 10) check digit for ``digits``.

    The same digit as stdnum.luhn.calc_check_digit, at half its cost (a file of 50,000 invoices
    makes 50,000 of them): from the right, every other digit starting with the last is doubled.
    """
    _require_digits(digits, "digits")
    reverse = digits[::-1]
    total = sum(map(int, reverse[::2].translate(_LUHN_DOUBLED))) + sum(map(int, reverse[1::2]))
    return str(-total % 10)


def mod11_check_digit(digits: str) -> str:
    """Modulus 11 check digit for ``digits`` (KID): '0'-'9', or '-' when impossible.

    Weights 2, 3, 4, 5, 6, 7 repeat from the rightmost digit; check = 11 - (sum mod 11),
    where 11 becomes 0 and 10 has no digit (returned as '-').
    """
    # stdnum has no equivalent: iso7064 mod 11-2 / 11-10 are different algorithms and the
    # stdnum.no modules use fixed-length weight tables.
    _require_digits(digits, "digits")
    total = sum(
        int(digit) * _MOD11_WEIGHTS[position % len(_MOD11_WEIGHTS)]
        for position, digit in enumerate(reversed(digits))
    )
    check = 11 - total % 11
    if check == 11:
        return "0"
    if check == 10:
        return MOD11_IMPOSSIBLE
    return str(check)


def _check_modulus(modulus: int) -> None:
    if modulus not in (10, 11):
        raise InvalidReference(f"KID modulus must be 10 or 11, got {modulus!r}")


def _kid(customer_no: str, serial_digits: str, modulus: int) -> str:
    _check_modulus(modulus)
    _require_digits(customer_no, "customer number")
    body = customer_no.zfill(KID_CUSTOMER_WIDTH) + serial_digits
    if len(body) + 1 > KID_MAX_LENGTH:
        raise InvalidReference(
            f"customer number {customer_no!r} is too long: the KID would have "
            f"{len(body) + 1} digits, at most {KID_MAX_LENGTH} are allowed"
        )
    if modulus == 10:
        return body + mod10_check_digit(body)
    check = mod11_check_digit(body)
    if check == MOD11_IMPOSSIBLE:
        raise NoCheckDigit(
            f"no mod 11 check digit exists for KID {body}_ (remainder gives 10); use another serial"
        )
    return body + check


def kid_generate(*, customer_no: str, serial: int, modulus: int = 10) -> str:
    """KID = customer number (zero-padded to 7) + 4-digit serial (1-9999) + check digit."""
    if not 1 <= serial <= KID_MAX_SERIAL:
        raise InvalidReference(
            f"KID serial must be between 1 and {KID_MAX_SERIAL}, got {serial!r} "
            "(serial 0000 is the customer identifier, see kid_customer_identifier)"
        )
    return _kid(customer_no, str(serial).zfill(KID_SERIAL_WIDTH), modulus)


def kid_customer_identifier(*, customer_no: str, modulus: int = 10) -> str:
    """KID with serial 0000, identifying only the customer (AvtaleGiro sign-up)."""
    return _kid(customer_no, "0" * KID_SERIAL_WIDTH, modulus)


def _check_ocr_length(length: int) -> None:
    if length not in OCR_LENGTHS:
        raise InvalidReference(f"OCR length must be 13 or 14, got {length!r}")


def _ocr_trailer_length(length: int) -> int:
    """Digits after the serial: check digit, plus the length digit for 14-digit OCR."""
    return 2 if length == 14 else 1


def _check_ledger_id(ledger_id: str) -> None:
    _require_digits(ledger_id, "ledger id")
    if len(ledger_id) > OCR_LEDGER_ID_MAX_LENGTH:
        raise InvalidReference(
            f"ledger id must be 1-{OCR_LEDGER_ID_MAX_LENGTH} digits, got {len(ledger_id)} ({ledger_id!r})"
        )


def ocr_generate(*, ledger_id: str, serial: int, length: int = 14) -> str:
    """OCR = len(ledger id) + ledger id + zero-padded serial [+ length digit] + Luhn digit."""
    _check_ocr_length(length)
    _check_ledger_id(ledger_id)
    prefix = str(len(ledger_id)) + ledger_id
    serial_width = length - len(prefix) - _ocr_trailer_length(length)
    max_serial = 10**serial_width - 1
    if not 1 <= serial <= max_serial:
        raise InvalidReference(
            f"OCR serial must be between 1 and {max_serial} for ledger id {ledger_id!r} "
            f"and length {length}, got {serial!r}"
        )
    body = prefix + str(serial).zfill(serial_width)
    if length == 14:
        body += str(length % 10)
    return body + mod10_check_digit(body)


def generate(*, scheme: ReferenceScheme, ledger_id: str, customer_no: str, serial: int) -> str:
    """Generate a reference: KID schemes use customer_no + serial, OCR schemes ledger_id + serial."""
    scheme = ReferenceScheme(scheme)
    if scheme is ReferenceScheme.KID_MOD10:
        return kid_generate(customer_no=customer_no, serial=serial, modulus=10)
    if scheme is ReferenceScheme.KID_MOD11:
        return kid_generate(customer_no=customer_no, serial=serial, modulus=11)
    if scheme is ReferenceScheme.OCR_14:
        return ocr_generate(ledger_id=ledger_id, serial=serial, length=14)
    return ocr_generate(ledger_id=ledger_id, serial=serial, length=13)


def _validate_kid(reference: str, modulus: int) -> None:
    # A mod-11 KID may end in '-' (the "check digit" when the remainder gives 10).
    digits = reference[:-1] if modulus == 11 and reference.endswith("-") else reference
    if digits and not _is_digits(digits):
        raise InvalidReference(f"KID {reference!r} must contain digits 0-9 only")
    if not KID_MIN_LENGTH <= len(reference) <= KID_MAX_LENGTH:
        raise InvalidReference(
            f"KID {reference!r} has {len(reference)} digits, expected {KID_MIN_LENGTH}-{KID_MAX_LENGTH}"
        )
    body, check = reference[:-1], reference[-1]
    expected = mod10_check_digit(body) if modulus == 10 else mod11_check_digit(body)
    if check != expected:
        raise InvalidReference(
            f"KID {reference!r} has wrong mod {modulus} check digit {check!r}, expected {expected!r}"
        )


def _validate_ocr(reference: str, length: int, ledger_id: str | None) -> None:
    if not _is_digits(reference):
        raise InvalidReference(f"OCR reference {reference!r} must contain digits 0-9 only")
    if len(reference) != length:
        raise InvalidReference(f"OCR reference {reference!r} has {len(reference)} digits, expected {length}")
    if length == 14 and reference[-2] != str(length % 10):
        raise InvalidReference(
            f"OCR reference {reference!r} has wrong length digit {reference[-2]!r}, "
            f"expected {str(length % 10)!r}"
        )
    expected = mod10_check_digit(reference[:-1])
    if reference[-1] != expected:
        raise InvalidReference(
            f"OCR reference {reference!r} has wrong check digit {reference[-1]!r}, expected {expected!r}"
        )
    ledger_id_length = int(reference[0])
    serial_start = 1 + ledger_id_length
    serial_end = length - _ocr_trailer_length(length)
    # Ledger ids are 1-9 digits, so with 13/14 digits there is always room for a serial.
    if ledger_id_length == 0:
        raise InvalidReference(
            f"OCR reference {reference!r} has invalid ledger id length digit {reference[0]!r}"
        )
    if int(reference[serial_start:serial_end]) == 0:
        raise InvalidReference(f"OCR reference {reference!r} has serial 0")
    if ledger_id is not None:
        _check_ledger_id(ledger_id)
        prefix = str(len(ledger_id)) + ledger_id
        if not reference.startswith(prefix):
            raise InvalidReference(
                f"OCR reference {reference!r} does not belong to ledger {ledger_id!r} "
                f"(expected prefix {prefix!r})"
            )


def validate(reference: str, *, scheme: ReferenceScheme, ledger_id: str | None = None) -> str:
    """Return ``reference`` without spaces if valid for ``scheme``, else raise InvalidReference.

    For OCR schemes, a given ``ledger_id`` must also match the reference's prefix.
    ``ledger_id`` is ignored for KID schemes (a KID does not encode the ledger).
    """
    scheme = ReferenceScheme(scheme)
    reference = _normalise(reference)
    if not reference:
        raise InvalidReference("reference is empty")
    if scheme is ReferenceScheme.KID_MOD10:
        _validate_kid(reference, 10)
    elif scheme is ReferenceScheme.KID_MOD11:
        _validate_kid(reference, 11)
    elif scheme is ReferenceScheme.OCR_14:
        _validate_ocr(reference, 14, ledger_id)
    else:
        _validate_ocr(reference, 13, ledger_id)
    return reference


def has_valid_check_digit(reference: str) -> bool:
    """True if the last character is a valid Luhn (mod 10) or mod 11 check digit.

    Scheme-agnostic, never raises: lets payment matching tell "valid reference that
    matches nothing" apart from "mistyped reference".
    """
    if not isinstance(reference, str):
        return False
    reference = "".join(reference.split())
    body, check = reference[:-1], reference[-1:]
    if not _is_digits(body):
        return False
    if _is_digits(check) and check == mod10_check_digit(body):
        return True
    return check == mod11_check_digit(body)
