from datetime import date

import pytest

from ledger.errors import ValidationFailed
from ledger.models import ConsentKind, Customer, CustomerConsent, CustomerEvent
from ledger.services.customers import CustomerInput, customer_upsert, customers_upsert
from tests.factories import LedgerFactory

DAY = date(2026, 3, 2)


def kinds(ledger):
    return list(
        CustomerEvent.objects.filter(ledger=ledger)
        .order_by("id")
        .values_list("customer__customer_no", "kind")
    )


def test_new_customers_are_created_with_an_event(db):
    ledger = LedgerFactory()
    result = customers_upsert(
        ledger=ledger,
        actor="cusin",
        booking_date=DAY,
        source="CUSIN_1.xml",
        customers=[
            CustomerInput(
                customer_no="1", name="Kari", address_line1="Storgata 1", postal_code="0155", city="Oslo"
            ),
            CustomerInput(customer_no="2", name="Fjord AS", legal_entity="business"),
        ],
    )
    assert set(result) == {"1", "2"}
    assert Customer.objects.get(ledger=ledger, customer_no="1").country == "NO"
    assert kinds(ledger) == [("1", "created"), ("2", "created")]
    assert CustomerEvent.objects.filter(ledger=ledger).first().reason == "CUSIN_1.xml"


def test_changed_legal_address_is_recorded_with_old_and_new(db):
    ledger = LedgerFactory()
    base = dict(customer_no="1", name="Kari", address_line1="Storgata 1", postal_code="0155", city="Oslo")
    customer_upsert(ledger=ledger, **base)
    customers_upsert(
        ledger=ledger,
        actor="cusin",
        booking_date=DAY,
        customers=[CustomerInput(**{**base, "address_line1": "Kirkegata 7"})],
    )
    event = CustomerEvent.objects.get(ledger=ledger, kind="legal_address_changed")
    assert event.old_value["address_line1"] == "Storgata 1"
    assert event.new_value["address_line1"] == "Kirkegata 7"
    assert Customer.objects.get(ledger=ledger, customer_no="1").address_line1 == "Kirkegata 7"


def test_unchanged_or_contact_only_changes_record_no_address_event(db):
    ledger = LedgerFactory()
    base = dict(customer_no="1", name="Kari", city="Oslo")
    customer_upsert(ledger=ledger, **base)
    customer_upsert(ledger=ledger, **base)
    customer_upsert(ledger=ledger, **{**base, "email": "kari@example.no"})
    assert kinds(ledger) == [("1", "created")]
    assert Customer.objects.get(ledger=ledger, customer_no="1").email == "kari@example.no"


def test_consents_are_set_and_cleared_with_events(db):
    ledger = LedgerFactory()
    customer_upsert(
        ledger=ledger,
        customer_no="1",
        name="Kari",
        consents={ConsentKind.AVTALEGIRO_NO: True, ConsentKind.EINVOICE_B2C_NO: False},
    )
    consent = CustomerConsent.objects.get(customer__customer_no="1")
    assert (consent.kind, consent.active) == ("avtalegiro_no", True)

    customer_upsert(ledger=ledger, customer_no="1", name="Kari", consents={ConsentKind.AVTALEGIRO_NO: True})
    customer_upsert(ledger=ledger, customer_no="1", name="Kari", consents={ConsentKind.AVTALEGIRO_NO: False})
    consent.refresh_from_db()
    assert consent.active is False
    assert kinds(ledger) == [("1", "created"), ("1", "consent_activated"), ("1", "consent_cancelled")]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"customer_no": "", "name": "X"}, "customer_no"),
        ({"customer_no": "1", "name": ""}, "name"),
        ({"customer_no": "1", "name": "X", "legal_entity": "company"}, "legal_entity"),
        ({"customer_no": "1", "name": "X", "consents": {"paypal": True}}, "consents"),
    ],
)
def test_bad_customer_is_refused_and_nothing_written(db, fields, field):
    ledger = LedgerFactory()
    with pytest.raises(ValidationFailed) as excinfo:
        customers_upsert(
            ledger=ledger,
            actor="test",
            customers=[CustomerInput(customer_no="ok", name="Fine"), CustomerInput(**fields)],
        )
    assert excinfo.value.field == field
    assert not Customer.objects.filter(ledger=ledger).exists()
    assert not CustomerEvent.objects.filter(ledger=ledger).exists()


# Text as COPY's text format must carry it: tab, newline, carriage return, backslash, quotes, non-ASCII.
AWKWARD = 'Tab\there, line\nbreak\r\\ back\\slash "quoted" \\N æøå'


def test_awkward_text_is_stored_as_given(db):
    ledger = LedgerFactory()
    billing = {"name": AWKWARD, "line1": 'c/o \\ "x"\t'}
    result = customers_upsert(
        ledger=ledger,
        actor=AWKWARD,
        booking_date=DAY,
        source=AWKWARD,
        customers=[
            CustomerInput(
                customer_no='7\\"1',
                name=AWKWARD,
                city=AWKWARD,
                billing_address=billing,
                consents={"avtalegiro_no": True},
            )
        ],
    )
    stored = Customer.objects.get(ledger=ledger, customer_no='7\\"1')
    assert (stored.name, stored.city, stored.billing_address) == (AWKWARD, AWKWARD, billing)
    assert result['7\\"1'].pk == stored.pk and result['7\\"1'].name == AWKWARD
    assert {(e.kind, e.reason, e.actor) for e in CustomerEvent.objects.filter(customer=stored)} == {
        ("created", AWKWARD, AWKWARD),
        ("consent_activated", AWKWARD, AWKWARD),
    }
    assert CustomerConsent.objects.get(customer=stored).source == AWKWARD
    # Looked up again by number (a text[] parameter), so nothing new is created.
    again = customers_upsert(
        ledger=ledger, actor="x", customers=[CustomerInput(customer_no='7\\"1', name=AWKWARD, city=AWKWARD)]
    )
    assert again['7\\"1'].pk == stored.pk
