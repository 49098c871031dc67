"""Reports as of a date: selectors over the journal (what was true on that date) and CSV/XLSX exports.

Every report is computed from postings whose transaction was booked on or before the date, so a report
as of a past date gives what was true then, and the ledger report equals the receivable accounts'
balance on that date. `report_for_user` is the entry that scopes by the user.

Each report is first a `ReportQuery` (its SQL with a total order, its parameters and its columns), so
the same definition gives a count, one page (LIMIT/OFFSET: the UI never loads a whole report) and a
row iterator over a server-side cursor (the downloads stream, whatever the size). The functions named
after the reports (`aging`, `ledger_report`, ...) run the whole query and return a `Report`.
"""

import csv
import io
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction

from claims.selectors import claim_summaries
from ledger.errors import ValidationFailed
from ledger.models import Invoice, Ledger, User
from ledger.selectors import ledger_get


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    columns: list[str]
    rows: list[tuple]


@dataclass(frozen=True)
class ReportQuery:
    """A report not yet run: `sql` is one SELECT ordered totally (so pages never overlap)."""

    name: str
    title: str
    columns: list[str]
    sql: str
    params: list
    # The amount columns: added up for the totals row, right-aligned, numbers in the spreadsheet.
    money_columns: tuple[str, ...] = field(default=())
    # Completes a chunk of rows with what SQL alone does not answer (one call per page or chunk).
    finish: Callable[[list[tuple]], list[tuple]] | None = None

    def finished(self, rows: list[tuple]) -> list[tuple]:
        return self.finish(rows) if self.finish and rows else rows


@dataclass(frozen=True)
class ReportPage:
    query: ReportQuery
    rows: list[tuple]
    number: int
    per_page: int
    count: int

    @property
    def has_next(self) -> bool:
        return self.number * self.per_page < self.count

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.per_page))


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def report_run(query: ReportQuery) -> Report:
    """The whole report in memory (small reports, tests; the UI pages and the downloads stream)."""
    return Report(query.name, query.title, query.columns, query.finished(_fetch(query.sql, query.params)))


def report_count(*, query: ReportQuery) -> int:
    [(count,)] = _fetch(f"SELECT count(*) FROM ({query.sql}) AS report", query.params)
    return count


def report_page(*, query: ReportQuery, page: int = 1, per_page: int = 50) -> ReportPage:
    """One page of the report and the number of rows of the whole report."""
    page = max(1, page)
    count = report_count(query=query)
    page = min(page, max(1, -(-count // per_page)))
    rows = query.finished(
        _fetch(f"{query.sql} LIMIT %s OFFSET %s", [*query.params, per_page, (page - 1) * per_page])
    )
    return ReportPage(query=query, rows=rows, number=page, per_page=per_page, count=count)


def report_totals(*, query: ReportQuery) -> dict[str, Decimal]:
    """The sum of each amount column over the whole report (one aggregate over the same query)."""
    if not query.money_columns:
        return {}
    indexes = [query.columns.index(name) for name in query.money_columns]
    sums = ", ".join(f"coalesce(sum(report.c{i}), 0)" for i in indexes)
    aliases = ", ".join(f"c{i}" for i in range(len(query.columns)))
    [row] = _fetch(f"SELECT {sums} FROM ({query.sql}) AS report({aliases})", query.params)
    return dict(zip(query.money_columns, row, strict=True))


def report_rows(*, query: ReportQuery, chunk_size: int = 5000) -> Iterator[tuple]:
    """Every row, read through a server-side cursor `chunk_size` rows at a time: memory stays flat.

    Inside a transaction the cursor is a plain one, streaming as PostgreSQL produces the rows (outside
    one Django would declare it WITH HOLD, which makes PostgreSQL materialise the whole result first).
    """
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(query.sql, query.params)
        while chunk := cursor.fetchmany(chunk_size):
            yield from query.finished(chunk)


# Open amount per invoice as of a date: the sum of its component postings booked up to then, and
# what payments (and allocations of payments) brought, net of their reversals.
_OPEN_AS_OF = """
    SELECT p.invoice_id,
           sum(p.amount) FILTER (WHERE p.component = 'capital') AS capital,
           sum(p.amount) FILTER (WHERE p.component = 'fee') AS fees,
           sum(p.amount) FILTER (WHERE p.component = 'interest') AS interest,
           -sum(p.amount) FILTER (WHERE coalesce(rt.kind, t.kind) IN ('payment', 'allocation')) AS paid,
           sum(p.amount) AS open
      FROM ledger_posting p JOIN ledger_journaltransaction t ON t.id = p.transaction_id
      LEFT JOIN ledger_journaltransaction rt ON rt.id = t.reverses_id
     WHERE p.ledger_id = %s AND p.component <> '' AND t.booking_date <= %s
     GROUP BY p.invoice_id
    HAVING sum(p.amount) <> 0
"""

# Days overdue on the date: (name, lowest, highest) with None for open-ended.
AGING_BUCKETS = [
    ("not_due", None, 0),
    ("overdue_1_30", 1, 30),
    ("overdue_31_60", 31, 60),
    ("overdue_61_90", 61, 90),
    ("overdue_91_180", 91, 180),
    ("overdue_over_180", 181, None),
]


def _bucket_filter(low: int | None, high: int | None) -> str:
    if low is None:
        return "%s - i.due_date <= 0"  # due on or after the date: not yet due
    if high is None:
        return f"%s - i.due_date >= {low}"
    return f"%s - i.due_date BETWEEN {low} AND {high}"


def aging_query(
    *, ledger: Ledger, as_of: date, per_customer: bool = True, customer_no: str = ""
) -> ReportQuery:
    group = "c.customer_no, c.name" if per_customer else "l.company_no, l.name"
    buckets = ",\n".join(
        f"coalesce(sum(o.open) FILTER (WHERE {_bucket_filter(low, high)}), 0)"
        for _, low, high in AGING_BUCKETS
    )
    where, extra = ("WHERE c.customer_no = %s", [customer_no]) if customer_no else ("", [])
    first = ["customer_no", "customer_name"] if per_customer else ["company_no", "ledger_name"]
    names = [name for name, _, _ in AGING_BUCKETS]
    return ReportQuery(
        "aging",
        f"Aging {ledger.company_no} as of {as_of}",
        [*first, *names, "total"],
        f"""WITH open AS ({_OPEN_AS_OF})
            SELECT {group}, {buckets}, sum(o.open)
              FROM open o
              JOIN ledger_invoice i ON i.id = o.invoice_id
              JOIN ledger_customer c ON c.id = i.customer_id
              JOIN ledger_ledger l ON l.id = i.ledger_id
             {where}
             GROUP BY {group}
             ORDER BY 1""",
        [ledger.id, as_of, *[as_of] * len(AGING_BUCKETS), *extra],
        money_columns=(*names, "total"),
    )


def aging(*, ledger: Ledger, as_of: date, per_customer: bool = True, customer_no: str = "") -> Report:
    """Open amounts by days overdue on `as_of`: not yet due (due on or after the date), 1-30, 31-60,
    61-90, 91-180 and more than 180 days; per customer, or one row for the ledger."""
    return report_run(
        aging_query(ledger=ledger, as_of=as_of, per_customer=per_customer, customer_no=customer_no)
    )


def ledger_report_query(*, ledger: Ledger, as_of: date, customer_no: str = "") -> ReportQuery:
    where, extra = ("WHERE c.customer_no = %s", [customer_no]) if customer_no else ("", [])
    return ReportQuery(
        "ledger",
        f"Ledger report {ledger.company_no} as of {as_of}",
        [
            "invoice_no",
            "customer_no",
            "payment_ref",
            "invoice_date",
            "due_date",
            "capital",
            "fees",
            "interest",
            "open",
        ],  # fmt: skip
        f"""WITH open AS ({_OPEN_AS_OF})
            SELECT i.invoice_no, c.customer_no, i.payment_ref, i.invoice_date, i.due_date,
                   coalesce(o.capital, 0), coalesce(o.fees, 0), coalesce(o.interest, 0), o.open
              FROM open o
              JOIN ledger_invoice i ON i.id = o.invoice_id
              JOIN ledger_customer c ON c.id = i.customer_id
             {where}
             ORDER BY c.customer_no, i.invoice_no""",
        [ledger.id, as_of, *extra],
        money_columns=("capital", "fees", "interest", "open"),
    )


def ledger_report(*, ledger: Ledger, as_of: date, customer_no: str = "") -> Report:
    """Every item open on `as_of`, per customer, with its capital, fees and interest then."""
    return report_run(ledger_report_query(ledger=ledger, as_of=as_of, customer_no=customer_no))


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


def invoice_claims_query(
    *, ledger: Ledger, as_of: date, customer_no: str = "", status: str = "", level: str = ""
) -> ReportQuery:
    conditions, extra = [], []
    if customer_no:
        conditions.append("c.customer_no = %s")
        extra.append(customer_no)
    if status:
        conditions.append("coalesce(st.to_status, 'open') = %s")
        extra.append(status)
    if level:
        conditions.append("coalesce(s.step_kind, 'due_date') = %s")
        extra.append(level)
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    return ReportQuery(
        "invoice_claims",
        f"Invoice claims {ledger.company_no} as of {as_of}",
        [
            "invoice_no",
            "customer_no",
            "due_date",
            "capital",
            "fees",
            "interest",
            "paid",
            "open",
            "status",
            "last_event",
            "last_event_date",
            "claim_level",
            "next_step",
            "next_step_date",
        ],  # fmt: skip
        f"""WITH open AS ({_OPEN_AS_OF})
            SELECT i.invoice_no, c.customer_no, i.due_date,
                   coalesce(o.capital, 0), coalesce(o.fees, 0), coalesce(o.interest, 0),
                   coalesce(o.paid, 0), o.open,
                   coalesce(st.to_status, 'open'), coalesce(e.kind, ''), e.booking_date,
                   coalesce(s.step_kind, 'due_date'), coalesce(ns.kind, first.kind, ''),
                   CASE WHEN coalesce(ns.kind, first.kind) IS NOT NULL  -- GREATEST skips NULLs: no step, no date
                        THEN GREATEST(CASE WHEN s.step_kind IS NULL THEN i.due_date + first.offset_days
                                           ELSE s.next_on END, %s::date) END
              FROM open o
              JOIN ledger_invoice i ON i.id = o.invoice_id
              JOIN ledger_customer c ON c.id = i.customer_id
              LEFT JOIN LATERAL (
                   SELECT ev.kind, ev.booking_date FROM ledger_invoiceevent ev
                    WHERE ev.invoice_id = i.id AND ev.booking_date <= %s
                    ORDER BY ev.booking_date DESC, ev.id DESC LIMIT 1) e ON true
              LEFT JOIN LATERAL (
                   SELECT ev.to_status FROM ledger_invoiceevent ev
                    WHERE ev.invoice_id = i.id AND ev.booking_date <= %s AND ev.to_status <> ''
                    ORDER BY ev.booking_date DESC, ev.id DESC LIMIT 1) st ON true
              LEFT JOIN LATERAL (
                   SELECT ce.step_kind, ce.position, ce.next_on FROM claims_claimevent ce
                    WHERE ce.invoice_id = i.id AND ce.kind = 'step' AND ce.booking_date <= %s
                    ORDER BY ce.booking_date DESC, ce.id DESC LIMIT 1) s ON true
              LEFT JOIN claims_claimstep ns ON ns.ledger_id = i.ledger_id AND ns.position = s.position + 1
                                            AND s.next_on IS NOT NULL
              LEFT JOIN claims_claimstep first ON first.ledger_id = i.ledger_id AND first.position = 1
                                               AND s.step_kind IS NULL
             {where}
             ORDER BY i.invoice_no""",
        [ledger.id, as_of, as_of, as_of, as_of, as_of, *extra],
        money_columns=("capital", "fees", "interest", "paid", "open"),
        finish=_next_steps_now(ledger, as_of),
    )


def _next_steps_now(ledger: Ledger, as_of: date):
    """As of today, "what happens next, and when" is the claims engine's own answer, the one the invoice
    page shows (claims.selectors.claim_summaries: respites, disputes, skipped steps, minimum amounts and
    stopped claims included). A past day keeps the plan recorded then, never before that day."""

    def finish(rows: list[tuple]) -> list[tuple]:
        if as_of < ledger.today():
            return rows
        invoices = list(
            Invoice.objects.filter(ledger=ledger, invoice_no__in=[row[0] for row in rows]).select_related("customer")
        )
        summaries = claim_summaries(ledger=ledger, invoices=invoices, as_of=as_of)
        planned = {invoice.invoice_no: summaries[invoice.id]["next_event"] for invoice in invoices}
        finished = []
        for row in rows:
            event = planned.get(row[0])
            finished.append(row[:-2] + ((event["kind"], date.fromisoformat(event["date"])) if event else ("", None)))
        return finished

    return finish


def invoice_claims(*, ledger: Ledger, as_of: date, **filters) -> Report:
    """Per item open on `as_of`: its components, what was paid on it, its status then, its latest event
    with the event's date, its claim level then (the last claim step taken) and the next step as
    planned then (kind and date)."""
    return report_run(invoice_claims_query(ledger=ledger, as_of=as_of, **filters))


def write_offs_query(
    *, ledger: Ledger, start: date, end: date, customer_no: str = "", cause: str = ""
) -> ReportQuery:
    conditions, extra = "", []
    if customer_no:
        conditions += " AND c.customer_no = %s"
        extra.append(customer_no)
    if cause:
        conditions += " AND t.cause = %s"
        extra.append(cause)
    return ReportQuery(
        "write_offs",
        f"Write-offs {ledger.company_no} {start}..{end}",
        [
            "booking_date",
            "invoice_no",
            "customer_no",
            "cause",
            "action",
            "capital",
            "fees",
            "interest",
            "total",
        ],  # fmt: skip
        f"""SELECT t.booking_date, i.invoice_no, c.customer_no, t.cause, t.kind,
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
              AND (t.kind = 'write_off' OR (t.kind = 'reversal' AND rt.kind = 'write_off')){conditions}
            GROUP BY t.id, t.booking_date, i.invoice_no, c.customer_no, t.cause, t.kind
            ORDER BY t.booking_date, t.id, i.invoice_no""",
        [ledger.id, start, end, *extra],
        money_columns=("capital", "fees", "interest", "total"),
    )


def write_offs(*, ledger: Ledger, start: date, end: date, **filters) -> Report:
    """Write-offs booked in [start, end] (reversals of write-offs negative), by component and cause."""
    return report_run(write_offs_query(ledger=ledger, start=start, end=end, **filters))


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """The first and the last day of the month."""
    start = date(year, month, 1)
    return start, date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)


def monthly_bookkeeping(*, ledger: Ledger, year: int, month: int) -> Report:
    """Per account: debit, credit and net of the month (the month's SIE4 vouchers added up)."""
    start, end = month_bounds(year, month)
    rows = _fetch(
        """SELECT a.number, a.name,
                  coalesce(sum(p.amount) FILTER (WHERE p.amount > 0), 0),
                  coalesce(sum(p.amount) FILTER (WHERE p.amount < 0), 0),
                  sum(p.amount)
             FROM ledger_posting p
             JOIN ledger_journaltransaction t ON t.id = p.transaction_id
             JOIN ledger_account a ON a.id = p.account_id
            WHERE p.ledger_id = %s AND t.booking_date BETWEEN %s AND %s
            GROUP BY a.number, a.name ORDER BY a.number""",
        [ledger.id, start, end],
    )
    return Report(
        "monthly_bookkeeping",
        f"Bookkeeping {ledger.company_no} {year}-{month:02d}",
        ["account", "account_name", "debit", "credit", "net"],
        rows,
    )


def monthly_accounting_query(*, ledger: Ledger, year: int, month: int) -> ReportQuery:
    """Per book account and accounting action (as the Accounting Detail names them: a reversal after
    what it reverses, e.g. payment_reversal): postings, debit, credit and net of the month."""
    start, end = month_bounds(year, month)
    return ReportQuery(
        "monthly_accounting",
        f"Monthly accounting report {ledger.company_no} {year}-{month:02d}",
        ["account", "account_name", "action", "postings", "debit", "credit", "net"],
        """SELECT a.number, a.name,
                  CASE WHEN rt.kind IS NULL THEN t.kind ELSE rt.kind || '_reversal' END AS action,
                  count(*),
                  coalesce(sum(p.amount) FILTER (WHERE p.amount > 0), 0),
                  coalesce(-sum(p.amount) FILTER (WHERE p.amount < 0), 0),
                  sum(p.amount)
             FROM ledger_journaltransaction t
             JOIN ledger_posting p ON p.transaction_id = t.id
             JOIN ledger_account a ON a.id = p.account_id
             LEFT JOIN ledger_journaltransaction rt ON rt.id = t.reverses_id
            WHERE t.ledger_id = %s AND t.booking_date BETWEEN %s AND %s
            GROUP BY a.number, a.name, action
            ORDER BY a.number, action""",
        [ledger.id, start, end],
        money_columns=("debit", "credit", "net"),
    )


@dataclass(frozen=True)
class DayReconciliation:
    booking_date: date
    postings: int  # in the journal now
    file_name: str  # the day's latest Accounting Detail (CSV), "" when none was written
    file_records: int | None

    @property
    def agrees(self) -> bool:
        return self.file_records == self.postings


@dataclass(frozen=True)
class MonthReconciliation:
    days: list[DayReconciliation]
    settlements: list  # accounting.models.Settlement booked in the month (their Balance Reports)
    # settlement id -> what its transaction took from the client-funds bank account (= its payout)
    paid_from_bank: dict[int, Decimal]

    def settlement_agrees(self, settlement) -> bool:
        return self.paid_from_bank.get(settlement.id, Decimal("0.00")) == settlement.payout

    @property
    def settlement_rows(self) -> list[tuple]:
        """(settlement, paid from the bank in the journal, whether that is the Balance Report's payout)"""
        return [
            (s, self.paid_from_bank.get(s.id, Decimal("0.00")), self.settlement_agrees(s))
            for s in self.settlements
        ]

    @property
    def agrees(self) -> bool:
        return all(day.agrees for day in self.days) and all(map(self.settlement_agrees, self.settlements))


def monthly_reconciliation(*, ledger: Ledger, year: int, month: int) -> MonthReconciliation:
    """What the monthly report is checked against: per booking day, the journal's postings and the
    records of that day's latest Accounting Detail file; the Balance Reports (settlements) booked in
    the month, whose transactions are the report's `settlement` rows."""
    from .models import AccountingFile, AccountingFileKind, Settlement

    start, end = month_bounds(year, month)
    postings = dict(
        _fetch(
            """SELECT t.booking_date, count(*) FROM ledger_journaltransaction t
                 JOIN ledger_posting p ON p.transaction_id = t.id
                WHERE t.ledger_id = %s AND t.booking_date BETWEEN %s AND %s
                GROUP BY t.booking_date""",
            [ledger.id, start, end],
        )
    )
    files = {}
    for record in AccountingFile.objects.filter(
        ledger=ledger, kind=AccountingFileKind.ACCOUNTING_DETAIL_CSV, as_of__range=(start, end)
    ).order_by("as_of", "sequence"):
        files[record.as_of] = record  # the latest sequence of the day wins
    days = [
        DayReconciliation(
            booking_date=day,
            postings=postings.get(day, 0),
            file_name=files[day].file_name if day in files else "",
            file_records=files[day].records if day in files else None,
        )
        for day in sorted(set(postings) | set(files))
    ]
    settlements = list(
        Settlement.objects.filter(ledger=ledger, booking_date__range=(start, end)).order_by("booking_date")
    )
    net = dict(
        _fetch(
            """SELECT s.id, -coalesce(sum(p.amount) FILTER (WHERE a.role = 'client_funds_bank'), 0)
                 FROM accounting_settlement s
                 JOIN ledger_posting p ON p.transaction_id = s.transaction_id
                 JOIN ledger_account a ON a.id = p.account_id
                WHERE s.ledger_id = %s AND s.booking_date BETWEEN %s AND %s
                GROUP BY s.id""",
            [ledger.id, start, end],
        )
    )
    return MonthReconciliation(days=days, settlements=settlements, paid_from_bank=net)


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


def settlements_query(*, ledger: Ledger, start: date, end: date) -> ReportQuery:
    """The Balance Reports whose period ended in [start, end]: what was collected, kept and paid out."""
    return ReportQuery(
        "settlements",
        f"Settlements {ledger.company_no} {start}..{end}",
        [
            "period_start",
            "period_end",
            "booking_date",
            "collected_capital",
            "collected_interest",
            "collected_fees",
            "retained_fees",
            "retained_interest",
            "client_share",
            "brought_forward",
            "service_fees",
            "payout",
            "carried_forward",
            "balance_report_file",
            "balance_report_pdf",
            "payment_file",
            "ocr_file",
        ],  # fmt: skip
        """SELECT period_start, period_end, booking_date, collected_capital, collected_interest,
                  collected_fees, retained_fees, retained_interest, client_share, brought_forward,
                  service_fees, payout, carried_forward, balance_report_file, balance_report_pdf,
                  payment_file, ocr_file
             FROM accounting_settlement
            WHERE ledger_id = %s AND period_end BETWEEN %s AND %s
            ORDER BY period_end, id""",
        [ledger.id, start, end],
        money_columns=(
            "collected_capital",
            "collected_interest",
            "collected_fees",
            "retained_fees",
            "retained_interest",
            "client_share",
            "service_fees",
            "payout",
        ),  # fmt: skip
    )


def payouts_query(*, ledger: Ledger, start: date, end: date, customer_no: str = "") -> ReportQuery:
    """Refunds to customers and payers booked in [start, end], with the pain.001 file that sent them."""
    where, extra = (" AND c.customer_no = %s", [customer_no]) if customer_no else ("", [])
    return ReportQuery(
        "payouts",
        f"Payouts {ledger.company_no} {start}..{end}",
        [
            "booking_date",
            "customer_no",
            "payment_ref",
            "amount",
            "bank_account",
            "status",
            "reason",
            "file_name",
        ],  # fmt: skip
        f"""SELECT t.booking_date, coalesce(c.customer_no, ''), coalesce(pay.payment_ref, ''), po.amount,
                  po.bank_account, po.status, po.reason, coalesce(b.file_name, '')
             FROM ledger_payout po
             JOIN ledger_journaltransaction t ON t.id = po.transaction_id
             LEFT JOIN ledger_customer c ON c.id = po.customer_id
             LEFT JOIN ledger_payment pay ON pay.id = po.payment_id
             LEFT JOIN ledger_payoutbatch b ON b.id = po.batch_id
            WHERE po.ledger_id = %s AND t.booking_date BETWEEN %s AND %s{where}
            ORDER BY t.booking_date, po.id""",
        [ledger.id, start, end, *extra],
        money_columns=("amount",),
    )


def payment_files_query(*, ledger: Ledger, start: date, end: date) -> ReportQuery:
    """The OCR/payment-file report: each bank file read in [start, end] (the ledger's business days),
    its payments and what became of them (matched, still unidentified, refunded, ...)."""
    return ReportQuery(
        "payment_files",
        f"Payment files {ledger.company_no} {start}..{end}",
        [
            "received",
            "file_name",
            "format",
            "status",
            "payments",
            "amount",
            "allocated",
            "unidentified",
            "refunded",
            "reversed",
            "moved",
        ],  # fmt: skip
        """SELECT (f.received_at AT TIME ZONE l.time_zone)::date, f.file_name, f.format, f.status,
                  count(pay.id), coalesce(sum(pay.amount), 0),
                  count(pay.id) FILTER (WHERE pay.status = 'allocated'),
                  count(pay.id) FILTER (WHERE pay.status = 'unidentified'),
                  count(pay.id) FILTER (WHERE pay.status = 'refunded'),
                  count(pay.id) FILTER (WHERE pay.status = 'reversed'),
                  count(pay.id) FILTER (WHERE pay.status = 'moved')
             FROM ledger_paymentfile f
             JOIN ledger_ledger l ON l.id = f.ledger_id
             LEFT JOIN ledger_payment pay ON pay.file_id = f.id
            WHERE f.ledger_id = %s
              AND (f.received_at AT TIME ZONE l.time_zone)::date BETWEEN %s AND %s
            GROUP BY f.id, l.time_zone
            ORDER BY f.received_at, f.id""",
        [ledger.id, start, end],
        money_columns=("amount",),
    )


def _unidentified_payments_query(*, ledger: Ledger, as_of: date) -> ReportQuery:
    return ReportQuery(
        "unidentified_payments",
        f"Unidentified payments {ledger.company_no} as of {as_of}",
        ["bank_archive_ref", "booking_date", "payment_ref", "payer_name", "amount", "unallocated"],
        """SELECT pay.bank_archive_ref, pay.booking_date, pay.payment_ref, pay.payer_name, pay.amount,
                  -sum(p.amount)
             FROM ledger_posting p
             JOIN ledger_journaltransaction t ON t.id = p.transaction_id
             JOIN ledger_account a ON a.id = p.account_id AND a.role = 'suspense'
             JOIN ledger_payment pay ON pay.id = p.payment_id
            WHERE p.ledger_id = %s AND t.booking_date <= %s
            GROUP BY pay.id HAVING sum(p.amount) <> 0
            ORDER BY pay.booking_date, pay.bank_archive_ref, pay.id""",
        [ledger.id, as_of],
        money_columns=("amount", "unallocated"),
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


# --- Downloads ------------------------------------------------------------------------------------


def _cell(value):
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else value


class _Line:
    """A file-like csv.writer target that hands back what was written since the last call."""

    def __init__(self):
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def take(self) -> bytes:
        text, self.parts = "".join(self.parts), []
        return text.encode("utf-8")


def _csv_writer(out):
    return csv.writer(out, delimiter=";", lineterminator="\r\n")


def report_csv(report: Report) -> bytes:
    """UTF-8 with BOM (so spreadsheet programs read the æøå right), semicolon-separated, CR LF."""
    out = io.StringIO()
    writer = _csv_writer(out)
    writer.writerow(report.columns)
    writer.writerows([_cell(v) for v in row] for row in report.rows)
    return out.getvalue().encode("utf-8-sig")


def report_csv_chunks(*, query: ReportQuery, rows_per_chunk: int = 2000) -> Iterator[bytes]:
    """The same CSV as `report_csv`, produced piece by piece from the server-side cursor."""
    line = _Line()
    writer = _csv_writer(line)
    writer.writerow(query.columns)
    yield b"\xef\xbb\xbf" + line.take()
    batch = 0
    for row in report_rows(query=query):
        writer.writerow([_cell(v) for v in row])
        batch += 1
        if batch == rows_per_chunk:
            yield line.take()
            batch = 0
    if batch:
        yield line.take()


def _xlsx_write(name: str, columns: list[str], rows, out) -> None:
    """One sheet: the columns, then the rows; amounts as numbers with two decimals, dates as dates.
    openpyxl's write-only mode keeps nothing of a written row in memory."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(name[:31])
    sheet.append(columns)

    def cell(value):
        if isinstance(value, Decimal):
            value = WriteOnlyCell(sheet, value=value)
            value.number_format = "0.00"
        elif isinstance(value, date):
            value = WriteOnlyCell(sheet, value=value)
            value.number_format = "yyyy-mm-dd"
        return value

    for row in rows:
        sheet.append([cell(v) for v in row])
    workbook.save(out)


def report_xlsx(report: Report) -> bytes:
    out = io.BytesIO()
    _xlsx_write(report.name, report.columns, report.rows, out)
    return out.getvalue()


def report_xlsx_file(*, query: ReportQuery):
    """The report as an XLSX in an anonymous temporary file (rewound), written row by row from the
    server-side cursor: the download is then streamed from disk with its exact length."""
    out = tempfile.TemporaryFile()
    _xlsx_write(query.name, query.columns, report_rows(query=query), out)
    out.seek(0)
    return out


def monthly_accounting_pdf(*, ledger: Ledger, year: int, month: int) -> bytes:
    """The monthly accounting report as PDF (WeasyPrint): per account and action, the totals, and the
    reconciliation with the Accounting Detail files and the Balance Reports."""
    from django.template.loader import render_to_string
    from weasyprint import HTML  # imported here: loading it is slow and only this needs it

    query = monthly_accounting_query(ledger=ledger, year=year, month=month)
    html = render_to_string(
        "accounting/monthly_report.html",
        {
            "ledger": ledger,
            "year": year,
            "month": f"{month:02d}",
            "report": report_run(query),
            "totals": report_totals(query=query),
            "reconciliation": monthly_reconciliation(ledger=ledger, year=year, month=month),
        },
    )
    return HTML(string=html).write_pdf()
