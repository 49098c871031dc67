from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from distribution.models import Document, DocumentStatus
from distribution.services.queueing import DocumentRequest, documents_queue, invoice_documents_queue
from ledger.errors import ValidationFailed
from ledger.services.invoice_changes import invoice_credit
from tests.distribution.conftest import make_invoice
from tests.factories import CustomerFactory, LedgerFactory

DAY = date(2026, 2, 20)


def request(invoice, key, kind="reminder", **facts):
    return DocumentRequest(
        ledger_id=invoice.ledger_id,
        customer_id=invoice.customer_id,
        invoice_id=invoice.id,
        kind=kind,
        booking_date=DAY,
        source_key=key,
        facts=facts,
    )


def test_queue_inserts_once_per_source_key(db, ledger_no):
    invoice = make_invoice(ledger_no)
    first = documents_queue(
        requests=[request(invoice, "claim:1:reminder", fee="35.00"), request(invoice, "claim:1:reminder")]
    )
    again = documents_queue(requests=[request(invoice, "claim:1:reminder", fee="99.00")])
    assert (first, again) == (1, 0)
    document = Document.objects.get()
    assert (document.kind, document.status, document.facts) == (
        "reminder",
        DocumentStatus.QUEUED,
        {"fee": "35.00"},
    )
    assert document.invoice_id == invoice.id and document.booking_date == DAY


def test_decimal_and_date_facts_are_stored_as_strings(db, ledger_no):
    from decimal import Decimal

    invoice = make_invoice(ledger_no)
    documents_queue(requests=[request(invoice, "k", fee=Decimal("35.00"), deadline=date(2026, 3, 6))])
    assert Document.objects.get().facts == {"fee": "35.00", "deadline": "2026-03-06"}


def test_same_source_key_in_another_ledger_is_another_document(db, ledger_no):
    other = LedgerFactory(country="SE")
    a, b = make_invoice(ledger_no), make_invoice(other)
    assert documents_queue(requests=[request(a, "k"), request(b, "k")]) == 2


@pytest.mark.parametrize(
    "change, code",
    [
        ({"kind": "letter"}, "unknown_document_kind"),
        ({"source_key": ""}, "invalid_source_key"),
        ({"facts": {"fee": object()}}, "invalid_facts"),
    ],
)
def test_bad_request_is_refused_whole(db, ledger_no, change, code):
    invoice = make_invoice(ledger_no)
    good = request(invoice, "good")
    bad = DocumentRequest(**{**request(invoice, "bad").__dict__, **change})
    with pytest.raises(ValidationFailed) as exc:
        documents_queue(requests=[good, bad])
    assert exc.value.code == code
    assert not Document.objects.exists()


def test_customer_or_invoice_of_another_ledger_is_refused(db, ledger_no):
    invoice = make_invoice(ledger_no)
    stranger = CustomerFactory(ledger=LedgerFactory())
    other_customer = CustomerFactory(ledger=ledger_no)
    for bad in (
        DocumentRequest(ledger_no.id, stranger.id, None, "debt_summary", DAY, "x", {}),
        DocumentRequest(ledger_no.id, other_customer.id, invoice.id, "reminder", DAY, "y", {}),
        DocumentRequest(stranger.ledger_id, stranger.id, invoice.id, "reminder", DAY, "z", {}),
    ):
        with pytest.raises(ValidationFailed) as exc:
            documents_queue(requests=[request(invoice, "fine"), bad])
        assert exc.value.code == "document_party_mismatch"
    assert not Document.objects.exists()


def test_fifty_thousand_requests_in_two_statements(db, ledger_no):
    customer = CustomerFactory(ledger=ledger_no)
    requests = [
        DocumentRequest(ledger_no.id, customer.id, None, "debt_summary", DAY, f"summary:{n}", {"n": n})
        for n in range(50_000)
    ]
    with CaptureQueriesContext(connection) as queries:
        assert documents_queue(requests=requests) == 50_000
    assert len(queries) == 2
    assert documents_queue(requests=requests[:10]) == 0


def test_invoice_documents_for_invoices_with_distribution_only(db, ledger_no):
    distributed = make_invoice(ledger_no)
    make_invoice(ledger_no, with_distribution=False)
    credited = make_invoice(ledger_no)
    invoice_credit(invoice=credited, amount=credited.amount, booking_date=DAY, actor="test", reason="wrong")
    assert invoice_documents_queue(ledger=ledger_no, as_of=DAY) == 1
    assert invoice_documents_queue(ledger=ledger_no, as_of=DAY) == 0
    document = Document.objects.get()
    assert (document.invoice_id, document.kind, document.source_key) == (
        distributed.id,
        "invoice",
        f"invoice:{distributed.id}",
    )
    # Before the invoice date nothing is due.
    later = make_invoice(ledger_no)
    assert invoice_documents_queue(ledger=ledger_no, as_of=date(2026, 1, 4)) == 0
    assert invoice_documents_queue(ledger=ledger_no, as_of=DAY) == 1
    assert Document.objects.filter(invoice=later).exists()


# --- The database keeps the rules even against direct writes ------------------------------------


def _insert(**overrides):
    values = {
        "status": "queued",
        "channel": "",
        "route": "",
        "archive_name": "",
        "checksum": "",
        "kind": "reminder",
    }
    values.update(overrides)
    return values


def test_database_refuses_a_sent_document_without_archive(db, ledger_no):
    invoice = make_invoice(ledger_no)
    documents_queue(requests=[request(invoice, "k")])
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.update(status="sent", channel="email")
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.update(
            status="sent", channel="email", archive_name="a.pdf", checksum="not-a-sha", retention_until=DAY
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.update(kind="letter")
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.update(channel="paper", route="")
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.update(status="processing", claimed_at=None)


def test_database_refuses_a_customer_of_another_ledger(db, ledger_no):
    invoice = make_invoice(ledger_no)
    documents_queue(requests=[request(invoice, "k")])
    stranger = CustomerFactory(ledger=LedgerFactory())
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.update(customer_id=stranger.id)
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.create(
            ledger=ledger_no,
            customer=invoice.customer,
            invoice=invoice,
            kind="reminder",
            booking_date=DAY,
            source_key="k",
        )
