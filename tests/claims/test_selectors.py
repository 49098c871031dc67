"""Where a claim stands: its level, the next event with its date and amount, interest accrued, history."""

import json
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from claims.selectors import claim_status
from ledger.services.respite_dispute import invoice_dispute_open, invoice_respite_set
from tests.claims.conftest import run_days, simple_interest
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory

pytestmark = pytest.mark.django_db

DAY0 = date(2025, 1, 1)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def test_a_new_claim_shows_its_first_step(db):
    ledger = LedgerFactory(country="NO")
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), invoice_date=DAY0)

    status = claim_status(invoice=invoice, as_of=day(5))

    assert status["claim_level"] == "due_date"
    assert status["next_event"] == {"kind": "sms_reminder", "date": "2025-01-18", "amount": "0.00"}
    assert status["accrued_interest"] == "0.00"
    assert status["claim_history"] == []


def test_level_next_event_and_accrued_interest_after_steps(db):
    ledger = LedgerFactory(country="NO")
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), invoice_date=DAY0)
    run_days(ledger, day(0), day(40))

    status = claim_status(invoice=invoice, as_of=day(40))

    assert status["claim_level"] == "collection_notice"
    # The payment demand with the light fee for a claim of NOK 1,000, four days after the notice's deadline.
    assert status["next_event"] == {"kind": "payment_demand", "date": "2025-02-20", "amount": "245.00"}
    assert Decimal(status["accrued_interest"]) == simple_interest("1000", "12.50", 26)
    assert Decimal(status["interest_not_yet_booked"]) == simple_interest(
        "1000", "12.50", 26
    ) - simple_interest("1000", "12.50", 18)
    assert [(h["step"], h["date"], h["fee"]) for h in status["claim_history"] if h["kind"] == "step"] == [
        ("sms_reminder", "2025-01-18", "0.00"),
        ("collection_notice", "2025-02-02", "35.00"),
    ]
    notice = [h for h in status["claim_history"] if h["step"] == "collection_notice"][0]
    assert (notice["deadline"], notice["document"]) == ("2025-02-16", "collection_notice")


def test_respite_and_dispute_show_no_step(db):
    ledger = LedgerFactory(country="NO")
    first = InvoiceFactory(customer=CustomerFactory(ledger=ledger), invoice_date=DAY0)
    second = InvoiceFactory(customer=CustomerFactory(ledger=ledger), invoice_date=DAY0)
    run_days(ledger, day(0), day(20))
    invoice_respite_set(invoice=first, until=day(30), actor="operator", booking_date=day(20))
    invoice_dispute_open(invoice=second, actor="operator", reason="wrong amount", booking_date=day(20))
    first.refresh_from_db()
    second.refresh_from_db()

    assert claim_status(invoice=first, as_of=day(21))["next_event"] == {
        "kind": "respite_ends",
        "date": "2025-02-01",
        "amount": None,
    }
    assert claim_status(invoice=second, as_of=day(21))["next_event"] is None


def test_show_invoice_prints_claim_level_and_next_event_as_of_a_date(db):
    ledger = LedgerFactory(country="NO")
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), invoice_date=DAY0)
    run_days(ledger, day(0), day(33))
    out = StringIO()

    call_command(
        "show_invoice", "--ledger", ledger.company_no, "--date", "2025-02-05", invoice.invoice_no, stdout=out
    )

    shown = json.loads(out.getvalue())
    assert shown["claim_level"] == "collection_notice"
    assert shown["next_event"] == {"kind": "payment_demand", "date": "2025-02-20", "amount": "245.00"}
    assert shown["fees"] == "35.00"
    assert shown["accrued_interest"] == str(simple_interest("1000", "12.50", 21))


def test_a_missing_statutory_figure_shows_what_is_booked_and_says_why(db):
    ledger = LedgerFactory(country="SE")
    # Overdue since December 2024: the Swedish rates loaded start on 1 January 2025.
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), invoice_date=date(2024, 11, 20))

    status = claim_status(invoice=invoice, as_of=date(2025, 1, 20))

    assert status["accrued_interest"] == "0.00" and status["next_event"] is None
    assert "no statutory figure late_interest_rate for SE on 2024-12-05" in status["claim_warning"]
