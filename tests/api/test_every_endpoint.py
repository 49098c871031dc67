"""Every endpoint: 401 without a token, 404 (and none of the data) for another client's token, and
403 for a read-only token on every write, with nothing written."""

import pytest
from django.urls import get_resolver, resolve

from distribution.models import Document
from ledger.models import Customer, Invoice, InvoiceEvent, JournalTransaction

from .conftest import assert_problem, client_with, invoice_in

WRITES = [
    ("post", "invoices/"),
    ("post", "invoice-batches/"),
    ("post", "invoices/A-1/respite/"),
    ("post", "invoices/A-1/respite/clear/"),
    ("post", "invoices/A-1/dispute/"),
    ("post", "invoices/A-1/dispute/close/"),
    ("post", "invoices/A-1/credit/"),
    ("post", "invoices/A-1/write-off/"),
    ("post", "customers/"),
    ("patch", "customers/1234567/"),
    ("post", "customers/1234567/consents/"),
    ("post", "payments/1/allocate/"),
    ("post", "cusin-files/"),
    ("post", "invoices/A-1/attachments/"),
]
READS = [
    ("get", "invoices/"),
    ("get", "invoices/A-1/"),
    ("get", "invoices-by-external-id/ext-1/"),
    ("get", "invoices/A-1/events/"),
    ("get", "invoices/A-1/documents/"),
    ("get", "invoices/A-1/documents/1/pdf/"),
    ("get", "invoices/A-1/attachments/"),
    ("get", "customers/1234567/"),
    ("get", "customers/1234567/consents/"),
    ("get", "customers/1234567/invoices/"),
    ("get", "customers/1234567/credit-balance/"),
    ("get", "customers/1234567/debt-summary/"),
    ("get", "payments/"),
    ("get", "payments/1/"),
    ("get", "files/"),
    ("get", "files/receipt.xml/"),
]
BODY = {"reason": "x", "amount": "1.00", "cause": "Settlement", "until": "2030-01-01", "name": "Someone"}


def test_the_lists_above_cover_every_api_route():
    include = next(p for p in get_resolver().url_patterns if str(p.pattern) == "api/v1/")
    every_route = {p.name for p in include.url_patterns}
    covered = {resolve(f"/api/v1/ledgers/7777/{path}").url_name for _, path in READS + WRITES}
    assert covered == every_route


@pytest.fixture
def seeded(ledger):
    from tests.factories import CustomerFactory

    customer = CustomerFactory(ledger=ledger, customer_no="1234567")
    invoice_in(ledger, customer=customer, invoice_no="A-1", external_id="ext-1")
    return ledger


def counts():
    return (
        Invoice.objects.count(),
        InvoiceEvent.objects.count(),
        JournalTransaction.objects.count(),
        Customer.objects.count(),
        Document.objects.count(),
    )


@pytest.mark.parametrize("method, path", READS + WRITES)
def test_no_token_is_401(seeded, method, path):
    before = counts()
    response = getattr(client_with(None), method)(f"/api/v1/ledgers/7777/{path}", BODY, format="json")
    assert_problem(response, 401, "not_authenticated")
    assert counts() == before


@pytest.mark.parametrize("method, path", READS + WRITES)
def test_another_clients_token_is_404_without_the_data(seeded, other_api, method, path):
    before = counts()
    response = getattr(other_api, method)(f"/api/v1/ledgers/7777/{path}", BODY, format="json")
    body = assert_problem(response, 404, "ledger_not_found")
    assert "A-1" not in str(body) and "1234567" not in str(body)
    assert counts() == before


@pytest.mark.parametrize("method, path", WRITES)
def test_a_read_only_token_cannot_write(seeded, read_api, method, path):
    before = counts()
    response = getattr(read_api, method)(f"/api/v1/ledgers/7777/{path}", BODY, format="json")
    assert_problem(response, 403, "token_read_only")
    assert counts() == before
