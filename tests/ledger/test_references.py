import random

import pytest
from stdnum.no import orgnr

from ledger.references import (
    InvalidReference,
    ReferenceScheme,
    generate,
    has_valid_check_digit,
    kid_customer_identifier,
    kid_generate,
    mod10_check_digit,
    mod11_check_digit,
    ocr_generate,
    validate,
)

# --- check digit functions ---------------------------------------------------


@pytest.mark.parametrize(
    ("number", "check"),
    [
        ("7992739871", "3"),  # the textbook Luhn example 79927398713
        ("411111111111111", "1"),  # test card 4111 1111 1111 1111
        ("4992739871", "6"),  # 49927398716
        ("0", "0"),
        # 12345670001 from the right, doubling every other digit starting at the rightmost:
        # 1*2=2, 0, 0*2=0, 0, 7*2=14->1+4=5, 6, 5*2=10->1+0=1, 4, 3*2=6, 2, 1*2=2
        # sum = 2+0+0+0+5+6+1+4+6+2+2 = 28 -> check = (10 - 28 % 10) % 10 = 2
        ("12345670001", "2"),
    ],
)
def test_mod10_check_digit_known_values(number: str, check: str) -> None:
    assert mod10_check_digit(number) == check


@pytest.mark.parametrize(
    ("number", "check"),
    [
        # 12345670001, weights 2,3,4,5,6,7 repeating from the right:
        # 1*2 + 0*3 + 0*4 + 0*5 + 7*6 + 6*7 + 5*2 + 4*3 + 3*4 + 2*5 + 1*6
        # = 2 + 0 + 0 + 0 + 42 + 42 + 10 + 12 + 12 + 10 + 6 = 136
        # 136 % 11 = 4 -> check = 11 - 4 = 7
        ("12345670001", "7"),
        # 1234567890: 0*2 + 9*3 + 8*4 + 7*5 + 6*6 + 5*7 + 4*2 + 3*3 + 2*4 + 1*5
        # = 0 + 27 + 32 + 35 + 36 + 35 + 8 + 9 + 8 + 5 = 195; 195 % 11 = 8 -> 11 - 8 = 3
        ("1234567890", "3"),
        # 12345670013: 3*2 + 1*3 + 0 + 0 + 7*6 + 6*7 + 5*2 + 4*3 + 3*4 + 2*5 + 1*6
        # = 6 + 3 + 42 + 42 + 10 + 12 + 12 + 10 + 6 = 143 = 13 * 11; 11 - 0 = 11 -> 0
        ("12345670013", "0"),
        # 12345670005: 5*2 + 0 + 0 + 0 + 7*6 + 6*7 + 5*2 + 4*3 + 3*4 + 2*5 + 1*6
        # = 10 + 42 + 42 + 10 + 12 + 12 + 10 + 6 = 144; 144 % 11 = 1 -> 11 - 1 = 10 -> '-'
        ("12345670005", "-"),
        # 5: 5*2 = 10; 10 % 11 = 10 -> 11 - 10 = 1
        ("5", "1"),
    ],
)
def test_mod11_check_digit_known_values(number: str, check: str) -> None:
    assert mod11_check_digit(number) == check


@pytest.mark.parametrize("number", ["98807791", "12345678", "00000000", "99999999"])
def test_mod11_matches_norwegian_orgnr_for_8_digit_bodies(number: str) -> None:
    # An organisation number is 8 digits + a mod 11 check digit with weights 3,2,7,6,5,4,3,2:
    # the same as KID mod 11's 2,3,4,5,6,7,2,3 from the right, so stdnum is an independent oracle.
    check = mod11_check_digit(number)
    if check == "-":
        assert not any(orgnr.is_valid(number + digit) for digit in "0123456789")
    else:
        assert orgnr.is_valid(number + check)


def test_mod11_matches_norwegian_orgnr_random_bodies() -> None:
    rng = random.Random(20240101)
    for _ in range(2000):
        number = f"{rng.randrange(10**8):08d}"
        check = mod11_check_digit(number)
        valid_digits = [digit for digit in "0123456789" if orgnr.is_valid(number + digit)]
        assert valid_digits == ([] if check == "-" else [check])


@pytest.mark.parametrize("function", [mod10_check_digit, mod11_check_digit])
@pytest.mark.parametrize("number", ["", "12a4", "12 34", "-1", "١٢٣"])
def test_check_digit_functions_reject_non_digits(function, number: str) -> None:
    with pytest.raises(InvalidReference, match="digits"):
        function(number)


# --- KID ---------------------------------------------------------------------


def test_kid_spec_example_mod10() -> None:
    # 1234567 + 0001 + Luhn check digit 2 (worked out in test_mod10_check_digit_known_values)
    assert kid_generate(customer_no="1234567", serial=1) == "123456700012"


def test_kid_spec_example_mod11() -> None:
    # 1234567 + 0001 + mod 11 check digit 7 (worked out in test_mod11_check_digit_known_values)
    assert kid_generate(customer_no="1234567", serial=1, modulus=11) == "123456700017"


@pytest.mark.parametrize(
    ("customer_no", "serial", "expected_body"),
    [
        ("42", 7, "00000420007"),
        ("0000042", 7, "00000420007"),
        ("1234567", 9999, "12345679999"),
        ("12345678", 1, "123456780001"),  # longer customer number is used as is
    ],
)
def test_kid_layout(customer_no: str, serial: int, expected_body: str) -> None:
    kid = kid_generate(customer_no=customer_no, serial=serial)
    assert kid == expected_body + mod10_check_digit(expected_body)


def test_kid_maximum_length_is_25_digits() -> None:
    customer_no = "1" * 20
    assert len(kid_generate(customer_no=customer_no, serial=1)) == 25
    with pytest.raises(InvalidReference, match="too long"):
        kid_generate(customer_no=customer_no + "1", serial=1)


@pytest.mark.parametrize("serial", [0, -1, 10000])
def test_kid_serial_out_of_range(serial: int) -> None:
    with pytest.raises(InvalidReference, match="serial"):
        kid_generate(customer_no="1234567", serial=serial)


@pytest.mark.parametrize("customer_no", ["", "12-34", "abc", " 1234567"])
def test_kid_customer_no_must_be_digits(customer_no: str) -> None:
    with pytest.raises(InvalidReference, match="customer number"):
        kid_generate(customer_no=customer_no, serial=1)


def test_kid_invalid_modulus() -> None:
    with pytest.raises(InvalidReference, match="modulus"):
        kid_generate(customer_no="1234567", serial=1, modulus=97)


@pytest.mark.parametrize("serial", [5, 19, 22, 36])
def test_kid_mod11_impossible_check_digit_raises(serial: int) -> None:
    # e.g. serial 5: body 12345670005 has weighted sum 144, 144 % 11 = 1 -> 11 - 1 = 10 (no digit)
    with pytest.raises(InvalidReference, match="no mod 11 check digit"):
        kid_generate(customer_no="1234567", serial=serial, modulus=11)
    # the same serial is fine with mod 10
    assert validate(kid_generate(customer_no="1234567", serial=serial), scheme=ReferenceScheme.KID_MOD10)


def test_kid_customer_identifier() -> None:
    # 1234567 + 0000: Luhn sum 0+0+0+0+5+6+1+4+6+2+2 = 26 -> 4; mod 11 sum 134 % 11 = 2 -> 9
    assert kid_customer_identifier(customer_no="1234567") == "123456700004"
    assert kid_customer_identifier(customer_no="1234567", modulus=11) == "123456700009"
    assert validate("123456700004", scheme=ReferenceScheme.KID_MOD10) == "123456700004"
    assert validate("123456700009", scheme=ReferenceScheme.KID_MOD11) == "123456700009"


@pytest.mark.parametrize(
    ("reference", "scheme", "message"),
    [
        ("123456700013", ReferenceScheme.KID_MOD10, "wrong mod 10 check digit '3', expected '2'"),
        ("123456700012", ReferenceScheme.KID_MOD11, "wrong mod 11 check digit '2', expected '7'"),
        ("123456700017", ReferenceScheme.KID_MOD10, "wrong mod 10 check digit"),
        ("12345670001", ReferenceScheme.KID_MOD10, "has 11 digits, expected 12-25"),
        ("1" * 26, ReferenceScheme.KID_MOD10, "has 26 digits, expected 12-25"),
        ("12345670001X", ReferenceScheme.KID_MOD10, "digits 0-9 only"),
        ("1234567A0012", ReferenceScheme.KID_MOD10, "digits 0-9 only"),
        ("12345670005-", ReferenceScheme.KID_MOD10, "digits 0-9 only"),
        ("12345670001-", ReferenceScheme.KID_MOD11, "wrong mod 11 check digit '-', expected '7'"),
        ("-", ReferenceScheme.KID_MOD11, "has 1 digits"),
        ("", ReferenceScheme.KID_MOD10, "empty"),
        ("   ", ReferenceScheme.KID_MOD11, "empty"),
    ],
)
def test_kid_validate_rejects(reference: str, scheme: ReferenceScheme, message: str) -> None:
    with pytest.raises(InvalidReference, match=message.replace("(", r"\(")):
        validate(reference, scheme=scheme)


def test_kid_mod11_dash_is_valid_check_character() -> None:
    # 12345670005 has no mod 11 check digit (remainder gives 10); '-' stands in for it
    assert validate("12345670005-", scheme=ReferenceScheme.KID_MOD11) == "12345670005-"


def test_validate_strips_spaces() -> None:
    assert validate(" 1234 5670 0012 ", scheme=ReferenceScheme.KID_MOD10) == "123456700012"
    assert validate("5123 4500 0123 42", scheme=ReferenceScheme.OCR_14) == "51234500012342"


# --- OCR ---------------------------------------------------------------------


def test_ocr_spec_example_14_digits() -> None:
    # 5 | 12345 | 000123 | 4 (length 14 mod 10) | Luhn check of 5123450001234:
    # from the right: 4*2=8, 3, 2*2=4, 1, 0, 0, 0, 5, 4*2=8, 3, 2*2=4, 1, 5*2=10->1
    # sum = 8+3+4+1+0+0+0+5+8+3+4+1+1 = 38 -> check = 2
    reference = ocr_generate(ledger_id="12345", serial=123)
    assert reference == "51234500012342"
    assert reference.startswith("5123450001234")
    assert len(reference) == 14


def test_ocr_spec_example_13_digits() -> None:
    # 5 | 12345 | 000123 | Luhn check of 512345000123:
    # from the right: 3*2=6, 2, 1*2=2, 0, 0, 0, 5*2=10->1, 4, 3*2=6, 2, 1*2=2, 5
    # sum = 6+2+2+0+0+0+1+4+6+2+2+5 = 30 -> check = 0
    reference = ocr_generate(ledger_id="12345", serial=123, length=13)
    assert reference == "5123450001230"
    assert reference == "512345000123" + mod10_check_digit("512345000123")


@pytest.mark.parametrize(
    ("ledger_id", "serial", "length", "expected_body"),
    [
        ("7", 1, 14, "1700000000014"),
        ("7", 1, 13, "170000000001"),
        ("123456789", 99, 14, "9123456789994"),
        ("123456789", 99, 13, "912345678999"),
        ("12345", 999999, 14, "5123459999994"),
    ],
)
def test_ocr_layout(ledger_id: str, serial: int, length: int, expected_body: str) -> None:
    reference = ocr_generate(ledger_id=ledger_id, serial=serial, length=length)
    assert reference == expected_body + mod10_check_digit(expected_body)
    assert len(reference) == length


@pytest.mark.parametrize(
    ("ledger_id", "serial", "length"),
    [
        ("12345", 0, 14),
        ("12345", -1, 13),
        ("12345", 1_000_000, 14),  # 6 serial digits available
        ("12345", 1_000_000, 13),  # 6 serial digits available
        ("123456789", 100, 14),  # 2 serial digits available
        ("123456789", 100, 13),  # 2 serial digits available
    ],
)
def test_ocr_serial_out_of_range(ledger_id: str, serial: int, length: int) -> None:
    with pytest.raises(InvalidReference, match="serial must be between 1 and"):
        ocr_generate(ledger_id=ledger_id, serial=serial, length=length)


@pytest.mark.parametrize("ledger_id", ["", "1234567890", "12a45", "-1"])
def test_ocr_invalid_ledger_id(ledger_id: str) -> None:
    with pytest.raises(InvalidReference, match="ledger id"):
        ocr_generate(ledger_id=ledger_id, serial=1)


@pytest.mark.parametrize("length", [12, 15, 25])
def test_ocr_invalid_length(length: int) -> None:
    with pytest.raises(InvalidReference, match="OCR length must be 13 or 14"):
        ocr_generate(ledger_id="12345", serial=1, length=length)


def test_ocr_wrong_length_digit_rejected() -> None:
    body = "5123450001235"  # length digit 5 instead of 4, with a correct Luhn digit below
    reference = body + mod10_check_digit(body)
    with pytest.raises(InvalidReference, match="wrong length digit '5', expected '4'"):
        validate(reference, scheme=ReferenceScheme.OCR_14)


@pytest.mark.parametrize(
    ("reference", "scheme", "message"),
    [
        ("51234500012343", ReferenceScheme.OCR_14, "wrong check digit '3', expected '2'"),
        ("5123450001231", ReferenceScheme.OCR_13, "wrong check digit '1', expected '0'"),
        ("5123450001234", ReferenceScheme.OCR_14, "has 13 digits, expected 14"),
        ("51234500012342", ReferenceScheme.OCR_13, "has 14 digits, expected 13"),
        ("512345OOO12342", ReferenceScheme.OCR_14, "digits 0-9 only"),
        ("5123450001234-", ReferenceScheme.OCR_14, "digits 0-9 only"),
        ("", ReferenceScheme.OCR_13, "empty"),
    ],
)
def test_ocr_validate_rejects(reference: str, scheme: ReferenceScheme, message: str) -> None:
    with pytest.raises(InvalidReference, match=message):
        validate(reference, scheme=scheme)


@pytest.mark.parametrize(
    ("body", "scheme", "message"),
    [
        ("0123450001234", ReferenceScheme.OCR_14, "invalid ledger id length digit '0'"),
        ("5123450000004", ReferenceScheme.OCR_14, "serial 0"),
        ("512345000000", ReferenceScheme.OCR_13, "serial 0"),
    ],
)
def test_ocr_validate_rejects_impossible_structure(body: str, scheme: ReferenceScheme, message: str) -> None:
    with pytest.raises(InvalidReference, match=message):
        validate(body + mod10_check_digit(body), scheme=scheme)


@pytest.mark.parametrize("scheme", [ReferenceScheme.OCR_14, ReferenceScheme.OCR_13])
@pytest.mark.parametrize("other_ledger_id", ["12346", "1234", "123456", "2345", "1"])
def test_ocr_ledger_prefix_mismatch_rejected(scheme: ReferenceScheme, other_ledger_id: str) -> None:
    reference = generate(scheme=scheme, ledger_id="12345", customer_no="", serial=123)
    assert validate(reference, scheme=scheme, ledger_id="12345") == reference
    with pytest.raises(InvalidReference, match="does not belong to ledger"):
        validate(reference, scheme=scheme, ledger_id=other_ledger_id)


def test_ocr_validate_checks_given_ledger_id_format() -> None:
    with pytest.raises(InvalidReference, match="ledger id"):
        validate("51234500012342", scheme=ReferenceScheme.OCR_14, ledger_id="12a45")


def test_kid_validate_ignores_ledger_id() -> None:
    assert validate("123456700012", scheme=ReferenceScheme.KID_MOD10, ledger_id="999") == "123456700012"


# --- generate / round trips ----------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "expected"),
    [
        (ReferenceScheme.KID_MOD10, "123456700012"),
        (ReferenceScheme.KID_MOD11, "123456700017"),
        (ReferenceScheme.OCR_14, ocr_generate(ledger_id="12345", serial=1)),
        (ReferenceScheme.OCR_13, ocr_generate(ledger_id="12345", serial=1, length=13)),
        ("kid_mod10", "123456700012"),  # plain string values, as stored by Django TextChoices
        ("ocr14", ocr_generate(ledger_id="12345", serial=1)),
    ],
)
def test_generate_dispatches_on_scheme(scheme: ReferenceScheme, expected: str) -> None:
    assert generate(scheme=scheme, ledger_id="12345", customer_no="1234567", serial=1) == expected


def test_scheme_values() -> None:
    assert [scheme.value for scheme in ReferenceScheme] == ["kid_mod10", "kid_mod11", "ocr14", "ocr13"]
    assert ReferenceScheme("ocr13") is ReferenceScheme.OCR_13
    assert isinstance(ReferenceScheme.KID_MOD10, str)


def test_unknown_scheme_rejected() -> None:
    with pytest.raises(ValueError):
        validate("123456700012", scheme="kid_mod97")


@pytest.mark.parametrize("customer_no", ["1", "1234567", "98765432101"])
def test_round_trip_kid_mod10_all_serials(customer_no: str) -> None:
    for serial in range(1, 10000):
        reference = kid_generate(customer_no=customer_no, serial=serial)
        assert validate(reference, scheme=ReferenceScheme.KID_MOD10) == reference
        assert has_valid_check_digit(reference)


@pytest.mark.parametrize("customer_no", ["1", "1234567", "98765432101"])
def test_round_trip_kid_mod11_all_serials(customer_no: str) -> None:
    impossible = 0
    for serial in range(1, 10000):
        body = customer_no.zfill(7) + f"{serial:04d}"
        if mod11_check_digit(body) == "-":
            impossible += 1
            with pytest.raises(InvalidReference):
                kid_generate(customer_no=customer_no, serial=serial, modulus=11)
            assert validate(body + "-", scheme=ReferenceScheme.KID_MOD11) == body + "-"
            continue
        reference = kid_generate(customer_no=customer_no, serial=serial, modulus=11)
        assert validate(reference, scheme=ReferenceScheme.KID_MOD11) == reference
        assert has_valid_check_digit(reference)
    # about 1 in 11 serials has no mod 11 check digit
    assert 700 < impossible < 1100


@pytest.mark.parametrize("scheme", [ReferenceScheme.OCR_14, ReferenceScheme.OCR_13])
@pytest.mark.parametrize("ledger_id", ["1", "12345", "123456789"])
def test_round_trip_ocr(scheme: ReferenceScheme, ledger_id: str) -> None:
    length = 14 if scheme is ReferenceScheme.OCR_14 else 13
    serial_width = length - 1 - len(ledger_id) - (2 if length == 14 else 1)
    serials = set(range(1, min(10**serial_width, 3000)))
    serials.add(10**serial_width - 1)
    for serial in sorted(serials):
        reference = generate(scheme=scheme, ledger_id=ledger_id, customer_no="", serial=serial)
        assert len(reference) == length
        assert validate(reference, scheme=scheme, ledger_id=ledger_id) == reference
        assert has_valid_check_digit(reference)


def test_generated_references_reject_every_single_digit_typo_in_check_digit() -> None:
    for scheme in ReferenceScheme:
        reference = generate(scheme=scheme, ledger_id="12345", customer_no="1234567", serial=42)
        for digit in "0123456789":
            if digit == reference[-1]:
                continue
            with pytest.raises(InvalidReference, match="check digit"):
                validate(reference[:-1] + digit, scheme=scheme)


# --- has_valid_check_digit -----------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("123456700012", True),  # Luhn
        ("123456700017", True),  # mod 11
        ("12345670005-", True),  # mod 11 with '-' check character
        ("51234500012342", True),  # OCR (Luhn)
        ("79927398713", True),  # textbook Luhn number
        ("1234 5670 0012", True),  # spaces ignored
        ("123456700013", False),  # Luhn wants 2, mod 11 wants 7
        ("12345670001-", False),  # mod 11 wants 7
        ("51234500012343", False),
        ("", False),
        ("7", False),
        ("12345670001X", False),
        ("1234567A0012", False),
    ],
)
def test_has_valid_check_digit(reference: str, expected: bool) -> None:
    assert has_valid_check_digit(reference) is expected
