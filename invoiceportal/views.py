"""The invoice portal's pages. Thin: every read is a selector, every write a service; each response
carries the portal's security headers (portal_response)."""

import hmac
from functools import wraps
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from distribution import texts
from distribution.selectors import archived_document_pdf
from ledger.errors import LedgerError, NotFound, ValidationFailed
from ledger.models import Ledger, LegalEntity

from . import adapters, ratelimit, selectors, services
from .models import DirectDebitSignup, ProviderPayment, ProviderPaymentStatus, SignupStatus
from .selectors import LinkRefused

LANGUAGES = ("nb", "sv", "da", "en")
LANGUAGE_NAMES = {"nb": "Norsk", "sv": "Svenska", "da": "Dansk", "en": "English"}
LANGUAGE_COOKIE = "portal_lang"

# No inline script or style anywhere in the portal: the CSS and the one script are files of our own.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

CLAIM_LEVELS = {
    "due_date": gettext_lazy("Invoice, not yet overdue"),
    "overdue": gettext_lazy("Overdue"),
    "sms_reminder": gettext_lazy("Reminder (SMS)"),
    "reminder": gettext_lazy("Reminder"),
    "collection_notice": gettext_lazy("Collection notice"),
    "payment_demand": gettext_lazy("In collection: payment demand"),
    "call_task": gettext_lazy("In collection"),
    "heavy_fee": gettext_lazy("In collection"),
    "legal_notice": gettext_lazy("Notice before legal action"),
    "legal_action": gettext_lazy("Legal action"),
    "surveillance": gettext_lazy("Long-term surveillance"),
    "late_fee": gettext_lazy("Late fee charged"),
    "foreign_handover": gettext_lazy("With our collection partner abroad"),
}
DOCUMENT_KINDS = {
    "invoice": gettext_lazy("Invoice"),
    "sms_reminder": gettext_lazy("Reminder (SMS)"),
    "reminder": gettext_lazy("Reminder"),
    "collection_notice": gettext_lazy("Collection notice"),
    "payment_demand": gettext_lazy("Payment demand"),
    "legal_notice": gettext_lazy("Notice before legal action"),
    "debt_summary": gettext_lazy("Debt summary"),
    "cost_claim": gettext_lazy("Cost claim"),
    "payout_notice": gettext_lazy("Payout notice"),
    "late_fee_notice": gettext_lazy("Late fee notice"),
}
CONSENT_NAMES = {
    "avtalegiro_no": "AvtaleGiro",
    "autogiro_se": "Autogiro",
    "betalingsservice_dk": "Betalingsservice",
    "einvoice_b2c_no": "eFaktura",
    "einvoice_b2c_se": "e-faktura",
    "einvoice_b2c_fi": "e-lasku",
}


def _error_text(exc: LedgerError) -> str:
    """The customer's words for a refused action (the service's own message is for operators); lazy:
    the page renders them in its language."""
    messages = {
        "message_required": gettext_lazy("Please write what is wrong with the invoice."),
        "message_too_long": gettext_lazy("Please keep the message under 450 characters."),
        "already_disputed": gettext_lazy("This invoice is already disputed. We will be in touch."),
        "invoice_disputed": gettext_lazy(
            "The invoice is disputed; nothing else can be done until the dispute is handled."
        ),
        "invoice_closed": gettext_lazy("This invoice is closed."),
        "respite_days_invalid": gettext_lazy("Please choose how long a respite you need."),
        "respite_too_long": gettext_lazy(
            "A respite this long cannot be asked for here. Please contact the creditor."
        ),
        "respite_request_pending": gettext_lazy("You have already asked for a respite; it is being handled."),
        "email_invalid": gettext_lazy("Please check the e-mail address."),
        "phone_invalid": gettext_lazy("Please check the phone number."),
        "contact_required": gettext_lazy("Please give an e-mail address or a phone number."),
        "nothing_to_pay": gettext_lazy("There is nothing to pay on this invoice."),
        "account_invalid": gettext_lazy("Please check the account number."),
        "amount_invalid": gettext_lazy("Please check the amount."),
    }
    return messages.get(
        exc.code, gettext_lazy("That could not be done. Please try again or contact the creditor.")
    )


def portal_response(response: HttpResponse) -> HttpResponse:
    response["Content-Security-Policy"] = CSP
    # The token is in the URL: no page or resource we link to may learn it.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store, private"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Frame-Options"] = "DENY"
    return response


def _language(request, country: str) -> str:
    asked = request.GET.get("lang", "")
    if asked in LANGUAGES:
        return asked
    cookie = request.COOKIES.get(LANGUAGE_COOKIE, "")
    if cookie in LANGUAGES:
        return cookie
    return texts.language_for(country)


def _page(request, template, context, *, language, status=200):
    with translation.override(language):
        context = {
            **context,
            "language": language,
            "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            "path": request.path,
        }
        response = render(request, f"invoiceportal/{template}", context, status=status)
    if request.GET.get("lang", "") in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=365 * 86400,
            samesite="Lax",
            secure=request.is_secure(),
            httponly=True,
        )
    return portal_response(response)


def _refused(request, reason: str, *, link=None, status=404):
    language = _language(request, link.customer.country if link is not None else "")
    ctx = {"reason": reason, "ledger": link.ledger if link is not None else None}
    if link is not None and reason == "closed":
        ctx["invoice_no"] = link.invoice.invoice_no
        status = 410
    return _page(request, "refused.html", ctx, language=language, status=status)


def rate_limited(view):
    """Counts the request against the address's limit. Also csrf_exempt, on purpose: every URL that
    changes something carries an unguessable secret (the link's token, a sign-up's state, a signed
    provider URL), which is all a CSRF token would add; and under Referrer-Policy: no-referrer browsers
    send `Origin: null` with a form post, which Django's origin check would refuse."""

    @csrf_exempt
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        wait = ratelimit.hit(request)
        if wait is not None:
            response = _page(
                request,
                "refused.html",
                {"reason": "rate_limited"},
                language=_language(request, ""),
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
        return view(request, *args, **kwargs)

    return wrapped


def with_link(view=None, *, allow_closed=False):
    """Resolve the token first: a link that does not open answers the friendly page and counts against
    the address's bad-link limit; the view gets the link."""

    def decorate(view):
        @rate_limited
        @wraps(view)
        def wrapped(request, token, *args, **kwargs):
            try:
                link = selectors.portal_link_resolve(token=token, allow_closed=allow_closed)
            except LinkRefused as refused:
                if refused.reason == "unknown":
                    ratelimit.bad_link(request)
                return _refused(request, refused.reason, link=refused.link)
            request.portal_token = token
            return view(request, link, *args, **kwargs)

        return wrapped

    return decorate(view) if view is not None else decorate


def _common(request, link):
    ledger, customer = link.ledger, link.customer
    return {
        "ledger": ledger,
        "client": ledger.client,
        "contact": selectors.portal_settings(ledger=ledger),
        "customer": customer,
        "business": customer.legal_entity == LegalEntity.BUSINESS,
        # Protected identity: no address, ever (seeds/002).
        "show_address": not customer.protected_identity,
        "token": request.portal_token,
        "base": reverse("invoiceportal:link", args=[request.portal_token]),
        "administration_text": texts.administration_text(ledger.country, ledger.client.name),
    }


def _level(level: str, invoice) -> str:
    """The claim process says "due_date" until its first step; past the due date that is "overdue"."""
    if level == "due_date" and invoice.due_date < invoice.ledger.today():
        return "overdue"
    return level


def _invoice_context(request, link, invoice, **extra):
    view = selectors.invoice_view(invoice=invoice)
    method = adapters.payment_method(link.ledger.country)
    common = _common(request, link)
    return {
        **common,
        "v": view,
        "invoice": invoice,
        "claim_level": CLAIM_LEVELS.get(_level(view.claim_level, invoice), view.claim_level),
        "documents": [(d, DOCUMENT_KINDS.get(d.kind, d.kind)) for d in view.documents],
        "respite_choices": selectors.respite_choices(invoice=invoice, limits=common["contact"]),
        "today": link.ledger.today(),
        "consents": selectors.customer_consent_view(
            ledger=link.ledger, customer=link.customer, active=view.consents
        ),
        "consent_names": CONSENT_NAMES,
        "pay_method": adapters.METHOD_LABELS[method],
        "signup_url": reverse("invoiceportal:direct-debit", args=[link.ledger.company_no]),
        "done": request.GET.get("done", ""),
        **extra,
    }


@require_GET
@with_link
def link_page(request, link):
    language = _language(request, link.customer.country)
    if link.invoice_id is not None:
        return _page(
            request, "invoice.html", _invoice_context(request, link, link.invoice), language=language
        )
    rows, total = selectors.customer_overview(ledger=link.ledger, customer=link.customer)
    rows = [(r, CLAIM_LEVELS.get(_level(r.claim_level, r.invoice), r.claim_level)) for r in rows]
    return _page(
        request, "overview.html", {**_common(request, link), "rows": rows, "total": total}, language=language
    )


@require_GET
@with_link
def invoice_page(request, link, invoice_id):
    try:
        invoice = selectors.link_invoice(link=link, invoice_id=invoice_id)
    except NotFound:
        return _refused(request, "not_found", link=None)
    language = _language(request, link.customer.country)
    return _page(request, "invoice.html", _invoice_context(request, link, invoice), language=language)


@require_GET
@with_link
def document_pdf(request, link, document_id):
    try:
        document = selectors.link_document(link=link, document_id=document_id)
        pdf = archived_document_pdf(document=document)
    except NotFound:
        return _refused(request, "not_found")
    response = HttpResponse(pdf, content_type="application/pdf")
    disposition = "attachment" if request.GET.get("download") else "inline"
    name = f"{document.kind}-{document.invoice.invoice_no if document.invoice_id else document.pk}.pdf"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    return portal_response(response)


def _invoice_from_post(request, link):
    invoice_id = request.POST.get("invoice", "")
    return selectors.link_invoice(link=link, invoice_id=int(invoice_id) if invoice_id.isdigit() else None)


def _back(request, link, invoice, done: str):
    if link.invoice_id is None:
        url = reverse("invoiceportal:invoice", args=[request.portal_token, invoice.pk])
    else:
        url = reverse("invoiceportal:link", args=[request.portal_token])
    return HttpResponseRedirect(f"{url}?done={done}")


def _action(request, link, do, done: str, form: str):
    try:
        invoice = _invoice_from_post(request, link)
    except NotFound:
        return _refused(request, "not_found")
    try:
        do(invoice)
    except LedgerError as exc:
        language = _language(request, link.customer.country)
        ctx = _invoice_context(
            request, link, invoice, error=_error_text(exc), error_form=form, posted=request.POST
        )
        return _page(
            request,
            "invoice.html",
            ctx,
            language=language,
            status=400 if isinstance(exc, ValidationFailed) else 409,
        )
    return _back(request, link, invoice, done)


@require_POST
@with_link
def dispute(request, link):
    return _action(
        request,
        link,
        lambda invoice: services.portal_dispute(
            invoice=invoice, customer=link.customer, message=request.POST.get("message", "")
        ),
        "dispute",
        "dispute",
    )


@require_POST
@with_link
def respite(request, link):
    days = request.POST.get("days", "")

    def do(invoice):
        request_row = services.portal_respite_request(
            invoice=invoice,
            customer=link.customer,
            days=int(days) if days.isdigit() else 0,
            message=request.POST.get("message", ""),
        )
        request.respite_status = request_row.status

    response = _action(request, link, do, "respite", "respite")
    if getattr(request, "respite_status", "") == "pending":
        response["Location"] = response["Location"].replace("done=respite", "done=respite_pending")
    return response


@require_POST
@with_link
def contact(request, link):
    def do(invoice):
        services.portal_contact_update(
            customer=link.customer, email=request.POST.get("email", ""), phone=request.POST.get("phone", "")
        )

    return _action(request, link, do, "contact", "contact")


@require_POST
@with_link
def pay(request, link):
    method = adapters.payment_method(link.ledger.country)
    provider = adapters.payment_provider(method)
    try:
        invoice = _invoice_from_post(request, link)
    except NotFound:
        return _refused(request, "not_found")
    try:
        payment = services.provider_payment_start(
            link=link, invoice=invoice, provider=provider.name, method=method
        )
    except LedgerError as exc:
        ctx = _invoice_context(request, link, invoice, error=_error_text(exc), error_form="pay")
        return _page(
            request, "invoice.html", ctx, language=_language(request, link.customer.country), status=409
        )
    return_url = request.build_absolute_uri(
        reverse("invoiceportal:paid", args=[request.portal_token, payment.provider_ref])
    )
    return portal_response(HttpResponseRedirect(provider.start(payment, return_url=return_url)))


@require_GET
@with_link(allow_closed=True)
def paid(request, link, provider_ref):
    payment = (
        ProviderPayment.objects.filter(provider_ref=provider_ref, link=link).select_related("invoice").first()
    )
    if payment is None:
        return _refused(request, "not_found")
    language = _language(request, link.customer.country)
    return _page(request, "paid.html", {**_common(request, link), "payment": payment}, language=language)


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


@rate_limited
def no_link(request):
    ratelimit.bad_link(request)
    return _refused(request, "unknown", status=404)
