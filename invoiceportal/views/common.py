"""What the portal's pages share: languages, labels, the security headers, refusals, rate limits and
the link decorator."""

from functools import wraps

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt

from claims.collection_stop import pay_to_account
from distribution import texts
from invoiceportal import adapters, ratelimit, selectors
from invoiceportal.selectors import LinkRefused
from ledger.errors import LedgerError
from ledger.models import LegalEntity

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
            request.audit_ledger_id, request.audit_actor = link.ledger_id, "portal link"  # the action log's
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
        "pay_to": pay_to_account(ledger=link.ledger, level=view.claim_level),
        "signup_url": reverse("invoiceportal:direct-debit", args=[link.ledger.company_no]),
        "done": request.GET.get("done", ""),
        **extra,
    }
