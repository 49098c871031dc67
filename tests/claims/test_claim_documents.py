"""Each step with a letter queues its document in the escalation's transaction; the day distributes it."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from businessday.daily import business_day_run
from claims.models import Claim
from distribution.models import Document, DocumentKind
from tests.claims.conftest import run_days
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory

pytestmark = pytest.mark.django_db

DAY0 = date(2025, 1, 1)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"


def test_the_collection_notice_is_queued_with_its_facts_and_sent_by_the_business_day(db):
    ledger = LedgerFactory(country="NO")
    customer = CustomerFactory(ledger=ledger, email="kari@example.no")
    invoice = InvoiceFactory(customer=customer, invoice_date=DAY0)
    run_days(ledger, day(0), day(31))

    summary = business_day_run(as_of=day(32), parts=["claims", "distribution"])

    claim = Claim.objects.get(invoice=invoice)
    notice = Document.objects.get(invoice=invoice, kind=DocumentKind.COLLECTION_NOTICE)
    assert notice.source_key == f"claim:{claim.id}:step:3"
    assert notice.booking_date == day(32)
    assert (notice.facts["fee"], notice.facts["deadline"], notice.facts["interest_rate"]) == (
        "35.00",
        "2025-02-16",
        "12.5000",
    )
    assert Decimal(notice.facts["amount_due"]) == Decimal("1000.00") + Decimal("35.00") + Decimal(
        notice.facts["interest"]
    )
    assert summary["ledgers"][0]["claims"]["documents_queued"] == 1
    notice.refresh_from_db()
    assert notice.status == "sent" and notice.channel == "email"
    # The SMS of day 17 was queued too (sent by the distribution part of its own day).
    assert Document.objects.filter(invoice=invoice, kind=DocumentKind.SMS_REMINDER).count() == 1

    again = business_day_run(as_of=day(32), parts=["claims", "distribution"])
    assert again["ledgers"][0]["claims"]["documents_queued"] == 0
    assert Document.objects.filter(invoice=invoice, kind=DocumentKind.COLLECTION_NOTICE).count() == 1
