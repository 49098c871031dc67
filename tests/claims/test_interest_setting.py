"""Interest on or off per ledger (claim settings): off, the claim steps book no interest, the invoice
pages show none accrued and the portal announces no rate; back on, the next step books what the statute
allows from the due date."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine

from claims.models import ClaimSettings
from claims.selectors import claim_status
from claims.services.process import claim_settings_update
from claims.settings_changes import claim_settings_change
from invoiceportal.selectors import invoice_view
from ledger.models import AuditEvent, Posting, UserRole
from tests.claims.conftest import assert_verified, run_days, simple_interest, steps_taken
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory
from tests.helpers import sign_in
from tests.portal360.conftest import make_user

pytestmark = pytest.mark.django_db

DAY0 = date(2025, 1, 1)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def interest_postings(invoice) -> int:
    return Posting.objects.filter(invoice=invoice, component="interest").count()


def test_a_ledger_without_interest_books_none_through_its_steps():
    ledger = LedgerFactory(country="NO")
    claim_settings_update(ledger=ledger, interest_charged=False)
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), invoice_date=DAY0)

    run_days(ledger, day(0), day(40))

    taken = steps_taken(invoice)
    assert [step for step, *_ in taken] == ["sms_reminder", "collection_notice"]  # the process goes on
    assert all(interest == 0 for *_, interest in taken)
    assert interest_postings(invoice) == 0
    status = claim_status(invoice=invoice, as_of=day(40))
    assert (status["accrued_interest"], status["interest_charged"]) == ("0.00", False)
    assert invoice_view(invoice=invoice, as_of=day(40)).interest_rate is None
    assert_verified(ledger)


def test_the_same_ledger_with_interest_books_it_with_each_step():
    ledger = LedgerFactory(country="NO")
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), invoice_date=DAY0)

    run_days(ledger, day(0), day(40))

    assert interest_postings(invoice) > 0
    assert Decimal(claim_status(invoice=invoice, as_of=day(40))["accrued_interest"]) == simple_interest(
        "1000", "12.50", 26
    )
    assert invoice_view(invoice=invoice, as_of=day(40)).interest_rate == Decimal("12.50")


def test_turned_on_again_the_next_step_books_interest_from_the_due_date():
    ledger = LedgerFactory(country="NO")
    claim_settings_update(ledger=ledger, interest_charged=False)
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), invoice_date=DAY0)
    run_days(ledger, day(0), day(20))
    assert interest_postings(invoice) == 0

    claim_settings_update(ledger=ledger, interest_charged=True)
    run_days(ledger, day(21), day(40))

    notice = [row for row in steps_taken(invoice) if row[0] == "collection_notice"][0]
    assert notice[3] == simple_interest("1000", "12.50", (notice[1] - day(14)).days)
    assert_verified(ledger)


def test_the_change_is_audited_and_shown_on_the_360_invoice_page(client):
    ledger = LedgerFactory(country="NO")
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), invoice_date=DAY0)
    with time_machine.travel(day(30)):
        event = claim_settings_change(ledger=ledger, values={"interest_charged": False},
                                      effective_from=ledger.today(), actor="anna")  # fmt: skip
        assert (event.before, event.after) == ({"interest_charged": True}, {"interest_charged": False})
        assert AuditEvent.objects.filter(pk=event.pk, applied_at__isnull=False).exists()
        assert ClaimSettings.objects.get(ledger=ledger).interest_charged is False

        sign_in(client, make_user(ledger, UserRole.CLIENT_ADMIN, username="anna"))
        page = client.get(f"/360/l/{ledger.company_no}/invoices/{invoice.invoice_no}/").content.decode()
        assert "not charged on this ledger (claim settings)" in page
        rules = client.get("/360/company/rules/").content.decode()
        assert 'name="interest_charged"' in rules and "Late-payment interest is charged" in rules
