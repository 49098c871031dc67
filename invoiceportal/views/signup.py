"""Direct debit sign-up (seeds/002): from the client's web page through BankID to the consent."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from distribution import texts
from invoiceportal import adapters, selectors, services
from invoiceportal.models import DirectDebitSignup, SignupStatus
from invoiceportal.views.common import (
    CONSENT_NAMES,
    _error_text,
    _language,
    _page,
    _refused,
    portal_response,
    rate_limited,
)
from ledger.errors import LedgerError
from ledger.models import Ledger

# --- Direct debit sign-up (seeds/002) ----------------------------------------------------------------


def valid_return_url(value: str) -> str:
    """The client's returnUrl if we may send the customer there: https (http only while DEBUG), a host,
    no credentials, no control characters. Anything else is dropped (seeds/002: the page is shown
    without it)."""
    if not value or len(value) > 2000 or any(ord(ch) < 33 or ord(ch) == 127 for ch in value):
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    allowed = {"https", "http"} if settings.DEBUG else {"https"}
    if parts.scheme not in allowed or not parts.hostname or parts.username or parts.password:
        return ""
    return value


def with_status(return_url: str, status: str) -> str:
    parts = urlsplit(return_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "status"]
    query.append(("status", status))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _signup(state: str) -> DirectDebitSignup | None:
    if not state or len(state) > 64:
        return None
    return (
        DirectDebitSignup.objects.filter(state=state)
        .select_related("ledger", "ledger__client", "customer")
        .first()
    )


@require_http_methods(["GET", "POST"])
@rate_limited
def direct_debit(request, company_no):
    ledger = Ledger.objects.filter(company_no=company_no).select_related("client").first()
    if ledger is None or ledger.country not in selectors.DIRECT_DEBIT_KIND:
        return _refused(request, "not_found")
    language = _language(request, ledger.country)
    asked = request.GET.get("returnUrl", "")
    return_url = valid_return_url(asked)
    if asked and not return_url:
        # seeds/002: an unusable returnUrl is not followed; the page is shown without it.
        url = reverse("invoiceportal:direct-debit", args=[company_no])
        return portal_response(HttpResponseRedirect(f"{url}?refused_return_url=1"))
    if request.method == "POST":
        signup = services.direct_debit_signup_start(ledger=ledger, return_url=return_url)
        provider = adapters.identity_provider()
        back = request.build_absolute_uri(reverse("invoiceportal:dd-identified", args=[signup.state]))
        return portal_response(HttpResponseRedirect(provider.start(signup, return_url=back)))
    ctx = {
        "ledger": ledger,
        "client": ledger.client,
        "scheme": CONSENT_NAMES[selectors.DIRECT_DEBIT_KIND[ledger.country]],
        "return_url": return_url,
        "refused_return_url": bool(request.GET.get("refused_return_url")),
        "administration_text": texts.administration_text(ledger.country, ledger.client.name),
    }
    return _page(request, "dd_start.html", ctx, language=language)


@require_http_methods(["GET", "POST"])
@rate_limited
def test_bankid(request, state):
    signup = _signup(state)
    if signup is None:
        return _refused(request, "not_found")
    language = _language(request, signup.ledger.country)
    error = ""
    if request.method == "POST":
        from ledger.national_ids import InvalidNationalId, validate_national_id

        try:
            nid = validate_national_id(
                request.POST.get("nid", ""), country=signup.ledger.country, business=False
            )
        except InvalidNationalId:
            error = gettext_lazy("That is not a valid national identity number.")
        else:
            url = reverse("invoiceportal:dd-identified", args=[state])
            query = urlencode({"nid": nid, "sig": adapters.sign(state, nid)})
            return portal_response(HttpResponseRedirect(f"{url}?{query}"))
    return _page(
        request,
        "test_bankid.html",
        {"signup": signup, "ledger": signup.ledger, "error": error},
        language=language,
    )


@require_GET
@rate_limited
def dd_identified(request, state):
    signup = _signup(state)
    if signup is None or signup.status != SignupStatus.STARTED:
        return _refused(request, "not_found")
    provider = adapters.identity_provider()
    national_id = provider.complete(request, signup)
    if national_id is None:
        return _refused(request, "not_found")
    signup = services.direct_debit_signup_identified(
        signup=signup, national_id=national_id, provider=provider.name
    )
    step = "invoiceportal:dd-confirm" if signup.status == SignupStatus.IDENTIFIED else "invoiceportal:dd-done"
    return portal_response(HttpResponseRedirect(reverse(step, args=[state])))


@require_http_methods(["GET", "POST"])
@rate_limited
def dd_confirm(request, state):
    signup = _signup(state)
    if signup is None:
        return _refused(request, "not_found")
    if signup.status not in (SignupStatus.IDENTIFIED,):
        return portal_response(HttpResponseRedirect(reverse("invoiceportal:dd-done", args=[state])))
    language = _language(request, signup.ledger.country)
    error = ""
    if request.method == "POST":
        if request.POST.get("decision") == "cancel":
            services.direct_debit_signup_cancel(signup=signup)
            return portal_response(HttpResponseRedirect(reverse("invoiceportal:dd-done", args=[state])))
        try:
            services.direct_debit_signup_complete(
                signup=signup,
                account=request.POST.get("account", ""),
                amount_limit=request.POST.get("amount_limit", ""),
            )
        except LedgerError as exc:
            error = _error_text(exc)
        else:
            return portal_response(HttpResponseRedirect(reverse("invoiceportal:dd-done", args=[state])))
    ctx = {
        "signup": signup,
        "ledger": signup.ledger,
        "client": signup.ledger.client,
        "scheme": CONSENT_NAMES[signup.kind],
        "error": error,
        "posted": request.POST,
    }
    return _page(request, "dd_confirm.html", ctx, language=language, status=400 if error else 200)


@require_GET
@rate_limited
def dd_done(request, state):
    signup = _signup(state)
    if signup is None or signup.status in (SignupStatus.STARTED, SignupStatus.IDENTIFIED):
        return _refused(request, "not_found")
    language = _language(request, signup.ledger.country)
    back = with_status(signup.return_url, signup.status) if signup.return_url else ""
    ctx = {"signup": signup, "ledger": signup.ledger, "scheme": CONSENT_NAMES[signup.kind], "back": back}
    response = _page(request, "dd_done.html", ctx, language=language)
    if back:
        # A plain navigation after the page: CSP's form-action would stop a redirect from the form post.
        response["Refresh"] = f"3; url={back}"
    return response
