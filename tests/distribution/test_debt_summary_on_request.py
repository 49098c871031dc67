"""A debt summary rendered on request (the API's): archived only, one per customer and day, and a failed
rendering recorded and tried again by the next request."""

from datetime import date

import pytest

from distribution.models import Channel, Document, DocumentEvent, DocumentStatus
from distribution.selectors import document_pdf
from distribution.services.on_request import debt_summary_on_request
from ledger.errors import InvalidTransition
from tests.distribution.conftest import make_invoice, pdf_text
from tests.factories import CustomerFactory

DAY = date(2026, 2, 20)


def test_archived_once_per_customer_and_day(db, data_dir, ledger_no):
    alice = CustomerFactory(ledger=ledger_no, email="alice@example.no")
    bob = CustomerFactory(ledger=ledger_no)
    make_invoice(ledger_no, customer=alice, amount="700.00", invoice_no="A-1")
    make_invoice(ledger_no, customer=bob, amount="900.00", invoice_no="B-1")
    first = debt_summary_on_request(customer=alice, booking_date=DAY, actor="api:test")
    again = debt_summary_on_request(customer=alice, booking_date=DAY, actor="api:test")
    other = debt_summary_on_request(customer=bob, booking_date=DAY, actor="api:test")
    assert first.pk == again.pk != other.pk
    assert (first.status, first.channel) == (DocumentStatus.ARCHIVED, Channel.ARCHIVE_ONLY)
    text = pdf_text(document_pdf(document=first))
    assert "A-1" in text and "700,00" in text and "B-1" not in text
    assert "B-1" in pdf_text(document_pdf(document=other))
    assert DocumentEvent.objects.filter(document=first).count() == 2  # claimed, archived: nothing sent


def test_a_failed_rendering_is_recorded_and_the_next_request_tries_again(db, data_dir, ledger_no, settings):
    customer = CustomerFactory(ledger=ledger_no)
    make_invoice(ledger_no, customer=customer, invoice_no="A-1")
    blocked = data_dir / "blocked"
    blocked.write_bytes(b"a file where the archive folder should be")
    working = settings.STORAGES["documents"]
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocked)},
        },
    }
    with pytest.raises(InvalidTransition) as failed:
        debt_summary_on_request(customer=customer, booking_date=DAY, actor="api:test")
    assert failed.value.code == "document_render_failed"
    document = Document.objects.get()
    assert document.status == DocumentStatus.RETRY and document.archive_name == ""
    assert document.attempts == 1 and document.last_error

    settings.STORAGES = {**settings.STORAGES, "documents": working}
    archived = debt_summary_on_request(customer=customer, booking_date=DAY, actor="api:test")
    assert archived.pk == document.pk and archived.status == DocumentStatus.ARCHIVED
    assert "A-1" in pdf_text(document_pdf(document=archived))
