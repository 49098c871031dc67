"""Another client's customer or invoice, typed into any 360 URL, is a 404 like one that does not exist;
our own staff reach every client."""

import pytest

from ledger.models import Invoice
from tests.factories import DocumentFactory, UserFactory
from tests.helpers import sign_in

PAGES = [
    "/360/l/{company}/customers/{customer}/",
    "/360/l/{company}/invoices/{invoice}/",
    "/360/l/{company}/invoice-document/{document}/{invoice}/",
    "/360/l/{company}/customer-document/{document}/{customer}/",
]
ACTIONS = [
    *(f"/360/l/{{company}}/invoice-action/{a}/{{invoice}}/" for a in
      ("respite", "respite_clear", "dispute", "dispute_close", "credit", "write_off", "collection_stop", "copy",
       "allocate")),
    *(f"/360/l/{{company}}/customer-action/{a}/{{customer}}/" for a in
      ("debt_summary", "credit_refund", "credit_move", "deceased", "address")),
]  # fmt: skip


def _urls(templates, invoice: Invoice, document):
    return [
        t.format(company=invoice.ledger.company_no, customer=invoice.customer.customer_no,
                 invoice=invoice.invoice_no, document=document.pk)
        for t in templates
    ]  # fmt: skip


@pytest.fixture
def foreign_document(foreign_invoice):
    return DocumentFactory(customer=foreign_invoice.customer, invoice=foreign_invoice)


def test_another_clients_pages_are_404(signed_in, foreign_invoice, foreign_document, invoice):
    for url in _urls(PAGES, foreign_invoice, foreign_document):
        assert signed_in.get(url).status_code == 404, url


def test_another_clients_actions_are_404_and_change_nothing(signed_in, foreign_invoice, foreign_document):
    before = foreign_invoice.events.count()
    for url in _urls(ACTIONS, foreign_invoice, foreign_document):
        answer = signed_in.post(url, {"reason": "try", "until": "2030-01-01", "amount": "1"})
        assert answer.status_code == 404, url
    assert foreign_invoice.events.count() == before


def test_a_ledger_of_another_client_under_the_users_own_ledgers_number_is_not_reached(
    signed_in, ledger, foreign_invoice
):
    # The same invoice number exists in both ledgers: the URL's ledger decides, and it must be the user's.
    assert signed_in.get(f"/360/l/{ledger.company_no}/invoices/F-1001/").status_code == 404  # none in own
    assert signed_in.get(f"/360/l/{foreign_invoice.ledger.company_no}/invoices/F-1001/").status_code == 404


def test_search_finds_nothing_of_another_client(signed_in, customer, foreign_invoice):
    page = signed_in.get("/360/customers/", {"q": "F-1001"})
    assert b"Anna Svensson" not in page.content
    page = signed_in.get("/360/customers/", {"q": "Anna"})
    assert b"Anna Svensson" not in page.content


def test_choosing_another_clients_ledger_is_404(signed_in, other_ledger):
    assert signed_in.post("/360/ledger/", {"ledger": other_ledger.company_no}).status_code == 404
    assert signed_in.post("/360/client/", {"client": other_ledger.client_id}).status_code == 404


def test_our_staff_switch_client_and_reach_both(client, invoice, foreign_invoice):
    staff = UserFactory(username="staff", client=None, is_staff=True, email="staff@ledger.example")
    sign_in(client, staff)
    assert client.get(f"/360/l/{foreign_invoice.ledger.company_no}/invoices/F-1001/").status_code == 200
    assert client.get(f"/360/l/{invoice.ledger.company_no}/invoices/F-1001/").status_code == 200
    client.post("/360/client/", {"client": foreign_invoice.ledger.client_id})
    start = client.get("/360/")
    assert foreign_invoice.ledger.name.encode() in start.content
    assert b'id="client-switch"' in start.content
