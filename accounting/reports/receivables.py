"""What is owed as of a date: aging, the ledger report (equal to the receivable accounts' balance),
the invoices' claims and their next steps, write-offs."""

from datetime import date
from decimal import Decimal

from accounting.reports.core import Report, ReportQuery, _fetch, report_run
from claims.selectors import claim_summaries
from ledger.models import Invoice, Ledger

# The items open on a date with their components then: the open-amount versions holding the date
# (ledger.models.OpenVersion, kept by the database beside the journal), found by its two partial indexes
# (those still holding, those closed since), so the cost follows the items open on the date, not the
# history. `paid` is what payments (and allocations of payments) brought, net of their reversals.
OPEN_AS_OF = """
    SELECT v.invoice_id, v.customer_id, v.due_date, v.capital, v.fees, v.interest, v.paid, v.open
      FROM ledger_openversion v
     WHERE v.ledger_id = %s AND v.valid_to IS NULL AND v.valid_from <= %s AND v.open <> 0
    UNION ALL
    SELECT v.invoice_id, v.customer_id, v.due_date, v.capital, v.fees, v.interest, v.paid, v.open
      FROM ledger_openversion v
     WHERE v.ledger_id = %s AND v.valid_to IS NOT NULL AND v.open <> 0
       AND daterange(v.valid_from, v.valid_to) @> %s::date
"""


def open_as_of(ledger_id: int, as_of: date) -> tuple[str, list]:
    """The SELECT of the items open on `as_of` (invoice_id, customer_id, due_date, capital, fees, interest,
    paid, open) and its parameters, for the reports to build on."""
    return OPEN_AS_OF, [ledger_id, as_of, ledger_id, as_of]


# A report's page walks an index in its own order (the customers by number, the invoices by number) and
# takes, for each invoice met, the version holding the day (the last one begun by then: one backward
# probe of the versions' primary key), until it has its page: the cost follows the page, not the items
# open (accounting.reports.core.report_page; its count and totals come from the versions alone). Two
# parameters: the day, twice.
HOLDING = """CROSS JOIN LATERAL (
                  SELECT v.due_date, v.capital, v.fees, v.interest, v.paid, v.open, v.valid_to
                    FROM ledger_openversion v
                   WHERE v.invoice_id = i.id AND v.valid_from <= %s
                   ORDER BY v.valid_from DESC LIMIT 1) o"""
HELD = "o.open <> 0 AND (o.valid_to IS NULL OR o.valid_to > %s)"


def _open_summary(ledger_id: int, as_of: date, columns: str) -> tuple[str, list]:
    """A count and totals over the items open on the day, from the versions alone (no joins)."""
    open_sql, open_params = open_as_of(ledger_id, as_of)
    return f"WITH open AS ({open_sql}) SELECT {columns} FROM open o", open_params


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
        return "%s - o.due_date <= 0"  # due on or after the date: not yet due
    if high is None:
        return f"%s - o.due_date >= {low}"
    return f"%s - o.due_date BETWEEN {low} AND {high}"


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
    open_sql, open_params = open_as_of(ledger.id, as_of)
    whole = per_customer and not customer_no
    summary_sql, summary_params = _open_summary(ledger.id, as_of, f"count(DISTINCT o.customer_id), {buckets}, sum(o.open)")
    return ReportQuery(
        "aging",
        f"Aging {ledger.company_no} as of {as_of}",
        [*first, *names, "total"],
        f"""WITH open AS ({open_sql})
            SELECT {group}, {buckets}, sum(o.open)
              FROM open o
              JOIN ledger_customer c ON c.id = o.customer_id
              JOIN ledger_ledger l ON l.id = c.ledger_id
             {where}
             GROUP BY {group}
             ORDER BY 1""",
        [*open_params, *[as_of] * len(AGING_BUCKETS), *extra],
        money_columns=(*names, "total"),
        keyset=(0,),  # the customer (or the ledger): one row each
        summary_sql=summary_sql if whole else "",
        summary_params=[*summary_params, *[as_of] * len(AGING_BUCKETS)] if whole else [],
        page_sql=_aging_walk(ledger, as_of, buckets) if whole else None,
    )


def _aging_walk(ledger: Ledger, as_of: date, buckets: str):
    """The customers by number, each with its items open on the day summed by bucket, until a page of
    those with any."""

    def page(after: list[str] | None, limit: int) -> tuple[str, list]:
        sql = f"""SELECT c.customer_no, c.name, s.*
                    FROM ledger_customer c
                   CROSS JOIN LATERAL (
                         SELECT {buckets}, sum(o.open) AS total
                           FROM ledger_invoice i
                          {HOLDING}
                          WHERE i.customer_id = c.id AND {HELD}) s
                   WHERE c.ledger_id = %s AND c.customer_no > %s AND s.total IS NOT NULL
                   ORDER BY c.customer_no LIMIT %s"""
        return sql, [*[as_of] * len(AGING_BUCKETS), as_of, as_of, ledger.id, (after or [""])[0], limit]

    return page


def aging(*, ledger: Ledger, as_of: date, per_customer: bool = True, customer_no: str = "") -> Report:
    """Open amounts by days overdue on `as_of`: not yet due (due on or after the date), 1-30, 31-60,
    61-90, 91-180 and more than 180 days; per customer, or one row for the ledger."""
    return report_run(
        aging_query(ledger=ledger, as_of=as_of, per_customer=per_customer, customer_no=customer_no)
    )


def ledger_report_query(*, ledger: Ledger, as_of: date, customer_no: str = "") -> ReportQuery:
    where, extra = ("WHERE c.customer_no = %s", [customer_no]) if customer_no else ("", [])
    open_sql, open_params = open_as_of(ledger.id, as_of)
    summary_sql, summary_params = _open_summary(
        ledger.id, as_of, "count(*), sum(o.capital), sum(o.fees), sum(o.interest), sum(o.open)"
    )
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
        LEDGER_REPORT.format(open=open_sql, where=where),
        [*open_params, *extra],
        money_columns=("capital", "fees", "interest", "open"),
        keyset=(1, 0),  # customer_no, invoice_no
        summary_sql="" if customer_no else summary_sql,
        summary_params=[] if customer_no else summary_params,
        page_sql=None if customer_no else _ledger_report_walk(ledger, as_of),
    )


LEDGER_REPORT = """WITH open AS ({open})
    SELECT i.invoice_no, c.customer_no, i.payment_ref, i.invoice_date, i.due_date,
           coalesce(o.capital, 0), coalesce(o.fees, 0), coalesce(o.interest, 0), o.open
      FROM open o
      JOIN ledger_invoice i ON i.id = o.invoice_id
      JOIN ledger_customer c ON c.id = i.customer_id
     {where}
     ORDER BY c.customer_no, i.invoice_no"""


def _ledger_report_walk(ledger: Ledger, as_of: date):
    """The customers by number and each one's invoices by number, until a page of items open on the day."""

    def page(after: list[str] | None, limit: int) -> tuple[str, list]:
        customer_no, invoice_no = after or ["", ""]
        walk = f"""SELECT x.invoice_id, c.id AS customer_id, x.due_date, x.capital, x.fees, x.interest, x.paid,
                          x.open
                     FROM ledger_customer c
                    CROSS JOIN LATERAL (
                          SELECT i.id AS invoice_id, i.invoice_no, o.*
                            FROM ledger_invoice i
                           {HOLDING}
                           WHERE i.customer_id = c.id AND {HELD}) x
                    WHERE c.ledger_id = %s AND c.customer_no >= %s AND (c.customer_no, x.invoice_no) > (%s, %s)
                    ORDER BY c.customer_no, x.invoice_no LIMIT %s"""
        return LEDGER_REPORT.format(open=walk, where=""), [
            as_of, as_of, ledger.id, customer_no, customer_no, invoice_no, limit,
        ]  # fmt: skip

    return page


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
    open_sql, open_params = open_as_of(ledger.id, as_of)
    whole = not conditions
    summary_sql, summary_params = _open_summary(
        ledger.id, as_of, "count(*), sum(o.capital), sum(o.fees), sum(o.interest), sum(o.paid), sum(o.open)"
    )
    return ReportQuery(
        "invoice_claims",
        f"Invoice claims {ledger.company_no} as of {as_of}",
        INVOICE_CLAIMS_COLUMNS,
        INVOICE_CLAIMS.format(open=open_sql, where=where),
        [*open_params, as_of, as_of, as_of, as_of, *extra],
        money_columns=("capital", "fees", "interest", "paid", "open"),
        finish=_next_steps_now(ledger, as_of),
        keyset=(0,),  # invoice_no
        summary_sql=summary_sql if whole else "",
        summary_params=summary_params if whole else [],
        page_sql=_invoice_claims_walk(ledger, as_of) if whole else None,
    )


INVOICE_CLAIMS_COLUMNS = [
    "invoice_no", "customer_no", "due_date", "capital", "fees", "interest", "paid", "open", "status",
    "last_event", "last_event_date", "claim_level", "next_step", "next_step_date",
]  # fmt: skip
# Four parameters after the open items': the day, four times.
INVOICE_CLAIMS = """WITH open AS ({open})
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
             ORDER BY i.invoice_no"""


def _invoice_claims_walk(ledger: Ledger, as_of: date):
    """The invoices by number until a page of items open on the day; their events and claim steps are
    then looked up for the page's rows only."""

    def page(after: list[str] | None, limit: int) -> tuple[str, list]:
        walk = f"""SELECT i.id AS invoice_id, i.customer_id, o.due_date, o.capital, o.fees, o.interest, o.paid,
                          o.open
                     FROM ledger_invoice i
                    {HOLDING}
                    WHERE i.ledger_id = %s AND i.invoice_no > %s AND {HELD}
                    ORDER BY i.invoice_no LIMIT %s"""
        params = [as_of, ledger.id, (after or [""])[0], as_of, limit, as_of, as_of, as_of, as_of]
        return INVOICE_CLAIMS.format(open=walk, where=""), params

    return page


def _next_steps_now(ledger: Ledger, as_of: date):
    """As of today, "what happens next, and when" is the claims engine's own answer, the one the invoice
    page shows (claims.selectors.claim_summaries: respites, disputes, skipped steps, minimum amounts and
    stopped claims included). A past day keeps the plan recorded then, never before that day."""

    def finish(rows: list[tuple]) -> list[tuple]:
        if as_of < ledger.today():
            return rows
        invoices = list(
            Invoice.objects.filter(ledger=ledger, invoice_no__in=[row[0] for row in rows]).select_related(
                "customer"
            )
        )
        summaries = claim_summaries(ledger=ledger, invoices=invoices, as_of=as_of)
        planned = {invoice.invoice_no: summaries[invoice.id]["next_event"] for invoice in invoices}
        finished = []
        for row in rows:
            event = planned.get(row[0])
            finished.append(
                row[:-2] + ((event["kind"], date.fromisoformat(event["date"])) if event else ("", None))
            )
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
                  coalesce(-sum(p.amount) FILTER (WHERE p.component <> ''), 0), t.id
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
        keyset=(0, 9, 1),  # booking_date, the transaction, invoice_no
        hidden_columns=1,
    )


def write_offs(*, ledger: Ledger, start: date, end: date, **filters) -> Report:
    """Write-offs booked in [start, end] (reversals of write-offs negative), by component and cause."""
    return report_run(write_offs_query(ledger=ledger, start=start, end=end, **filters))
