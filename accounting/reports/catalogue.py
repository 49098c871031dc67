"""The reports by name, and `report_for_user`, the entry that scopes them by the user."""

from collections.abc import Callable
from dataclasses import dataclass

from accounting.reports.core import Report, ReportQuery
from accounting.reports.invoices import created_invoices, created_invoices_files_query, created_invoices_query
from accounting.reports.monthly import monthly_accounting_query, monthly_bookkeeping
from accounting.reports.payments import (
    _unidentified_payments_query,
    customer_credit_balances,
    debits_awaiting_money_query,
    payment_files_query,
    payouts_query,
    settlements_query,
    unidentified_payments,
)
from accounting.reports.receivables import (
    aging,
    aging_query,
    invoice_claims,
    invoice_claims_query,
    ledger_report,
    ledger_report_query,
    write_offs,
    write_offs_query,
)
from ledger.errors import ValidationFailed
from ledger.models import Ledger, User
from ledger.selectors import ledger_get


@dataclass(frozen=True)
class ReportKind:
    """A report the 360 UI shows: how its period is given and which filters it takes."""

    name: str
    query: Callable[..., ReportQuery]
    period: str  # "as_of" (a date), "range" (start, end) or "month" (year, month)
    filters: tuple[str, ...] = ()  # customer_no, status, level, cause


REPORT_KINDS: dict[str, ReportKind] = {
    kind.name: kind
    for kind in (
        ReportKind("created_invoices", created_invoices_query, "range"),
        ReportKind("created_invoices_files", created_invoices_files_query, "range"),
        ReportKind("aging", aging_query, "as_of", ("customer_no",)),
        ReportKind("ledger", ledger_report_query, "as_of", ("customer_no",)),
        ReportKind("invoice_claims", invoice_claims_query, "as_of", ("customer_no", "status", "level")),
        ReportKind("write_offs", write_offs_query, "range", ("customer_no", "cause")),
        ReportKind("monthly_accounting", monthly_accounting_query, "month"),
        ReportKind("settlements", settlements_query, "range"),
        ReportKind("payouts", payouts_query, "range", ("customer_no",)),
        ReportKind("payment_files", payment_files_query, "range"),
        ReportKind("unidentified_payments", _unidentified_payments_query, "as_of"),
        ReportKind("debits_awaiting_money", debits_awaiting_money_query, "as_of"),
    )
}


def report_query(*, ledger: Ledger, name: str, **params) -> ReportQuery:
    """The named report of the ledger (the caller has scoped the ledger to the user)."""
    if name not in REPORT_KINDS:
        raise ValidationFailed(f"unknown report {name!r}", code="unknown_report")
    kind = REPORT_KINDS[name]
    filters = {key: value for key, value in params.items() if key in kind.filters and value}
    periods = {"as_of": ("as_of",), "range": ("start", "end"), "month": ("year", "month")}[kind.period]
    return kind.query(ledger=ledger, **{key: params[key] for key in periods}, **filters)


def report_for_user(*, user: User, company_no: str, name: str, **params) -> Report:
    """A report of a ledger the user may see (else NotFound, as for any ledger they may not see)."""
    if name not in REPORTS:
        raise ValidationFailed(
            f"unknown report {name!r}; use one of {', '.join(REPORTS)}", code="unknown_report"
        )
    ledger = ledger_get(company_no=company_no, user=user)
    return REPORTS[name](ledger=ledger, **params)


REPORTS: dict[str, Callable[..., Report]] = {
    "aging": aging,
    "ledger": ledger_report,
    "invoice_claims": invoice_claims,
    "write_offs": write_offs,
    "monthly_bookkeeping": monthly_bookkeeping,
    "unidentified_payments": unidentified_payments,
    "customer_credit_balances": customer_credit_balances,
    "created_invoices": created_invoices,
}
