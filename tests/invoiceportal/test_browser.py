"""The portal in a real Chromium (Debian's, driven by Playwright): the customer opens the link from the
e-mail, reads what they owe, downloads the PDF, disputes, pays with the test provider; the direct debit
sign-up round trip with returnUrl; axe-core on every page; screenshots at phone and desktop width
(var/screenshots/portal-*.png)."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from distribution.links import portal_link_issue, portal_url
from distribution.services.queueing import DocumentRequest, documents_queue
from distribution.services.sending import documents_distribute
from ledger.models import InvoiceStatus
from tests.browser import SCREENSHOTS
from tests.factories import CustomerFactory, LedgerFactory
from tests.helpers import book_costs
from tests.invoiceportal.conftest import make_invoice, verify_problems

# `browser` is the shared fixture (tests/browser.py): Debian's chromium, skipped without it.
pytestmark = pytest.mark.django_db(transaction=True)
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def portal(settings, tmp_path, live_server):
    settings.LEDGER_DATA_DIR = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "documents")},
        },
    }
    # The demo's outbox: every e-mail as a file under $LEDGER_DATA_DIR/mail/.
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    settings.INVOICE_PORTAL_BASE_URL = f"{live_server.url}/p"
    settings.INVOICE_PORTAL_RATE_LIMIT = "10000/min"
    return live_server


def new_page(browser, viewport=PHONE, *, bypass_csp=False, locale="nb-NO"):
    context = browser.new_context(
        viewport=viewport, accept_downloads=True, bypass_csp=bypass_csp, locale=locale
    )
    page = context.new_page()
    page.csp_errors = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_errors.append(m.text))
    return page


def axe_violations(browser, url: str) -> list[dict]:
    """axe-core's serious and critical violations on the page (its own context: axe is an inline
    script to the page, which the portal's CSP rightly refuses)."""
    page = new_page(browser, DESKTOP, bypass_csp=True)
    page.goto(url)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    page.context.close()
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def screenshots(browser, url: str, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = new_page(browser, viewport)
        page.goto(url)
        # Nothing wider than the screen: no sideways scrolling on a phone.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} scrolls"
        page.screenshot(path=str(SCREENSHOTS / f"portal-{name}-{label}.png"), full_page=True)
        assert page.csp_errors == []
        page.context.close()


def check_page(browser, url: str, name: str) -> None:
    assert axe_violations(browser, url) == []
    screenshots(browser, url, name)


def reminder_by_email(invoice, tmp_path) -> str:
    book_costs(invoice, fee=Decimal("35.00"))
    documents_queue(
        requests=[
            DocumentRequest(
                ledger_id=invoice.ledger_id,
                customer_id=invoice.customer_id,
                invoice_id=invoice.pk,
                kind="reminder",
                booking_date=invoice.ledger.today(),
                source_key=f"reminder-{invoice.pk}",
                facts={"fee": "35.00"},
            )
        ]
    )
    documents_distribute(as_of=invoice.ledger.today())
    [mail_file] = sorted((tmp_path / "mail").glob("*.log"))
    return re.search(r"(http://[^\s]+/p/[A-Za-z0-9_-]{43}/)", mail_file.read_text()).group(1)


@pytest.fixture
def norway(portal):
    ledger = LedgerFactory(country="NO", client_name="Fjordkraft Demo AS", client_funds_account="15032080003")
    customer = CustomerFactory(
        ledger=ledger, email="kari@example.no", name="Kari Nordmann", national_id="15076500565"
    )
    return ledger, customer


def test_open_the_link_in_the_email_download_the_pdf_and_pay(browser, norway, tmp_path):
    ledger, customer = norway
    invoice = make_invoice(ledger, customer=customer, reference_text="Strøm januar")
    link = reminder_by_email(invoice, tmp_path)

    page = new_page(browser)
    page.goto(link)
    assert page.locator("h1").inner_text() == f"Faktura {invoice.invoice_no}"
    assert "1\xa0035,00\xa0kr" in page.locator(".pay .total").inner_text()
    assert page.locator("#ref").inner_text() == invoice.payment_ref
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Kopier").click()
    expect(page.get_by_role("button", name="Kopiert")).to_be_visible()  # the script ran under the CSP
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("^Last ned")).first.click()
    pdf = Path(download_info.value.path()).read_bytes()
    assert (
        pdf.startswith(b"%PDF")
        and download_info.value.suggested_filename == f"reminder-{invoice.invoice_no}.pdf"
    )
    assert page.csp_errors == []
    check_page(browser, link, "invoice")

    page.get_by_role("button", name="Betal nå med Vipps").click()
    expect(page.locator("h1")).to_contain_text("(testbetalingstjeneste)")
    check_page(browser, page.url, "test-provider")
    page.get_by_role("button", name="Godkjenn betalingen").click()
    expect(page.locator("h1")).to_have_text("Takk for betalingen")
    check_page(browser, page.url, "paid")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CLOSED
    assert verify_problems(ledger) == []
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Denne fakturaen er oppgjort")
    check_page(browser, link, "closed")
    page.context.close()


def test_dispute_in_the_browser(browser, norway, tmp_path):
    ledger, customer = norway
    invoice = make_invoice(ledger, customer=customer)
    link = reminder_by_email(invoice, tmp_path)
    page = new_page(browser)
    page.goto(link)
    page.get_by_label("Fortell hva som er galt").fill("Jeg har aldri mottatt varene.")
    page.get_by_role("button", name="Bestrid fakturaen").click()
    expect(page.get_by_role("status")).to_contain_text("Innsigelsen er registrert")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DISPUTED
    check_page(browser, page.url, "disputed")
    # Switch language: English, remembered for the next page.
    page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text(f"Invoice {invoice.invoice_no}")
    page.goto(link)
    assert page.locator("html").get_attribute("lang") == "en"
    page.context.close()


def test_overview_and_refused_pages(browser, norway, portal):
    ledger, customer = norway
    for n, amount in enumerate(("450.00", "1200.00"), 1):
        make_invoice(ledger, customer=customer, amount=amount, n=n)
    overview = portal_url(portal_link_issue(ledger_id=ledger.pk, customer_id=customer.pk, invoice_id=None))
    page = new_page(browser)
    page.goto(overview)
    assert "1\xa0650,00\xa0kr" in page.locator(".total").inner_text()
    page.context.close()
    check_page(browser, overview, "overview")
    check_page(browser, f"{portal.url}/p/{'x' * 43}/", "refused")


def test_direct_debit_sign_up_round_trip_with_return_url(browser, norway, portal):
    ledger, customer = norway
    page = new_page(browser)
    # The client's own page, served by the browser's router (it is https and not ours).
    page.route(
        "https://client.example/**",
        lambda route: route.fulfill(body="<h1>Velkommen tilbake</h1>", content_type="text/html"),
    )
    start = f"{portal.url}/p/direct-debit/{ledger.company_no}/?returnUrl=https://client.example/welcome"
    page.goto(start)
    check_page(browser, start, "direct-debit")
    page.get_by_role("button", name="Identifiser deg med BankID").click()
    check_page(browser, page.url, "test-bankid")
    page.get_by_label("Fødselsnummer").fill(customer.national_id)
    page.get_by_role("button", name="Identifiser", exact=True).click()
    expect(page.locator("main")).to_contain_text("Kari Nordmann")
    check_page(browser, page.url, "direct-debit-confirm")
    page.get_by_label("Konto det skal trekkes fra").fill("1503.20.80003")
    page.get_by_role("button", name="Bekreft og signer").click()
    expect(page.locator("h1").first).to_have_text("Du er påmeldt AvtaleGiro")
    page.wait_for_url("https://client.example/welcome?status=success", timeout=10_000)
    assert customer.consents.get(kind="avtalegiro_no").active
