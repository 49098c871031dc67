"""360 in a real browser (Debian's chromium through Playwright): sign-in with the code from the mail
outbox, lockout, search, respite, credit, dispute, opening a PDF; screenshots of the main pages."""

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from pypdf import PdfWriter

from distribution.services.common import archive_storage
from ledger.models import InvoiceStatus, JournalTransaction, TransactionKind
from ledger.selectors import invoice_balance
from ledger.verify import ledger_verify
from tests.browser import screenshot
from tests.factories import DocumentFactory
from tests.portal360.conftest import PASSWORD, code_from_outbox
from tests.portal360.conftest import browser_sign_in as sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_in_search_and_register_a_respite(browser_page, world):
    page = browser_page
    page.goto("/360/")
    screenshot(page, "360-sign-in")
    page.fill("#id_username", "olivia")
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Continue')")
    page.wait_for_url(re.compile(r"/360/login/code/"))
    assert "o•••@fjordkraft.no" in page.content()
    screenshot(page, "360-code")
    page.fill("#id_code", code_from_outbox(world["mail"]))
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/360/$"))
    assert page.locator("h1").inner_text().startswith("Start")
    assert "1 740,50 NOK" in page.locator(".figures").inner_text().replace("\xa0", " ")
    screenshot(page, "360-start")

    page.click("nav >> text=Customers")
    page.wait_for_url(re.compile(r"/360/customers/"))
    page.wait_for_load_state("networkidle")  # htmx has bound the search box's triggers
    page.locator("#id_q").press_sequentially("kari", delay=40)
    page.wait_for_selector("#results table")  # htmx answers as you type
    screenshot(page, "360-search")
    page.click("#results >> text=5001")
    page.wait_for_url(re.compile(r"/customers/5001/"))
    screenshot(page, "360-customer")
    page.click("#customer-invoices >> text=F-1001")
    page.wait_for_url(re.compile(r"/invoices/F-1001/"))
    screenshot(page, "360-invoice")

    page.click("#action-respite > summary")
    page.fill("#action-respite input[name=until]", (date.today() + timedelta(days=30)).isoformat())
    page.fill("#action-respite input[name=reason]", "asked by phone")
    page.click("#action-respite button")
    page.wait_for_selector("text=Respite registered.")
    assert "Respite" in page.locator("#invoice-status").inner_text()
    assert "asked by phone" in page.locator("#invoice-events").inner_text()
    world["invoice"].refresh_from_db()
    assert world["invoice"].status == InvoiceStatus.RESPITE


def test_credit_and_dispute_in_the_browser(browser_page, world):
    page = browser_page
    sign_in(page, world)
    page.goto("/360/l/7101/invoices/F-1001/")
    page.click("#action-credit > summary")
    page.fill("#action-credit input[name=amount]", "5000")
    page.fill("#action-credit input[name=reason]", "too much")
    page.click("#action-credit button")
    page.wait_for_selector("#action-credit[open] >> text=The credit is more than the open principal.")
    page.fill("#action-credit input[name=amount]", "290,50")
    page.fill("#action-credit input[name=reason]", "damaged item")
    page.click("#action-credit button")
    page.wait_for_selector("text=Credit booked.")
    assert "1 000,00 NOK" in page.locator("#open-amount").inner_text().replace("\xa0", " ")

    page.click("#action-dispute > summary")
    page.fill("#action-dispute input[name=reason]", "the customer says it was paid in cash")
    page.click("#action-dispute button")
    page.wait_for_selector("text=Dispute registered")
    assert "Disputed" in page.locator("#invoice-status").inner_text()
    screenshot(page, "360-invoice-disputed")
    invoice = world["invoice"]
    assert invoice_balance(invoice).capital == Decimal("1000.00")
    assert JournalTransaction.objects.get(invoice=invoice, kind=TransactionKind.CREDIT).actor == "olivia"
    assert all(check["ok"] for check in ledger_verify(ledger=world["ledger"]))


def test_open_and_download_a_pdf(browser_page, browser_context, world):
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    document = DocumentFactory(customer=world["customer"], invoice=world["invoice"], kind="reminder")
    archive_storage().save(document.archive_name, ContentFile(buffer.getvalue()))
    page = browser_page
    sign_in(page, world)
    page.goto("/360/l/7101/invoices/F-1001/")
    with page.expect_download() as download:
        page.click("text=Download")
    path = download.value.path()
    assert open(path, "rb").read().startswith(b"%PDF")
    with page.expect_popup() as popup:
        page.click("td >> text=Open")
    opened = popup.value
    opened.wait_for_load_state()
    answer = browser_context.request.get(opened.url)
    assert answer.headers["content-type"] == "application/pdf"


def test_lockout_after_repeated_failures(browser_page, world, settings):
    settings.AXES_FAILURE_LIMIT = 3
    page = browser_page
    for _ in range(3):
        page.goto("/360/login/")
        page.fill("#id_username", "olivia")
        page.fill("#id_password", "wrong")
        page.click("button:has-text('Continue')")
    page.goto("/360/login/")
    page.fill("#id_username", "olivia")
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Continue')")
    page.wait_for_selector("text=Sign-in locked")
    screenshot(page, "360-locked")


def test_the_activity_log_shows_what_was_asked_and_changed(browser_page, world):
    """A client administrator's own log: the national id shown in full on asking, then the log."""
    from ledger.models import UserRole

    type(world["user"]).objects.filter(pk=world["user"].pk).update(role=UserRole.CLIENT_ADMIN)
    page = browser_page
    sign_in(page, world)
    page.goto("/360/l/7101/customers/5001/")
    assert "01019012345" not in page.content()
    page.click("text=Show in full")
    page.wait_for_selector("text=01019012345")
    page.goto("/360/company/activity/")
    rows = page.locator("#activity tbody tr")
    assert rows.count() >= 2  # the sign-in steps and the asking
    assert "/360/l/7101/customers/5001/" in rows.first.inner_text() and "olivia" in rows.first.inner_text()
    screenshot(page, "360-activity")
