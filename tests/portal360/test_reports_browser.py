"""A report in a real browser (Debian's chromium through Playwright): the ledger report filtered by
customer and as of a date, downloaded as XLSX and opened with openpyxl; a screenshot of the aging."""

import re
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from ledger.models import Cause
from ledger.services.invoice_changes import invoice_write_off
from tests.browser import screenshot
from tests.factories import CustomerFactory, InvoiceFactory
from tests.portal360.conftest import browser_sign_in as sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def booked(world):  # noqa: F811
    ledger, kari = world["ledger"], world["customer"]
    ola = CustomerFactory(ledger=ledger, customer_no="5002", name="Ola Nordmann")
    for customer, invoice_no, amount, due in (
        (kari, "R-1", "1200.00", date(2026, 7, 10)),
        (kari, "R-2", "350.50", date(2026, 5, 20)),
        (ola, "R-3", "980.00", date(2026, 2, 1)),
        (ola, "R-4", "4100.00", date(2025, 11, 2)),
        (ola, "R-5", "300.00", date(2026, 6, 1)),
    ):
        booked_on = date.fromordinal(due.toordinal() - 14)
        InvoiceFactory(customer=customer, invoice_no=invoice_no, amount=Decimal(amount), invoice_date=booked_on,
                       due_date=due, booking_date=booked_on)  # fmt: skip
    from ledger.models import Invoice

    invoice_write_off(invoice=Invoice.objects.get(ledger=ledger, invoice_no="R-5"), actor="olivia",
                      cause=Cause.DECEASED, booking_date=date(2026, 6, 10))  # fmt: skip
    return world


def test_a_report_filtered_and_downloaded_as_xlsx(browser_page, booked):
    page = browser_page
    sign_in(page, booked)
    page.click("nav.sections >> text=Reports")
    page.wait_for_url(re.compile(r"/360/reports/$"))
    page.click("text=Ledger report")
    page.wait_for_url(re.compile(r"/reports/ledger/"))
    page.fill("#id_as_of", "2026-06-30")
    page.fill("#id_customer_no", "5002")
    page.click("button:has-text('Show')")
    page.wait_for_url(re.compile(r"customer_no=5002"))
    assert page.locator("h2#rows-h").inner_text() == "2 rows"
    assert "R-3" in page.content() and "R-1" not in page.content()
    with page.expect_download() as download:
        page.click("a:has-text('XLSX')")
    assert download.value.suggested_filename == "ledger_7101_2026-06-30.xlsx"
    with open(download.value.path(), "rb") as saved:
        sheet = load_workbook(saved).active
    rows = list(sheet.values)
    assert rows[0][:2] == ("invoice_no", "customer_no")
    assert [(r[0], r[1], r[-1]) for r in rows[1:]] == [("R-3", "5002", 980), ("R-4", "5002", 4100)]
    assert sheet.cell(row=2, column=9).number_format == "0.00"
    assert sheet.cell(row=2, column=5).is_date

    page.goto("/360/l/7101/reports/aging/?as_of=2026-06-30")
    assert "Over 180 days" in page.content()
    screenshot(page, "360-report-aging")
    page.goto("/360/l/7101/reports/write_offs/?start=2026-06-01&end=2026-06-30")
    assert "R-5" in page.content() and "Deceased" in page.content()
    screenshot(page, "360-report-write-offs")

    # The widest report stays inside its card at 1366 px (it scrolls within it if it must).
    page.goto("/360/l/7101/reports/invoice_claims/?as_of=2026-06-30")
    screenshot(page, "360-report-invoice-claims")
    cells = page.locator("table tbody tr").first.locator("td").all_inner_texts()
    assert cells[-2:] == ["", ""]  # this ledger has no claim process: no next step, no date, no "None"
    sticks_out = page.evaluate("""() => [...document.querySelectorAll('section.card')].filter(card => {
        const edge = card.getBoundingClientRect().right;
        return [...card.querySelectorAll('*')].some(e => {
            const r = e.getBoundingClientRect();
            return r.width > 0 && r.right > edge + 1 && !e.closest('.table-wrap');
        }) || [...card.querySelectorAll('.table-wrap')].some(w => w.getBoundingClientRect().right > edge + 1);
    }).length""")
    assert sticks_out == 0
