"""customer_mark_deceased, customer_address_change and invoice_fees_credit."""

from decimal import Decimal

import pytest

from ledger.customer_services import customer_address_change, customer_mark_deceased
from ledger.errors import InvalidTransition, ValidationFailed
from ledger.models import CustomerEvent, CustomerStatus
from ledger.selectors import invoice_balance
from ledger.services.invoice_changes import invoice_fees_credit
from tests.factories import CustomerFactory, InvoiceFactory
from tests.helpers import book_costs


@pytest.fixture
def customer(db):
    return CustomerFactory(address_line1="Storgata 1", postal_code="0155", city="Oslo")


def test_deceased_is_recorded_once(customer):
    customer_mark_deceased(customer=customer, actor="op", reason="estate letter")
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.DECEASED
    with pytest.raises(InvalidTransition) as caught:
        customer_mark_deceased(customer=customer, actor="op", reason="again")
    assert caught.value.code == "already_deceased"
    assert CustomerEvent.objects.filter(customer=customer, kind="status_changed").count() == 1
    with pytest.raises(ValidationFailed):
        customer_mark_deceased(customer=CustomerFactory(), actor="op", reason="")


def test_a_new_address_records_old_and_new(customer):
    customer_address_change(customer=customer, actor="op", address_line1="Nygata 5", postal_code="5003",
                            city="Bergen", country="NO")  # fmt: skip
    event = CustomerEvent.objects.get(customer=customer, kind="legal_address_changed")
    assert (event.old_value["city"], event.new_value["city"]) == ("Oslo", "Bergen")


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"address_line1": "", "postal_code": "1", "city": "X", "country": "NO"}, "missing_field"),
        ({"address_line1": "A", "postal_code": "0155", "city": "X", "country": "Norway"}, "invalid_country"),
        ({"address_line1": "A", "postal_code": "ABCDE", "city": "X", "country": "NO"}, "invalid_postcode"),
        (
            {"address_line1": "Storgata 1", "postal_code": "0155", "city": "Oslo", "country": "NO"},
            "address_unchanged",
        ),
    ],
)
def test_a_bad_address_writes_nothing(customer, fields, code):
    with pytest.raises(ValidationFailed) as caught:
        customer_address_change(customer=customer, actor="op", **fields)
    assert caught.value.code == code
    customer.refresh_from_db()
    assert customer.city == "Oslo" and not CustomerEvent.objects.filter(kind="legal_address_changed").exists()


def test_fees_credit_at_most_the_fees_open(customer):
    invoice = InvoiceFactory(customer=customer)
    book_costs(invoice, fee=Decimal("35.00"))
    with pytest.raises(ValidationFailed) as caught:
        invoice_fees_credit(invoice=invoice, amount=Decimal("36.00"), actor="op", reason="x")
    assert caught.value.code == "credit_exceeds_open"
    invoice_fees_credit(invoice=invoice, amount=Decimal("35.00"), actor="op", reason="goodwill")
    assert invoice_balance(invoice).fees == 0 and invoice_balance(invoice).capital == Decimal("1000.00")
