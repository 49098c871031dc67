"""The dashboard's figures: one ledger's statistics and trends over a period of months (issue 14).

Why here (accounting) and not in portal360: these are reports over the journal and the events of the
claims and distribution apps, like accounting/reports.py, and an API or a scheduled report may want the
same figures; the 360 view only draws them. accounting already reads ledger, claims and distribution.

Every figure is ONE set-based query over the whole period (month ends from generate_series, grouped
aggregates), never a query per month, so the page costs the same five queries for 3 months or 36. Every
function takes the ledger the caller resolved (tenant-scoped, portal360.access) and scopes by its id.

Points in time: the period is `months` calendar months ending with `end_month`; each month is measured
at its last day, except the current month, measured today (its month end is still to come). Balances
are "as of" those days from the journal (postings whose transaction was booked on or before), so a
past month shows what was true then, whatever happened since.
"""

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction

from distribution.models import Channel, DocumentStatus, ReturnKind
from ledger.models import AccountRole, InvoiceEventKind, Ledger, TransactionKind
from ledger.money import ZERO

MAX_MONTHS = 36

# Paid invoices by how far the claim process had come when they were paid (the last step taken on or
# before the day of payment). Ordered: the query takes the highest stage an invoice reached.
STAGE_BY_DUE_DATE, STAGE_LATE, STAGE_REMINDER, STAGE_NOTICE, STAGE_COLLECTION = (
    "by_due_date",
    "late",
    "after_reminder",
    "after_collection_notice",
    "in_collection",
)
STAGES = (STAGE_BY_DUE_DATE, STAGE_LATE, STAGE_REMINDER, STAGE_NOTICE, STAGE_COLLECTION)
# Invoice event kinds that put a claim at a stage (1 reminder, 2 notice, 3 collection). The friendly
# SMS is no stage of its own: paid after it (and before a reminder) is "late".
_STAGE_EVENTS = {
    InvoiceEventKind.REMINDER_SENT: 1,
    InvoiceEventKind.LATE_FEE_CHARGED: 1,  # business customers: the late fee replaces the reminder
    InvoiceEventKind.COLLECTION_NOTICE_SENT: 2,
    InvoiceEventKind.MOVED_TO_COLLECTION: 3,
    InvoiceEventKind.CALL_TASK_CREATED: 3,
    InvoiceEventKind.HEAVY_FEE_CHARGED: 3,
    InvoiceEventKind.LEGAL_NOTICE_SENT: 3,
    InvoiceEventKind.LEGAL_ACTION_TAKEN: 3,
    InvoiceEventKind.MOVED_TO_SURVEILLANCE: 3,
    InvoiceEventKind.HANDED_TO_FOREIGN_PARTNER: 3,
}
# A document counts as distributed once it has left (or, for paper, is archived and waits for the
# print batch, which goes the same day); queued, failed and cancelled ones went nowhere (yet).
_DISTRIBUTED = (
    DocumentStatus.SENT,
    DocumentStatus.AWAITING_PRINT,
    DocumentStatus.ARCHIVED,
    DocumentStatus.RETURNED,
)
# The channel mix's series, in this order; a channel not listed here shows under its own code.
CHANNELS = (
    Channel.EINVOICE_B2C,
    Channel.EMAIL,
    Channel.PAPER,
    Channel.KIVRA,
    Channel.SMS,
    Channel.EINVOICE_B2B,
    Channel.ARCHIVE_ONLY,
)
ONE_DECIMAL = Decimal("0.1")


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def percent_of(part, whole) -> Decimal | None:
    """part/whole in per cent, one decimal, half up; None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def _fetch(sql: str, params: dict) -> list[tuple]:
    """Run one figure's query with PostgreSQL's JIT off: on a million invoices the balances query ran
    in 0.15 s but spent 0.8 s more compiling itself (bench/bench_dashboard.py --explain). SET LOCAL
    holds for this transaction only."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass(frozen=True)
class Period:
    """`months` calendar months, the first starting on `first`, the last measured on `cap`."""

    first: date  # first day of the first month
    last: date  # first day of the last month
    cap: date  # the last day measured: the last month's end, or today in the current month

    @property
    def months(self) -> list[date]:
        """First day of each month, oldest first."""
        count = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1
        return [_add_months(self.first, n) for n in range(count)]

    @property
    def points(self) -> list[date]:
        """The day each month is measured: its last day, the cap for the last month."""
        return [min(_month_end(month), self.cap) for month in self.months]

    def params(self, ledger: Ledger) -> dict:
        return {"ledger": ledger.id, "first": self.first, "last": self.last, "cap": self.cap}


def dashboard_period(*, ledger: Ledger, months: int = 12, end_month: date | None = None) -> Period:
    """The period of `months` months ending with the month of `end_month` (default: the ledger's current
    month). A month after the current one is measured today at the latest, never in the future."""
    if not 1 <= months <= MAX_MONTHS:
        raise ValueError(f"months must be 1 to {MAX_MONTHS}")
    today = ledger.today()
    last = (end_month or today).replace(day=1)
    return Period(first=_add_months(last, -(months - 1)), last=last, cap=min(_month_end(last), today))


# --- The figures ------------------------------------------------------------------------------------

# SQL fragments: the points (month ends, the last capped) and the month end of a date column.
_POINTS = """
    SELECT LEAST((m + interval '1 month - 1 day')::date, %(cap)s::date) AS point
    FROM generate_series(%(first)s::date, %(last)s::date, interval '1 month') AS m
"""
_MONTHS = (
    "SELECT m::date AS month FROM generate_series(%(first)s::date, %(last)s::date, interval '1 month') AS m"
)


def _month_end_sql(column: str) -> str:
    return f"(date_trunc('month', {column}) + interval '1 month - 1 day')::date"


@dataclass(frozen=True)
class BalancePoint:
    day: date
    open: Decimal  # capital + fees + interest still owed on that day
    overdue: Decimal  # of which on invoices whose due date had passed (due_date < day)
    open_capital: Decimal


def balances(*, ledger: Ledger, period: Period) -> list[BalancePoint]:
    """Open and overdue amount at each point, from the journal as of that day.

    Each component posting counts at every point on or after its booking day (its `bucket`, the first
    point >= booking_date) and, for overdue, also on or after the first point past its invoice's due
    date (the first point > due_date). So the query groups the postings by those two buckets once (a
    handful of groups) and sums the groups per point; everything booked before the period falls in
    the first point."""
    first_point = period.points[0]
    booked = f"GREATEST(LEAST({_month_end_sql('t.booking_date')}, %(cap)s::date), %(first_point)s::date)"
    past_due = (
        f"CASE WHEN i.due_date < %(cap)s::date THEN GREATEST(LEAST({_month_end_sql('i.due_date + 1')}, "
        "%(cap)s::date), %(first_point)s::date) END"
    )
    rows = _fetch(
        f"""
        WITH points AS ({_POINTS}),
        grouped AS MATERIALIZED (
            -- GREATEST skips NULLs: not overdue by the cap must stay NULL.
            SELECT b.booked, CASE WHEN b.past_due IS NOT NULL THEN GREATEST(b.booked, b.past_due) END
                   AS overdue_from,
                   sum(b.amount) AS total, coalesce(sum(b.amount) FILTER (WHERE b.component = 'capital'), 0)
                   AS capital
            FROM (
                SELECT {booked} AS booked, {past_due} AS past_due, p.component, p.amount
                FROM ledger_posting p
                JOIN ledger_journaltransaction t ON t.id = p.transaction_id
                JOIN ledger_invoice i ON i.id = p.invoice_id
                WHERE p.ledger_id = %(ledger)s AND t.ledger_id = %(ledger)s AND p.component <> ''
                  AND t.booking_date <= %(cap)s::date
            ) b
            GROUP BY 1, 2
        )
        SELECT pt.point,
               (SELECT coalesce(sum(g.total), 0) FROM grouped g WHERE g.booked <= pt.point),
               (SELECT coalesce(sum(g.total), 0) FROM grouped g WHERE g.overdue_from <= pt.point),
               (SELECT coalesce(sum(g.capital), 0) FROM grouped g WHERE g.booked <= pt.point)
        FROM points pt ORDER BY pt.point
        """,
        {**period.params(ledger), "first_point": first_point},
    )
    return [BalancePoint(day=day, open=o, overdue=d, open_capital=c) for day, o, d, c in rows]


@dataclass(frozen=True)
class MonthCount:
    month: date
    count: int
    amount: Decimal


def invoices_created(*, ledger: Ledger, period: Period) -> list[MonthCount]:
    """Invoices registered per month (their invoice transaction's booking day) and their capital.
    An invoice transaction books the capital on exactly one posting, so the postings count invoices."""
    return _per_month(
        """
        SELECT date_trunc('month', t.booking_date)::date AS month, count(*) AS n, sum(p.amount) AS amount
        FROM ledger_journaltransaction t
        JOIN ledger_posting p ON p.transaction_id = t.id AND p.component = 'capital'
        WHERE t.ledger_id = %(ledger)s AND t.kind = %(kind)s
          AND t.booking_date BETWEEN %(first)s AND %(cap)s
        GROUP BY 1
        """,
        {**period.params(ledger), "kind": TransactionKind.INVOICE},
    )


def payments_received(*, ledger: Ledger, period: Period) -> list[MonthCount]:
    """Payments booked per month: the money in on the client-funds account (one debit per payment
    transaction), whether matched, partly matched, surplus or unidentified."""
    return _per_month(
        """
        SELECT date_trunc('month', t.booking_date)::date AS month, count(*) AS n, sum(p.amount) AS amount
        FROM ledger_journaltransaction t
        JOIN ledger_posting p ON p.transaction_id = t.id AND p.amount > 0
        JOIN ledger_account a ON a.id = p.account_id AND a.role = %(role)s
        WHERE t.ledger_id = %(ledger)s AND t.kind = %(kind)s
          AND t.booking_date BETWEEN %(first)s AND %(cap)s
        GROUP BY 1
        """,
        {**period.params(ledger), "kind": TransactionKind.PAYMENT, "role": AccountRole.CLIENT_FUNDS_BANK},
    )


def _per_month(inner: str, params: dict) -> list[MonthCount]:
    rows = _fetch(
        f"""
        SELECT months.month, coalesce(x.n, 0), coalesce(x.amount, 0)
        FROM ({_MONTHS}) months LEFT JOIN ({inner}) x USING (month)
        ORDER BY months.month
        """,
        params,
    )
    return [MonthCount(month=month, count=n, amount=amount) for month, n, amount in rows]


@dataclass(frozen=True)
class PaidShares:
    month: date
    counts: dict[str, int]  # by stage (STAGES)
    total: int

    @property
    def shares(self) -> dict[str, Decimal | None]:
        return {stage: percent_of(self.counts[stage], self.total) for stage in STAGES}


def paid_shares(*, ledger: Ledger, period: Period) -> list[PaidShares]:
    """Invoices paid in full per month (the day of their last `paid` event), by the stage their claim
    had reached that day: by the due date, late (after the due date, no reminder yet), after a
    reminder, after the collection notice, in collection. Counted in invoices, not amounts."""
    stage_case = " ".join(f"WHEN '{kind.value}' THEN {rank}" for kind, rank in _STAGE_EVENTS.items())
    rows = _fetch(
        f"""
        WITH paid AS (
            SELECT e.invoice_id, max(e.booking_date) AS paid_on
            FROM ledger_invoiceevent e
            WHERE e.ledger_id = %(ledger)s AND e.kind = %(paid)s
              AND e.booking_date BETWEEN %(first)s AND %(cap)s
            GROUP BY e.invoice_id
        ),
        steps AS (
            SELECT s.invoice_id, s.booking_date, CASE s.kind {stage_case} END AS rank
            FROM ledger_invoiceevent s
            WHERE s.ledger_id = %(ledger)s AND s.kind = ANY(%(step_kinds)s) AND s.booking_date <= %(cap)s
        ),
        staged AS (
            SELECT paid.paid_on, i.due_date, coalesce(max(steps.rank), 0) AS rank
            FROM paid
            JOIN ledger_invoice i ON i.id = paid.invoice_id AND i.ledger_id = %(ledger)s
            LEFT JOIN steps ON steps.invoice_id = paid.invoice_id AND steps.booking_date <= paid.paid_on
            GROUP BY paid.invoice_id, paid.paid_on, i.due_date
        )
        SELECT date_trunc('month', paid_on)::date,
               count(*) FILTER (WHERE rank = 0 AND paid_on <= due_date),
               count(*) FILTER (WHERE rank = 0 AND paid_on > due_date),
               count(*) FILTER (WHERE rank = 1),
               count(*) FILTER (WHERE rank = 2),
               count(*) FILTER (WHERE rank = 3),
               count(*)
        FROM staged GROUP BY 1
        """,
        {
            **period.params(ledger),
            "paid": InvoiceEventKind.PAID,
            "step_kinds": [k.value for k in _STAGE_EVENTS],
        },
    )
    by_month = {row[0]: row[1:] for row in rows}
    result = []
    for month in period.months:
        *counts, total = by_month.get(month, (0,) * (len(STAGES) + 1))
        result.append(PaidShares(month=month, counts=dict(zip(STAGES, counts, strict=True)), total=total))
    return result


@dataclass(frozen=True)
class DsoPoint:
    day: date
    open_capital: Decimal
    invoiced: Decimal
    days: int
    dso: Decimal | None


def days_sales_outstanding(
    *, balances: list[BalancePoint], created: list[MonthCount], period: Period
) -> list[DsoPoint]:
    """Days sales outstanding per month, by the monthly formula:

        DSO = open capital at the point / capital invoiced in the month * days in the month

    (days measured: the month's days up to its point, so the current month counts the days so far).
    Capital only, on both sides: fees and interest are not sales. No invoicing in a month: no DSO.
    Computed from the two figures above, so it costs no query of its own."""
    result = []
    for point, month, balance, made in zip(period.points, period.months, balances, created, strict=True):
        days = (point - month).days + 1
        dso = (
            (balance.open_capital / made.amount * days).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)
            if made.amount > 0
            else None
        )
        result.append(
            DsoPoint(day=point, open_capital=balance.open_capital, invoiced=made.amount, days=days, dso=dso)
        )
    return result


@dataclass(frozen=True)
class ChannelMonth:
    month: date
    counts: dict[str, int]  # documents distributed, by channel
    total: int
    paper: int
    returned: int  # paper documents that came back, registered in the month

    @property
    def shares(self) -> dict[str, Decimal | None]:
        return {channel: percent_of(n, self.total) for channel, n in self.counts.items()}

    @property
    def returned_rate(self) -> Decimal | None:
        """Returned paper mail registered in the month per paper document distributed in it, in %."""
        return percent_of(self.returned, self.paper)


def channel_mix(*, ledger: Ledger, period: Period) -> list[ChannelMonth]:
    """Documents distributed per month by channel, and the returned-mail rate (one query for both:
    the documents by month and channel, and the paper returns by month, in one grouped union)."""
    rows = _fetch(
        f"""
        SELECT months.month, x.channel, x.n
        FROM ({_MONTHS}) months
        JOIN (
            SELECT date_trunc('month', d.booking_date)::date AS month, d.channel, count(*) AS n
            FROM distribution_document d
            WHERE d.ledger_id = %(ledger)s AND d.booking_date BETWEEN %(first)s AND %(cap)s
              AND d.channel <> '' AND d.status = ANY(%(distributed)s)
            GROUP BY 1, 2
            UNION ALL
            SELECT date_trunc('month', r.booking_date)::date, '~returned', count(*)
            FROM distribution_returneddocument r
            WHERE r.ledger_id = %(ledger)s AND r.kind = %(paper_returned)s
              AND r.booking_date BETWEEN %(first)s AND %(cap)s
            GROUP BY 1
        ) x USING (month)
        """,
        {
            **period.params(ledger),
            "distributed": [s.value for s in _DISTRIBUTED],
            "paper_returned": ReturnKind.PAPER_RETURNED,
        },
    )
    seen = {channel for _, channel, _ in rows if channel != "~returned"}
    channels = [c.value for c in CHANNELS if c.value in seen] + sorted(seen - {c.value for c in CHANNELS})
    counts = {month: dict.fromkeys([*channels, "~returned"], 0) for month in period.months}
    for month, channel, n in rows:
        counts[month][channel] = n
    result = []
    for month in period.months:
        returned = counts[month].pop("~returned")
        by_channel = counts[month]
        result.append(
            ChannelMonth(
                month=month,
                counts=by_channel,
                total=sum(by_channel.values()),
                paper=by_channel.get(Channel.PAPER.value, 0),
                returned=returned,
            )
        )
    return result


@dataclass(frozen=True)
class Dashboard:
    period: Period
    balances: list[BalancePoint]
    created: list[MonthCount]
    payments: list[MonthCount]
    paid: list[PaidShares]
    dso: list[DsoPoint]
    channels: list[ChannelMonth]

    @property
    def channel_codes(self) -> list[str]:
        return list(self.channels[0].counts) if self.channels else []

    @property
    def paid_total(self) -> dict[str, int]:
        return {stage: sum(month.counts[stage] for month in self.paid) for stage in STAGES}

    @property
    def invoiced_total(self) -> Decimal:
        return sum((m.amount for m in self.created), ZERO)


def dashboard_figures(*, ledger: Ledger, period: Period) -> Dashboard:
    """Every figure of the dashboard for one ledger and period: five queries."""
    balance_points = balances(ledger=ledger, period=period)
    created = invoices_created(ledger=ledger, period=period)
    return Dashboard(
        period=period,
        balances=balance_points,
        created=created,
        payments=payments_received(ledger=ledger, period=period),
        paid=paid_shares(ledger=ledger, period=period),
        dso=days_sales_outstanding(balances=balance_points, created=created, period=period),
        channels=channel_mix(ledger=ledger, period=period),
    )
