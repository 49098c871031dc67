"""The 360 report selectors against hand-computed ledgers: aging buckets (91-180, over 180 and their
edges), write-off totals, pages and counts, streamed CSV/XLSX equal to the whole report, and the
monthly accounting report equal to the sum of the month's Accounting Detail files."""

import csv
import io
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from accounting.models import AccountingFile, AccountingFileKind
from accounting.reports.core import report_count, report_page, report_run, report_totals
from accounting.reports.downloads import (
    monthly_accounting_pdf,
    report_csv,
    report_csv_chunks,
    report_xlsx_file,
)
from accounting.reports.monthly import monthly_accounting_query, monthly_reconciliation
from accounting.reports.receivables import (
    aging,
    invoice_claims,
    invoice_claims_query,
    ledger_report_query,
    receivables_balance,
    write_offs_query,
)
from accounting.services import accounting_files_write
from ledger.models import Cause, Invoice, JournalTransaction
from ledger.outbox import company_dir
from ledger.services.invoice_changes import invoice_write_off
from tests.factories import CustomerFactory, InvoiceFactory
from tests.ledger.test_payments_import import book, ledger_with_account, ocr_file, pay

AS_OF = date(2026, 6, 30)
D = Decimal


def register(customer, invoice_no, amount, due):
    booked = due - timedelta(days=14)
    return InvoiceFactory(customer=customer, invoice_no=invoice_no, amount=D(amount), invoice_date=booked,
                          due_date=due, booking_date=booked)  # fmt: skip


@pytest.fixture
def aged(db, settings, tmp_path):
    """Kari (5001): not due 1000, 15 days 200, 45 days 300, 75 days 400 on 30 June.
    Ola (5002): 135 days 500, exactly 180 days 80, 91 days 90, 211 days 600 and 181 days 700; the 700
    (I7) is written off for bankruptcy on 20 June."""
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    ledger = ledger_with_account(company_no="7301")
    kari = CustomerFactory(ledger=ledger, customer_no="5001", name="Kari Nordmann")
    ola = CustomerFactory(ledger=ledger, customer_no="5002", name="Ola Nordmann")
    register(kari, "I1", "1000.00", date(2026, 7, 10))
    register(kari, "I2", "200.00", date(2026, 6, 15))
    register(kari, "I3", "300.00", date(2026, 5, 16))
    register(kari, "I4", "400.00", date(2026, 4, 16))
    register(ola, "I5", "500.00", date(2026, 2, 15))
    register(ola, "I8", "80.00", date(2026, 1, 1))  # 180 days: still 91-180
    register(ola, "I9", "90.00", date(2026, 3, 31))  # 91 days: no longer 61-90
    register(ola, "I6", "600.00", date(2025, 12, 1))
    i7 = register(ola, "I7", "700.00", date(2025, 12, 31))  # 181 days: over 180
    invoice_write_off(invoice=i7, actor="olivia", reason="Konkurs", cause=Cause.BANKRUPTCY,
                      booking_date=date(2026, 6, 20))  # fmt: skip
    return ledger


def dicts(report):
    return [dict(zip(report.columns, row, strict=True)) for row in report.rows]


def test_aging_buckets_per_customer_and_in_total(aged):
    rows = {r["customer_no"]: r for r in dicts(aging(ledger=aged, as_of=AS_OF))}
    buckets = ["not_due", "overdue_1_30", "overdue_31_60", "overdue_61_90", "overdue_91_180",
               "overdue_over_180", "total"]  # fmt: skip
    assert [rows["5001"][b] for b in buckets] == [D("1000.00"), D("200.00"), D("300.00"), D("400.00"),
                                                  D("0.00"), D("0.00"), D("1900.00")]  # fmt: skip
    assert [rows["5002"][b] for b in buckets] == [D("0.00"), D("0.00"), D("0.00"), D("0.00"),
                                                  D("670.00"), D("600.00"), D("1270.00")]  # fmt: skip
    [whole] = dicts(aging(ledger=aged, as_of=AS_OF, per_customer=False))
    assert [whole[b] for b in buckets] == [D("1000.00"), D("200.00"), D("300.00"), D("400.00"),
                                           D("670.00"), D("600.00"), D("3170.00")]  # fmt: skip
    # Before the write-off the 700.00 was still owed (170 days overdue on 19 June: 91-180).
    before = {r["customer_no"]: r for r in dicts(aging(ledger=aged, as_of=date(2026, 6, 19)))}
    assert before["5002"]["total"] == D("1970.00")
    assert before["5002"]["overdue_91_180"] == D("500.00") + D("80.00") + D("700.00")
    assert before["5002"]["overdue_61_90"] == D("90.00")  # I9 80 days overdue on 19 June
    only_ola = dicts(aging(ledger=aged, as_of=AS_OF, customer_no="5002"))
    assert [r["customer_no"] for r in only_ola] == ["5002"]


def test_write_off_totals_and_filters(aged):
    query = write_offs_query(ledger=aged, start=date(2026, 6, 1), end=date(2026, 6, 30))
    [row] = dicts(report_run(query))
    assert (row["invoice_no"], row["cause"], row["capital"], row["total"]) == (
        "I7", "Bankruptcy", D("700.00"), D("700.00"),
    )  # fmt: skip
    assert report_totals(query=query)["total"] == D("700.00")
    other_cause = write_offs_query(
        ledger=aged, start=date(2026, 6, 1), end=date(2026, 6, 30), cause=Cause.DECEASED
    )
    assert report_count(query=other_cause) == 0
    may = write_offs_query(ledger=aged, start=date(2026, 5, 1), end=date(2026, 5, 31))
    assert report_count(query=may) == 0


def test_pages_counts_totals_and_streamed_downloads_agree_with_the_whole_report(aged):
    query = ledger_report_query(ledger=aged, as_of=AS_OF)
    whole = report_run(query)
    assert [r[0] for r in whole.rows] == ["I1", "I2", "I3", "I4", "I5", "I6", "I8", "I9"]  # per customer
    first = report_page(query=query, page=1, per_page=3)
    third = report_page(query=query, page=3, per_page=3)
    assert (first.count, first.pages, first.has_next, third.has_next) == (8, 3, True, False)
    assert first.rows + report_page(query=query, page=2, per_page=3).rows + third.rows == whole.rows
    assert report_totals(query=query)["open"] == receivables_balance(ledger=aged, as_of=AS_OF)

    streamed = b"".join(report_csv_chunks(query=query, rows_per_chunk=3))
    assert streamed == report_csv(whole)
    sheet = load_workbook(report_xlsx_file(query=query)).active
    values = list(sheet.values)
    assert list(values[0]) == query.columns and len(values) == 9
    assert values[1][0] == "I1" and values[1][-1] == 1000 and values[-1][0] == "I9"


def test_invoice_claims_show_components_paid_and_filter_by_status_and_level(aged):
    i1 = Invoice.objects.get(ledger=aged, invoice_no="I1")
    book(ocr_file([pay(i1.payment_ref, "250.00", "000000501")], day=date(2026, 6, 25)))
    claims = {r["invoice_no"]: r for r in dicts(invoice_claims(ledger=aged, as_of=AS_OF))}
    assert (claims["I1"]["capital"], claims["I1"]["paid"], claims["I1"]["open"]) == (
        D("750.00"), D("250.00"), D("750.00"),
    )  # fmt: skip
    assert claims["I1"]["status"] == "open" and "I7" not in claims
    assert claims["I1"]["claim_level"] == "due_date"
    closed = invoice_claims_query(ledger=aged, as_of=AS_OF, status="closed")
    assert report_count(query=closed) == 0
    by_level = invoice_claims_query(ledger=aged, as_of=AS_OF, level="due_date", customer_no="5001")
    assert report_count(query=by_level) == 4


def read_accounting_detail_csv(path) -> list[list[str]]:
    text = path.read_bytes().decode("utf-8-sig")
    return [row for row in csv.reader(io.StringIO(text), delimiter=";") if row and row[0] == "D"]


def test_monthly_report_equals_the_sum_of_the_months_accounting_detail_files(aged):
    i2 = Invoice.objects.get(ledger=aged, invoice_no="I2")
    i3 = Invoice.objects.get(ledger=aged, invoice_no="I3")
    book(ocr_file([pay(i2.payment_ref, "200.00", "000000601"), pay(i3.payment_ref, "100.00", "000000602")],
                  day=date(2026, 6, 12)))  # fmt: skip
    june_days = sorted(
        set(
            JournalTransaction.objects.filter(
                ledger=aged, booking_date__range=(date(2026, 6, 1), date(2026, 6, 30))
            ).values_list("booking_date", flat=True)
        )
    )
    assert len(june_days) >= 3  # registrations, the payments and the write-off
    for day in june_days:
        accounting_files_write(ledger=aged, as_of=day)

    from_files = defaultdict(Decimal)
    postings = 0
    outbox = company_dir(aged.company_no, "outbox")
    for record in AccountingFile.objects.filter(
        ledger=aged, kind=AccountingFileKind.ACCOUNTING_DETAIL_CSV, as_of__month=6, as_of__year=2026
    ):
        for row in read_accounting_detail_csv(outbox / record.file_name):
            from_files[(row[5], row[2])] += Decimal(row[14])
            postings += 1

    query = monthly_accounting_query(ledger=aged, year=2026, month=6)
    report = dicts(report_run(query))
    assert {(r["account"], r["action"]): r["net"] for r in report} == dict(from_files)
    assert sum(r["postings"] for r in report) == postings
    for r in report:
        assert r["debit"] - r["credit"] == r["net"]
    assert {r["action"] for r in report} >= {"invoice", "payment", "write_off"}
    totals = report_totals(query=query)
    assert totals["net"] == 0 and totals["debit"] == totals["credit"] > 0

    reconciliation = monthly_reconciliation(ledger=aged, year=2026, month=6)
    assert reconciliation.agrees and [d.booking_date for d in reconciliation.days] == june_days

    pdf = monthly_accounting_pdf(ledger=aged, year=2026, month=6)
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Monthly accounting report 2026-06" in text and "write_off" in text
