"""The as-of reports' pages by walking an index (accounting.reports.receivables: the customers or the
invoices by number, the version holding the day probed per invoice) and their count and totals from the
versions alone give what the reports' own SQL gives, page after page, on any day."""

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine

from accounting.reports import core
from accounting.reports.catalogue import REPORT_KINDS, report_query
from accounting.reports.core import report_page, report_run, report_summary
from accounting.reports.receivables import aging_query, invoice_claims_query, ledger_report_query
from cusin.generate import CustomerSpec, InvoiceSpec, write_cusin
from cusin.services import cusin_import
from ledger.models import Cause
from ledger.services.invoice_changes import invoice_write_off
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory
from tests.helpers import book_costs
from tests.ledger.test_payments_import import book, ocr_file, pay, stray_kid

pytestmark = pytest.mark.django_db

D = Decimal
DAYS = [date(2026, 1, 10), date(2026, 2, 20), date(2026, 3, 15), date(2026, 4, 1), date(2026, 4, 15)]


@pytest.fixture(autouse=True)
def today(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    with time_machine.travel(date(2026, 4, 15)):
        yield


@pytest.fixture
def ledger():
    """Seven customers (one with nothing left open, one with nothing at all) with 27 invoices over three
    months: some paid in full or in part on later days, one with a fee, three written off."""
    ledger = LedgerFactory(company_no="7379", ledger_no="54379", country="NO", client_funds_account="15030000002")
    customers = [CustomerFactory(ledger=ledger, customer_no=no, name=f"Customer {no}")
                 for no in ("30", "4", "100", "205", "21", "7", "99")]  # fmt: skip
    invoices = []
    for n in range(27):
        booked = date(2026, 1, 5) + timedelta(days=3 * n)
        invoices.append(InvoiceFactory(
            customer=customers[n % 6], invoice_no=f"N{(n * 7) % 27:02d}", amount=D(100 + 10 * n),
            invoice_date=booked, booking_date=booked, due_date=booked + timedelta(days=14),
        ))  # fmt: skip
    book_costs(invoices[2], fee=D("35.00"), day=date(2026, 2, 1))
    book(ocr_file([pay(invoices[n].payment_ref, str(invoices[n].amount), f"0000001{n:02d}") for n in (0, 5, 6)],
                  day=date(2026, 2, 10)))  # fmt: skip
    book(ocr_file([pay(invoices[n].payment_ref, "50.00", f"0000002{n:02d}") for n in (1, 7, 12)],
                  day=date(2026, 3, 1), number="0000002"))  # fmt: skip
    book(ocr_file([pay(invoices[n].payment_ref, str(invoices[n].amount + 0), f"0000003{n:02d}") for n in (6 * k + 5 for k in range(4))],
                  day=date(2026, 3, 20), number="0000003"))  # fmt: skip
    for n in (3, 4, 9):  # the same day: the transactions order them
        invoice_write_off(invoice=invoices[n], actor="t", reason="gone", cause=Cause.BANKRUPTCY,
                          booking_date=date(2026, 3, 2))  # fmt: skip
    return ledger


def walked(query, per_page: int) -> list[tuple]:
    rows, after = [], None
    while True:
        page = report_page(query=query, per_page=per_page, after=after)
        rows += page.rows
        if not page.rows or len(page.rows) < per_page:
            return rows
        after = page.next_after


@pytest.mark.parametrize("make", [aging_query, ledger_report_query, invoice_claims_query])
def test_walked_pages_and_summaries_equal_the_whole_report(ledger, make, monkeypatch):
    monkeypatch.setattr(core, "WALK_FROM", 0)
    for day in DAYS:
        query = make(ledger=ledger, as_of=day)
        assert query.page_sql and query.summary_sql
        whole = report_run(query).rows
        assert whole, day
        for per_page in (1, 4, 50):
            assert walked(query, per_page) == whole, (day, per_page)
        own = dataclasses.replace(query, summary_sql="", page_sql=None)
        assert report_summary(query=query) == report_summary(query=own), day
        count, _ = report_summary(query=query)
        assert count == len(whole)


def test_below_the_walk_threshold_a_page_is_the_reports_own(ledger):
    query = ledger_report_query(ledger=ledger, as_of=DAYS[-1])
    page = report_page(query=query, per_page=5)
    assert page.rows == report_run(query).rows[:5] and page.count == len(report_run(query).rows)


def test_a_filtered_report_has_no_walk(ledger):
    assert ledger_report_query(ledger=ledger, as_of=DAYS[-1], customer_no="4").page_sql is None
    assert aging_query(ledger=ledger, as_of=DAYS[-1], customer_no="4").page_sql is None
    assert aging_query(ledger=ledger, as_of=DAYS[-1], per_customer=False).page_sql is None
    assert invoice_claims_query(ledger=ledger, as_of=DAYS[-1], status="open").page_sql is None


@pytest.mark.parametrize("name", sorted(REPORT_KINDS))
def test_every_report_pages_by_its_keyset_to_the_same_rows(ledger, name, tmp_path):
    """Deep pages seek past the last row shown (the hidden id columns included, never shown)."""
    book(ocr_file([pay(stray_kid(n), "75.00", f"0000004{n:02d}") for n in (1, 2, 3)], day=date(2026, 3, 25),
                  number="0000004"))  # fmt: skip
    for n in range(3):  # three CUSIN files received at the same moment: their ids order them
        customers = [CustomerSpec(customer_no=f"80{n}", name=f"File customer {n}", items=[
            InvoiceSpec(invoice_no=f"F{n}", invoice_date=date(2026, 4, 10), amount_excl_vat=D("80.00"),
                        vat_amount=D("20.00"), currency="NOK")])]  # fmt: skip
        path = write_cusin(tmp_path / f"CUSIN_7379_2026041008300{n}_1.xml", company_no="7379", customers=customers)
        cusin_import(path=path, booking_date=date(2026, 4, 10))
    kind = REPORT_KINDS[name]
    period = {"as_of": {"as_of": DAYS[-1]}, "range": {"start": date(2026, 1, 1), "end": date(2026, 4, 15)},
              "month": {"year": 2026, "month": 3}}[kind.period]  # fmt: skip
    query = report_query(ledger=ledger, name=name, **period)
    assert query.keyset, name
    whole = report_run(query).rows
    # no payouts, settlements or direct debits here
    assert len(whole) >= 2 or name in ("payouts", "settlements", "debits_awaiting_money"), name
    assert all(len(row) == len(query.columns) for row in whole)
    assert walked(query, 1) == whole
    assert walked(query, 2) == whole
    page = report_page(query=query, per_page=1)
    assert page.count == len(whole) and len(page.next_after) == (len(query.keyset) if whole else 0)
