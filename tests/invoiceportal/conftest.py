import re
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from distribution.services.queueing import DocumentRequest, documents_queue
from distribution.services.sending import documents_distribute
from ledger.services.registration import InvoiceInput, invoices_register
from tests.factories import CustomerFactory, LedgerFactory
from tests.helpers import book_costs

DAY = date(2026, 2, 20)
LINK_RE = re.compile(r"https://portal\.example\.test/p/([A-Za-z0-9_-]{43})/")


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "documents")},
        },
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_HTTP_URL = ""
    settings.INVOICE_PORTAL_BASE_URL = "https://portal.example.test/p"
    return tmp_path


@pytest.fixture
def today():
    """The ledger's business day in these tests (the portal reads the ledger's own today)."""
    with time_machine.travel("2026-02-20 10:00 +01:00", tick=False):
        yield DAY


@pytest.fixture
def ledger_no(db):
    return LedgerFactory(country="NO", client_name="Fjordkraft Demo AS", client_funds_account="15032080003")


def make_invoice(ledger, *, customer=None, amount="1000.00", invoice_no=None, **fields):
    customer = customer or CustomerFactory(ledger=ledger, email=f"c{ledger.pk}@example.no")
    item = InvoiceInput(
        customer=customer,
        invoice_no=invoice_no or f"F-{customer.customer_no}-{fields.pop('n', 1)}",
        invoice_date=date(2026, 1, 5),
        amount=Decimal(amount),
        **fields,
    )
    return invoices_register(ledger=ledger, invoices=[item], actor="test")[0]


def send_reminder(invoice, *, fee=Decimal("35.00"), key=None) -> str:
    """Book a reminder fee, queue and distribute the reminder by e-mail; returns the portal token from
    the e-mail the customer got (the link exactly as sent)."""
    if fee:
        book_costs(invoice, fee=fee)
    documents_queue(
        requests=[
            DocumentRequest(
                ledger_id=invoice.ledger_id,
                customer_id=invoice.customer_id,
                invoice_id=invoice.pk,
                kind="reminder",
                booking_date=DAY,
                source_key=key or f"reminder-{invoice.pk}",
                facts={"fee": str(fee), "deadline": "2026-03-06"},
            )
        ]
    )
    before = len(mail.outbox)
    documents_distribute(as_of=DAY)
    message = mail.outbox[before]
    return LINK_RE.search(message.body).group(1)


@pytest.fixture
def reminded(data_dir, ledger_no, today):
    """A Norwegian private customer's invoice with a reminder sent by e-mail: (invoice, token)."""
    customer = CustomerFactory(
        ledger=ledger_no, email="kari@example.no", phone="+4791234567", name="Kari Nordmann"
    )
    invoice = make_invoice(ledger_no, customer=customer)
    token = send_reminder(invoice)
    return invoice, token


def verify_problems(ledger) -> list[dict]:
    """ledger_verify's checks that failed (an empty list: the journal balances and reconciles)."""
    from ledger.verify import ledger_verify

    return [check for check in ledger_verify(ledger=ledger) if not check["ok"]]
