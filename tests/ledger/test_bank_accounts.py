"""Bank accounts money may leave for (ledger.bank_accounts): each country's forms and check digits. The
refunds that check them are tested in test_payment_operator_services.py."""

import pytest

from ledger.bank_accounts import Kind, bank_account_clean, bank_account_parse
from ledger.errors import ValidationFailed


@pytest.mark.parametrize(
    ("value", "country", "stored"),
    [
        ("8601 11 17947", "NO", "86011117947"),
        ("8601.11.17947", "NO", "86011117947"),
        ("NO93 8601 1117 947", "NO", "NO9386011117947"),
        ("de89 3704 0044 0532 0130 00", "FI", "DE89370400440532013000"),
        ("5000-1234560", "SE", "5000-1234560"),  # SEB, type 1
        ("6000 123456789", "SE", "6000-123456789"),  # Handelsbanken, type 2
        ("5050-1055", "SE", "BG 5050-1055"),  # bankgiro in its usual shape
        ("bg50501055", "SE", "BG 5050-1055"),
        ("PG 4789-4", "SE", "PG 4789-4"),
        ("1234 1234567", "DK", "1234-0001234567"),
        ("1234-0001234567", "DK", "1234-0001234567"),
    ],
)
def test_accepted_accounts_are_stored_in_one_form(value, country, stored):
    assert bank_account_clean(value, country=country) == stored
    assert bank_account_clean(stored, country=country) == stored  # the stored form reads back the same


@pytest.mark.parametrize(
    ("value", "country", "why"),
    [
        ("abc", "NO", "is not a Norwegian account number"),
        ("86011117948", "NO", "check digit (mod 11)"),
        ("1503000000", "NO", "is not a Norwegian account number"),
        ("NO93 8601 1117 948", "NO", "is not a valid IBAN"),
        ("5000-1234567", "SE", "is not a valid Swedish clearing and account number"),
        ("0999-1234567", "SE", "is not a valid Swedish clearing and account number"),
        ("BG 5050-1056", "SE", "bankgiro number's check digit"),
        ("PG 4789-2", "SE", "plusgiro number's check digit"),
        ("47892", "SE", "write a giro number as"),
        ("0000 1234567", "DK", "reg. no."),
        ("1234 12345678901", "DK", "account number"),
        ("12345678", "FI", "only an IBAN is accepted"),
    ],
)
def test_refused_accounts_name_the_field_and_why(value, country, why):
    with pytest.raises(ValidationFailed) as excinfo:
        bank_account_clean(value, country=country, field="payer_account")
    assert excinfo.value.code == "invalid_bank_account"
    assert excinfo.value.field == "payer_account"
    assert why in excinfo.value.message and repr(value) in excinfo.value.message


def test_a_bare_giro_number_is_read_as_the_caller_says():
    account = bank_account_parse("50501055", country="SE", bare_giro=Kind.SE_BANKGIRO)
    assert (account.kind, account.number, account.digits) == (Kind.SE_BANKGIRO, "BG 5050-1055", "50501055")
