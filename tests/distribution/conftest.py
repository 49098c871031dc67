from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from ledger.services.registration import InvoiceInput, invoices_register
from tests.factories import CustomerFactory, LedgerFactory


@pytest.fixture
def data_dir(settings, tmp_path):
    """Archive, outboxes, SMS files and e-mail under a fresh LEDGER_DATA_DIR."""
    settings.LEDGER_DATA_DIR = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "ledger.outbox.AtomicFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "documents")},
        },
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_HTTP_URL = ""
    settings.INVOICE_PORTAL_BASE_URL = "https://portal.example.test/p"
    # the tests' runs follow each other at once; the wait between attempts has a test of its own
    settings.DOCUMENT_RETRY_BACKOFF_SECONDS = 0
    return tmp_path


@pytest.fixture
def ledger_no(db):
    return LedgerFactory(country="NO", client_name="Fjordkraft Demo AS", client_funds_account="15032080003")


def make_invoice(ledger, *, customer=None, amount="1000.00", invoice_no=None, **fields):
    customer = customer or CustomerFactory(ledger=ledger)
    item = InvoiceInput(
        customer=customer,
        invoice_no=invoice_no or f"F-{customer.customer_no}",
        invoice_date=date(2026, 1, 5),
        amount=Decimal(amount),
        **fields,
    )
    return invoices_register(ledger=ledger, invoices=[item], actor="test")[0]


def pdf_text(data: bytes) -> str:
    import io

    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)
