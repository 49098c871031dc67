"""Customers: create, get, update (only what is sent), consents, open invoices, credit balance."""

from decimal import Decimal

import pytest

from ledger.models import Customer, CustomerConsent, CustomerEvent
from ledger.services.invoice_changes import invoice_credit
from ledger.verify import ledger_verify
from tests.factories import CustomerFactory
from tests.ledger.test_payments_import import book, ocr_file, pay

from .conftest import assert_problem, invoice_in, url

NEW = {
    "customer_no": "5001",
    "name": "Kari Nordmann",
    "email": "kari@example.no",
    "address_line1": "Storgata 1",
    "postal_code": "0155",
    "city": "Oslo",
}


def test_create_and_get_a_customer(ledger, api):
    response = api.post(url(ledger, "customers/"), NEW, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["customer_no"] == "5001" and body["country"] == "NO" and body["legal_entity"] == "private"
    customer = Customer.objects.get(ledger=ledger, customer_no="5001")
    assert CustomerEvent.objects.filter(customer=customer, kind="created").count() == 1
    assert api.get(url(ledger, "customers/5001/")).json() == body
    assert_problem(api.post(url(ledger, "customers/"), NEW, format="json"), 409, "customer_exists")
    assert_problem(api.get(url(ledger, "customers/5999/")), 404, "customer_not_found")


def test_create_validation_errors_name_the_field_and_write_nothing(ledger, api):
    for data, field in [
        ({**NEW, "email": "not-an-email"}, "email"),
        ({k: v for k, v in NEW.items() if k != "name"}, "name"),
        ({**NEW, "customer_no": "has space"}, "customer_no"),
        ({**NEW, "legal_entity": "alien"}, "legal_entity"),
        ({**NEW, "country": "Norway"}, "country"),
        ({**NEW, "postal_code": "9" * 21}, "postal_code"),
    ]:
        assert_problem(
            api.post(url(ledger, "customers/"), data, format="json"), 400, "validation_failed", field
        )
    assert not Customer.objects.filter(ledger=ledger).exists()


def test_update_changes_only_what_is_sent_and_records_a_new_address(ledger, api):
    api.post(url(ledger, "customers/"), NEW, format="json")
    response = api.patch(url(ledger, "customers/5001/"), {"address_line1": "Kirkegata 2"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["address_line1"] == "Kirkegata 2" and body["email"] == "kari@example.no"
    assert body["name"] == "Kari Nordmann"
    event = CustomerEvent.objects.get(customer__customer_no="5001", kind="legal_address_changed")
    assert (
        event.old_value["address_line1"] == "Storgata 1" and event.new_value["address_line1"] == "Kirkegata 2"
    )
    response = api.patch(url(ledger, "customers/5001/"), {"legal_entity": "business", "phone": "+47 22 33 44 55"},
                         format="json")  # fmt: skip
    assert response.json()["legal_entity"] == "business" and response.json()["phone"] == "+47 22 33 44 55"
    assert_problem(api.patch(url(ledger, "customers/5001/"), {"email": "@"}, format="json"), 400,
                   "validation_failed", "email")  # fmt: skip
    assert_problem(api.patch(url(ledger, "customers/5999/"), {"city": "Bergen"}, format="json"), 404,
                   "customer_not_found")  # fmt: skip


def test_consents_are_set_and_cancelled(ledger, api):
    CustomerFactory(ledger=ledger, customer_no="5001")
    assert api.get(url(ledger, "customers/5001/consents/")).json() == {"results": []}
    response = api.post(
        url(ledger, "customers/5001/consents/"),
        {
            "consents": [
                {"kind": "einvoice_b2c_no", "active": True},
                {"kind": "avtalegiro_no", "active": True},
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert {(c["kind"], c["active"]) for c in response.json()["results"]} == {
        ("einvoice_b2c_no", True),
        ("avtalegiro_no", True),
    }
    response = api.post(
        url(ledger, "customers/5001/consents/"), {"consents": [{"kind": "avtalegiro_no", "active": False}]},
        format="json",
    )  # fmt: skip
    assert {(c["kind"], c["active"]) for c in response.json()["results"]} == {
        ("einvoice_b2c_no", True),
        ("avtalegiro_no", False),
    }
    assert CustomerConsent.objects.filter(customer__customer_no="5001", active=True).count() == 1
    bad = {"consents": [{"kind": "carrier_pigeon", "active": True}]}
    assert_problem(api.post(url(ledger, "customers/5001/consents/"), bad, format="json"), 400,
                   "validation_failed", "consents[0].kind")  # fmt: skip
    twice = {"consents": [{"kind": "kivra", "active": True}, {"kind": "kivra", "active": False}]}
    assert_problem(api.post(url(ledger, "customers/5001/consents/"), twice, format="json"), 400,
                   "validation_failed", "consents")  # fmt: skip


def test_open_invoices_and_credit_balance(ledger, api):
    customer = CustomerFactory(ledger=ledger, customer_no="1234567")
    first = invoice_in(ledger, customer=customer, invoice_no="O-1", amount=Decimal("100.00"))
    invoice_in(ledger, customer=customer, invoice_no="O-2", amount=Decimal("200.00"))
    closed = invoice_in(ledger, customer=customer, invoice_no="O-3", amount=Decimal("300.00"))
    invoice_credit(invoice=closed, actor="test")
    invoice_in(ledger, invoice_no="X-1")  # another customer's
    response = api.get(url(ledger, "customers/1234567/invoices/"))
    assert [i["invoice_no"] for i in response.json()["results"]] == ["O-1", "O-2"]

    assert api.get(url(ledger, "customers/1234567/credit-balance/")).json() == {
        "customer_no": "1234567",
        "currency": "NOK",
        "credit_balance": "0.00",
    }
    ledger.settle_surplus_against_oldest = False  # keep the surplus as a credit balance
    ledger.save(update_fields=["settle_surplus_against_oldest"])
    book(ocr_file([pay(first.payment_ref, "150.00", "000000001")]))  # 50.00 too much
    response = api.get(url(ledger, "customers/1234567/credit-balance/"))
    assert response.json()["credit_balance"] == "50.00"


# country, a person's number, an organisation's number (the ledger's country when national_id_country is left out)
NATIONAL_IDS = [
    ("NO", "15108695088", "923609016"),
    ("SE", "811218-9876", "556036-0793"),
    ("DK", "211062-5629", "13585628"),
    ("FI", "131052-308T", "2077474-0"),
]


@pytest.mark.parametrize(("country", "person", "org"), NATIONAL_IDS)
def test_without_legal_entity_the_national_id_decides_it(ledger, api, country, person, org):
    base = {**NEW, "national_id_country": country, "country": "NO"}
    business = api.post(url(ledger, "customers/"), {**base, "customer_no": "1", "national_id": org}, format="json")
    private = api.post(url(ledger, "customers/"), {**base, "customer_no": "2", "national_id": person}, format="json")
    assert (business.status_code, private.status_code) == (201, 201), (business.content, private.content)
    assert (business.json()["legal_entity"], private.json()["legal_entity"]) == ("business", "private")
    created = CustomerEvent.objects.get(customer__ledger=ledger, customer__customer_no="1", kind="created")
    assert created.new_value == {"legal_entity": "business", "inferred_from": "national_id"}
    assert all(check["ok"] for check in ledger_verify(ledger=ledger))


@pytest.mark.parametrize(("country", "person", "org"), NATIONAL_IDS)
def test_a_national_id_of_the_other_kind_or_of_neither_is_refused_and_nothing_written(
    ledger, api, country, person, org
):
    base = {**NEW, "national_id_country": country}
    for data, says in [
        ({**base, "national_id": person, "legal_entity": "business"}, "not of a business"),
        ({**base, "national_id": org, "legal_entity": "private"}, "not of a private person"),
        ({**base, "national_id": "12345"}, "not a valid"),
    ]:
        body = assert_problem(api.post(url(ledger, "customers/"), data, format="json"), 422,
                              "invalid_national_id", "national_id")  # fmt: skip
        assert says in body["detail"], body
    assert not Customer.objects.filter(ledger=ledger).exists()


def test_a_new_national_id_decides_the_entity_again_with_an_event(ledger, api):
    api.post(url(ledger, "customers/"), {**NEW, "national_id": "15108695088"}, format="json")
    response = api.patch(url(ledger, "customers/5001/"), {"national_id": "923609016"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["legal_entity"] == "business"
    change = CustomerEvent.objects.get(customer__customer_no="5001", kind="legal_entity_changed")
    assert change.new_value == {"legal_entity": "business", "inferred_from": "national_id"}


def test_clearing_the_national_id_keeps_the_legal_entity(ledger, api):
    api.post(url(ledger, "customers/"), {**NEW, "national_id": "923609016"}, format="json")
    response = api.patch(url(ledger, "customers/5001/"), {"national_id": ""}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["national_id"], response.json()["legal_entity"]) == ("", "business")


def test_a_minors_guardian_is_set_kept_on_other_changes_and_cleared(ledger, api):
    api.post(url(ledger, "customers/"), {"customer_no": "G1", "name": "Forelder"}, format="json")
    created = api.post(url(ledger, "customers/"), {"customer_no": "C1", "name": "Barn", "national_id": "01031550056",
                                                   "guardian_customer_no": "G1"}, format="json")  # fmt: skip
    assert created.status_code == 201, created.content
    assert (created.json()["guardian_customer_no"], created.json()["birth_date"]) == ("G1", "2015-03-01")
    changed = api.patch(url(ledger, "customers/C1/"), {"email": "barn@example.no"}, format="json").json()
    assert changed["guardian_customer_no"] == "G1"  # not sent: kept
    cleared = api.patch(url(ledger, "customers/C1/"), {"guardian_customer_no": ""}, format="json").json()
    assert cleared["guardian_customer_no"] is None
    refused = api.patch(url(ledger, "customers/C1/"), {"guardian_customer_no": "NOPE"}, format="json")
    assert_problem(refused, 422, "unknown_guardian", "guardian_customer_no")
    assert Customer.objects.get(ledger=ledger, customer_no="C1").guardian is None
