"""Section "Customers": the search across the client's ledgers, the customer page and its actions."""

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from distribution.requests import debt_summary_send
from distribution.selectors import archived_document_pdf
from ledger.customer_services import customer_address_change, customer_guardian_set, customer_mark_deceased
from ledger.errors import LedgerError, NotFound
from ledger.models import Customer
from ledger.payments.refunds import customer_credit_move, customer_credit_refund
from ledger.selectors import customer_get, customer_open_invoices

from .. import forms
from ..access import context_ledgers, url_ledger
from ..selectors import customer_document_get, customer_page, customer_search
from .common import page, pdf_response, run_action, with_posted


def search(request):
    form = forms.SearchForm(request.GET or None)
    result = None
    if form.is_valid() and form.cleaned_data["q"]:
        ledgers = context_ledgers(request).ledgers
        result = customer_search(
            ledgers=ledgers, query=form.cleaned_data["q"], page=form.cleaned_data["page"] or 1
        )
    # A partial for the search box's own requests; a boosted link or form gets the whole page.
    partial = request.htmx and not request.htmx.boosted
    template = "portal360/_search_results.html" if partial else "portal360/search.html"
    return page(request, template, {"form": form, "result": result}, section="customers")


def _customer(request, company_no: str, customer_no: str) -> Customer:
    ledger = url_ledger(request, company_no)
    try:
        return customer_get(ledger=ledger, customer_no=customer_no)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _url(customer: Customer) -> str:
    return reverse("portal360:customer", args=[customer.ledger.company_no, customer.customer_no])


def _forms(customer: Customer) -> dict:
    return {
        "debt_summary": None,
        "credit_refund": forms.CreditRefundForm(),
        "credit_move": forms.CreditMoveForm(
            invoices=customer_open_invoices(customer=customer).order_by("due_date")
        ),
        "deceased": forms.DeceasedForm(),
        "address": forms.AddressForm(initial={"country": customer.country or customer.ledger.country}),
        "guardian": forms.GuardianForm(
            initial={"guardian_customer_no": customer.guardian.customer_no if customer.guardian_id else ""}
        ),
    }


def customer_detail(request, company_no: str, customer_no: str, *, posted=None):
    ledger = url_ledger(request, company_no)
    try:
        invoice_page_no = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        invoice_page_no = 1
    try:
        data = customer_page(ledger=ledger, customer_no=customer_no, invoice_page=invoice_page_no)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if request.htmx and request.GET.get("part") == "invoices":
        return page(
            request, "portal360/_customer_invoices.html", {**data, "ledger": ledger}, section="customers"
        )
    action_forms, open_action = with_posted(_forms(data["customer"]), posted)
    # A private person's national id is masked but on asking; the asking is kept in the action log.
    reveal = request.GET.get("reveal") == "national_id" and posted is None
    if reveal:
        request.audit_reveal = True
    return page(
        request,
        "portal360/customer.html",
        {**data, "ledger": ledger, "forms": action_forms, "open_action": open_action, "reveal_national_id": reveal},
        section="customers",
    )


def _run(request, customer: Customer, name: str, form, call, success: str):
    response = run_action(request, form, call, success=success, to=_url(customer))
    return response or customer_detail(
        request, customer.ledger.company_no, customer.customer_no, posted=(name, form)
    )


@require_POST
def customer_action(request, company_no: str, action: str, customer_no: str):
    customer = _customer(request, company_no, customer_no)
    user, post = request.user, request.POST
    if action == "debt_summary":
        return _run(request, customer, action, None,
                    lambda d: debt_summary_send(customer=customer, actor=user),
                    _("A debt summary is on its way to the customer."))  # fmt: skip
    if action == "credit_refund":
        return _run(request, customer, action, forms.CreditRefundForm(post),
                    lambda d: customer_credit_refund(customer=customer, actor=user, reason=d["reason"],
                                                     amount=d["amount"], bank_account=d["bank_account"]),
                    _("Refund booked: the payout goes with the next payment file."))  # fmt: skip
    if action == "credit_move":
        invoices = {i.pk: i for i in customer_open_invoices(customer=customer)}
        form = forms.CreditMoveForm(post, invoices=invoices.values())
        return _run(request, customer, action, form,
                    lambda d: customer_credit_move(customer=customer, invoice=invoices[d["invoice"]], actor=user,
                                                   reason=d["reason"], amount=d["amount"]),
                    _("Credit balance moved to the invoice."))  # fmt: skip
    if action == "deceased":
        return _run(request, customer, action, forms.DeceasedForm(post),
                    lambda d: customer_mark_deceased(customer=customer, actor=user, reason=d["reason"]),
                    _("The customer is marked as deceased."))  # fmt: skip
    if action == "address":
        return _run(request, customer, action, forms.AddressForm(post),
                    lambda d: customer_address_change(customer=customer, actor=user, **d),
                    _("New address registered."))  # fmt: skip
    if action == "guardian":
        return _run(request, customer, action, forms.GuardianForm(post),
                    lambda d: customer_guardian_set(customer=customer, actor=user, **d),
                    _("Guardian registered: reminders and collection go to them."))  # fmt: skip
    raise Http404("no such action")


def customer_document(request, company_no: str, customer_no: str, document_id: int):
    customer = _customer(request, company_no, customer_no)
    try:
        document = customer_document_get(customer=customer, document_id=document_id)
        pdf = archived_document_pdf(document=document)
    except LedgerError as exc:
        raise Http404(exc.message) from exc
    return pdf_response(request, pdf, f"{document.kind}-{document.pk}")
