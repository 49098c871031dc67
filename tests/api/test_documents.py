"""Documents over the API: an invoice's documents with their archived PDFs (real PDFs, text checked), and
a customer's debt summary rendered on request: archived only, reused the same day, never another
client's."""

import hashlib
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from distribution.models import Channel, Document, DocumentEvent, DocumentKind, DocumentStatus, PaperRoute
from distribution.services.queueing import DocumentRequest, documents_queue
from distribution.services.sending import documents_distribute
from ledger.services.invoice_changes import invoice_credit
from tests.distribution.conftest import pdf_text
from tests.factories import CustomerFactory
from tests.helpers import book_costs

from .conftest import PROBLEM, assert_problem, client_with, invoice_in, url

DAY = date(2026, 2, 20)
NOTICE_FACTS = {
    "fee": "35.00",
    "deadline": "2026-03-06",
    "interest_rate": "12.25",
    "interest_from": "2026-01-20",
}


def queue(invoice, *, kind: str, day: date = DAY, customer=None) -> Document:
    customer = customer or invoice.customer
    key = f"test:{kind}:{invoice.pk if invoice else customer.pk}:{day}"
    documents_queue(
        requests=[
            DocumentRequest(
                ledger_id=customer.ledger_id,
                customer_id=customer.pk,
                invoice_id=invoice.pk if invoice else None,
                kind=kind,
                booking_date=day,
                source_key=key,
                facts=NOTICE_FACTS if kind != DocumentKind.INVOICE else {},
            )
        ]
    )
    return Document.objects.get(ledger_id=customer.ledger_id, source_key=key)


@pytest.fixture
def invoice(ledger):
    customer = CustomerFactory(ledger=ledger, customer_no="1234567", email="")  # paper, no e-mail
    invoice = invoice_in(ledger, customer=customer, invoice_no="A-1", amount=Decimal("1000.00"))
    book_costs(invoice, fee=Decimal("35.00"), interest=Decimal("12.50"))
    return invoice


@pytest.fixture
def distributed(invoice):
    """The invoice and a reminder, distributed (paper, printed); a later reminder still queued."""
    sent = [queue(invoice, kind=DocumentKind.INVOICE), queue(invoice, kind=DocumentKind.REMINDER)]
    later = queue(invoice, kind=DocumentKind.REMINDER, day=date(2026, 3, 20))
    result = documents_distribute(as_of=DAY)
    assert result["errors"] == [] and result["documents"] == 2
    for document in sent:
        document.refresh_from_db()
    return sent, later


def test_invoice_documents_with_channel_address_checksum_and_pdf(ledger, read_api, invoice, distributed):
    (invoice_doc, reminder), later = distributed
    response = read_api.get(url(ledger, "invoices/A-1/documents/"))
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert [(r["id"], r["kind"], r["status"]) for r in rows] == [
        (invoice_doc.pk, "invoice", "sent"),
        (reminder.pk, "reminder", "sent"),
        (later.pk, "reminder", "queued"),
    ]
    first = rows[0]
    assert first["channel"] == Channel.PAPER and first["route"] == PaperRoute.LEGAL_ADDRESS
    assert first["address"]["line1"] == "Storgata 1" and first["address"]["city"] == "Oslo"
    assert first["booking_date"] == "2026-02-20" and first["pages"] >= 1 and first["channel_reason"]
    assert rows[2]["channel"] == "" and rows[2]["checksum"] == "" and rows[2]["pdf_url"] is None

    for row, snippets in [(rows[0], ["Faktura", "A-1"]), (rows[1], ["Purring", "A-1", "1 047,50"])]:
        pdf = read_api.get(row["pdf_url"])
        assert pdf.status_code == 200
        assert pdf["Content-Type"] == "application/pdf"
        assert hashlib.sha256(pdf.content).hexdigest() == row["checksum"]
        text = pdf_text(pdf.content)
        for snippet in snippets:
            assert snippet in text, (snippet, text)
        assert invoice.payment_ref in text


def test_a_document_not_archived_yet_is_404(ledger, read_api, invoice, distributed):
    _, later = distributed
    body = assert_problem(
        read_api.get(url(ledger, f"invoices/A-1/documents/{later.pk}/pdf/")), 404, "document_not_archived"
    )
    assert "queued" in body["detail"]


def test_unknown_document_or_one_of_another_invoice_is_404(ledger, read_api, invoice, distributed):
    (invoice_doc, _), _ = distributed
    invoice_in(ledger, invoice_no="A-2")
    assert_problem(read_api.get(url(ledger, "invoices/A-1/documents/999999/pdf/")), 404, "document_not_found")
    assert_problem(
        read_api.get(url(ledger, f"invoices/A-2/documents/{invoice_doc.pk}/pdf/")), 404, "document_not_found"
    )
    assert read_api.get(url(ledger, "invoices/A-2/documents/")).json() == {"results": []}
    assert_problem(read_api.get(url(ledger, "invoices/NOPE/documents/")), 404, "invoice_not_found")


def test_another_clients_token_never_gets_the_documents(
    ledger, other_ledger, other_api, invoice, distributed
):
    (invoice_doc, _), _ = distributed
    for path in ["invoices/A-1/documents/", f"invoices/A-1/documents/{invoice_doc.pk}/pdf/"]:
        body = assert_problem(other_api.get(url(ledger, path)), 404, "ledger_not_found")
        assert invoice_doc.checksum not in str(body) and "A-1" not in str(body)
    # Their own ledger has an A-1 too: our document is still not theirs.
    invoice_in(other_ledger, invoice_no="A-1")
    response = other_api.get(url(other_ledger, f"invoices/A-1/documents/{invoice_doc.pk}/pdf/"))
    assert_problem(response, 404, "document_not_found")
    assert b"%PDF" not in response.content
    assert other_api.get(url(other_ledger, "invoices/A-1/documents/")).json() == {"results": []}


def test_no_token_is_401(ledger, invoice, distributed):
    (invoice_doc, _), _ = distributed
    for path in ["invoices/A-1/documents/", f"invoices/A-1/documents/{invoice_doc.pk}/pdf/"]:
        assert_problem(client_with(None).get(url(ledger, path)), 401, "not_authenticated")


# --- Debt summary ---------------------------------------------------------------------------------


@pytest.fixture
def debts(ledger, invoice):
    """Customer 1234567 owes A-1 (1 047,50 with costs) and A-2 (500,00); A-3 is credited (closed)."""
    customer = invoice.customer
    second = invoice_in(ledger, customer=customer, invoice_no="A-2", amount=Decimal("500.00"))
    closed = invoice_in(ledger, customer=customer, invoice_no="A-3", amount=Decimal("300.00"))
    invoice_credit(invoice=closed, actor="test", amount=None, reason="returned goods")
    return customer, second


@time_machine.travel("2026-02-20 10:00:00+00:00", tick=False)
def test_debt_summary_lists_every_open_invoice_archived_not_sent(ledger, read_api, debts):
    customer, second = debts
    response = read_api.get(url(ledger, "customers/1234567/debt-summary/"))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Sammenstilling av gjeld" in text
    assert "A-1" in text and "A-2" in text and second.payment_ref in text and "A-3" not in text
    assert "1 547,50" in text  # 1 000,00 + 35,00 + 12,50 + 500,00

    document = Document.objects.get(kind=DocumentKind.DEBT_SUMMARY)
    assert document.customer_id == customer.pk and document.invoice_id is None
    assert document.status == DocumentStatus.ARCHIVED and document.channel == Channel.ARCHIVE_ONLY
    assert document.booking_date == DAY
    assert document.checksum == hashlib.sha256(response.content).hexdigest()
    assert [e.to_status for e in DocumentEvent.objects.filter(document=document).order_by("id")] == [
        "processing",
        "archived",
    ]
    assert DocumentEvent.objects.filter(document=document).first().actor.startswith("api:")
    # The day's distribution leaves it alone: it was never to be sent.
    assert documents_distribute(as_of=DAY)["documents"] == 0
    document.refresh_from_db()
    assert document.status == DocumentStatus.ARCHIVED and mail.outbox == []


def test_debt_summary_asked_again_the_same_day_is_the_same_pdf(ledger, read_api, debts):
    with time_machine.travel("2026-02-20 08:00:00+00:00", tick=False):
        first = read_api.get(url(ledger, "customers/1234567/debt-summary/"))
        again = read_api.get(url(ledger, "customers/1234567/debt-summary/"))
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert Document.objects.filter(kind=DocumentKind.DEBT_SUMMARY).count() == 1
    with time_machine.travel("2026-02-21 08:00:00+00:00", tick=False):
        next_day = read_api.get(url(ledger, "customers/1234567/debt-summary/"))
    assert next_day.status_code == 200
    assert list(
        Document.objects.filter(kind=DocumentKind.DEBT_SUMMARY)
        .order_by("booking_date")
        .values_list("booking_date", flat=True)
    ) == [date(2026, 2, 20), date(2026, 2, 21)]


@time_machine.travel("2026-02-20 10:00:00+00:00", tick=False)
def test_debt_summary_being_rendered_by_another_request_is_409(ledger, read_api, debts):
    customer, _ = debts
    read_api.get(url(ledger, "customers/1234567/debt-summary/"))
    Document.objects.filter(kind=DocumentKind.DEBT_SUMMARY).update(
        status=DocumentStatus.PROCESSING, archive_name="", checksum=""
    )
    assert_problem(read_api.get(url(ledger, "customers/1234567/debt-summary/")), 409, "document_not_ready")


@time_machine.travel("2026-02-20 10:00:00+00:00", tick=False)
def test_debt_summary_of_an_unknown_customer_or_another_client_writes_nothing(
    ledger, other_ledger, read_api, other_api, debts
):
    assert_problem(read_api.get(url(ledger, "customers/NOPE/debt-summary/")), 404, "customer_not_found")
    response = other_api.get(url(ledger, "customers/1234567/debt-summary/"))
    body = assert_problem(response, 404, "ledger_not_found")
    assert "1234567" not in str(body) and response["Content-Type"] == PROBLEM
    CustomerFactory(ledger=other_ledger, customer_no="7654321")
    assert other_api.get(url(other_ledger, "customers/1234567/debt-summary/")).status_code == 404
    assert_problem(
        client_with(None).get(url(ledger, "customers/1234567/debt-summary/")), 401, "not_authenticated"
    )
    assert not Document.objects.exists() and not DocumentEvent.objects.exists()


@time_machine.travel("2026-02-20 10:00:00+00:00", tick=False)
def test_a_client_that_accepts_only_pdf_gets_the_pdf(ledger, read_api, debts):
    response = read_api.get(url(ledger, "customers/1234567/debt-summary/"), HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    problem = read_api.get(url(ledger, "customers/NOPE/debt-summary/"), HTTP_ACCEPT="application/pdf")
    assert_problem(problem, 404, "customer_not_found")
