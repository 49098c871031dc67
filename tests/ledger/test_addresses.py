"""Addresses on every path that writes one: the API's customers, 360's new address, returned mail. The
country is an ISO 3166 code, the postcode in its country's shape; a refusal names the field, writes nothing."""

import pytest

from ledger.addresses import address_clean, country_clean, postcode_clean
from ledger.customer_services import customer_address_change
from ledger.errors import ValidationFailed
from ledger.models import Customer, CustomerEvent
from ledger.services.customers import customer_upsert
from tests.factories import CustomerFactory, LedgerFactory


@pytest.mark.parametrize(
    ("country", "postcode", "stored"),
    [("NO", "0155", "0155"), ("DK", "2100", "2100"), ("SE", "123 45", "12345"), ("FI", "00100", "00100"),
     ("DE", "10115", "10115"), ("GB", "SW1A 1AA", "SW1A 1AA"), ("NO", "", "")],
)  # fmt: skip
def test_postcodes_in_their_countrys_shape(country, postcode, stored):
    assert postcode_clean(postcode, country=country) == stored


@pytest.mark.parametrize(
    ("country", "postcode", "why"),
    [("NO", "ABCDE", "not a Norway postcode (4 digits)"), ("NO", "01550", "4 digits"),
     ("SE", "1234", "5 digits"), ("DK", "21000", "4 digits"), ("FI", "0010", "5 digits")],
)  # fmt: skip
def test_malformed_postcodes_are_refused(country, postcode, why):
    with pytest.raises(ValidationFailed) as excinfo:
        postcode_clean(postcode, country=country)
    assert (excinfo.value.code, excinfo.value.field) == ("invalid_postcode", "postal_code")
    assert why in excinfo.value.message


def test_countries_are_iso_3166_codes():
    assert country_clean("se") == "SE" and country_clean("") == ""
    for bad in ("XX", "NOR", "Norway", "1"):
        with pytest.raises(ValidationFailed) as excinfo:
            country_clean(bad)
        assert excinfo.value.code == "invalid_country"
    with pytest.raises(ValidationFailed) as excinfo:
        address_clean(
            {"country": "NO", "postal_code": "x"}, default_country="NO", field_prefix="billing_address."
        )
    assert excinfo.value.field == "billing_address.postal_code"


def test_a_customer_with_a_bad_address_is_not_written(db):
    ledger = LedgerFactory(country="NO")
    for fields, field in (({"country": "XX"}, "country"), ({"postal_code": "ABCDE"}, "postal_code"),
                          ({"billing_address": {"line1": "x", "postal_code": "1", "city": "y", "country": "NO"}},
                           "billing_address.postal_code")):  # fmt: skip
        with pytest.raises(ValidationFailed) as excinfo:
            customer_upsert(ledger=ledger, customer_no="1", name="Kari", actor="test", **fields)
        assert excinfo.value.field == field
    assert not Customer.objects.filter(ledger=ledger).exists()
    customer = customer_upsert(ledger=ledger, customer_no="1", name="Kari", postal_code="0155", actor="test")
    assert (customer.country, customer.postal_code) == ("NO", "0155")


def test_a_new_address_in_360_is_checked_and_a_refusal_writes_nothing(db):
    customer = CustomerFactory(postal_code="0155", country="NO")
    events = CustomerEvent.objects.count()
    for country, postcode, code in (("XX", "0155", "invalid_country"), ("NO", "ABCDE", "invalid_postcode")):
        with pytest.raises(ValidationFailed) as excinfo:
            customer_address_change(customer=customer, actor="olivia", address_line1="Storgata 2",
                                    postal_code=postcode, city="Oslo", country=country)  # fmt: skip
        assert excinfo.value.code == code
    customer.refresh_from_db()
    assert customer.postal_code == "0155" and CustomerEvent.objects.count() == events
    customer_address_change(customer=customer, actor="olivia", address_line1="Storgatan 2", postal_code="114 55",
                            city="Stockholm", country="SE")  # fmt: skip
    customer.refresh_from_db()
    assert (customer.country, customer.postal_code) == ("SE", "11455")


def test_edi_ids_are_organisation_numbers_checked_by_their_digits(db):
    from ledger.edi_ids import edi_endpoint, edi_id_clean

    assert edi_id_clean("923 609 016", country="NO", field="edi_buyer_id") == "923609016"
    assert edi_id_clean("0007:556036-0793", country="NO", field="edi_buyer_id") == "0007:5560360793"
    assert edi_id_clean("0088:7300010000001", country="NO", field="edi_buyer_id") == "0088:7300010000001"
    assert edi_endpoint("0007:5560360793", country="NO") == ("0007", "5560360793")
    assert edi_endpoint("923609016", country="NO") == ("0192", "923609016")
    for value, country in (("923609017", "NO"), ("0192:12345", "NO"), ("5560360794", "SE"), ("123", "DE")):
        with pytest.raises(ValidationFailed) as excinfo:
            edi_id_clean(value, country=country, field="edi_buyer_id")
        assert (excinfo.value.code, excinfo.value.field) == ("invalid_edi_id", "edi_buyer_id")

    ledger = LedgerFactory(country="NO")
    with pytest.raises(ValidationFailed) as excinfo:
        customer_upsert(ledger=ledger, customer_no="1", name="Bedrift AS", legal_entity="business",
                        edi_buyer_id="923609017", actor="test")  # fmt: skip
    assert "is not a valid NO organisation number" in excinfo.value.message
    assert not Customer.objects.filter(ledger=ledger).exists()
