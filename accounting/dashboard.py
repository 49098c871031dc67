"""The dashboard's figures: one ledger's statistics and trends over a period of months (issue 14).

Why here (accounting) and not in portal360: these are reports over the journal and the events of the
claims and distribution apps, like accounting/reports/, and an API or a scheduled report may want the
same figures; the 360 view only draws them. accounting already reads ledger, claims and distribution.

Every figure is ONE set-based query over the whole period (month ends from generate_series, grouped
aggregates), never a query per month, so the page costs the same five queries for 3 months or 36. Every
function takes the ledger the caller resolved (tenant-scoped, portal360.access) and scopes by its id.

The journal figures (balances, invoices created, payments) and the paid shares read the monthly
summaries the database keeps beside the journal (ledger.models.JournalMonth and PaidMonth, kept by the
triggers of ledger/sql/journal_months.sql): a ledger's summary has a few hundred rows per month
however many invoices it holds, where the journal has millions of postings
(bench/bench_dashboard.py). Only what was booked after the last point, inside its month (a business
day ahead of the calendar), is summed from the journal itself, to take it out again.

Points in time: the period is `months` calendar months ending with `end_month`; each month is measured
at its last day, except the current month, measured today (its month end is still to come). Balances
are "as of" those days from the journal (postings whose transaction was booked on or before), so a
past month shows what was true then, whatever happened since.
"""

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from accounting.reports.core import _fetch  # JIT off (bench/bench_dashboard.py --explain)
from distribution.models import Channel, ReturnKind
from ledger.models import Ledger, PaidMonth, TransactionKind
from ledger.money import ZERO

MAX_MONTHS = 36

# Paid invoices by how far the claim process had come when they were paid (the last step taken on or
# before the day of payment). Ordered: the query takes the highest stage an invoice reached.
STAGE_BY_DUE_DATE, STAGE_LATE, STAGE_REMINDER, STAGE_NOTICE, STAGE_COLLECTION = (
    PaidMonth.Stage.BY_DUE_DATE.value,
    PaidMonth.Stage.LATE.value,
    PaidMonth.Stage.AFTER_REMINDER.value,
    PaidMonth.Stage.AFTER_COLLECTION_NOTICE.value,
    PaidMonth.Stage.IN_COLLECTION.value,
)
STAGES = (STAGE_BY_DUE_DATE, STAGE_LATE, STAGE_REMINDER, STAGE_NOTICE, STAGE_COLLECTION)
# The stage of a paid invoice is decided when it is paid, by ledger_claim_stage_rank in
# ledger/sql/journal_months.sql (reminder 1, collection notice 2, collection and later 3).
# A document counts as distributed once it has left (or, for paper, is archived and waits for the
# print batch, which goes the same day); queued, failed and cancelled ones went nowhere (yet): decided
# by distribution_document_counts in distribution/sql/document_months.sql, for the summary and here.
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
        return {
            "ledger": ledger.id,
            "first": self.first,
            "last": self.last,
            "cap": self.cap,
            "last_end": _month_end(self.last),
        }


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


# The journal summary as of the cap: every JournalMonth row up to the last month, less what was booked
# after the cap inside the last month (summed from the journal, normally nothing: the cap is the last
# month's end or today).
_JOURNAL = """
    SELECT month, kind, overdue_from, receivable, capital, capital_postings, funds_in, funds_in_postings
      FROM ledger_journalmonth WHERE ledger_id = %(ledger)s AND month <= %(last)s
    UNION ALL
    SELECT month, kind, overdue_from, -receivable, -capital, -capital_postings, -funds_in, -funds_in_postings
      FROM ledger_journal_month_sums(%(ledger)s, %(cap)s::date + 1, %(last_end)s)
"""


@dataclass(frozen=True)
class BalancePoint:
    day: date
    open: Decimal  # capital + fees + interest still owed on that day
    overdue: Decimal  # of which on invoices whose due date had passed (due_date < day)
    open_capital: Decimal


def balances(*, ledger: Ledger, period: Period) -> list[BalancePoint]:
    """Open and overdue amount at each point, from the journal as of that day: the component postings
    booked in or before the point's month, and of those, for overdue, the ones whose invoice was due
    before the point (overdue_from = due date + 1 <= point)."""
    rows = _fetch(
        f"""
        WITH points AS ({_POINTS}),
        grouped AS MATERIALIZED (
            SELECT j.month, j.overdue_from, sum(j.receivable) AS total, sum(j.capital) AS capital
              FROM ({_JOURNAL}) j WHERE j.overdue_from IS NOT NULL GROUP BY 1, 2
        )
        SELECT pt.point,
               (SELECT coalesce(sum(g.total), 0) FROM grouped g WHERE g.month <= pt.point),
               (SELECT coalesce(sum(g.total), 0) FROM grouped g
                 WHERE g.month <= pt.point AND g.overdue_from <= pt.point),
               (SELECT coalesce(sum(g.capital), 0) FROM grouped g WHERE g.month <= pt.point)
        FROM points pt ORDER BY pt.point
        """,
        period.params(ledger),
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
        "SELECT month, sum(capital_postings)::bigint AS n, sum(capital) AS amount FROM j WHERE kind = %(kind)s AND month >= %(first)s GROUP BY 1",
        {**period.params(ledger), "kind": TransactionKind.INVOICE},
    )


def payments_received(*, ledger: Ledger, period: Period) -> list[MonthCount]:
    """Payments booked per month: the money in on the client-funds account (one debit per payment
    transaction), whether matched, partly matched, surplus or unidentified."""
    return _per_month(
        "SELECT month, sum(funds_in_postings)::bigint AS n, sum(funds_in) AS amount FROM j WHERE kind = %(kind)s AND month >= %(first)s GROUP BY 1",
        {**period.params(ledger), "kind": TransactionKind.PAYMENT},
    )


def _per_month(inner: str, params: dict) -> list[MonthCount]:
    """`inner` groups the journal summary `j` (the rows up to the cap) by month."""
    rows = _fetch(
        f"""
        WITH j AS ({_JOURNAL})
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
    """Invoices paid in full per month (each `paid` invoice event), by the stage their claim had
    reached that day: by the due date, late (after the due date, no reminder yet), after a reminder,
    after the collection notice, in collection. Counted in invoices, not amounts; an invoice paid in
    full, reopened (a payment reversed) and paid again counts in both months."""
    rows = _fetch(
        """
        SELECT month, stage, sum(invoices)::bigint FROM (
            SELECT month, stage, invoices FROM ledger_paidmonth
             WHERE ledger_id = %(ledger)s AND month BETWEEN %(first)s AND %(last)s
            UNION ALL
            SELECT month, stage, -invoices FROM ledger_paid_month_sums(%(ledger)s, %(cap)s::date + 1, %(last_end)s)
        ) x GROUP BY 1, 2
        """,
        period.params(ledger),
    )
    counts = {month: dict.fromkeys(STAGES, 0) for month in period.months}
    for month, stage, n in rows:
        counts[month][stage] += n
    return [
        PaidShares(month=month, counts=by_stage, total=sum(by_stage.values()))
        for month, by_stage in counts.items()
    ]


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
    the documents by month and channel from their monthly summary, distribution.models.DocumentMonth,
    and the paper returns by month, in one grouped union)."""
    rows = _fetch(
        f"""
        SELECT months.month, x.channel, x.n
        FROM ({_MONTHS}) months
        JOIN (
            SELECT month, channel, sum(n)::bigint AS n FROM (
                SELECT m.month, m.channel, m.documents AS n
                  FROM distribution_documentmonth m
                 WHERE m.ledger_id = %(ledger)s AND m.month BETWEEN %(first)s AND %(last)s
                UNION ALL  -- less what was booked after the cap inside the last month
                SELECT date_trunc('month', d.booking_date)::date, d.channel, -count(*)
                  FROM distribution_document d
                 WHERE d.ledger_id = %(ledger)s AND d.booking_date BETWEEN %(cap)s::date + 1 AND %(last_end)s
                   AND distribution_document_counts(d.status, d.channel)
                 GROUP BY 1, 2
            ) kept GROUP BY 1, 2 HAVING sum(n) <> 0
            UNION ALL
            SELECT date_trunc('month', r.booking_date)::date, '~returned', count(*)
            FROM distribution_returneddocument r
            WHERE r.ledger_id = %(ledger)s AND r.kind = %(paper_returned)s
              AND r.booking_date BETWEEN %(first)s AND %(cap)s
            GROUP BY 1
        ) x USING (month)
        """,
        {**period.params(ledger), "paper_returned": ReturnKind.PAPER_RETURNED},
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
