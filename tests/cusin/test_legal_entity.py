"""CUSIN customers without LegalEntity: the RegNo decides, per country; given, it must match the number."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from claims.services.process import claim_settings_update
from cusin.generate import CustomerSpec, InvoiceSpec, write_cusin
from cusin.services import cusin_import
from ledger.models import Customer, CustomerEvent, CustomerEventKind, Invoice, LegalEntity
from ledger.verify import ledger_verify
from tests.claims.conftest import run_days, steps_taken
from tests.factories import LedgerFactory

DAY = date(2026, 1, 15)

# country, currency, postcode, a person's number, an organisation's number, a number valid as neither
COUNTRIES = [
    ("NO", "NOK", "0155", "15108695088", "923609016", "12345678901"),
    ("SE", "SEK", "11122", "811218-9876", "556036-0793", "5560360794"),
    ("DK", "DKK", "1050", "211062-5629", "13585628", "3213625629"),
    ("FI", "EUR", "00100", "131052-308T", "2077474-0", "2077474-1"),
]


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"


def import_customers(tmp_path, ledger, currency, postcode, customers: list[tuple]) -> dict:
    """customers: (customer_no, reg_no, LegalEntity or None), each with one invoice."""
    specs = [
        CustomerSpec(
            customer_no=no,
            name=f"Customer {no}",
            legal_entity=entity,
            reg_no=reg_no,
            reg_no_country=ledger.country,
            street="Street 1",
            zip_code=postcode,
            city="City",
            country=ledger.country,
            items=[InvoiceSpec(invoice_no=f"INV-{no}", invoice_date=DAY, amount_excl_vat=Decimal("800.00"),
                               vat_amount=Decimal("200.00"), currency=currency)],  # fmt: skip
        )
        for no, reg_no, entity in customers
    ]
    path = write_cusin(tmp_path / f"CUSIN_{ledger.company_no}_20260115083000_1.xml",
                       company_no=ledger.company_no, customers=specs)  # fmt: skip
    return cusin_import(path=path, booking_date=DAY)


@pytest.mark.parametrize(("country", "currency", "postcode", "person", "org", "bad"), COUNTRIES)
def test_without_legal_entity_the_reg_no_decides_and_the_event_says_so(
    db, tmp_path, country, currency, postcode, person, org, bad
):
    ledger = LedgerFactory(country=country)
    receipt = import_customers(tmp_path, ledger, currency, postcode, [("1", org, None), ("2", person, None)])

    assert receipt["status"] == "accepted", receipt["errors"]
    entities = dict(Customer.objects.filter(ledger=ledger).values_list("customer_no", "legal_entity"))
    assert entities == {"1": LegalEntity.BUSINESS, "2": LegalEntity.PRIVATE}
    created = {
        e.customer.customer_no: e.new_value
        for e in CustomerEvent.objects.filter(ledger=ledger, kind=CustomerEventKind.CREATED).select_related("customer")
    }
    assert created == {
        "1": {"legal_entity": "business", "inferred_from": "national_id"},
        "2": {"legal_entity": "private", "inferred_from": "national_id"},
    }
    assert all(check["ok"] for check in ledger_verify(ledger=ledger))


@pytest.mark.parametrize(("country", "currency", "postcode", "person", "org", "bad"), COUNTRIES)
def test_a_given_legal_entity_must_match_the_reg_no_and_neither_kind_is_refused(
    db, tmp_path, country, currency, postcode, person, org, bad
):
    ledger = LedgerFactory(country=country)
    receipt = import_customers(tmp_path, ledger, currency, postcode, [
        ("1", person, "Business"),  # a person's id given as a business
        ("2", org, "Private"),
        ("3", bad, None),  # valid as neither
        ("4", org, "Business"),
    ])  # fmt: skip

    errors = {e["customer_no"]: (e["code"], e["message"]) for e in receipt["errors"]}
    assert {no: code for no, (code, _) in errors.items()} == {"1": "InvalidRegNo", "2": "InvalidRegNo",
                                                               "3": "InvalidRegNo"}  # fmt: skip
    assert "not of a business" in errors["1"][1]
    assert "not of a private person" in errors["2"][1]
    assert errors["3"][1].count("not a valid") == 2  # both checks named
    assert list(Customer.objects.filter(ledger=ledger).values_list("customer_no", "legal_entity")) == [
        ("4", LegalEntity.BUSINESS)
    ]
    # A given entity that matches is not "inferred".
    assert CustomerEvent.objects.get(ledger=ledger, kind=CustomerEventKind.CREATED).new_value == {}
    assert all(check["ok"] for check in ledger_verify(ledger=ledger))


def test_an_inferred_business_gets_the_business_claim_path(db, tmp_path):
    """The late fee is for businesses only (seeds/002): a customer sent without LegalEntity but with an
    organisation number gets it; one with a fødselsnummer gets the consumer's SMS and collection notice."""
    ledger = LedgerFactory(country="NO")
    claim_settings_update(ledger=ledger, business_late_fee=True)
    import_customers(tmp_path, ledger, "NOK", "0155", [("1", "923609016", None), ("2", "15108695088", None)])
    due = Invoice.objects.get(ledger=ledger, invoice_no="INV-1").due_date

    run_days(ledger, DAY, due + timedelta(days=3))

    business, person = (Invoice.objects.get(ledger=ledger, invoice_no=f"INV-{n}") for n in "12")
    assert [kind for kind, *_ in steps_taken(business)] == ["late_fee", "sms_reminder"]
    assert [kind for kind, *_ in steps_taken(person)] == ["sms_reminder"]
    assert all(check["ok"] for check in ledger_verify(ledger=ledger))


def test_a_later_file_with_the_number_of_the_other_kind_changes_the_entity_with_an_event(db, tmp_path):
    ledger = LedgerFactory(country="NO")
    import_customers(tmp_path, ledger, "NOK", "0155", [("1", "15108695088", None)])
    (tmp_path / f"CUSIN_{ledger.company_no}_20260115083000_1.xml").unlink()
    specs = [CustomerSpec(customer_no="1", name="Customer 1", reg_no="923609016", reg_no_country="NO", street="Street 1",
                          zip_code="0155", city="City",
                          items=[InvoiceSpec(invoice_no="INV-2", invoice_date=DAY, amount_excl_vat=Decimal("80.00"),
                                             vat_amount=Decimal("20.00"), currency="NOK")])]  # fmt: skip
    path = write_cusin(tmp_path / f"CUSIN_{ledger.company_no}_20260116083000_2.xml",
                       company_no=ledger.company_no, customers=specs)  # fmt: skip
    receipt = cusin_import(path=path, booking_date=DAY)
    assert receipt["status"] == "accepted", receipt["errors"]

    assert Customer.objects.get(ledger=ledger, customer_no="1").legal_entity == LegalEntity.BUSINESS
    change = CustomerEvent.objects.get(ledger=ledger, kind=CustomerEventKind.LEGAL_ENTITY_CHANGED)
    assert (change.old_value, change.new_value) == (
        {"legal_entity": "private"},
        {"legal_entity": "business", "inferred_from": "national_id"},
    )
