"""Generated bodies for every form of 360 and the invoice portal (issue 29): the pages are read as a user
sees them, each POST form found on them is sent hypothesis-generated values in its own fields (hostile
text, numbers, dates, amounts, blanks, long values, fields left out), and

- no answer is a server error;
- a refused one (an answer of 4xx, or an error message or form errors on the page) wrote nothing: every
  table but the action log and the sign-in bookkeeping holds the rows it held before.

The examples are derandomized (FUZZ_EXAMPLES, as in tests/ledger/test_bankfiles_fuzz.py); each runs in a
savepoint rolled back after it, so one form's success does not change the next one's world."""

import re
from datetime import date

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.contrib.messages.constants import ERROR
from django.db import connection, transaction
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from lxml import html

from distribution.links import portal_link_issue
from ledger.models import UserRole
from tests.factories import CustomerFactory, DocumentFactory, InvoiceFactory, LedgerFactory, UserFactory
from tests.helpers import sign_in
from tests.ledger.test_bankfiles_fuzz import EXAMPLES, FUZZ_SETTINGS

TODAY = date(2026, 3, 10)
# Tables a refused request may still write: the action log, sessions, sign-in attempts, rate limits.
BOOKKEEPING = re.compile(
    r"^(ledger_actionlogentry|django_session|axes_.*|invoiceportal_ratelimit.*|django_otp.*)$"
)
HOSTILE = st.sampled_from([
    "", " ", "0", "-1", "1e9", "NaN", "99999999999999999999.99", "12,50", "1 000,00", "2026-02-30", "31.12.2026",
    "<script>alert(1)</script>", "' OR 1=1 --", "\x00", "../../etc/passwd", "ÅØÆ åøæ", "😀", "a" * 5000,
])  # fmt: skip
VALUE = HOSTILE | st.text(max_size=40) | st.integers(-(10**12), 10**12).map(str) | st.dates().map(str)


def _forms(page_html: str, page_url: str) -> list[tuple[str, list[str]]]:
    """(action URL, field names) of each POST form on the page."""
    found = []
    for form in html.fromstring(page_html).forms:
        if (form.method or "").lower() != "post":
            continue
        action = form.get("action") or page_url
        names = sorted({el.name for el in form.inputs if el.name and el.name != "csrfmiddlewaretoken"})
        found.append((action, names))
    return found


def _row_counts() -> dict[str, int]:
    tables = [t for t in connection.introspection.table_names() if not BOOKKEEPING.match(t)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}")' for t in tables))
        return dict(zip(tables, cursor.fetchone(), strict=True))


def _refused(response) -> bool:
    if response.status_code >= 400:
        return True
    if any(m.level >= ERROR for m in get_messages(response.wsgi_request)):
        return True
    body = response.content.decode(errors="replace") if not response.streaming else ""
    return 'class="errorlist' in body or 'aria-invalid="true"' in body


@pytest.fixture
def world(db, client, settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    ledger = LedgerFactory(company_no="7301", country="NO", client_funds_account="15030000002")
    admin = UserFactory(
        client=ledger.client, role=UserRole.CLIENT_ADMIN, username="form-admin", email="f@example.no"
    )
    UserFactory(client=ledger.client, role=UserRole.OPERATOR, username="form-operator", email="o@example.no")
    customer = CustomerFactory(
        ledger=ledger, customer_no="8001", national_id="01019012345", email="k@example.no"
    )
    invoice = InvoiceFactory(customer=customer, invoice_no="FZ-1", invoice_date=date(2026, 2, 1),
                             booking_date=date(2026, 2, 1), due_date=date(2026, 2, 15))  # fmt: skip
    DocumentFactory(customer=customer, invoice=invoice, kind="invoice")
    link = portal_link_issue(ledger_id=ledger.id, customer_id=customer.id, invoice_id=invoice.id)
    sign_in(client, admin)
    return {"client": client, "ledger": ledger, "customer": customer, "invoice": invoice, "link": link}


def _pages(w) -> list[str]:
    co, cu, no = w["ledger"].company_no, w["customer"].customer_no, w["invoice"].invoice_no
    return [
        f"/360/l/{co}/customers/{cu}/", f"/360/l/{co}/invoices/{no}/", "/360/company/rules/", "/360/company/users/",
        "/360/company/tokens/", f"/360/l/{co}/files/", "/360/worklists/complaints/",
        f"/p/{w['link']}/", f"/p/{w['link']}/invoices/{w['invoice'].pk}/",
    ]  # fmt: skip


@pytest.mark.parametrize("face", ["360", "portal"])
def test_generated_form_bodies_get_no_server_error_and_a_refusal_writes_nothing(world, face):
    client = world["client"]
    forms = {}
    with time_machine.travel(TODAY):
        for url in _pages(world):
            if url.startswith("/p/") != (face == "portal"):
                continue
            page = client.get(url)
            assert page.status_code == 200, url
            for action, names in _forms(page.content.decode(), url):
                if action != "/360/logout/":  # (signing out ends the walk; tests/portal360/test_signin.py)
                    forms.setdefault(action, set()).update(names)
    assert len(forms) >= (5 if face == "360" else 2), forms

    for action, names in sorted(forms.items()):
        _fuzz_form(client, action, names)


def _fuzz_form(client, action: str, names: set[str]) -> None:
    @hypothesis_settings(FUZZ_SETTINGS, max_examples=max(EXAMPLES // 25, 6))
    @given(body=st.fixed_dictionaries({}, optional={name: VALUE for name in sorted(names)}))
    def check(body):
        with time_machine.travel(TODAY), transaction.atomic():
            before = _row_counts()
            response = client.post(action, body)
            assert response.status_code < 500, (action, body, response.status_code)
            if _refused(response):
                after = _row_counts()
                assert {t: (n, after[t]) for t, n in before.items() if after[t] != n} == {}, (action, body)
            transaction.set_rollback(True)

    check()
