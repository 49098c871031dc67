"""360 Reports: every report page and download, for operators and read-only users; another client's
ledger is a 404 for every page and every download."""

import csv
import html
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounting.reports.catalogue import REPORT_KINDS
from ledger.models import Cause
from ledger.services.invoice_changes import invoice_write_off
from tests.factories import InvoiceFactory
from tests.helpers import sign_in

REPORTS = sorted(REPORT_KINDS)
FORMATS = ["csv", "xlsx"]


@pytest.fixture
def booked(ledger, customer):
    """F-1001 (1000.00, booked 5 January 2026) and F-1002 (250.00 due 2 March 2026), the latter
    written off on 10 March for bankruptcy."""
    InvoiceFactory(customer=customer, invoice_no="F-1001", amount=Decimal("1000.00"),
                   invoice_date=date(2026, 1, 5), booking_date=date(2026, 1, 5))  # fmt: skip
    second = InvoiceFactory(customer=customer, invoice_no="F-1002", amount=Decimal("250.00"),
                            invoice_date=date(2026, 2, 16), due_date=date(2026, 3, 2),
                            booking_date=date(2026, 2, 16))  # fmt: skip
    invoice_write_off(invoice=second, actor="olivia", reason="Konkurs", cause=Cause.BANKRUPTCY,
                      booking_date=date(2026, 3, 10))  # fmt: skip
    return ledger


def report_url(ledger, name, **query):
    url = reverse("portal360:report", args=[ledger.company_no, name])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def download_url(ledger, name, fmt, **query):
    url = reverse("portal360:report_download", args=[ledger.company_no, name, fmt])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_reports_section_lists_every_report_of_the_chosen_ledger(signed_in, ledger):
    response = signed_in.get(reverse("portal360:reports"))
    assert response.status_code == 200
    text = response.content.decode()
    for name in REPORTS:
        assert reverse("portal360:report", args=[ledger.company_no, name]) in text
    assert reverse("portal360:files", args=[ledger.company_no]) in text
    assert 'aria-current="page">Reports' in text


@pytest.mark.parametrize("name", REPORTS)
def test_every_report_page_shows_for_operators_and_read_only_users(client, booked, operator, reader, name):
    for user in (operator, reader):
        sign_in(client, user)
        response = client.get(report_url(booked, name))
        assert response.status_code == 200, name
        assert "CSV" in response.content.decode() and "XLSX" in response.content.decode()


@pytest.mark.parametrize("name", REPORTS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_report_downloads_and_says_how_many_rows(client, booked, reader, name, fmt):
    sign_in(client, reader)
    response = client.get(download_url(booked, name, fmt, as_of="2026-03-31", start="2026-01-01",
                                       end="2026-03-31", month="2026-03"))  # fmt: skip
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    rows = int(response["X-Report-Rows"])
    assert "attachment" in response["Content-Disposition"]
    if fmt == "csv":
        lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
        assert len(lines) == rows + 1
    else:
        assert int(response["Content-Length"]) == len(content)
        assert len(list(load_workbook(io.BytesIO(content)).active.values)) == rows + 1


@pytest.mark.parametrize("name", REPORTS)
def test_another_clients_ledger_is_a_404_for_every_report_and_download(signed_in, other_ledger, name):
    assert signed_in.get(report_url(other_ledger, name)).status_code == 404
    for fmt in (*FORMATS, "pdf"):
        assert signed_in.get(download_url(other_ledger, name, fmt)).status_code == 404


def test_unknown_reports_and_formats_are_404(signed_in, ledger):
    assert signed_in.get(report_url(ledger, "secrets")).status_code == 404
    assert signed_in.get(download_url(ledger, "secrets", "csv")).status_code == 404
    assert signed_in.get(download_url(ledger, "aging", "exe")).status_code == 404
    assert signed_in.get(download_url(ledger, "aging", "pdf")).status_code == 404


def test_the_aging_page_shows_totals_and_customers_as_of_the_date(signed_in, booked):
    before = signed_in.get(report_url(booked, "aging", as_of="2026-03-05")).content.decode()
    assert "Over 180 days" in before and "91–180 days" in before
    assert "1\xa0250,00" in before  # both invoices open on 5 March: Norwegian amounts
    after = signed_in.get(report_url(booked, "aging", as_of="2026-03-31")).content.decode()
    assert "1\xa0250,00" not in after and "1\xa0000,00" in after


def test_the_write_off_page_filters_by_cause_and_shows_the_total(signed_in, booked):
    page = signed_in.get(report_url(booked, "write_offs", start="2026-03-01", end="2026-03-31"))
    text = page.content.decode()
    assert "F-1002" in text and "Bankruptcy" in text and "250,00" in text
    none = signed_in.get(
        report_url(booked, "write_offs", start="2026-03-01", end="2026-03-31", cause="Deceased")
    )
    assert "F-1002" not in none.content.decode()
    bad = signed_in.get(report_url(booked, "write_offs", start="2026-03-31", end="2026-03-01"))
    assert "The period ends before it starts." in bad.content.decode()


def test_the_ledger_report_pages_and_filters_by_customer(signed_in, booked, customer):
    for n in range(60):
        InvoiceFactory(customer=customer, invoice_no=f"P-{n:03d}", amount=Decimal("10.00"),
                       invoice_date=date(2026, 3, 1), booking_date=date(2026, 3, 1))  # fmt: skip
    first = signed_in.get(report_url(booked, "ledger", as_of="2026-03-31")).content.decode()
    assert "61 rows" in first and "Page 1 of 2" in first and "P-048" in first and "P-049" not in first
    second = signed_in.get(report_url(booked, "ledger", as_of="2026-03-31", page=2)).content.decode()
    assert "P-049" in second and "P-059" in second and "F-1001" not in second
    nobody = signed_in.get(
        report_url(booked, "ledger", as_of="2026-03-31", customer_no="9999")
    ).content.decode()
    assert "0 rows" in nobody


def test_the_next_page_of_the_ledger_report_seeks_past_the_last_row_shown(signed_in, booked, customer):
    """Deep pages by keyset, not OFFSET: the Next link carries the last row's customer and invoice number,
    and the page it gives is the one OFFSET would (same rows, same totals and count)."""
    for n in range(60):
        InvoiceFactory(customer=customer, invoice_no=f"P-{n:03d}", amount=Decimal("10.00"),
                       invoice_date=date(2026, 3, 1), booking_date=date(2026, 3, 1))  # fmt: skip
    first = signed_in.get(report_url(booked, "ledger", as_of="2026-03-31")).content.decode()
    [next_href] = re.findall(r'href="(\?[^"]*page=2[^"]*)"', first)
    assert f"after={customer.customer_no}&amp;after=P-048" in next_href
    by_key = signed_in.get(report_url(booked, "ledger") + html.unescape(next_href)).content.decode()
    by_offset = signed_in.get(report_url(booked, "ledger", as_of="2026-03-31", page=2)).content.decode()

    def rows(page):
        return re.findall(r"<tbody>(.*?)</tbody>", page, re.S)[0]

    assert rows(by_key) == rows(by_offset) and "P-049" in rows(by_key) and "P-048" not in rows(by_key)
    assert "61 rows" in by_key and "Page 2 of 2" in by_key


def test_the_monthly_accounting_report_as_pdf(signed_in, booked):
    page = signed_in.get(report_url(booked, "monthly_accounting", month="2026-03")).content.decode()
    assert "Write-off" in page and "Reconciliation" in page
    response = signed_in.get(download_url(booked, "monthly_accounting", "pdf", month="2026-03"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
