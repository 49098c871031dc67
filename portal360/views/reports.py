"""Reports ("Rapporter"): each report a page with its filters, one page of rows from the server, the
totals, and downloads (CSV and XLSX streamed from a server-side cursor; the monthly accounting report
also as PDF). Every report is read "as of" a date or for a period from the journal, through the
selectors of accounting/reports/; the ledger comes from the URL and must be one the user may see."""

from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounting.reports.catalogue import REPORT_KINDS, ReportKind, report_query
from accounting.reports.core import ReportQuery, report_count, report_page
from accounting.reports.downloads import monthly_accounting_pdf, report_csv_chunks, report_xlsx_file
from accounting.reports.monthly import monthly_reconciliation
from accounting.reports.receivables import AGING_BUCKETS
from ledger.models import Cause, InvoiceStatus, Ledger, TransactionKind

from ..access import context_ledgers, url_ledger
from ..labels import CAUSE, CLAIM_LEVEL
from ..labels import label as code_label
from ..templatetags.ui import amount, day
from .common import page

PER_PAGE = 50

# The reports in the order the Reports page lists them, with their titles and what they say.
REPORT_TITLES = {
    "created_invoices": (_("Created invoices"), _("Invoices registered per day, by who registered them.")),
    "created_invoices_files": (
        _("Created invoices per file"),
        _("Each CUSIN file received: invoices booked and refused, and their amount."),
    ),
    "aging": (_("Aging"), _("Open amounts by days overdue: totals and per customer.")),
    "ledger": (_("Ledger report"), _("Every open item per customer with its capital, fees and interest.")),
    "invoice_claims": (
        _("Invoice claims"),
        _("Per open invoice: claim level, fees, interest, paid and the next step."),
    ),
    "write_offs": (_("Write-offs"), _("Write-offs booked in the period with their cause.")),
    "monthly_accounting": (
        _("Monthly accounting report"),
        _("Totals per book account and accounting action, reconciled with the daily files; PDF."),
    ),
    "settlements": (_("Settlements"), _("The Balance Reports of the period: collected, kept and paid out.")),
    "payouts": (_("Payouts"), _("Refunds paid out to customers and payers, with their payment file.")),
    "payment_files": (
        _("Payment files (OCR)"),
        _("Each bank payment file read: its payments and what became of them."),
    ),
    "unidentified_payments": (_("Unidentified payments"), _("Money held on suspense on the date.")),
    "debits_awaiting_money": (
        _("Direct debits awaiting their money"),
        _("Debits the bank approved and we booked, whose money had not arrived on the date."),
    ),
}
REPORT_GROUPS = [
    (_("Invoices and claims"), ["created_invoices", "created_invoices_files", "aging", "ledger",
                                "invoice_claims", "write_offs"]),
    (_("Accounting"), ["monthly_accounting"]),
    (_("Settlement and payments"), ["settlements", "payouts", "payment_files", "unidentified_payments",
                                      "debits_awaiting_money"]),
]  # fmt: skip

COLUMN_LABELS = {
    "customer_no": _("Customer"),
    "customer_name": _("Name"),
    "company_no": _("Ledger"),
    "ledger_name": _("Name"),
    "not_due": _("Not due"),
    "overdue_1_30": _("1–30 days"),
    "overdue_31_60": _("31–60 days"),
    "overdue_61_90": _("61–90 days"),
    "overdue_91_180": _("91–180 days"),
    "overdue_over_180": _("Over 180 days"),
    "total": _("Total"),
    "invoice_no": _("Invoice"),
    "payment_ref": _("KID/OCR"),
    "invoice_date": _("Invoice date"),
    "due_date": _("Due"),
    "capital": _("Capital"),
    "fees": _("Fees"),
    "interest": _("Interest"),
    "paid": _("Paid"),
    "open": _("Open"),
    "status": _("Status"),
    "last_event": _("Last event"),
    "last_event_date": _("Date"),
    "claim_level": _("Claim level"),
    "next_step": _("Next step"),
    "next_step_date": _("Next step date"),
    "booking_date": _("Booked"),
    "cause": _("Cause"),
    "action": _("Accounting action"),
    "account": _("Account"),
    "account_name": _("Account name"),
    "postings": _("Postings"),
    "debit": _("Debit"),
    "credit": _("Credit"),
    "net": _("Net"),
    "registered_by": _("Registered by"),
    "invoices": _("Invoices"),
    "amount": _("Amount"),
    "received": _("Received"),
    "file_name": _("File"),
    "failed_invoices": _("Refused"),
    "customers": _("Customers"),
    "credits": _("Credits"),
    "period_start": _("From"),
    "period_end": _("To"),
    "collected_capital": _("Capital collected"),
    "collected_interest": _("Interest collected"),
    "collected_fees": _("Fees collected"),
    "retained_fees": _("Fees kept"),
    "retained_interest": _("Interest kept"),
    "client_share": _("Client's share"),
    "brought_forward": _("Brought forward"),
    "service_fees": _("Service fees"),
    "payout": _("Payout"),
    "carried_forward": _("Carried forward"),
    "balance_report_file": _("Balance Report"),
    "balance_report_pdf": _("PDF"),
    "payment_file": _("Payment file"),
    "ocr_file": _("OCR file"),
    "bank_account": _("Account"),
    "reason": _("Reason"),
    "format": _("Format"),
    "payments": _("Payments"),
    "allocated": _("Matched"),
    "unidentified": _("Unidentified"),
    "refunded": _("Refunded"),
    "reversed": _("Reversed"),
    "moved": _("Moved"),
    "bank_archive_ref": _("Bank reference"),
    "payer_name": _("Payer"),
    "unallocated": _("Unallocated"),
    "settled_on": _("Booked from the result"),
    "days_waiting": _("Days waiting"),
}
# Columns holding the name of a file in the ledger's outbox: shown as a download link.
FILE_COLUMNS = {"balance_report_file", "balance_report_pdf", "payment_file", "ocr_file"}
CODE_COLUMNS = {"status": "invoice_status", "claim_level": "claim_level", "next_step": "next_event",
                "last_event": "invoice_event"}  # fmt: skip


class ReportFilterForm(forms.Form):
    as_of = forms.DateField(label=_("As of"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    month = forms.RegexField(label=_("Month"), regex=r"^\d{4}-(0[1-9]|1[0-2])$", required=False,
                             widget=forms.TextInput(attrs={"type": "month"}))  # fmt: skip
    customer_no = forms.CharField(label=_("Customer no."), max_length=40, required=False)
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All"))] + list(InvoiceStatus.choices))  # fmt: skip
    level = forms.ChoiceField(label=_("Claim level"), required=False,
                              choices=[("", _("All"))] + [(k, v) for k, v in CLAIM_LEVEL.items() if k])  # fmt: skip
    cause = forms.ChoiceField(
        label=_("Cause"),
        required=False,
        choices=[("", _("All"))] + [(v, CAUSE.get(v, v)) for v in Cause.values],
    )
    page = forms.IntegerField(min_value=1, required=False)

    def __init__(self, *args, kind: ReportKind, ledger: Ledger, **kwargs):
        super().__init__(*args, label_suffix="", **kwargs)
        self.kind, self.ledger = kind, ledger
        fields = {"as_of": ("as_of",), "range": ("start", "end"), "month": ("month",)}[kind.period]
        self.visible = [self[name] for name in (*fields, *kind.filters)]

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The period ends before it starts."))
        return data

    def params(self) -> dict:
        """The selector's parameters: the filled-in filters, the ledger's today where a date is left out."""
        data = self.cleaned_data if self.is_valid() else {}
        today = self.ledger.today()
        month = data.get("month") or f"{today:%Y-%m}"
        return {
            "as_of": data.get("as_of") or today,
            "start": data.get("start") or today.replace(day=1),
            "end": data.get("end") or today,
            "year": int(month[:4]),
            "month": int(month[5:]),
            **{name: data.get(name) or "" for name in ("customer_no", "status", "level", "cause")},
        }

    def query_string(self) -> str:
        """The filters as a query string (for the pager and the download links)."""
        from urllib.parse import urlencode

        data = self.cleaned_data if self.is_valid() else {}
        return urlencode({k: v for k, v in data.items() if v not in (None, "") and k != "page"})


def _kind(name: str) -> ReportKind:
    kind = REPORT_KINDS.get(name)
    if kind is None:
        raise Http404("no such report")
    return kind


def _action_label(action: str) -> str:
    """An accounting action in words: write_off -> Write-off, payment_reversal -> Payment (reversal)."""
    kinds = dict(TransactionKind.choices)
    if action.endswith("_reversal"):
        return f"{kinds.get(action.removesuffix('_reversal'), action)} ({_('reversal')})"
    return str(kinds.get(action, action))


def _cells(query: ReportQuery, rows: list[tuple], ledger: Ledger) -> list[list[dict]]:
    """Each value as the page shows it: amounts and dates in the ledger's locale, codes in words,
    outbox file names as download links."""
    table = []
    for row in rows:
        cells = []
        for column, value in zip(query.columns, row, strict=True):
            cell = {"text": value, "num": False, "href": ""}
            if value is None:  # nothing to show (no next step, no date): an empty cell, never "None"
                cell["text"] = ""
            elif isinstance(value, Decimal):
                cell.update(text=amount(value, ledger), num=True)
            elif isinstance(value, int) and not isinstance(value, bool):
                cell["num"] = True
            elif isinstance(value, date):
                cell["text"] = day(value, ledger)
            elif column in CODE_COLUMNS:
                cell["text"] = code_label(value, CODE_COLUMNS[column])
            elif column == "cause":
                cell["text"] = str(CAUSE.get(value, value))
            elif column == "action":
                cell["text"] = _action_label(value)
            elif column in FILE_COLUMNS and value:
                cell["href"] = reverse("portal360:file_download", args=[ledger.company_no, value])
            cells.append(cell)
        table.append(cells)
    return table


def index(request):
    """The Reports section: every report of the chosen ledger, and its files."""
    ctx = context_ledgers(request)
    groups = [(title, [(name, *REPORT_TITLES[name]) for name in names]) for title, names in REPORT_GROUPS]
    return page(
        request, "portal360/reports/index.html", {"ledger": ctx.ledger, "groups": groups}, section="reports"
    )


def report(request, company_no: str, name: str):
    kind = _kind(name)
    ledger = url_ledger(request, company_no)
    form = ReportFilterForm(request.GET or None, kind=kind, ledger=ledger)
    params = form.params()
    query = report_query(ledger=ledger, name=name, **params)
    number = (form.cleaned_data.get("page") if form.is_valid() else None) or 1
    listing = report_page(query=query, page=number, per_page=PER_PAGE, after=request.GET.getlist("after"))
    totals = listing.totals
    context = {
        "ledger": ledger,
        "name": name,
        "title": REPORT_TITLES[name][0],
        "about": REPORT_TITLES[name][1],
        "form": form,
        "params": params,
        "listing": listing,
        "headers": [
            {"text": COLUMN_LABELS.get(c, c.replace("_", " ").capitalize()), "num": c in query.money_columns}
            for c in query.columns
        ],
        "table": _cells(query, listing.rows, ledger),
        "totals": [
            {"text": amount(totals[c], ledger) if c in totals else "", "num": c in totals}
            for c in query.columns
        ]
        if totals
        else None,
        "query_string": form.query_string(),
        # the next page of a keyset report seeks past this page's last row (listing.next_after)
        "next_after": urlencode([("after", value) for value in listing.next_after]),
        "pdf": name == "monthly_accounting",
    }
    if name == "aging":
        # the whole ledger's aging is the per-customer report's totals row (already summed with the count)
        buckets = [bucket for bucket, _, _ in AGING_BUCKETS] + ["total"]
        context["aging_totals"] = [(COLUMN_LABELS[b], amount(totals[b], ledger)) for b in buckets]
    if name == "monthly_accounting":
        context["reconciliation"] = monthly_reconciliation(
            ledger=ledger, year=params["year"], month=params["month"]
        )
    return page(request, "portal360/reports/report.html", context, section="reports")


def download(request, company_no: str, name: str, fmt: str):
    """The whole report as CSV or XLSX, streamed; the monthly accounting report also as PDF. The
    `X-Report-Rows` header says how many rows are coming (the page shows the same count)."""
    kind = _kind(name)
    ledger = url_ledger(request, company_no)
    form = ReportFilterForm(request.GET or None, kind=kind, ledger=ledger)
    params = form.params()
    query = report_query(ledger=ledger, name=name, **params)
    stem = f"{name}_{ledger.company_no}_" + (
        f"{params['year']}-{params['month']:02d}" if kind.period == "month"
        else f"{params['as_of']}" if kind.period == "as_of"
        else f"{params['start']}_{params['end']}"
    )  # fmt: skip
    if fmt == "pdf":
        if name != "monthly_accounting":
            raise Http404("this report has no PDF")
        pdf = monthly_accounting_pdf(ledger=ledger, year=params["year"], month=params["month"])
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{stem}.pdf"'
        return response
    count = report_count(query=query)
    if fmt == "csv":
        response = StreamingHttpResponse(
            report_csv_chunks(query=query), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
    elif fmt == "xlsx":
        response = FileResponse(
            report_xlsx_file(query=query),
            as_attachment=True,
            filename=f"{stem}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        raise Http404("no such format")
    response["X-Report-Rows"] = str(count)
    return response
