"""The customer page's actions: debt summary, refund or move a credit balance, deceased, new address."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from distribution.models import Document
from ledger.models import CustomerEvent, CustomerStatus, Payout
from ledger.payments.selectors import customer_credit_balance
from ledger.selectors import invoice_balance
from ledger.verify import ledger_verify
from tests.factories import InvoiceFactory

TODAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(TODAY):
        yield


def act(client, customer, action, **data):
    return client.post(
        f"/360/l/{customer.ledger.company_no}/customer-action/{action}/{customer.customer_no}/", data
    )


@pytest.fixture
def overpaid(customer, invoice):
    """The customer paid 1,300 on a 1,000 invoice: 300 on their credit balance."""
    from tests.ledger.test_payments_import import book, ocr_file, pay

    customer.ledger.settle_surplus_against_oldest = False
    customer.ledger.save(update_fields=["settle_surplus_against_oldest"])
    book(ocr_file([pay(invoice.payment_ref, "1300.00", "000000777")]))
    assert customer_credit_balance(customer=customer) == Decimal("300.00")
    return customer


def test_send_a_debt_summary_once_a_day(signed_in, customer, invoice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert act(signed_in, customer, "debt_summary").status_code == 302
    assert len(callbacks) == 1
    document = Document.objects.get(customer=customer, kind="debt_summary")
    assert document.status == "queued" and document.invoice is None
    event = CustomerEvent.objects.get(customer=customer, kind="notification_sent")
    assert event.actor == "olivia" and event.new_value["document"] == document.pk
    act(signed_in, customer, "debt_summary")
    assert Document.objects.filter(customer=customer, kind="debt_summary").count() == 1


def test_refund_the_credit_balance(signed_in, overpaid):
    answer = act(signed_in, overpaid, "credit_refund", amount="", bank_account="", reason="customer asked")
    assert answer.status_code == 302
    payout = Payout.objects.get(customer=overpaid)
    assert payout.amount == Decimal("300.00") and payout.actor == "olivia"
    assert customer_credit_balance(customer=overpaid) == 0
    assert all(check["ok"] for check in ledger_verify(ledger=overpaid.ledger))


def test_refund_without_credit_is_refused_in_words(signed_in, customer):
    answer = act(signed_in, customer, "credit_refund", amount="10", bank_account="12345678903", reason="x")
    assert answer.status_code == 200 and 'id="action-credit_refund" open' in answer.content.decode()
    assert not Payout.objects.exists()


def test_move_the_credit_balance_to_another_invoice(signed_in, overpaid):
    second = InvoiceFactory(customer=overpaid, invoice_no="F-1002", amount=Decimal("500.00"))
    answer = act(
        signed_in, overpaid, "credit_move", invoice=second.pk, amount="", reason="settle the next one"
    )
    assert answer.status_code == 302
    assert invoice_balance(second).capital == Decimal("200.00")
    assert customer_credit_balance(customer=overpaid) == 0


def test_mark_deceased_once(signed_in, customer):
    act(signed_in, customer, "deceased", reason="notice from the estate")
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.DECEASED
    event = CustomerEvent.objects.get(customer=customer, kind="status_changed")
    assert (event.old_value, event.new_value, event.actor) == (
        {"status": "active"},
        {"status": "deceased"},
        "olivia",
    )
    assert (
        "deceased" in signed_in.get(f"/360/l/{customer.ledger.company_no}/customers/5001/").content.decode()
    )
    assert act(signed_in, customer, "deceased", reason="again").status_code == 200
    assert CustomerEvent.objects.filter(customer=customer, kind="status_changed").count() == 1


def test_new_address_is_a_customer_journal_event(signed_in, customer):
    answer = act(signed_in, customer, "address", address_line1="Nygata 5", address_line2="", co_address="",
                 postal_code="5003", city="Bergen", country="no", reason="customer phoned")  # fmt: skip
    assert answer.status_code == 302
    customer.refresh_from_db()
    assert (customer.address_line1, customer.city, customer.country) == ("Nygata 5", "Bergen", "NO")
    event = CustomerEvent.objects.get(customer=customer, kind="legal_address_changed")
    assert event.old_value["address_line1"] == "Storgata 1" and event.new_value["city"] == "Bergen"
    assert event.reason == "customer phoned" and event.actor == "olivia"


def test_an_incomplete_address_writes_nothing(signed_in, customer):
    answer = act(
        signed_in, customer, "address", address_line1="", postal_code="5003", city="Bergen", country="NO"
    )
    assert answer.status_code == 200
    customer.refresh_from_db()
    assert customer.address_line1 == "Storgata 1"
    assert not CustomerEvent.objects.filter(customer=customer, kind="legal_address_changed").exists()


def test_the_journal_says_when_the_national_id_decided_the_legal_entity(signed_in, ledger):
    from ledger.services.customers import customer_upsert

    customer_upsert(ledger=ledger, actor="file", customer_no="6001", name="Fjord AS", national_id="923609016")
    page = signed_in.get(f"/360/l/{ledger.company_no}/customers/6001/")
    assert page.status_code == 200
    text = " ".join(page.content.decode().split())
    assert "Business (decided from the national id)" in text
