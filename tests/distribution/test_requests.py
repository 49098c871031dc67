"""document_copy_send and debt_summary_send: queued by channel, distributed after the commit."""

from datetime import date

import pytest

from distribution.models import Document, DocumentKind
from distribution.requests import debt_summary_send, document_copy_send
from ledger.errors import InvalidTransition
from tests.factories import DocumentFactory, InvoiceFactory


@pytest.fixture
def invoice(db):
    return InvoiceFactory()


def test_a_copy_per_request_and_only_of_a_sent_document(invoice, django_capture_on_commit_callbacks):
    sent = DocumentFactory(customer=invoice.customer, invoice=invoice, status="sent")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = document_copy_send(document=sent, actor="op", booking_date=date(2026, 3, 2))
        second = document_copy_send(document=sent, actor="op", booking_date=date(2026, 3, 2))
    assert len(callbacks) == 2
    assert (first.source_key, second.source_key) == (f"copy:{sent.pk}:1", f"copy:{sent.pk}:2")
    assert first.resend_of_id is None  # a copy goes by the customer's channel, not paper as a re-send does
    queued = DocumentFactory(customer=invoice.customer, invoice=invoice, status="queued", archive_name="")
    with pytest.raises(InvalidTransition) as caught:
        document_copy_send(document=queued, actor="op")
    assert caught.value.code == "document_not_sent"
    assert Document.objects.filter(source_key__startswith=f"copy:{queued.pk}:").count() == 0


def test_debt_summary_send_queues_one_a_day(invoice):
    customer = invoice.customer
    first = debt_summary_send(customer=customer, actor="op", booking_date=date(2026, 3, 2))
    again = debt_summary_send(customer=customer, actor="op", booking_date=date(2026, 3, 2))
    assert first.pk == again.pk and first.kind == DocumentKind.DEBT_SUMMARY
    next_day = debt_summary_send(customer=customer, actor="op", booking_date=date(2026, 3, 3))
    assert next_day.pk != first.pk
