"""Reports as of a date: selectors over the journal (what was true on that date) and CSV/XLSX exports.

Every report is computed from postings whose transaction was booked on or before the date, so a report
as of a past date gives what was true then, and the ledger report equals the receivable accounts'
balance on that date. `report_for_user` is the entry the UI and downloads use: it scopes by the user.
"""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection

from ledger.errors import ValidationFailed
from ledger.models import Ledger, User
from ledger.selectors import ledger_get


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    columns: list[str]
    rows: list[tuple]


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# Open amount per invoice as of a date: the sum of its component postings booked up to then.
_OPEN_AS_OF = """
    SELECT p.invoice_id,
           sum(p.amount) FILTER (WHERE p.component = 'capital') AS capital,
           sum(p.amount) FILTER (WHERE p.component = 'fee') AS fees,
           sum(p.amount) FILTER (WHERE p.component = 'interest') AS interest,
           sum(p.amount) AS open
      FROM ledger_posting p JOIN ledger_journaltransaction t ON t.id = p.transaction_id
     WHERE p.ledger_id = %s AND p.component <> '' AND t.booking_date <= %s
     GROUP BY p.invoice_id
    HAVING sum(p.amount) <> 0
"""

AGING_BUCKETS = ["not_due", "overdue_0_30", "overdue_31_60", "overdue_61_90", "overdue_90_plus"]


def aging(*, ledger: Ledger, as_of: date, per_customer: bool = True) -> Report:
    """Open amounts by days overdue on `as_of`: not yet due (due on or after the date), 1-30 ("0-30"),
    31-60, 61-90 and more than 90 days; per customer, or one row for the ledger."""
    group = "c.customer_no, c.name" if per_customer else "l.company_no, l.name"
    rows = _fetch(
        f"""WITH open AS ({_OPEN_AS_OF})
            SELECT {group},
                   coalesce(sum(o.open) FILTER (WHERE i.due_date >= %s), 0),
                   coalesce(sum(o.open) FILTER (WHERE %s - i.due_date BETWEEN 1 AND 30), 0),
                   coalesce(sum(o.open) FILTER (WHERE %s - i.due_date BETWEEN 31 AND 60), 0),
                   coalesce(sum(o.open) FILTER (WHERE %s - i.due_date BETWEEN 61 AND 90), 0),
                   coalesce(sum(o.open) FILTER (WHERE %s - i.due_date > 90), 0),
                   sum(o.open)
              FROM open o
              JOIN ledger_invoice i ON i.id = o.invoice_id
              JOIN ledger_customer c ON c.id = i.customer_id
              JOIN ledger_ledger l ON l.id = i.ledger_id
             GROUP BY {group}
             ORDER BY 1""",
        [ledger.id, as_of, as_of, as_of, as_of, as_of, as_of],
    )
    first = ["customer_no", "customer_name"] if per_customer else ["company_no", "ledger_name"]
    return Report(
        "aging", f"Aging {ledger.company_no} as of {as_of}", [*first, *AGING_BUCKETS, "total"], rows
    )


def ledger_report(*, ledger: Ledger, as_of: date) -> Report:
    """Every item open on `as_of` with its capital, fees and interest then."""
    rows = _fetch(
        f"""WITH open AS ({_OPEN_AS_OF})
            SELECT i.invoice_no, c.customer_no, i.payment_ref, i.invoice_date, i.due_date,
                   coalesce(o.capital, 0), coalesce(o.fees, 0), coalesce(o.interest, 0), o.open
              FROM open o
              JOIN ledger_invoice i ON i.id = o.invoice_id
              JOIN ledger_customer c ON c.id = i.customer_id
             ORDER BY i.invoice_no""",
        [ledger.id, as_of],
    )
    columns = [
        "invoice_no",
        "customer_no",
        "payment_ref",
        "invoice_date",
        "due_date",
        "capital",
        "fees",
        "interest",
        "open",
    ]
    return Report("ledger", f"Ledger report {ledger.company_no} as of {as_of}", columns, rows)


def receivables_balance(*, ledger: Ledger, as_of: date) -> Decimal:
    """The receivable accounts' balance on `as_of` (what the ledger report must add up to)."""
    [(balance,)] = _fetch(
        """SELECT coalesce(sum(p.amount), 0) FROM ledger_posting p
             JOIN ledger_journaltransaction t ON t.id = p.transaction_id
             JOIN ledger_account a ON a.id = p.account_id
            WHERE p.ledger_id = %s AND t.booking_date <= %s
              AND a.role IN ('receivable_capital', 'receivable_fee', 'receivable_interest')""",
        [ledger.id, as_of],
    )
    return balance


def invoice_claims(*, ledger: Ledger, as_of: date) -> Report:
    """Per item open on `as_of`: its status then, its latest event with the event's date, its claim level
    then (the last claim step taken) and the next step as planned then (kind and date)."""
    rows = _fetch(
        f"""WITH open AS ({_OPEN_AS_OF})
            SELECT i.invoice_no, c.customer_no, i.due_date, o.open,
                   coalesce(e.to_status, ''), coalesce(e.kind, ''), e.booking_date,
                   coalesce(s.step_kind, 'due_date'), coalesce(ns.kind, first.kind, ''),
                   CASE WHEN s.step_kind IS NULL THEN i.due_date + first.offset_days ELSE s.next_on END
              FROM open o
              JOIN ledger_invoice i ON i.id = o.invoice_id
              JOIN ledger_customer c ON c.id = i.customer_id
              LEFT JOIN LATERAL (
                   SELECT ev.kind, ev.to_status, ev.booking_date FROM ledger_invoiceevent ev
                    WHERE ev.invoice_id = i.id AND ev.booking_date <= %s
                    ORDER BY ev.booking_date DESC, ev.id DESC LIMIT 1) e ON true
              LEFT JOIN LATERAL (
                   SELECT ce.step_kind, ce.position, ce.next_on FROM claims_claimevent ce
                    WHERE ce.invoice_id = i.id AND ce.kind = 'step' AND ce.booking_date <= %s
                    ORDER BY ce.booking_date DESC, ce.id DESC LIMIT 1) s ON true
              LEFT JOIN claims_claimstep ns ON ns.ledger_id = i.ledger_id AND ns.position = s.position + 1
                                            AND s.next_on IS NOT NULL
              LEFT JOIN claims_claimstep first ON first.ledger_id = i.ledger_id AND first.position = 1
                                               AND s.step_kind IS NULL
             ORDER BY i.invoice_no""",
        [ledger.id, as_of, as_of, as_of],
    )
    columns = ["invoice_no", "customer_no", "due_date", "open", "status", "last_event", "last_event_date",
               "claim_level", "next_step", "next_step_date"]  # fmt: skip
    return Report("invoice_claims", f"Invoice claims {ledger.company_no} as of {as_of}", columns, rows)


def write_offs(*, ledger: Ledger, start: date, end: date) -> Report:
    """Write-offs booked in [start, end] (reversals of write-offs negative), by component and cause."""
    rows = _fetch(
        """SELECT t.booking_date, i.invoice_no, c.customer_no, t.cause, t.kind,
                  coalesce(-sum(p.amount) FILTER (WHERE p.component = 'capital'), 0),
                  coalesce(-sum(p.amount) FILTER (WHERE p.component = 'fee'), 0),
                  coalesce(-sum(p.amount) FILTER (WHERE p.component = 'interest'), 0),
                  coalesce(-sum(p.amount) FILTER (WHERE p.component <> ''), 0)
             FROM ledger_journaltransaction t
             LEFT JOIN ledger_journaltransaction rt ON rt.id = t.reverses_id
             JOIN ledger_posting p ON p.transaction_id = t.id
             JOIN ledger_invoice i ON i.id = p.invoice_id
             JOIN ledger_customer c ON c.id = i.customer_id
            WHERE t.ledger_id = %s AND t.booking_date BETWEEN %s AND %s
              AND (t.kind = 'write_off' OR (t.kind = 'reversal' AND rt.kind = 'write_off'))
            GROUP BY t.id, t.booking_date, i.invoice_no, c.customer_no, t.cause, t.kind
            ORDER BY t.booking_date, t.id""",
        [ledger.id, start, end],
    )
    columns = [
        "booking_date",
        "invoice_no",
        "customer_no",
        "cause",
        "action",
        "capital",
        "fees",
        "interest",
        "total",
    ]
    return Report("write_offs", f"Write-offs {ledger.company_no} {start}..{end}", columns, rows)


def monthly_bookkeeping(*, ledger: Ledger, year: int, month: int) -> Report:
    """Per account: debit, credit and net of the month (the month's SIE4 vouchers added up)."""
    start = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1)
    rows = _fetch(
        """SELECT a.number, a.name,
                  coalesce(sum(p.amount) FILTER (WHERE p.amount > 0), 0),
                  coalesce(sum(p.amount) FILTER (WHERE p.amount < 0), 0),
                  sum(p.amount)
             FROM ledger_posting p
             JOIN ledger_journaltransaction t ON t.id = p.transaction_id
             JOIN ledger_account a ON a.id = p.account_id
            WHERE p.ledger_id = %s AND t.booking_date >= %s AND t.booking_date < %s
            GROUP BY a.number, a.name ORDER BY a.number""",
        [ledger.id, start, end],
    )
    return Report(
        "monthly_bookkeeping",
        f"Bookkeeping {ledger.company_no} {year}-{month:02d}",
        ["account", "account_name", "debit", "credit", "net"],
        rows,
    )


def unidentified_payments(*, ledger: Ledger, as_of: date) -> Report:
    """Payments with money on suspense on `as_of`, and how much."""
    rows = _fetch(
        """SELECT pay.bank_archive_ref, pay.booking_date, pay.payment_ref, pay.payer_name, pay.amount,
                  -sum(p.amount)
             FROM ledger_posting p
             JOIN ledger_journaltransaction t ON t.id = p.transaction_id
             JOIN ledger_account a ON a.id = p.account_id AND a.role = 'suspense'
             JOIN ledger_payment pay ON pay.id = p.payment_id
            WHERE p.ledger_id = %s AND t.booking_date <= %s
            GROUP BY pay.id HAVING sum(p.amount) <> 0
            ORDER BY pay.booking_date, pay.bank_archive_ref""",
        [ledger.id, as_of],
    )
    columns = ["bank_archive_ref", "booking_date", "payment_ref", "payer_name", "amount", "unallocated"]
    return Report(
        "unidentified_payments", f"Unidentified payments {ledger.company_no} as of {as_of}", columns, rows
    )


def customer_credit_balances(*, ledger: Ledger, as_of: date) -> Report:
    """Customers with a credit balance (surplus we hold for them) on `as_of`."""
    rows = _fetch(
        """SELECT c.customer_no, c.name, -sum(p.amount)
             FROM ledger_posting p
             JOIN ledger_journaltransaction t ON t.id = p.transaction_id
             JOIN ledger_account a ON a.id = p.account_id AND a.role = 'customer_credit'
             JOIN ledger_customer c ON c.id = p.customer_id
            WHERE p.ledger_id = %s AND t.booking_date <= %s
            GROUP BY c.customer_no, c.name HAVING sum(p.amount) <> 0
            ORDER BY c.customer_no""",
        [ledger.id, as_of],
    )
    return Report(
        "customer_credit_balances",
        f"Customer credit balances {ledger.company_no} as of {as_of}",
        ["customer_no", "customer_name", "credit_balance"],
        rows,
    )


def created_invoices(*, ledger: Ledger, start: date, end: date) -> Report:
    """Invoices registered per day in [start, end], by who registered them (CUSIN, API, an operator)."""
    rows = _fetch(
        """SELECT e.booking_date, e.actor, count(*), sum(i.amount)
             FROM ledger_invoiceevent e JOIN ledger_invoice i ON i.id = e.invoice_id
            WHERE e.ledger_id = %s AND e.kind = 'registered' AND e.booking_date BETWEEN %s AND %s
            GROUP BY e.booking_date, e.actor ORDER BY e.booking_date, e.actor""",
        [ledger.id, start, end],
    )
    return Report(
        "created_invoices",
        f"Created invoices {ledger.company_no} {start}..{end}",
        ["booking_date", "registered_by", "invoices", "amount"],
        rows,
    )


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


def report_for_user(*, user: User, company_no: str, name: str, **params) -> Report:
    """A report of a ledger the user may see (else NotFound, as for any ledger they may not see)."""
    if name not in REPORTS:
        raise ValidationFailed(
            f"unknown report {name!r}; use one of {', '.join(REPORTS)}", code="unknown_report"
        )
    ledger = ledger_get(company_no=company_no, user=user)
    return REPORTS[name](ledger=ledger, **params)


# --- Downloads ------------------------------------------------------------------------------------


def _cell(value):
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else value


def report_csv(report: Report) -> bytes:
    """UTF-8 with BOM (so spreadsheet programs read the æøå right), semicolon-separated, CR LF."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(report.columns)
    writer.writerows([_cell(v) for v in row] for row in report.rows)
    return out.getvalue().encode("utf-8-sig")


def report_xlsx(report: Report) -> bytes:
    """One sheet: the columns, then the rows; amounts as numbers with two decimals, dates as dates."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(report.name[:31])
    sheet.append(report.columns)

    def cell(value):
        if isinstance(value, Decimal):
            value = WriteOnlyCell(sheet, value=value)
            value.number_format = "0.00"
        elif isinstance(value, date):
            value = WriteOnlyCell(sheet, value=value)
            value.number_format = "yyyy-mm-dd"
        return value

    for row in report.rows:
        sheet.append([cell(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
