"""The pages a link opens (the invoice, the customer's overview, documents) and the customer's actions:
dispute, respite, contact details, pay."""

from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from distribution.selectors import archived_document_pdf
from invoiceportal import adapters, ratelimit, selectors, services
from invoiceportal.models import ProviderPayment
from invoiceportal.views.common import (
    CLAIM_LEVELS,
    _common,
    _error_text,
    _invoice_context,
    _language,
    _level,
    _page,
    _refused,
    portal_response,
    rate_limited,
    with_link,
)
from ledger.errors import LedgerError, NotFound, ValidationFailed


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


@rate_limited
def no_link(request):
    ratelimit.bad_link(request)
    return _refused(request, "unknown", status=404)
