"""Tenant isolation walked over the whole URLconf (issue 29): every route that names an object (a ledger,
customer, invoice, document, worklist item, user, token, portal invoice) has a case here that asks for
another client's object as a signed-in user of the first client, expecting 403 or 404 and nothing
changed; a new route without a case fails `test_every_route_that_names_an_object_has_a_case`.

The API's routes are walked by tests/api/test_every_endpoint.py (every route, another client's token:
404); the admin is our staff's only (tests/ledger/test_admin.py); routes that name nothing of a client
(a sign-in step, a public page) are listed in PUBLIC with the reason.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from api.models import ApiToken
from api.services import api_token_create
from distribution.links import portal_link_issue
from ledger.models import Customer, Invoice, InvoiceEvent, JournalTransaction, User, UserRole
from portal360.models import WorklistClaim
from tests.factories import CustomerFactory, DocumentFactory, InvoiceFactory, LedgerFactory, UserFactory
from tests.helpers import sign_in

# route name -> why it names nothing a client owns
PUBLIC = {
    "portal360:oidc_start": "a client's single sign-on entry, public by design (the IdP decides)",
    "portal360:password_reset_confirm": "the e-mailed reset token itself is the secret",
    "portal360:company_rules_change": "the part of the signed-in user's own ledger rules (ledger, claims, steps)",
    "portal360:worklist": "a list kind; the list shows the user's own ledger only (tests/portal360/test_worklists.py)",
    "invoiceportal:direct-debit": "the public start of a sign-up for a ledger (no customer data)",
    "invoiceportal:dd-identified": "the sign-up's own secret state",
    "invoiceportal:dd-confirm": "the sign-up's own secret state",
    "invoiceportal:dd-done": "the sign-up's own secret state",
    "invoiceportal:test-bankid": "the built-in test identity provider, by the sign-up's secret state",
    "invoiceportal:link": "the link token is the secret (tests/invoiceportal: revoked, expired, unknown = 404)",
    "invoiceportal:dispute": "the link token is the secret",
    "invoiceportal:respite": "the link token is the secret",
    "invoiceportal:contact": "the link token is the secret",
    "invoiceportal:pay": "the link token is the secret",
}


def _routes(patterns=None, prefix="", namespace=""):
    """(full route, name) of every named route, with the namespaces of the includes."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}"


def _names_an_object(route: str) -> bool:
    return "<" in route or "(?P<" in route


@pytest.fixture
def world(db, client):
    """The first client's administrator signed in; the second client's objects, one of each kind."""
    mine = LedgerFactory(company_no="7101", country="NO")
    theirs = LedgerFactory(company_no="7102", country="NO")
    admin = UserFactory(client=mine.client, role=UserRole.CLIENT_ADMIN, username="mine-admin", email="a@example.no")
    sign_in(client, admin)
    customer = CustomerFactory(ledger=theirs, customer_no="9001")
    invoice = InvoiceFactory(customer=customer, invoice_no="T-1")
    Invoice.objects.filter(pk=invoice.pk).update(status="disputed")  # an item of their complaints worklist
    document = DocumentFactory(customer=customer, invoice=invoice, kind="invoice")
    their_user = UserFactory(client=theirs.client, username="their-user", email="t@example.no")
    token, _ = api_token_create(client=theirs.client, ledger=theirs, can_write=True)
    my_customer = CustomerFactory(ledger=mine, customer_no="9001")
    my_link = portal_link_issue(ledger_id=mine.id, customer_id=my_customer.id, invoice_id=None)
    return {"client": client, "theirs": theirs, "customer": customer, "invoice": invoice, "document": document,
            "user": their_user, "token": token, "my_link": my_link}  # fmt: skip


def _cases(w) -> dict[str, list[tuple[str, str]]]:
    """route name -> (method, URL) asking for the second client's object."""
    co, cu, no, doc = w["theirs"].company_no, w["customer"].customer_no, w["invoice"].invoice_no, w["document"].pk
    item, link = w["invoice"].pk, w["my_link"]
    return {
        "portal360:customer": [("get", f"/360/l/{co}/customers/{cu}/")],
        "portal360:customer_action": [("post", f"/360/l/{co}/customer-action/address/{cu}/")],
        "portal360:customer_document": [("get", f"/360/l/{co}/customer-document/{doc}/{cu}/")],
        "portal360:invoice": [("get", f"/360/l/{co}/invoices/{no}/")],
        "portal360:invoice_action": [("post", f"/360/l/{co}/invoice-action/credit/{no}/")],
        "portal360:invoice_document": [("get", f"/360/l/{co}/invoice-document/{doc}/{no}/")],
        "portal360:report": [("get", f"/360/l/{co}/reports/aging/")],
        "portal360:report_download": [("get", f"/360/l/{co}/reports/aging/download.csv")],
        "portal360:files": [("get", f"/360/l/{co}/files/")],
        "portal360:files_inbox": [("get", f"/360/l/{co}/files/inbox/")],
        "portal360:file_download": [("get", f"/360/l/{co}/files/outbox/receipt.xml")],
        "portal360:worklist_item": [("get", f"/360/worklists/complaints/{item}/")],
        "portal360:worklist_take": [("post", f"/360/worklists/complaints/{item}/take/")],
        "portal360:worklist_release": [("post", f"/360/worklists/complaints/{item}/release/")],
        "portal360:worklist_act": [("post", f"/360/worklists/complaints/{item}/resolve/")],
        "portal360:company_user_update": [("post", f"/360/company/users/{w['user'].pk}/")],
        "portal360:company_user_2fa": [("post", f"/360/company/users/{w['user'].pk}/second-factor/")],
        "portal360:company_token_revoke": [("post", f"/360/company/tokens/{w['token'].pk}/revoke/")],
        "invoiceportal:invoice": [("get", f"/p/{link}/invoices/{w['invoice'].pk}/")],
        "invoiceportal:document-pdf": [("get", f"/p/{link}/documents/{doc}/pdf/")],
        "invoiceportal:paid": [("get", f"/p/{link}/paid/unknown-ref/")],
        "invoiceportal:test-provider": [("get", "/p/test-provider/pay/unknown-ref/")],
    }


def _state():
    return (
        Invoice.objects.count(), InvoiceEvent.objects.count(), JournalTransaction.objects.count(),
        Customer.objects.count(), WorklistClaim.objects.count(),
        ApiToken.objects.filter(revoked_at__isnull=True).count(), User.objects.filter(is_active=True).count(),
        list(User.objects.order_by("pk").values_list("role", "is_active")),
    )  # fmt: skip


def test_every_route_that_names_an_object_has_a_case(world):
    api_and_admin = ("api-", "admin:")
    named = {name for route, name in _routes() if _names_an_object(route) and not name.startswith(api_and_admin)}
    uncovered = named - set(_cases(world)) - set(PUBLIC)
    assert uncovered == set(), f"routes without a tenancy case: {sorted(uncovered)}"
    assert set(_cases(world)) - named == set(), "cases of routes that are gone"


def test_another_clients_object_is_403_or_404_on_every_route_and_nothing_changes(world):
    client = world["client"]
    before = _state()
    for name, requests in _cases(world).items():
        for method, url in requests:
            answer = getattr(client, method)(url, {"reason": "x", "amount": "1.00", "cause": "Settlement"})
            assert answer.status_code in (403, 404), (name, url, answer.status_code)
            body = answer.content.decode(errors="replace")
            assert world["customer"].name not in body, (name, url)
    assert _state() == before
