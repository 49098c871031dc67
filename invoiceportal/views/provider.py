"""The test payment provider (served here; see adapters.TestPaymentProvider)."""

import hmac

from django.http import HttpResponseRedirect
from django.views.decorators.http import require_http_methods

from invoiceportal import adapters, services
from invoiceportal.models import ProviderPayment, ProviderPaymentStatus
from invoiceportal.views.common import _language, _page, _refused, portal_response, rate_limited
from ledger.errors import LedgerError

# --- The test payment provider (served here; see adapters.TestPaymentProvider) -----------------------


@require_http_methods(["GET", "POST"])
@rate_limited
def test_provider_page(request, provider_ref):
    payment = (
        ProviderPayment.objects.filter(provider_ref=provider_ref).select_related("ledger", "invoice").first()
    )
    return_url = request.GET.get("return_url", "")
    if payment is None or not hmac.compare_digest(
        request.GET.get("sig", ""), adapters.sign(provider_ref, return_url)
    ):
        return _refused(request, "not_found")
    language = _language(request, payment.ledger.country)
    if request.method == "POST" and payment.status != ProviderPaymentStatus.STARTED:
        return portal_response(HttpResponseRedirect(return_url))  # decided before: say so again
    if request.method == "POST":
        decision = request.POST.get("decision")
        status = "paid" if decision == "approve" else "cancelled"
        try:
            # What a real provider's server-to-server callback does, before the browser comes back.
            services.provider_payment_complete(
                provider_ref=provider_ref, status=status, amount=payment.amount
            )
        except LedgerError:
            return _page(
                request,
                "test_provider.html",
                {"payment": payment, "failed": True},
                language=language,
                status=502,
            )
        return portal_response(HttpResponseRedirect(return_url))
    ctx = {
        "payment": payment,
        "ledger": payment.ledger,
        "method": adapters.METHOD_LABELS.get(payment.method, payment.method),
    }
    return _page(request, "test_provider.html", ctx, language=language)
