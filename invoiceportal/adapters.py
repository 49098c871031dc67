"""The outside services the portal hands customers to, each behind a small interface:

- PaymentProvider: "pay now" (Vipps in Norway, Swish in Sweden, card elsewhere; seeds/000 section 7).
  start() returns the URL the customer's browser goes to; the provider reports back through
  invoiceportal.services.provider_payment_complete (its callback), then sends the browser to return_url.
- IdentityProvider: BankID for the direct debit sign-up. start() returns the URL to go to; the provider
  sends the browser back to the portal, which calls complete() for the verified national id.

The built-in adapters are test services served by this app itself (invoiceportal/views/provider.py, "test
provider" pages): they run the real flow end to end (the payment is booked through the bank-file path),
with a person pressing "Approve" instead of a bank. Production adapters are classes named in
INVOICE_PORTAL_PAYMENT_PROVIDERS / INVOICE_PORTAL_IDENTITY_PROVIDER.
"""

import hashlib
import hmac

from django.conf import settings
from django.urls import reverse
from django.utils.module_loading import import_string

# The payment method offered per ledger country.
METHOD_BY_COUNTRY = {"NO": "vipps", "SE": "swish", "DK": "card", "FI": "card"}
METHOD_LABELS = {"vipps": "Vipps", "swish": "Swish", "card": "card"}


class PaymentProvider:
    name = ""

    def start(self, payment, *, return_url: str) -> str:
        raise NotImplementedError


class IdentityProvider:
    name = ""

    def start(self, signup, *, return_url: str) -> str:
        raise NotImplementedError

    def complete(self, request, signup) -> str | None:
        """The verified national id for this sign-up, or None if identification did not succeed."""
        raise NotImplementedError


def sign(*parts: str) -> str:
    """An HMAC over the parts with the site's secret: the test services' answers cannot be forged."""
    message = "\x1f".join(parts).encode()
    return hmac.new(
        settings.SECRET_KEY.encode(), b"invoiceportal-test:" + message, hashlib.sha256
    ).hexdigest()


class TestPaymentProvider(PaymentProvider):
    """A payment page served by the portal itself (invoiceportal.views.provider.test_provider_page)."""

    name = "test"

    def start(self, payment, *, return_url: str) -> str:
        url = reverse("invoiceportal:test-provider", args=[payment.provider_ref])
        return f"{url}?{_query(return_url=return_url, sig=sign(payment.provider_ref, return_url))}"


class TestIdentityProvider(IdentityProvider):
    """A BankID stand-in: the person types a national id, which must be valid for the ledger's country."""

    name = "bankid-test"

    def start(self, signup, *, return_url: str) -> str:
        return reverse("invoiceportal:test-bankid", args=[signup.state])

    def complete(self, request, signup) -> str | None:
        national_id = request.GET.get("nid", "")
        if not hmac.compare_digest(request.GET.get("sig", ""), sign(signup.state, national_id)):
            return None
        return national_id or None


def _query(**params) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def payment_method(country: str) -> str:
    return METHOD_BY_COUNTRY.get(country, "card")


def payment_provider(method: str) -> PaymentProvider:
    path = getattr(settings, "INVOICE_PORTAL_PAYMENT_PROVIDERS", {}).get(method) or (
        "invoiceportal.adapters.TestPaymentProvider"
    )
    return import_string(path)()


def identity_provider() -> IdentityProvider:
    path = (
        getattr(settings, "INVOICE_PORTAL_IDENTITY_PROVIDER", "")
        or "invoiceportal.adapters.TestIdentityProvider"
    )
    return import_string(path)()
