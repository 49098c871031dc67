"""The dashboard in a real browser (Debian's chromium through Playwright): the charts render as SVG
images with their names, each table opens and holds the same figures; the screenshot for the README."""

import re
from datetime import date

import pytest

from tests.browser import screenshot
from tests.factories import DocumentFactory
from tests.ledger.test_payments_import import book, ocr_file, pay
from tests.portal360.conftest import browser_sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_dashboard_draws_its_charts(browser_page, world):
    invoice = world["invoice"]
    book(ocr_file([pay(invoice.payment_ref, "1290.50", "000000901")], day=date.today()))
    for channel in ("email", "paper", "einvoice_b2c"):
        DocumentFactory(customer=world["customer"], channel=channel, booking_date=date.today())
    page = browser_page
    browser_sign_in(page, world)
    page.goto("/360/dashboard/")
    assert page.locator("h1").inner_text().startswith("Dashboard")
    charts = page.locator("section.chart svg[role=img]")
    assert charts.count() == 7
    for n in range(7):
        box = charts.nth(n).bounding_box()
        assert box and box["width"] > 300 and box["height"] > 100  # drawn, not an empty element
    assert page.locator("#balances-title").text_content().startswith("Open and overdue amount")
    # The invoices-created table: this month's row says the two invoices of the world
    created = page.locator("#chart-created")
    created.locator("summary").click()
    last_row = created.locator("tbody tr").last
    assert last_row.locator("td").first.inner_text() == "2"
    assert re.fullmatch(r"1\s740,50", last_row.locator("td").nth(1).inner_text())
    payments = page.locator("#chart-payments")
    payments.locator("summary").click()
    assert payments.locator("tbody tr").last.locator("td").first.inner_text() == "1"
    # Every legend entry is there and visible inside its card (pygal's own bottom legend was cut off).
    paid = page.locator("#chart-paid .legend li")
    assert paid.count() == 5 and paid.last.inner_text() == "In collection"
    for n in range(paid.count()):
        assert paid.nth(n).is_visible()
    assert page.locator("#chart-balances .legend li").all_inner_texts() == ["Open", "Overdue"]
    screenshot(page, "360-dashboard")
    # A bad period (past the input's own max=36, which the browser checks first) is the form's error
    page.goto("/360/dashboard/?months=99")
    assert "less than or equal to 36" in page.locator(".errorlist").inner_text()
