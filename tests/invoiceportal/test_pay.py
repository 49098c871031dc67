"""Pay now with the test provider: a real payment through the bank-file path, booked once."""

from decimal import Decimal
from urllib.parse import urlsplit

from django.test import Client

from invoiceportal.models import ProviderPayment
from invoiceportal.services import provider_payment_complete
from ledger.models import InvoiceStatus, Payment, PaymentFile
from tests.invoiceportal.conftest import verify_problems


def start(token, invoice):
    client = Client()
    response = client.post(f"/p/{token}/pay/", {"invoice": invoice.pk})
    assert response.status_code == 302
    return client, response["Location"]


def test_paying_with_the_test_provider_closes_the_invoice_and_the_journal_balances(reminded):
    invoice, token = reminded
    client, provider_url = start(token, invoice)
    assert provider_url.startswith("/p/test-provider/pay/TEST-")
    page = client.get(provider_url)
    assert page.status_code == 200 and "Vipps" in page.content.decode()
    assert "1\xa0035,00\xa0kr" in page.content.decode()
    back = client.post(provider_url, {"decision": "approve"})
    assert back.status_code == 302
    receipt = client.get(urlsplit(back["Location"]).path)
    assert receipt.status_code == 200
    assert "Takk for betalingen" in receipt.content.decode()

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CLOSED
    payment = Payment.objects.get(ledger=invoice.ledger)
    provider = ProviderPayment.objects.get()
    assert (payment.amount, payment.bank_archive_ref, payment.invoice_id) == (
        Decimal("1035.00"),
        provider.provider_ref,
        invoice.pk,
    )
    assert (provider.status, provider.payment_id) == ("paid", payment.pk)
    assert verify_problems(invoice.ledger) == []
    # The link now says the invoice is settled, and shows nothing more.
    assert client.get(f"/p/{token}/").status_code == 410


def test_the_providers_notice_twice_books_once(reminded):
    invoice, token = reminded
    client, provider_url = start(token, invoice)
    ref = ProviderPayment.objects.get().provider_ref
    provider_payment_complete(provider_ref=ref, status="paid", amount=Decimal("1035.00"))
    provider_payment_complete(provider_ref=ref, status="paid", amount=Decimal("1035.00"))
    assert client.post(provider_url, {"decision": "approve"}).status_code == 302  # and the browser's, too
    assert Payment.objects.filter(ledger=invoice.ledger).count() == 1
    assert PaymentFile.objects.filter(ledger=invoice.ledger).count() == 1
    assert verify_problems(invoice.ledger) == []


def test_cancel_at_the_provider_books_nothing(reminded):
    invoice, token = reminded
    client, provider_url = start(token, invoice)
    back = client.post(provider_url, {"decision": "cancel"})
    receipt = client.get(urlsplit(back["Location"]).path)
    assert "Betalingen ble ikke gjennomført" in receipt.content.decode()
    assert not Payment.objects.exists()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN


def test_the_provider_page_refuses_a_forged_return_address(reminded):
    invoice, token = reminded
    client, provider_url = start(token, invoice)
    forged = provider_url.split("?")[0] + "?return_url=https%3A%2F%2Fevil.example%2F&sig=00"
    assert client.post(forged, {"decision": "approve"}).status_code == 404
    assert not Payment.objects.exists()


def test_an_amount_other_than_asked_is_not_booked(reminded):
    invoice, token = reminded
    start(token, invoice)
    ref = ProviderPayment.objects.get().provider_ref
    from ledger.errors import ValidationFailed

    try:
        provider_payment_complete(provider_ref=ref, status="paid", amount=Decimal("1.00"))
    except ValidationFailed as exc:
        assert exc.code == "provider_amount_mismatch"
    else:
        raise AssertionError("a wrong amount was accepted")
    assert not Payment.objects.exists()
