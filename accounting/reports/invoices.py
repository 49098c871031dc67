"""The invoices created in a period, and the files they came in."""

from datetime import date

from accounting.reports.core import Report, ReportQuery, report_run
from ledger.models import Ledger


def created_invoices_query(*, ledger: Ledger, start: date, end: date) -> ReportQuery:
    return ReportQuery(
        "created_invoices",
        f"Created invoices {ledger.company_no} {start}..{end}",
        ["booking_date", "registered_by", "invoices", "amount"],
        """SELECT e.booking_date, e.actor, count(*), sum(i.amount)
             FROM ledger_invoiceevent e JOIN ledger_invoice i ON i.id = e.invoice_id
            WHERE e.ledger_id = %s AND e.kind = 'registered' AND e.booking_date BETWEEN %s AND %s
            GROUP BY e.booking_date, e.actor ORDER BY e.booking_date, e.actor""",
        [ledger.id, start, end],
        money_columns=("amount",),
    )


def created_invoices(*, ledger: Ledger, start: date, end: date) -> Report:
    """Invoices registered per day in [start, end], by who registered them (CUSIN, API, an operator)."""
    return report_run(created_invoices_query(ledger=ledger, start=start, end=end))


def created_invoices_files_query(*, ledger: Ledger, start: date, end: date) -> ReportQuery:
    """Per CUSIN file received in [start, end] (the ledger's business days): what its batches booked
    and refused."""
    return ReportQuery(
        "created_invoices_files",
        f"Created invoices per file {ledger.company_no} {start}..{end}",
        [
            "received",
            "file_name",
            "status",
            "invoices",
            "failed_invoices",
            "customers",
            "credits",
            "amount",
        ],  # fmt: skip
        """SELECT (f.received_at AT TIME ZONE l.time_zone)::date, f.file_name, f.status,
                  coalesce(sum(b.invoices), 0), coalesce(sum(b.failed_invoices), 0),
                  coalesce(sum(b.customers), 0), coalesce(sum(b.credits), 0),
                  coalesce(sum(b.total_invoice_amount), 0)
             FROM cusin_cusinfile f
             JOIN ledger_ledger l ON l.id = f.ledger_id
             LEFT JOIN cusin_cusinbatch b ON b.file_id = f.id
            WHERE f.ledger_id = %s
              AND (f.received_at AT TIME ZONE l.time_zone)::date BETWEEN %s AND %s
            GROUP BY f.id, l.time_zone
            ORDER BY f.received_at, f.id""",
        [ledger.id, start, end],
        money_columns=("amount",),
    )
