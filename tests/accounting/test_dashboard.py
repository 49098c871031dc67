"""The dashboard's figures (accounting/dashboard.py) against small ledgers computed by hand."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounting.dashboard import (
    balances,
    channel_mix,
    dashboard_figures,
    dashboard_period,
    days_sales_outstanding,
    invoices_created,
    paid_shares,
    payments_received,
)
from claims.services.escalation import claims_escalate
from distribution.services.returns import document_return_register
from ledger.models import InvoiceEvent
from ledger.payments.bank_import import payments_import
from ledger.payments.bankfiles.write import PaymentSpec, write_camt054
from tests.factories import CustomerFactory, DocumentFactory, InvoiceFactory, LedgerFactory
from tests.helpers import book_costs
from tests.ledger.test_payments_import import book, ocr_file, pay

pytestmark = pytest.mark.django_db

TODAY = date(2026, 4, 15)
D = Decimal


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(TODAY):
        yield


@pytest.fixture
def ledger():
    return LedgerFactory(country="NO", client_funds_account="15030000002")


def invoice(customer, no, booked: date, amount: str):
    """An invoice registered on `booked`, due 14 days later (the ledger's payment terms)."""
    return InvoiceFactory(customer=customer, invoice_no=no, invoice_date=booked, booking_date=booked,
                          amount=D(amount))  # fmt: skip


def test_the_period_ends_with_the_current_month_measured_today(ledger):
    period = dashboard_period(ledger=ledger, months=4)
    assert period.months == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
    assert period.points == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), TODAY]
    past = dashboard_period(ledger=ledger, months=12, end_month=date(2025, 12, 9))
    assert (past.first, past.last, past.points[-1]) == (
        date(2025, 1, 1),
        date(2025, 12, 1),
        date(2025, 12, 31),
    )
    with pytest.raises(ValueError):
        dashboard_period(ledger=ledger, months=0)


@pytest.fixture
def booked_ledger(ledger):
    """P 100 from December (before the period, open and overdue all along); A 1,000 (Jan 5) paid in full
    Jan 12; B 2,000 (Jan 20, due Feb 3) 500 paid Feb 10, a 60 fee Mar 5; C 3,000 (Mar 20, due Apr 3)
    open; D 400 (Apr 10, due Apr 24) open and not yet due on Apr 15."""
    customer = CustomerFactory(ledger=ledger, customer_no="1001")
    invoice(customer, "P", date(2025, 12, 10), "100.00")
    a = invoice(customer, "A", date(2026, 1, 5), "1000.00")
    b = invoice(customer, "B", date(2026, 1, 20), "2000.00")
    book(ocr_file([pay(a.payment_ref, "1000.00", "000000001")], day=date(2026, 1, 12), number="0000001"))
    book(ocr_file([pay(b.payment_ref, "500.00", "000000002")], day=date(2026, 2, 10), number="0000002"))
    book_costs(b, fee=D("60.00"), day=date(2026, 3, 5))
    invoice(customer, "C", date(2026, 3, 20), "3000.00")
    invoice(customer, "D", date(2026, 4, 10), "400.00")
    return ledger


def test_open_and_overdue_at_month_ends_from_the_journal(booked_ledger):
    period = dashboard_period(ledger=booked_ledger, months=4)
    points = balances(ledger=booked_ledger, period=period)
    assert [(p.day, p.open, p.overdue, p.open_capital) for p in points] == [
        (date(2026, 1, 31), D("2100.00"), D("100.00"), D("2100.00")),  # P + B; B not yet due
        (date(2026, 2, 28), D("1600.00"), D("1600.00"), D("1600.00")),  # B less 500, overdue now
        (date(2026, 3, 31), D("4660.00"), D("1660.00"), D("4600.00")),  # + the fee, + C (due Apr 3)
        (TODAY, D("5060.00"), D("4660.00"), D("5000.00")),  # + D (not due), C overdue
    ]


def test_a_past_period_shows_what_was_true_then(booked_ledger):
    period = dashboard_period(ledger=booked_ledger, months=2, end_month=date(2026, 2, 1))
    points = balances(ledger=booked_ledger, period=period)
    assert [(p.day, p.open, p.overdue) for p in points] == [
        (date(2026, 1, 31), D("2100.00"), D("100.00")),
        (date(2026, 2, 28), D("1600.00"), D("1600.00")),
    ]


def test_invoices_created_payments_received_and_dso(booked_ledger):
    period = dashboard_period(ledger=booked_ledger, months=4)
    created = invoices_created(ledger=booked_ledger, period=period)
    assert [(m.month.month, m.count, m.amount) for m in created] == [
        (1, 2, D("3000.00")),
        (2, 0, D("0")),
        (3, 1, D("3000.00")),
        (4, 1, D("400.00")),
    ]
    paid = payments_received(ledger=booked_ledger, period=period)
    assert [(m.month.month, m.count, m.amount) for m in paid] == [
        (1, 1, D("1000.00")),
        (2, 1, D("500.00")),
        (3, 0, D("0")),
        (4, 0, D("0")),
    ]
    dso = days_sales_outstanding(
        balances=balances(ledger=booked_ledger, period=period), created=created, period=period
    )
    # open capital / capital invoiced in the month x days measured in the month
    assert [(p.days, p.dso) for p in dso] == [
        (31, D("21.7")),  # 2,100 / 3,000 x 31
        (28, None),  # nothing invoiced in February
        (31, D("47.5")),  # 4,600 / 3,000 x 31
        (15, D("187.5")),  # 5,000 / 400 x 15: April measured on the 15th
    ]


def test_another_ledgers_bookings_do_not_count(booked_ledger):
    other = LedgerFactory(country="NO", client_funds_account="15030000010")
    invoice(CustomerFactory(ledger=other), "X", date(2026, 1, 5), "9999.00")
    period = dashboard_period(ledger=booked_ledger, months=4)
    assert balances(ledger=booked_ledger, period=period)[0].open == D("2100.00")
    assert invoices_created(ledger=booked_ledger, period=period)[0].count == 2


def test_paid_shares_by_the_stage_the_claim_had_reached(ledger):
    """Invoices of Jan 5 (due Jan 19; Norwegian process: SMS day 17 = Jan 22, collection notice day 32 =
    Feb 6, payment demand day 50 = Feb 24): A paid before the due date, B after the SMS only (late), C
    after the collection notice, D in collection, E never paid."""
    customer = CustomerFactory(ledger=ledger, customer_no="1002")
    a, b, c, d, _e = (invoice(customer, no, date(2026, 1, 5), "1000.00") for no in "ABCDE")

    def pay_in_full(item, day, n):
        book(ocr_file([pay(item.payment_ref, "1500.00", f"00000010{n}")], day=day, number=f"000001{n}"))

    pay_in_full(a, date(2026, 1, 12), 1)
    claims_escalate(ledger=ledger, as_of=date(2026, 1, 22))
    pay_in_full(b, date(2026, 1, 28), 2)
    claims_escalate(ledger=ledger, as_of=date(2026, 2, 6))
    pay_in_full(c, date(2026, 2, 10), 3)
    claims_escalate(ledger=ledger, as_of=date(2026, 2, 24))
    pay_in_full(d, date(2026, 3, 2), 4)

    shares = paid_shares(ledger=ledger, period=dashboard_period(ledger=ledger, months=4))
    assert [(s.month.month, s.total) for s in shares] == [(1, 2), (2, 1), (3, 1), (4, 0)]
    assert shares[0].counts == {"by_due_date": 1, "late": 1, "after_reminder": 0,
                                "after_collection_notice": 0, "in_collection": 0}  # fmt: skip
    assert shares[0].shares["by_due_date"] == D("50.0")
    assert shares[1].counts["after_collection_notice"] == 1
    assert shares[2].counts["in_collection"] == 1
    assert shares[3].shares == dict.fromkeys(shares[3].counts, None)  # nothing paid: no shares


def test_paid_after_a_reminder(db):
    """Swedish process: the reminder 8 days after the due date (Jan 19 + 8 = Jan 27)."""
    ledger = LedgerFactory(country="SE", client_funds_account="15030000003")
    customer = CustomerFactory(ledger=ledger, customer_no="1003")
    item = invoice(customer, "R", date(2026, 1, 5), "1000.00")
    claims_escalate(ledger=ledger, as_of=date(2026, 1, 20))  # the late fee step (business only): nothing
    claims_escalate(ledger=ledger, as_of=date(2026, 1, 27))
    assert InvoiceEvent.objects.filter(invoice=item, kind="reminder_sent").exists()
    data = write_camt054(
        [PaymentSpec(reference=item.payment_ref, amount=D("1500.00"), archive_ref="SE-1")],
        receiving_account="15030000003",
        booking_date=date(2026, 2, 2),
        currency="SEK",
    )
    payments_import(data=data, file_name="camt.xml")
    shares = paid_shares(ledger=ledger, period=dashboard_period(ledger=ledger, months=4))
    assert shares[1].counts["after_reminder"] == 1 and shares[1].total == 1


def test_channel_mix_and_returned_mail_rate(ledger):
    customer = CustomerFactory(ledger=ledger, customer_no="1004")
    for channel, n in (("email", 3), ("paper", 4), ("einvoice_b2c", 2), ("kivra", 1)):
        for _ in range(n):
            DocumentFactory(customer=customer, channel=channel, booking_date=date(2026, 3, 3))
    DocumentFactory(customer=customer, channel="sms", booking_date=date(2026, 4, 2))
    DocumentFactory(customer=customer, channel="", status="queued", booking_date=date(2026, 4, 2))
    DocumentFactory(customer=customer, channel="email", booking_date=date(2025, 3, 3))  # before the period
    paper = DocumentFactory(customer=customer, channel="paper", booking_date=date(2026, 3, 4))
    document_return_register(document=paper, kind="paper_returned", reason="moved", booking_date=date(2026, 3, 9),
                             actor="test")  # fmt: skip

    months = channel_mix(ledger=ledger, period=dashboard_period(ledger=ledger, months=2))
    march, april = months
    assert march.counts == {"einvoice_b2c": 2, "email": 3, "paper": 5, "kivra": 1, "sms": 0}
    assert (march.total, march.paper, march.returned, march.returned_rate) == (11, 5, 1, D("20.0"))
    assert march.shares["paper"] == D("45.5")  # 5 / 11
    assert (april.total, april.counts["sms"], april.returned_rate) == (1, 1, None)


def test_every_figure_in_five_queries_whatever_the_period(booked_ledger):
    for months in (3, 24):
        period = dashboard_period(ledger=booked_ledger, months=months)
        with CaptureQueriesContext(connection) as queries:
            figures = dashboard_figures(ledger=booked_ledger, period=period)
        # five queries (each in its own transaction, with SET LOCAL jit = off: no figure query)
        figure_queries = [q for q in queries if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))]
        assert len(figure_queries) == 5
        assert len(figures.balances) == len(figures.created) == len(figures.channels) == months
