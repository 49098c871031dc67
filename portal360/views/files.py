"""Files: the ledger's sFTP outbox (receipts, error logs, journals, accounting files, Balance Reports,
payout and direct-debit files) with kind and date filters and downloads, and the state of its CUSIN
inbox. Reads through accounting/outbox_files.py; the ledger comes from the URL and must be the user's."""

from django import forms
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from accounting.outbox_files import OUTBOX_KIND_NAMES, inbox_state, outbox_download, outbox_files

from ..access import context_ledgers, url_ledger
from .common import page

PER_PAGE = 100

KIND_LABELS = {
    "cusin_receipt": _("CUSIN receipt"),
    "cusin_errorlog": _("CUSIN error log"),
    "bill_journal": _("Bill Journal"),
    "customer_journal": _("Customer Journal"),
    "accounting_detail": _("Accounting Detail"),
    "sie4": "SIE4",
    "balance_report": _("Balance Report"),
    "settlement_payment": _("Settlement payment / OCR file"),
    "payout": _("Payout file (pain.001)"),
    "direct_debit": _("Direct debit file"),
    "other": _("Other"),
}
STATE_LABELS = {
    "waiting": _("Waiting"),
    "importing": _("Importing"),
    "archived": _("Archived"),
    "failed": _("Failed"),
}


class FileFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=[("", _("All"))] + [(k, KIND_LABELS[k]) for k in OUTBOX_KIND_NAMES])  # fmt: skip
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    page = forms.IntegerField(min_value=1, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, label_suffix="", **kwargs)


def chosen(request):
    """`/360/files/`: the files of the ledger chosen in the header."""
    ctx = context_ledgers(request)
    if ctx.ledger is None:
        raise Http404("no ledger")
    return redirect("portal360:files", ctx.ledger.company_no)


def outbox(request, company_no: str):
    ledger = url_ledger(request, company_no)
    form = FileFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    files = outbox_files(
        ledger=ledger, kind=data.get("kind") or "", start=data.get("start"), end=data.get("end")
    )
    number = max(1, min(data.get("page") or 1, -(-len(files) // PER_PAGE) or 1))
    shown = files[(number - 1) * PER_PAGE : number * PER_PAGE]
    query = {k: v for k, v in data.items() if v and k != "page"}
    return page(
        request,
        "portal360/files/outbox.html",
        {
            "ledger": ledger,
            "form": form,
            "files": [(f, KIND_LABELS[f.kind]) for f in shown],
            "count": len(files),
            "number": number,
            "has_next": number * PER_PAGE < len(files),
            "query": query,
        },
        section="reports",
    )


def inbox(request, company_no: str):
    ledger = url_ledger(request, company_no)
    state = inbox_state(ledger=ledger)
    return page(
        request,
        "portal360/files/inbox.html",
        {"ledger": ledger, "states": [(key, STATE_LABELS[key], state[key]) for key in STATE_LABELS]},
        section="reports",
    )


def download(request, company_no: str, name: str):
    """One file of the ledger's outbox: never anything outside it, never another ledger's."""
    ledger = url_ledger(request, company_no)
    path = outbox_download(ledger=ledger, name=name)
    if path is None:
        raise Http404("no such file in the outbox")
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)
