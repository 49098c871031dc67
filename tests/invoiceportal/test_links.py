"""Every way a token can be presented: valid, tampered, unknown, expired, revoked, closed invoice,
another customer's; and the rate limit on links that do not open."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from distribution.links import portal_link_issue, portal_links_revoke, token_hash
from distribution.models import PortalLink
from ledger.models import Cause, InvoiceStatus
from ledger.services.invoice_changes import invoice_credit
from tests.factories import CustomerFactory
from tests.invoiceportal.conftest import make_invoice, send_reminder


def get(token, client=None):
    return (client or Client()).get(f"/p/{token}/")


def test_valid_link_shows_only_that_customers_invoice(reminded):
    invoice, token = reminded
    other = make_invoice(invoice.ledger, invoice_no="OTHER-1")
    response = get(token)
    assert response.status_code == 200
    html = response.content.decode()
    assert invoice.invoice_no in html and invoice.payment_ref in html
    assert other.invoice_no not in html and other.payment_ref not in html and other.customer.name not in html
    link = PortalLink.objects.get(token_hash=token_hash(token))
    assert (link.invoice_id, link.customer_id, link.document.kind) == (
        invoice.pk,
        invoice.customer_id,
        "reminder",
    )


def test_only_the_hash_of_the_token_is_stored(reminded):
    _, token = reminded
    assert not PortalLink.objects.filter(token_hash=token).exists()
    assert PortalLink.objects.filter(token_hash=token_hash(token)).exists()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character changed
        lambda t: t[:-2],  # cut short
        lambda t: t + "x",  # too long
        lambda t: "../" + t,
        lambda t: "%00" + t[3:],
    ],
)
def test_a_tampered_token_gets_the_friendly_page_and_no_data(reminded, tamper):
    invoice, token = reminded
    response = Client().get(f"/p/{tamper(token)}/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Denne lenken kan ikke åpnes" in html or "This link does not open" in html
    assert "ny lenke" in html or "new link" in html
    assert invoice.invoice_no not in html and invoice.customer.name not in html
    assert response["Referrer-Policy"] == "no-referrer"


def test_expired_link(reminded, settings):
    invoice, token = reminded
    with time_machine.travel(timedelta(days=settings.INVOICE_PORTAL_LINK_MAX_AGE_DAYS, seconds=1)):
        response = get(token)
    assert response.status_code == 404
    html = response.content.decode()
    assert "Lenken er utløpt." in html and invoice.invoice_no not in html


def test_revoked_link(reminded):
    invoice, token = reminded
    assert portal_links_revoke(invoice=invoice, reason="sent to the wrong address") == 1
    response = get(token)
    assert response.status_code == 404
    assert "Lenken er ikke lenger gyldig." in response.content.decode()
    assert invoice.invoice_no not in response.content.decode()


def test_link_to_a_closed_invoice_counts_as_revoked(reminded):
    invoice, token = reminded
    invoice_credit(invoice=invoice, actor="test", cause=Cause.COMPLAINT, reason="credited in full")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CLOSED
    response = get(token)
    assert response.status_code == 410
    html = response.content.decode()
    assert "er avsluttet" in html
    assert invoice.payment_ref not in html and "Kari Nordmann" not in html


def test_another_customers_link_shows_the_other_customer_only(reminded):
    invoice, token = reminded
    other_customer = CustomerFactory(ledger=invoice.ledger, email="ola@example.no", name="Ola Hansen")
    other = make_invoice(invoice.ledger, customer=other_customer)
    other_token = send_reminder(other)
    html = get(other_token).content.decode()
    assert other.invoice_no in html and "Ola Hansen" in html
    assert invoice.invoice_no not in html and "Kari Nordmann" not in html
    # The other customer's link cannot be pointed at the first customer's invoice or documents.
    response = Client().get(f"/p/{other_token}/invoices/{invoice.pk}/")
    assert response.status_code == 404 and invoice.invoice_no not in response.content.decode()
    document = PortalLink.objects.get(token_hash=token_hash(token)).document
    response = Client().get(f"/p/{other_token}/documents/{document.pk}/pdf/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_links_that_do_not_open_are_rate_limited_per_address(reminded, settings):
    _, token = reminded
    settings.INVOICE_PORTAL_BAD_LINK_LIMIT = "5/hour"
    client = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(5):
        assert client.get(f"/p/{'A' * 42}{n % 10}/").status_code == 404
    refused = client.get(f"/p/{token}/")  # even a good link, once the address has guessed too much
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "For mange forsøk" in refused.content.decode() or "Too many attempts" in refused.content.decode()
    # Another address is not affected.
    assert Client(REMOTE_ADDR="203.0.113.8").get(f"/p/{token}/").status_code == 200


def test_all_requests_are_rate_limited_per_address(reminded, settings):
    _, token = reminded
    settings.INVOICE_PORTAL_RATE_LIMIT = "3/min"
    client = Client(REMOTE_ADDR="198.51.100.1")
    assert [client.get(f"/p/{token}/").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_customer_link_lists_the_open_invoices_with_a_total(data_dir, ledger_no, today):
    customer = CustomerFactory(ledger=ledger_no, email="k@example.no")
    a = make_invoice(ledger_no, customer=customer, amount="100.00", n=1)
    b = make_invoice(ledger_no, customer=customer, amount="250.50", n=2)
    closed = make_invoice(ledger_no, customer=customer, amount="75.00", n=3)
    invoice_credit(invoice=closed, actor="test", cause=Cause.COMPLAINT, reason="wrong")
    foreign = make_invoice(ledger_no, amount="999.00", n=4)
    token = portal_link_issue(ledger_id=ledger_no.pk, customer_id=customer.pk, invoice_id=None)
    response = get(token)
    assert response.status_code == 200
    html = response.content.decode()
    assert a.invoice_no in html and b.invoice_no in html
    assert closed.invoice_no not in html and foreign.invoice_no not in html
    assert "350,50\xa0kr" in html
    detail = Client().get(f"/p/{token}/invoices/{b.pk}/")
    assert detail.status_code == 200 and b.payment_ref in detail.content.decode()
    assert Client().get(f"/p/{token}/invoices/{foreign.pk}/").status_code == 404
    assert Client().get(f"/p/{token}/invoices/{closed.pk}/").status_code == 404


def test_root_without_a_token_explains_where_links_come_from(db):
    response = Client().get("/p/")
    assert response.status_code == 404 and "new link" in response.content.decode()
