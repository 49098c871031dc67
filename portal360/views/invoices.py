"""The invoice page (section "Services") and every operator action on an invoice. Each action is a form
that calls one domain service; the service's guard errors are shown in words, and every action is
recorded by the service as an event with the operator's name."""

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from claims.collection_stop import claim_collection_stop
from distribution.models import Document
from distribution.requests import document_copy_send
from distribution.selectors import archived_document_pdf, invoice_document_get
from ledger.errors import LedgerError, NotFound
from ledger.models import Invoice
from ledger.payments.allocation import Allocation, payment_allocate
from ledger.payments.selectors import unidentified_payments
from ledger.selectors import invoice_get
from ledger.services.invoice_changes import invoice_credit, invoice_write_off
from ledger.services.respite_dispute import (
    invoice_dispute_close,
    invoice_dispute_open,
    invoice_respite_clear,
    invoice_respite_set,
)

from .. import forms
from ..access import url_ledger
from ..selectors import invoice_page
from .common import page, pdf_response, run_action, with_posted


def _invoice(request, company_no: str, invoice_no: str) -> Invoice:
    ledger = url_ledger(request, company_no)
    try:
        invoice = invoice_get(ledger=ledger, invoice_no=invoice_no)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    invoice.ledger = ledger
    return invoice


def _url(invoice: Invoice) -> str:
    return reverse("portal360:invoice", args=[invoice.ledger.company_no, invoice.invoice_no])


def _action_forms(invoice: Invoice, data: dict) -> dict:
    """The page's forms: empty, or the one just posted with its errors."""
    archived = [d for d in data["documents"] if d[0].archive_name]
    payments = list(unidentified_payments(ledger=invoice.ledger)[:50])
    return {
        "respite": forms.RespiteForm(),
        "respite_clear": forms.ReasonForm(),
        "dispute": forms.DisputeForm(),
        "dispute_close": forms.ReasonForm(),
        "credit": forms.CreditForm(),
        "write_off": forms.WriteOffForm(),
        "collection_stop": forms.CollectionStopForm(),
        "copy": forms.DocumentCopyForm(documents=[d for d, _attempts in archived]),
        "allocate": forms.AllocatePaymentForm(payments=payments),
    }


def invoice_detail(request, company_no: str, invoice_no: str, *, posted: tuple[str, object] | None = None):
    ledger = url_ledger(request, company_no)
    try:
        data = invoice_page(ledger=ledger, invoice_no=invoice_no)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    action_forms, open_action = with_posted(_action_forms(data["invoice"], data), posted)
    return page(
        request,
        "portal360/invoice.html",
        {**data, "ledger": ledger, "forms": action_forms, "open_action": open_action},
        section="services",
    )


def _run(request, invoice: Invoice, name: str, form, call, success: str):
    response = run_action(request, form, call, success=success, to=_url(invoice))
    return response or invoice_detail(
        request, invoice.ledger.company_no, invoice.invoice_no, posted=(name, form)
    )


@require_POST
def invoice_action(request, company_no: str, action: str, invoice_no: str):
    invoice = _invoice(request, company_no, invoice_no)
    user, post = request.user, request.POST
    if action == "respite":
        return _run(request, invoice, action, forms.RespiteForm(post),
                    lambda d: invoice_respite_set(invoice=invoice, until=d["until"], actor=user, reason=d["reason"]),
                    _("Respite registered."))  # fmt: skip
    if action == "respite_clear":
        return _run(request, invoice, action, forms.ReasonForm(post),
                    lambda d: invoice_respite_clear(invoice=invoice, actor=user, reason=d["reason"]),
                    _("Respite removed."))  # fmt: skip
    if action == "dispute":
        return _run(request, invoice, action, forms.DisputeForm(post),
                    lambda d: invoice_dispute_open(invoice=invoice, actor=user, reason=d["reason"]),
                    _("Dispute registered: the claim process waits."))  # fmt: skip
    if action == "dispute_close":
        return _run(request, invoice, action, forms.ReasonForm(post),
                    lambda d: invoice_dispute_close(invoice=invoice, actor=user, reason=d["reason"]),
                    _("Dispute resolved: the claim process resumes."))  # fmt: skip
    if action == "credit":
        return _run(request, invoice, action, forms.CreditForm(post),
                    lambda d: invoice_credit(invoice=invoice, actor=user, amount=d["amount"],
                                             cause=d["cause"], reason=d["reason"]),
                    _("Credit booked."))  # fmt: skip
    if action == "write_off":
        return _run(request, invoice, action, forms.WriteOffForm(post),
                    lambda d: invoice_write_off(invoice=invoice, actor=user, amount=d["amount"],
                                                cause=d["cause"], reason=d["reason"]),
                    _("Write-off booked."))  # fmt: skip
    if action == "collection_stop":
        recall = post.get("mode") == "recall"
        return _run(request, invoice, action, forms.CollectionStopForm(post),
                    lambda d: claim_collection_stop(invoice=invoice, actor=user, reason=d["reason"], recall=recall),
                    _("Claim recalled from collection on the client's request: its collection fees are credited.")
                    if recall else _("Collection stopped on the client's request."))  # fmt: skip
    if action == "copy":
        documents = list(Document.objects.filter(invoice=invoice).exclude(archive_name=""))
        return _run(request, invoice, action, forms.DocumentCopyForm(post, documents=documents),
                    lambda d: document_copy_send(document=invoice_document_get(invoice=invoice,
                                                                               document_id=d["document"]),
                                                 actor=user),
                    _("A copy is on its way to the customer."))  # fmt: skip
    if action == "allocate":
        payments = {p.pk: p for p in unidentified_payments(ledger=invoice.ledger)[:50]}
        return _run(request, invoice, action, forms.AllocatePaymentForm(post, payments=payments.values()),
                    lambda d: payment_allocate(payment=payments[d["payment"]], actor=user, reason=d["reason"],
                                               allocations=[Allocation(invoice=invoice,
                                                                       amount=d["amount"])]),
                    _("Payment placed on the invoice."))  # fmt: skip
    raise Http404("no such action")


def invoice_document(request, company_no: str, invoice_no: str, document_id: int):
    """An archived PDF of the invoice, opened in the browser (or downloaded with ?download=1)."""
    invoice = _invoice(request, company_no, invoice_no)
    try:
        document = invoice_document_get(invoice=invoice, document_id=document_id)
        pdf = archived_document_pdf(document=document)
    except LedgerError as exc:
        raise Http404(exc.message) from exc
    return pdf_response(request, pdf, f"{document.kind}-{invoice.invoice_no}-{document.pk}")
