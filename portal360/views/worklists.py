"""The worklists (section Services): a queue per kind; an operator takes an item (nobody else works it
then), acts on it with the domain service, and the item leaves the list; or releases it."""

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from claims.calls import call_outcome_record
from distribution.services.returns import returned_document_readdress, returned_document_unreachable
from invoiceportal.services import respite_request_decide
from ledger.complaints import complaint_resolve
from ledger.customer_services import customer_guardian_set
from ledger.errors import LedgerError, NotFound
from ledger.payments.allocation import Allocation, payment_allocate
from ledger.payments.refunds import payment_refund
from ledger.payments.reversal import payment_move_to_ledger

from .. import forms
from ..access import context_ledgers, require_may_act
from ..errors import error_text
from ..labels import WORKLIST
from ..models import WorklistKind
from ..services import worklist_done, worklist_release, worklist_take
from ..worklists import worklist_item, worklist_page
from .common import page

# The forms of each list's item page, by action.
ACTIONS = {
    WorklistKind.COMPLAINTS: {"resolve": forms.ComplaintForm},
    WorklistKind.RETURNED_MAIL: {"readdress": forms.ReaddressForm, "unreachable": forms.UnreachableForm},
    WorklistKind.UNIDENTIFIED: {
        "allocate": forms.AllocateToInvoiceForm,
        "refund": forms.RefundForm,
        "move": forms.UnreachableForm,
    },
    WorklistKind.CALLS: {"outcome": forms.CallOutcomeForm},
    WorklistKind.RESPITE_REQUESTS: {"decide": forms.RespiteDecisionForm},
    WorklistKind.MINORS: {"guardian": forms.GuardianForm},
}


def _ledger(request):
    ledger = context_ledgers(request).ledger
    if ledger is None:
        raise Http404("no ledger")
    return ledger


def _kind(kind: str) -> str:
    if kind not in WorklistKind.values:
        raise Http404("no such worklist")
    return kind


def worklist(request, kind: str):
    ledger, kind = _ledger(request), _kind(kind)
    show = request.GET.get("show", "")
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    listing = worklist_page(ledger=ledger, kind=kind, page=number, only_taken_by=request.user if show == "mine" else None,
                            only_free=show == "free")  # fmt: skip
    return page(request, f"portal360/worklists/{kind}.html",
                {"ledger": ledger, "kind": kind, "title": WORKLIST[kind], "listing": listing, "show": show},
                section="services")  # fmt: skip


def _item_url(kind, item_id) -> str:
    return reverse("portal360:worklist_item", args=[kind, item_id])


def worklist_item_page(request, kind: str, item_id: int, *, posted=None):
    ledger, kind = _ledger(request), _kind(kind)
    try:
        item, claim = worklist_item(ledger=ledger, kind=kind, item_id=item_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    action_forms = {name: form_class() for name, form_class in ACTIONS[kind].items()}
    if posted:
        action_forms[posted[0]] = posted[1]
    if getattr(item, "payer_account", ""):
        request.audit_reveal = True  # the payer's whole account (masked in the list): kept in the action log
    return page(request, "portal360/worklists/item.html",
                {"ledger": ledger, "kind": kind, "title": WORKLIST[kind], "item": item, "claim": claim,
                 "forms": action_forms, "open_action": posted[0] if posted else None,
                 "mine": claim is not None and claim.taken_by_id == request.user.pk},
                section="services")  # fmt: skip


@require_POST
def worklist_take_view(request, kind: str, item_id: int):
    require_may_act(request)
    ledger, kind = _ledger(request), _kind(kind)
    try:
        worklist_item(ledger=ledger, kind=kind, item_id=item_id)
        worklist_take(kind=kind, item_id=item_id, ledger=ledger, user=request.user)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except LedgerError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("portal360:worklist", args=[kind]))
    return redirect(_item_url(kind, item_id))


@require_POST
def worklist_release_view(request, kind: str, item_id: int):
    ledger, kind = _ledger(request), _kind(kind)
    try:
        worklist_item(ledger=ledger, kind=kind, item_id=item_id)  # another ledger's item: 404, as for take
    except NotFound as exc:
        raise Http404(exc.message) from exc
    worklist_release(kind=kind, item_id=item_id, user=request.user)
    messages.success(request, _("Released: the item is back in the list."))
    return redirect(reverse("portal360:worklist", args=[kind]))


def _find_invoice(ledger, text: str):
    from ledger.models import Invoice

    invoice = Invoice.objects.filter(ledger=ledger).filter(invoice_no=text).first() or (
        Invoice.objects.filter(ledger=ledger, payment_ref=text.replace(" ", "")).first()
    )
    if invoice is None:
        raise NotFound(f"no invoice {text} in ledger {ledger.company_no}", code="invoice_not_found",
                       params={"number": text})  # fmt: skip
    return invoice


@require_POST
def worklist_act(request, kind: str, item_id: int, action: str):
    """Take the item (if free or ours), call the service, and the item leaves the list: one transaction."""
    require_may_act(request)
    ledger, kind, user = _ledger(request), _kind(kind), request.user
    if action not in ACTIONS[kind]:
        raise Http404("no such action")
    try:
        item, _claim = worklist_item(ledger=ledger, kind=kind, item_id=item_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    form = ACTIONS[kind][action](request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            with transaction.atomic():
                worklist_take(kind=kind, item_id=item_id, ledger=ledger, user=user)
                if kind == WorklistKind.COMPLAINTS:
                    complaint_resolve(invoice=item, in_customers_favour=d["decision"] == "favour", note=d["note"],
                                      actor=user, amount=d["amount"])  # fmt: skip
                elif action == "readdress":
                    returned_document_readdress(item=item, address={k: d[k] for k in ("line1", "line2", "postal_code", "city", "country")},
                                                booking_date=ledger.today(), actor=user)  # fmt: skip
                elif action == "unreachable":
                    returned_document_unreachable(
                        item=item, reason=d["reason"], booking_date=ledger.today(), actor=user
                    )
                elif action == "allocate":
                    payment_allocate(payment=item, actor=user, reason=d["reason"],
                                     allocations=[Allocation(invoice=_find_invoice(ledger, d["invoice"]), amount=d["amount"])])  # fmt: skip
                elif action == "refund":
                    payment_refund(
                        payment=item, actor=user, reason=d["reason"], bank_account=d["bank_account"]
                    )
                elif action == "move":
                    payment_move_to_ledger(payment=item, actor=user, reason=d["reason"])
                elif action == "decide":
                    respite_request_decide(request=item, grant=d["decision"] == "grant", actor=user,
                                           reason=d["reason"])  # fmt: skip
                elif action == "guardian":
                    customer_guardian_set(customer=item.invoice.customer, actor=user,
                                          guardian_customer_no=d["guardian_customer_no"])  # fmt: skip
                elif action == "outcome":
                    call_outcome_record(task=item, outcome=d["outcome"], note=d["note"], actor=user,
                                        promised_until=d["promised_until"])  # fmt: skip
                worklist_done(kind=kind, item_id=item_id)
        except LedgerError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, error_text(exc))
        else:
            messages.success(request, _("Done: the item has left the list."))
            return redirect(reverse("portal360:worklist", args=[kind]))
    return worklist_item_page(request, kind, item_id, posted=(action, form))
