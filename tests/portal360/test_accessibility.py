"""axe-core in the browser over the main 360 and invoice-portal pages: no serious or critical violation
(WCAG 2.1 A and AA rules as axe-core checks them)."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from distribution.links import portal_link_issue
from tests.portal360.conftest import browser_sign_in


def serious(page) -> list[str]:
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]}})
    assert len(results.response["passes"]) > 10  # axe-core really looked at the page
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.django_db(transaction=True)
def test_the_main_pages_have_no_serious_accessibility_violation(browser_page, world):
    page = browser_page
    browser_sign_in(page, world)
    ledger, invoice = world["ledger"], world["invoice"]
    no = ledger.company_no
    pages = [
        "/360/",
        "/360/customers/?q=kari",
        f"/360/l/{no}/customers/{world['customer'].customer_no}/",
        "/360/services/",
        f"/360/l/{no}/invoices/{invoice.invoice_no}/",
        "/360/worklists/unidentified/",
        "/360/company/rules/",
        "/360/reports/",
        f"/360/l/{no}/reports/aging/",
        "/360/dashboard/",
    ]
    found = {}
    for url in pages:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        if problems := serious(page):
            found[url] = problems
    token = portal_link_issue(ledger_id=ledger.pk, customer_id=invoice.customer_id, invoice_id=invoice.pk)
    page.goto(f"/p/{token}/")
    assert re.search(r"F-1001", page.content())
    if problems := serious(page):
        found["portal invoice"] = problems
    assert found == {}
