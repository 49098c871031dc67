"""The direct debit sign-up a client links to with returnUrl (seeds/002)."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from invoiceportal.adapters import sign
from invoiceportal.models import DirectDebitSignup
from invoiceportal.views.signup import valid_return_url, with_status
from ledger.models import ConsentKind, CustomerConsent, CustomerEvent
from tests.factories import CustomerFactory

VALID_NID = "15076500565"


@pytest.fixture
def customer(ledger_no):
    return CustomerFactory(ledger=ledger_no, national_id=VALID_NID, name="Kari Nordmann")


def identify(client, ledger, nid=VALID_NID, return_url="https://client.example/welcome?x=1"):
    response = client.post(f"/p/direct-debit/{ledger.company_no}/?returnUrl={return_url}")
    assert response.status_code == 302
    bankid = response["Location"]
    assert bankid.startswith("/p/test-provider/bankid/")
    response = client.post(bankid, {"nid": nid})
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response.status_code == 302
    return DirectDebitSignup.objects.get(), response["Location"]


def test_sign_up_round_trip_returns_with_success_and_records_the_consent(customer, ledger_no):
    client = Client()
    page = client.get(f"/p/direct-debit/{ledger_no.company_no}/?returnUrl=https://client.example/welcome?x=1")
    assert page.status_code == 200 and "AvtaleGiro" in page.content.decode()
    signup, confirm = identify(client, ledger_no)
    assert signup.customer == customer and signup.status == "identified"
    assert "Kari Nordmann" in client.get(confirm).content.decode()
    done = client.post(confirm, {"decision": "sign", "account": "1503.20.80003", "amount_limit": "5000"})
    assert done.status_code == 302
    final = client.get(done["Location"])
    back = final["Refresh"].split("url=", 1)[1]
    assert urlsplit(back).netloc == "client.example"
    assert parse_qs(urlsplit(back).query) == {"x": ["1"], "status": ["success"]}
    consent = CustomerConsent.objects.get(customer=customer, kind=ConsentKind.AVTALEGIRO_NO)
    assert consent.active and consent.source == "invoice portal sign-up (bankid-test)"
    assert CustomerEvent.objects.filter(customer=customer, kind="consent_activated").exists()


def test_cancel_returns_with_cancel_and_records_nothing(customer, ledger_no):
    client = Client()
    _, confirm = identify(client, ledger_no)
    done = client.post(confirm, {"decision": "cancel"})
    back = client.get(done["Location"])["Refresh"].split("url=", 1)[1]
    assert parse_qs(urlsplit(back).query)["status"] == ["cancel"]
    assert not CustomerConsent.objects.exists()


def test_an_unknown_person_returns_with_fail(customer, ledger_no):
    client = Client()
    signup, location = identify(client, ledger_no, nid="01017010170")
    assert signup.status == "fail"
    back = client.get(location)["Refresh"].split("url=", 1)[1]
    assert parse_qs(urlsplit(back).query)["status"] == ["fail"]
    assert not CustomerConsent.objects.exists()


def test_a_bad_account_is_refused_and_records_nothing(customer, ledger_no):
    client = Client()
    _, confirm = identify(client, ledger_no)
    response = client.post(confirm, {"decision": "sign", "account": "12345"})
    assert response.status_code == 400 and "Sjekk kontonummeret." in response.content.decode()
    assert not CustomerConsent.objects.exists()


def test_a_forged_identity_is_refused(customer, ledger_no):
    client = Client()
    client.post(f"/p/direct-debit/{ledger_no.company_no}/")
    signup = DirectDebitSignup.objects.get()
    forged = client.get(f"/p/direct-debit/s/{signup.state}/identified/?nid={VALID_NID}&sig=00")
    assert forged.status_code == 404
    good = client.get(
        f"/p/direct-debit/s/{signup.state}/identified/?nid={VALID_NID}&sig={sign(signup.state, VALID_NID)}"
    )
    assert good.status_code == 302


def test_http_return_url_is_refused_outside_debug(ledger_no, settings):
    settings.DEBUG = False
    response = Client().get(f"/p/direct-debit/{ledger_no.company_no}/?returnUrl=http://client.example/")
    assert response.status_code == 302 and "returnUrl" not in response["Location"]
    page = Client().get(response["Location"])
    assert "ikke kan sende deg tilbake til" in page.content.decode()


@pytest.mark.parametrize(
    "url,debug,ok",
    [
        ("https://client.example/x?y=1", False, True),
        ("http://client.example/", False, False),
        ("http://client.example/", True, True),
        ("javascript:alert(1)", True, False),
        ("https://user:pw@client.example/", False, False),
        ("https:///nohost", False, False),
        ("https://client.example/\nSet-Cookie:x", False, False),
        ("//client.example/", False, False),
    ],
)
def test_return_url_rules(settings, url, debug, ok):
    settings.DEBUG = debug
    assert (valid_return_url(url) == url) is ok


def test_status_replaces_an_existing_one():
    assert with_status("https://c.example/?status=x&a=1", "fail") == "https://c.example/?a=1&status=fail"


def test_a_swedish_ledger_offers_autogiro(db):
    from tests.factories import LedgerFactory

    ledger = LedgerFactory(country="SE")
    page = Client().get(f"/p/direct-debit/{ledger.company_no}/")
    assert "Autogiro" in page.content.decode() and 'lang="sv"' in page.content.decode()


def test_the_consent_feeds_the_next_avtalegiro_claim_file(customer, ledger_no, settings, tmp_path):
    from datetime import timedelta
    from decimal import Decimal

    from ledger.payments.direct_debit.claims import debit_claims_send
    from ledger.services.registration import InvoiceInput, invoices_register

    settings.LEDGER_DATA_DIR = tmp_path
    client = Client()
    _, confirm = identify(client, ledger_no)
    client.post(confirm, {"decision": "sign", "account": "15032080003"})
    today = ledger_no.today()
    [invoice] = invoices_register(
        ledger=ledger_no,
        invoices=[
            InvoiceInput(
                customer=customer,
                invoice_no="DD-1",
                invoice_date=today,
                due_date=today + timedelta(days=6),
                amount=Decimal("499.00"),
            )
        ],
        actor="test",
    )
    summary = debit_claims_send(ledger=ledger_no, as_of=today, actor="ops")
    assert (summary["claims"], summary["total"]) == (1, "499.00")
    content = next((tmp_path / "sftp").rglob(summary["file"])).read_text(encoding="latin-1")
    assert invoice.payment_ref in content
