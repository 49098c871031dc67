"""The journal per day, account and action (ledger.models.AccountDay, ledger/sql/account_days.sql): the
registration writes its own, the trigger every other writer's, the business day merges them, the monthly
reports read them, verify_ledger checks them against the journal and the rebuild repairs them."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import connection

from accounting.reports.core import report_run
from accounting.reports.monthly import monthly_accounting_query, monthly_bookkeeping, monthly_reconciliation
from businessday.daily import business_day_run
from ledger.models import AccountDay, Payment
from ledger.payments.reversal import payment_reverse
from ledger.summaries import ledger_summaries_problems, ledger_summaries_rebuild
from ledger.verify import ledger_verify
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory
from tests.helpers import book_costs, triggers_off
from tests.ledger.test_payments_import import book, ocr_file, pay

pytestmark = pytest.mark.django_db

D = Decimal
DAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def today(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    with time_machine.travel(date(2026, 4, 15)):
        yield


@pytest.fixture
def ledger():
    return LedgerFactory(company_no="7777", ledger_no="54321", country="NO", client_funds_account="15030000002")


def from_journal(ledger) -> list[tuple]:
    """The monthly accounting report of March 2026 computed from the postings themselves."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT a.number, a.name,
                      CASE WHEN rt.kind IS NULL THEN t.kind ELSE rt.kind || '_reversal' END AS action,
                      count(*), coalesce(sum(p.amount) FILTER (WHERE p.amount > 0), 0),
                      coalesce(-sum(p.amount) FILTER (WHERE p.amount < 0), 0), sum(p.amount)
                 FROM ledger_journaltransaction t
                 JOIN ledger_posting p ON p.transaction_id = t.id
                 JOIN ledger_account a ON a.id = p.account_id
                 LEFT JOIN ledger_journaltransaction rt ON rt.id = t.reverses_id
                WHERE t.ledger_id = %s AND t.booking_date BETWEEN '2026-03-01' AND '2026-03-31'
                GROUP BY 1, 2, 3 ORDER BY 1, 3""",
            [ledger.id],
        )
        return cursor.fetchall()


def booked_month(ledger):
    """Invoices registered (also a credit-sized one), a fee, payments, one payment reversed: in March."""
    customer = CustomerFactory(ledger=ledger)
    first = InvoiceFactory(customer=customer, invoice_no="A1", booking_date=DAY, amount=D("1000.00"))
    second = InvoiceFactory(customer=customer, invoice_no="A2", booking_date=DAY, amount=D("250.00"))
    book_costs(first, fee=D("35.00"), day=date(2026, 3, 10))
    book(ocr_file([pay(first.payment_ref, "1035.00", "000000011"), pay(second.payment_ref, "100.00", "000000012")],
                  day=date(2026, 3, 12)))  # fmt: skip
    payment_reverse(payment=Payment.objects.get(ledger=ledger, bank_archive_ref__startswith="000000012-"), actor="t", reason="wrong",
                    booking_date=date(2026, 3, 13))  # fmt: skip
    return first, second


def test_the_monthly_reports_read_the_kept_days_and_equal_the_journal(ledger):
    booked_month(ledger)
    assert AccountDay.objects.filter(ledger=ledger, action="invoice").count() == 4  # 2 registrations x 2 accounts

    report = report_run(monthly_accounting_query(ledger=ledger, year=2026, month=3))

    assert report.rows == from_journal(ledger)
    assert {row[2] for row in report.rows} == {"invoice", "fee", "payment", "payment_reversal"}
    bookkeeping = monthly_bookkeeping(ledger=ledger, year=2026, month=3).rows
    assert sum(row[4] for row in bookkeeping) == 0 and sum(row[2] for row in bookkeeping) > 0
    days = {d.booking_date: d.postings for d in monthly_reconciliation(ledger=ledger, year=2026, month=3).days}
    assert days == {DAY: 4, date(2026, 3, 10): 2, date(2026, 3, 12): 5, date(2026, 3, 13): 2}
    assert ledger_summaries_problems(ledger=ledger) == []


def test_the_business_day_merges_them_and_the_report_keeps_its_figures(ledger):
    booked_month(ledger)
    before = report_run(monthly_accounting_query(ledger=ledger, year=2026, month=3)).rows
    rows_before = AccountDay.objects.filter(ledger=ledger).count()

    summary = business_day_run(as_of=date(2026, 4, 15), company_nos=["7777"], parts=["summaries"])

    assert summary["ok"], summary
    merged = summary["ledgers"][0]["summaries"]["account_days"]
    assert merged[0] == rows_before and merged[1] < rows_before
    assert report_run(monthly_accounting_query(ledger=ledger, year=2026, month=3)).rows == before


def test_verify_names_a_day_edited_by_hand_and_the_rebuild_repairs_it(ledger):
    InvoiceFactory(customer=CustomerFactory(ledger=ledger), booking_date=DAY, amount=D("400.00"))
    row = AccountDay.objects.filter(ledger=ledger, debit__gt=0).get()
    AccountDay.objects.filter(pk=row.pk).update(debit=D("410.00"))

    failed = {c["check"]: c for c in ledger_verify(ledger=ledger) if not c["ok"]}
    assert list(failed) == ["dashboard_summaries_equal_journal"]
    [problem] = failed["dashboard_summaries_equal_journal"]["discrepancies"]
    assert (problem["summary"], problem["ledger"], problem["booking_date"], problem["action"]) == (
        "account_days", "7777", "2026-03-02", "invoice",
    )  # fmt: skip
    assert (problem["kept"]["debit"], problem["journal"]["debit"]) == ("410.00", "400.00")

    ledger_summaries_rebuild(ledger=ledger)

    assert all(c["ok"] for c in ledger_verify(ledger=ledger))


def test_verify_finds_a_posting_booked_without_its_day(ledger):
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), booking_date=DAY)
    with triggers_off():  # as a restore or a bulk load leaves it
        book_costs(invoice, fee=D("35.00"), day=date(2026, 3, 20))

    problems = [p for p in ledger_summaries_problems(ledger=ledger) if p["summary"] == "account_days"]
    assert {(p["booking_date"], p["action"], p["kept"]) for p in problems} == {("2026-03-20", "fee", None)}
    assert sorted(p["journal"]["postings"] for p in problems) == [1, 1]
