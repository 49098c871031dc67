"""Respite, dispute, partial payment, credit and payment change a claim's path."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from claims.interest import HUNDRED
from claims.models import Claim, ClaimEvent, ClaimEventKind, ClaimStatus
from claims.services.process import claim_settings_update
from ledger.models import AllocationOrder, InvoiceStatus
from ledger.money import to_money
from ledger.payments.bank_import import payments_import
from ledger.payments.bankfiles.write import PaymentSpec, write_ocr_giro
from ledger.selectors import invoice_balance
from ledger.services.invoice_changes import invoice_credit
from ledger.services.respite_dispute import (
    invoice_dispute_close,
    invoice_dispute_open,
    invoice_respite_clear,
    invoice_respite_set,
)
from tests.claims.conftest import assert_verified, run_days, simple_interest, steps_taken
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory

pytestmark = pytest.mark.django_db

DAY0 = date(2025, 1, 1)
ACCOUNT = "15030000002"


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def norwegian_claim(amount="1000.00", **ledger_fields):
    ledger = LedgerFactory(country="NO", client_funds_account=ACCOUNT)
    for name, value in ledger_fields.items():
        setattr(ledger, name, value)
    if ledger_fields:
        ledger.save(update_fields=list(ledger_fields))
    invoice = InvoiceFactory(
        customer=CustomerFactory(ledger=ledger), invoice_date=DAY0, amount=Decimal(amount)
    )
    return ledger, invoice


def pay(invoice, amount: str, on: date, archive_ref: str = "000000001") -> dict:
    data = write_ocr_giro(
        [PaymentSpec(reference=invoice.payment_ref, amount=Decimal(amount), archive_ref=archive_ref)],
        receiving_account=ACCOUNT,
        nets_date=on,
        transmission_number=archive_ref[-7:],
        assignment_number=archive_ref[-7:],
    )
    return payments_import(data=data, file_name=f"ocr-{archive_ref}.txt")


def kinds_and_days(invoice):
    return [(kind, (on - DAY0).days) for kind, on, _fee, _interest in steps_taken(invoice)]


def test_respite_moves_the_schedule_and_resumes_where_it_stood(db):
    ledger, invoice = norwegian_claim()
    run_days(ledger, day(0), day(20))
    invoice_respite_set(invoice=invoice, until=day(30), actor="operator", booking_date=day(20))

    run_days(ledger, day(21), day(45))

    # Paused from day 20 until the respite ended after day 30 (11 days): the notice of day 32 comes on day 43.
    assert kinds_and_days(invoice) == [("sms_reminder", 17), ("collection_notice", 43)]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    paused = ClaimEvent.objects.get(invoice=invoice, kind=ClaimEventKind.PAUSED)
    assert "11 days" in paused.reason
    assert_verified(ledger)


def test_clearing_a_respite_early_resumes_from_that_day(db):
    ledger, invoice = norwegian_claim()
    run_days(ledger, day(0), day(20))
    invoice_respite_set(invoice=invoice, until=day(60), actor="operator", booking_date=day(20))
    run_days(ledger, day(21), day(24))
    invoice_respite_clear(invoice=invoice, actor="operator", booking_date=day(25))

    run_days(ledger, day(25), day(40))

    assert kinds_and_days(invoice) == [("sms_reminder", 17), ("collection_notice", 37)]


def test_dispute_stops_the_timeline_until_it_is_closed(db):
    ledger, invoice = norwegian_claim()
    run_days(ledger, day(0), day(20))
    invoice_dispute_open(invoice=invoice, actor="operator", reason="customer disputes", booking_date=day(20))
    run_days(ledger, day(21), day(100))
    assert kinds_and_days(invoice) == [("sms_reminder", 17)]  # nothing while disputed

    invoice_dispute_close(invoice=invoice, actor="operator", booking_date=day(101))
    run_days(ledger, day(101), day(120))

    assert kinds_and_days(invoice) == [("sms_reminder", 17), ("collection_notice", 32 + 81)]


def test_partial_payment_lowers_the_interest_and_the_collection_fee(db):
    ledger, invoice = norwegian_claim(allocation_order=AllocationOrder.CAPITAL_FIRST)
    run_days(ledger, day(0), day(24))
    assert pay(invoice, "600.00", day(25))["partially_paid"] == 1

    run_days(ledger, day(25), day(50))

    taken = steps_taken(invoice)
    assert [(k, (on - DAY0).days, fee) for k, on, fee, _ in taken] == [
        ("sms_reminder", 17, Decimal("0")),
        ("collection_notice", 32, Decimal("35.00")),
        ("payment_demand", 50, Decimal("175.00")),  # the light fee for a claim of up to NOK 500
    ]
    rate = Decimal("12.50") / HUNDRED / 365
    # 1,000 from day 15 through day 25 (the payment day), 400 from day 26.
    through_32 = to_money(1000 * rate * 11 + 400 * rate * 7)
    assert taken[0][3] + taken[1][3] == through_32
    assert_verified(ledger)


def test_payment_in_full_closes_the_claim(db):
    ledger, invoice = norwegian_claim()
    run_days(ledger, day(0), day(33))
    open_amount = invoice_balance(invoice).open_amount
    assert open_amount == Decimal("1000.00") + Decimal("35.00") + simple_interest("1000", "12.50", 18)
    pay(invoice, str(open_amount), day(34))

    run_days(ledger, day(34), day(120))

    assert kinds_and_days(invoice) == [("sms_reminder", 17), ("collection_notice", 32)]
    claim = Claim.objects.get(invoice=invoice)
    assert (claim.status, claim.next_on) == (ClaimStatus.CLOSED, None)
    assert_verified(ledger)


def test_crediting_the_open_amount_closes_the_claim(db):
    ledger, invoice = norwegian_claim()
    run_days(ledger, day(0), day(33))
    invoice_credit(invoice=invoice, actor="operator", reason="goodwill", booking_date=day(34))

    run_days(ledger, day(34), day(60))

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CLOSED
    assert invoice_balance(invoice).open_amount == 0
    assert kinds_and_days(invoice) == [("sms_reminder", 17), ("collection_notice", 32)]
    assert Claim.objects.get(invoice=invoice).status == ClaimStatus.CLOSED
    assert_verified(ledger)


def test_unpaid_costs_in_arrear_are_written_off_by_the_ledger_rule(db):
    ledger, invoice = norwegian_claim(allocation_order=AllocationOrder.CAPITAL_FIRST)
    run_days(ledger, day(0), day(33))
    pay(invoice, "1000.00", day(34))
    assert invoice_balance(invoice).capital == 0 and invoice_balance(invoice).fees == Decimal("35.00")

    run_days(ledger, day(34), day(35))

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CLOSED
    assert invoice_balance(invoice).open_amount == 0
    assert_verified(ledger)


def test_unpaid_costs_kept_as_a_cost_claim_keep_the_timeline_going(db):
    ledger, invoice = norwegian_claim(allocation_order=AllocationOrder.CAPITAL_FIRST)
    claim_settings_update(ledger=ledger, unpaid_costs="keep_chasing")
    run_days(ledger, day(0), day(33))
    pay(invoice, "1000.00", day(34))

    run_days(ledger, day(34), day(50))

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    # The payment demand still goes out for the costs, with the interest of days 33-34 (the payment day);
    # none runs on the paid capital after that.
    assert kinds_and_days(invoice)[-1] == ("payment_demand", 50)
    assert steps_taken(invoice)[-1][3] == simple_interest("1000", "12.50", 20) - simple_interest(
        "1000", "12.50", 18
    )


def test_unpaid_costs_are_carried_to_the_customers_next_invoice(db):
    ledger, invoice = norwegian_claim(allocation_order=AllocationOrder.CAPITAL_FIRST)
    claim_settings_update(ledger=ledger, unpaid_costs="next_invoice")
    run_days(ledger, day(0), day(33))
    pay(invoice, "1000.00", day(34))
    costs = invoice_balance(invoice).fees + invoice_balance(invoice).interest
    assert costs == Decimal("35.00") + simple_interest("1000", "12.50", 18)

    run_days(ledger, day(34), day(39))  # no next invoice yet: the costs wait on the paid one
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN

    following = InvoiceFactory(customer=invoice.customer, invoice_date=day(40), amount=Decimal("500.00"))
    run_days(ledger, day(40), day(40))

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CLOSED and invoice_balance(invoice).open_amount == 0
    carried = invoice_balance(following)
    assert (carried.capital, carried.fees + carried.interest) == (Decimal("500.00"), costs)
    assert "carried from invoice" in following.events.get(kind="costs_carried").reason
    assert_verified(ledger)
