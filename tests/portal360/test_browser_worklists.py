"""360 part 2 in a real browser: a complaint taken and resolved from the worklist, an API token created
and used against the API."""

import re

import httpx
import pytest

from ledger.models import InvoiceStatus, UserRole
from ledger.services.respite_dispute import invoice_dispute_open
from tests.browser import screenshot
from tests.portal360.conftest import browser_sign_in as sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_complaint_is_taken_and_resolved(browser_page, world):
    invoice_dispute_open(invoice=world["invoice"], actor="portal", reason="The bill is for someone else")
    page = browser_page
    sign_in(page, world)
    page.click("nav >> text=Services")
    page.click("text=Complaints and disputes")
    page.wait_for_selector("#worklist >> text=The bill is for someone else")
    screenshot(page, "360-worklist-complaints")
    page.click("#worklist button:has-text('Take')")
    page.wait_for_url(re.compile(r"/360/worklists/complaints/\d+/$"))
    page.click("#action-resolve > summary")
    page.check("#action-resolve input[value=favour]")
    page.fill("#action-resolve input[name=note]", "Wrong person, confirmed by the client")
    page.click("#action-resolve button")
    page.wait_for_selector("text=Done: the item has left the list.")
    assert "The bill is for someone else" not in page.locator("#worklist").inner_text()
    world["invoice"].refresh_from_db()
    assert world["invoice"].status == InvoiceStatus.CLOSED  # credited in full


def test_an_api_token_is_created_and_used(browser_page, world, live_server):
    world["user"].role = UserRole.CLIENT_ADMIN
    world["user"].save()
    page = browser_page
    sign_in(page, world)
    page.goto("/360/company/tokens/")
    page.fill("#token-form input[name=name]", "ERP")
    page.select_option("#token-form select[name=ledger]", "7101")
    page.click("#token-form button")
    secret = page.locator("#new-token").inner_text()
    screenshot(page, "360-token-created")
    assert secret.startswith("plt_")
    answer = httpx.get(f"{live_server.url}/api/v1/ledgers/7101/invoices/F-1001/",
                       headers={"Authorization": f"Bearer {secret}"})  # fmt: skip
    assert answer.status_code == 200 and answer.json()["invoice_no"] == "F-1001"
    page.goto("/360/company/tokens/")
    assert "—" not in page.locator("#tokens tbody tr").first.locator("td").nth(5).inner_text()  # last used
