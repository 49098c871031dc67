"""The invoices created in a period, and the files they came in."""

from datetime import date

from accounting.reports.core import Report, ReportQuery, report_run
from ledger.models import Ledger


def created_invoices_query(*, ledger: Ledger, start: date, end: date) -> ReportQuery:
    return ReportQuery(
        "created_invoices",
        f"Created invoices {ledger.company_no} {start}..{end}",
        ["booking_date", "registered_by", "invoices", "amount"],
        # the registrations per day kept beside the events (ledger.models.RegistrationDay): a row per day
        # and registrant read, not every invoice registered in the period
        """SELECT booking_date, actor, sum(invoices)::bigint, sum(amount)
             FROM ledger_registrationday
            WHERE ledger_id = %s AND booking_date BETWEEN %s AND %s
            GROUP BY booking_date, actor ORDER BY booking_date, actor""",
        [ledger.id, start, end],
        money_columns=("amount",),
        keyset=(0, 1),  # booking_date, actor
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
                  coalesce(sum(b.total_invoice_amount), 0), f.received_at, f.id
             FROM cusin_cusinfile f
             JOIN ledger_ledger l ON l.id = f.ledger_id
             LEFT JOIN cusin_cusinbatch b ON b.file_id = f.id
            WHERE f.ledger_id = %s
              AND (f.received_at AT TIME ZONE l.time_zone)::date BETWEEN %s AND %s
            GROUP BY f.id, l.time_zone
            ORDER BY f.received_at, f.id""",
        [ledger.id, start, end],
        money_columns=("amount",),
        keyset=(8, 9),  # received_at, id
        hidden_columns=2,
    )
