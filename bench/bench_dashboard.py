#!/usr/bin/env python
"""Benchmark: the 360 dashboard (accounting/dashboard.py) on a million invoices with 12 months of history.

Run from the project root:

    python bench/bench_dashboard.py [--invoices 1000000] [--customers 1000] [--repeat 3]

The database is a throwaway one (ledger_bench_<pid>, see _common.py). Setup (not timed): migrate, one
Norwegian ledger, --customers customers, then --invoices invoices registered evenly over the last 365
days, written set-based in SQL (INSERT ... SELECT over generate_series, the journal's triggers off for
the load: session_replication_role = replica) and then checked (every transaction sums to zero, the
receivables equal capital + fees less payments). Each invoice gets its invoice transaction (2 postings),
its invoice document (eFaktura 30 %, e-mail 30 %, paper 20 %, Kivra 10 %, SMS 10 %), and by its number a
fate: 55 % paid before the due date, 15 % paid late, 10 % after a reminder, 5 % after the collection
notice (NOK 35 fee), 5 % paid in collection (NOK 245 more), 10 % never paid (notice, then collection);
the steps write their invoice events (reminder_sent, collection_notice_sent, moved_to_collection), fee
transactions and letters; payments their payment transactions, `paid` and `closed` events; 3 % of the
paper documents come back (returned mail). Then the read models the load's skipped triggers keep (the
monthly summaries ledger_journalmonth, ledger_paidmonth and distribution_documentmonth, the registrations
per day ledger_registrationday, the open-amount versions ledger_openversion) are rebuilt from the journal and the documents, and VACUUM ANALYZE. A second ledger
of --small-invoices invoices is loaded the same way, for the dashboard's time at two sizes in one run.

Timed:
  1. the dashboard's five queries (accounting.dashboard.dashboard_figures) for 12 months, each on a NEW
     database connection (a new backend: nothing cached in it, plans included); the server's shared
     buffers and the OS page cache are NOT emptied (that needs a server restart), so this is "cold
     connection", not "cold disk";
  2. the same for the small ledger, and the ratio of the two (issue 26: <= 1.5, flat in history);
  3. the aging (per customer and for the whole ledger) and the ledger report's first page with its count
     and totals, as of a day a year back, half a year back and today, each on a new connection; the
     agings are compared with the same report summed from the journal (what it read before the
     open-amount versions), which is timed too;
  4. GET /360/dashboard/ through gunicorn (a signed-in operator's session), the first request of a new
     worker and then --repeat more.
Ends with `BENCH <name> <value> <unit>` lines. Targets: the dashboard <= 300 ms on a cold connection at
1,000,000 invoices (issue 26; 2 s for the page, issue 14), the aging as of any day <= 1 s.
"""

import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from _common import ROOT, bench_main, check, progress  # noqa: E402 (sets up sys.path)
from bench_api import free_port, start_gunicorn

COMPANY_NO = "900000002"
SMALL_COMPANY_NO = "900000003"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--small-invoices", type=int, default=200_000,
                        help="a second ledger of this size, for the ratio of the times (0: none)")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the five queries")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    return bench_main(run, args)


# The whole history as one plan row per invoice (i = 1..N); every later INSERT selects from it.
PLAN = """
CREATE TABLE bench_plan AS
SELECT i, booked, booked + 14 AS due, amount,
       CASE WHEN r <= 10 THEN booked + 7 WHEN r <= 13 THEN booked + 20 WHEN r <= 15 THEN booked + 30
            WHEN r = 16 THEN booked + 40 WHEN r = 17 THEN booked + 60 END AS paid_planned,
       CASE WHEN r IN (14, 15) THEN booked + 22 END AS reminder_planned,
       CASE WHEN r >= 16 THEN booked + 32 END AS notice_planned,
       CASE WHEN r = 17 OR r >= 18 THEN booked + 50 END AS collection_planned,
       (ARRAY['einvoice_b2c','einvoice_b2c','einvoice_b2c','email','email','email','paper','paper',
              'kivra','sms'])[i %% 10 + 1] AS channel
FROM (
    SELECT i, (%(first)s::date + ((i - %(base)s - 1)::bigint * 365 / %(n)s)::int) AS booked,
           round(100 + ((i::bigint * 7919) %% 1000000) / 100.0, 2) AS amount, i %% 20 AS r
    FROM generate_series(%(base)s + 1, %(base)s + %(n)s) AS i
) x;
-- What had happened by today: nothing in the future.
CREATE TABLE bench_fate AS
SELECT p.*,
       CASE WHEN paid_planned <= %(today)s THEN paid_planned END AS paid_on,
       CASE WHEN reminder_planned <= %(today)s THEN reminder_planned END AS reminder_on,
       CASE WHEN notice_planned <= %(today)s THEN notice_planned END AS notice_on,
       CASE WHEN collection_planned <= %(today)s THEN collection_planned END AS collection_on
FROM bench_plan p;
ALTER TABLE bench_fate ADD COLUMN fees numeric(18, 2);
UPDATE bench_fate SET fees = (CASE WHEN notice_on IS NOT NULL THEN 35 ELSE 0 END)
                           + (CASE WHEN collection_on IS NOT NULL THEN 245 ELSE 0 END);
"""

# Transaction ids: invoice i, payment N+i, notice fee 2N+i, collection fee 3N+i. Documents: invoice i,
# letters 2N+i (reminder), 3N+i (notice), 4N+i (payment demand). i runs from base + 1 to base + N: a second
# ledger loaded with base = 5 x the first one's N takes ids above all of the first one's.
LOAD = """
SET session_replication_role = replica;
INSERT INTO ledger_invoice (id, ledger_id, customer_id, invoice_no, external_id, payment_ref, invoice_date,
    due_date, currency, amount, reference_text, with_distribution, distribution_type, status, closed_on,
    created_at)
SELECT i, %(ledger)s, %(customer0)s + i %% %(customers)s, 'B' || lpad(i::text, 8, '0'), '',
       lpad(i::text, 12, '0'), booked, due, 'NOK', amount, '', true, '',
       CASE WHEN paid_on IS NULL THEN 'open' ELSE 'closed' END, paid_on, now()
FROM bench_fate;

INSERT INTO ledger_journaltransaction (id, ledger_id, booking_date, kind, cause, description, invoice_id,
    payment_id, actor, created_at)
SELECT i, %(ledger)s, booked, 'invoice', '', '', i, NULL::bigint, 'bench', now() FROM bench_fate
UNION ALL SELECT %(n)s + i, %(ledger)s, paid_on, 'payment', '', '', i, NULL::bigint, 'bench', now()
          FROM bench_fate WHERE paid_on IS NOT NULL
UNION ALL SELECT 2 * %(n)s + i, %(ledger)s, notice_on, 'fee', '', '', i, NULL::bigint, 'bench', now()
          FROM bench_fate WHERE notice_on IS NOT NULL
UNION ALL SELECT 3 * %(n)s + i, %(ledger)s, collection_on, 'fee', '', '', i, NULL::bigint, 'bench', now()
          FROM bench_fate WHERE collection_on IS NOT NULL;

INSERT INTO ledger_posting (transaction_id, ledger_id, account_id, invoice_id, customer_id, component,
    amount, currency)
SELECT i, %(ledger)s, %(capital)s, i, NULL::bigint, 'capital', amount, 'NOK' FROM bench_fate
UNION ALL SELECT i, %(ledger)s, %(clearing)s, i, NULL::bigint, '', -amount, 'NOK' FROM bench_fate
UNION ALL SELECT 2 * %(n)s + i, %(ledger)s, %(fee)s, i, NULL::bigint, 'fee', 35, 'NOK'
          FROM bench_fate WHERE notice_on IS NOT NULL
UNION ALL SELECT 2 * %(n)s + i, %(ledger)s, %(fee_income)s, i, NULL::bigint, '', -35, 'NOK'
          FROM bench_fate WHERE notice_on IS NOT NULL
UNION ALL SELECT 3 * %(n)s + i, %(ledger)s, %(fee)s, i, NULL::bigint, 'fee', 245, 'NOK'
          FROM bench_fate WHERE collection_on IS NOT NULL
UNION ALL SELECT 3 * %(n)s + i, %(ledger)s, %(fee_income)s, i, NULL::bigint, '', -245, 'NOK'
          FROM bench_fate WHERE collection_on IS NOT NULL
UNION ALL SELECT %(n)s + i, %(ledger)s, %(bank)s, NULL::bigint, NULL, '', amount + fees, 'NOK'
          FROM bench_fate WHERE paid_on IS NOT NULL
UNION ALL SELECT %(n)s + i, %(ledger)s, %(capital)s, i, NULL::bigint, 'capital', -amount, 'NOK'
          FROM bench_fate WHERE paid_on IS NOT NULL
UNION ALL SELECT %(n)s + i, %(ledger)s, %(fee)s, i, NULL::bigint, 'fee', -fees, 'NOK'
          FROM bench_fate WHERE paid_on IS NOT NULL AND fees > 0;

INSERT INTO ledger_invoiceevent (ledger_id, invoice_id, kind, from_status, to_status, booking_date, reason,
    transaction_id, actor, created_at)
SELECT %(ledger)s, i, 'registered', '', 'open', booked, '', i, 'bench', now() FROM bench_fate
UNION ALL SELECT %(ledger)s, i, 'reminder_sent', 'open', 'open', reminder_on, '', NULL::bigint, 'bench', now()
          FROM bench_fate WHERE reminder_on IS NOT NULL
UNION ALL SELECT %(ledger)s, i, 'collection_notice_sent', 'open', 'open', notice_on, '', 2 * %(n)s + i,
                 'bench', now() FROM bench_fate WHERE notice_on IS NOT NULL
UNION ALL SELECT %(ledger)s, i, 'moved_to_collection', 'open', 'open', collection_on, '', 3 * %(n)s + i,
                 'bench', now() FROM bench_fate WHERE collection_on IS NOT NULL
UNION ALL SELECT %(ledger)s, i, 'paid', 'open', 'open', paid_on, '', %(n)s + i, 'bench', now()
          FROM bench_fate WHERE paid_on IS NOT NULL
UNION ALL SELECT %(ledger)s, i, 'closed', 'open', 'closed', paid_on, '', %(n)s + i, 'bench', now()
          FROM bench_fate WHERE paid_on IS NOT NULL;

INSERT INTO distribution_document (id, ledger_id, customer_id, invoice_id, kind, booking_date, source_key,
    facts, status, channel, route, channel_reason, channel_error, address, language, archive_name, checksum,
    retention_until, attempts, last_error, sent_at, distributed_on, created_at)
SELECT id, %(ledger)s, %(customer0)s + i %% %(customers)s, i, kind, day, kind || ':' || i, '{}', 'sent',
       channel, CASE WHEN channel = 'paper' THEN 'legal_address' ELSE '' END, '', '', '{}', 'nb',
       'archive/' || id || '.pdf', repeat('0', 64), day + 3650, 1, '', now(), day, now()
FROM (
    SELECT i AS id, i, 'invoice' AS kind, booked AS day, channel FROM bench_fate
    UNION ALL SELECT 2 * %(n)s + i, i, 'reminder', reminder_on, channel FROM bench_fate
              WHERE reminder_on IS NOT NULL
    UNION ALL SELECT 3 * %(n)s + i, i, 'collection_notice', notice_on, 'paper' FROM bench_fate
              WHERE notice_on IS NOT NULL
    UNION ALL SELECT 4 * %(n)s + i, i, 'payment_demand', collection_on, 'paper' FROM bench_fate
              WHERE collection_on IS NOT NULL
) d;

INSERT INTO distribution_returneddocument (ledger_id, document_id, customer_id, invoice_id, kind, status,
    booking_date, reason, actor, created_at)
SELECT %(ledger)s, d.id, d.customer_id, d.invoice_id, 'paper_returned', 'open', d.booking_date + 7,
       'unknown address', 'bench', now()
FROM distribution_document d
WHERE d.ledger_id = %(ledger)s AND d.channel = 'paper' AND d.id %% 33 = 0 AND d.booking_date + 7 <= %(today)s;
SET session_replication_role = DEFAULT;
"""


def setup(args):
    from django.core.management import call_command
    from django.db import connection

    from ledger.models import UserRole
    from tests.factories import UserFactory

    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    ledger = load_ledger(COMPANY_NO, "9002", invoices=args.invoices, customers=args.customers, base=0)
    small = None
    if args.small_invoices:
        small = load_ledger(SMALL_COMPANY_NO, "9003", invoices=args.small_invoices, customers=args.customers,
                            base=5 * args.invoices)  # fmt: skip
    with connection.cursor() as cursor:
        # VACUUM as autovacuum would soon after such a load: it marks the pages all-visible, which the
        # reports' index-only scans of the open-amount versions need (else one heap page read per version)
        cursor.execute("VACUUM ANALYZE")
    user = UserFactory(
        client=ledger.client, role=UserRole.OPERATOR, username="bench", email="bench@example.no"
    )
    progress(f"setup done in {time.perf_counter() - t:.0f} s")
    return ledger, small, user


def load_ledger(company_no: str, ledger_no: str, *, invoices: int, customers: int, base: int):
    """One ledger with `invoices` invoices over the last 365 days, loaded set-based (ids from base + 1)."""
    from datetime import timedelta

    from django.db import connection

    from ledger.models import Account, AccountRole, Customer
    from ledger.services.ledgers import ledger_create

    t = time.perf_counter()
    ledger, _ = ledger_create(
        company_no=company_no, ledger_no=ledger_no, country="NO", name="Bench ledger", client_name="Bench client",
        client_funds_account="15030000002",
    )  # fmt: skip
    rows = Customer.objects.bulk_create(
        Customer(ledger=ledger, customer_no=str(100_000 + i), name=f"Bench customer {i}", country="NO")
        for i in range(customers)
    )
    ids = [c.id for c in rows]
    check(ids == list(range(ids[0], ids[0] + len(ids))), "customer ids are not contiguous")
    accounts = {a.role: a.id for a in Account.objects.filter(ledger=ledger)}
    today = ledger.today()
    params = {
        "n": invoices, "base": base, "first": today - timedelta(days=365), "today": today, "ledger": ledger.id,
        "customer0": ids[0], "customers": len(ids),
        "capital": accounts[AccountRole.RECEIVABLE_CAPITAL], "clearing": accounts[AccountRole.INVOICE_CLEARING],
        "fee": accounts[AccountRole.RECEIVABLE_FEE], "fee_income": accounts[AccountRole.FEE_INCOME],
        "bank": accounts[AccountRole.CLIENT_FUNDS_BANK],
    }  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(PLAN, params)
        for statement in LOAD.split(";\n\n"):
            cursor.execute(statement, params)
            table = re.search(r"INSERT INTO (\w+)", statement)
            progress(
                f"  {company_no}: loaded {table[1] if table else '...'} ({time.perf_counter() - t:.0f} s)"
            )
        for table in ("ledger_invoice", "ledger_journaltransaction", "ledger_posting", "ledger_invoiceevent",
                      "distribution_document", "distribution_returneddocument"):  # fmt: skip
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        # The load skipped the journal's triggers: check what they would have.
        cursor.execute(
            "SELECT count(*) FROM (SELECT transaction_id FROM ledger_posting WHERE ledger_id = %s"
            " GROUP BY 1 HAVING sum(amount) <> 0) x",
            [ledger.id],
        )
        check(cursor.fetchone()[0] == 0, "a transaction does not sum to zero")
        cursor.execute(
            "SELECT (SELECT sum(amount) FROM ledger_posting WHERE component <> '' AND ledger_id = %s),"
            " (SELECT sum(amount + fees) FROM bench_fate WHERE paid_on IS NULL)",
            [ledger.id],
        )
        receivable, expected = cursor.fetchone()
        check(receivable == expected, f"receivables {receivable} != {expected}")
        cursor.execute(
            "SELECT (SELECT count(*) FROM ledger_posting WHERE ledger_id = %(l)s),"
            " (SELECT count(*) FROM ledger_invoiceevent WHERE ledger_id = %(l)s),"
            " (SELECT count(*) FROM distribution_document WHERE ledger_id = %(l)s)",
            {"l": ledger.id},
        )
        postings, events, documents = cursor.fetchone()
        cursor.execute("DROP TABLE bench_plan; DROP TABLE bench_fate")
        # ... and the read models, which the triggers keep: rebuilt from the journal, as the migrations do
        # for existing ledgers.
        rebuilt = time.perf_counter()
        cursor.execute("SELECT ledger_summaries_rebuild(%s)", [ledger.id])
        cursor.execute("SELECT ledger_registration_days_rebuild(%s)", [ledger.id])
        cursor.execute("SELECT distribution_document_months_rebuild(%s)", [ledger.id])
        summaries = time.perf_counter() - rebuilt
        rebuilt = time.perf_counter()
        cursor.execute("SELECT ledger_open_versions_rebuild(%s)", [ledger.id])
        cursor.execute("SELECT count(*) FROM ledger_openversion WHERE ledger_id = %s", [ledger.id])
        versions = cursor.fetchone()[0]
        progress(f"  {company_no}: monthly summaries rebuilt in {summaries:.1f} s, {versions:,} open-amount "
                 f"versions in {time.perf_counter() - rebuilt:.1f} s")  # fmt: skip
    progress(f"{company_no}: {invoices:,} invoices, {postings:,} postings, {events:,} invoice events, "
             f"{documents:,} documents in {time.perf_counter() - t:.0f} s")  # fmt: skip
    return ledger


def time_selectors(ledger, repeat: int) -> list[float]:
    from django.db import connection, connections

    from accounting import dashboard

    results = []
    for n in range(repeat):
        connections.close_all()  # a new backend: nothing cached in it
        with connection.cursor() as cursor:
            cursor.execute("DISCARD ALL")
        t0 = time.perf_counter()
        period = dashboard.dashboard_period(ledger=ledger, months=12)
        parts = {}
        for name in ("balances", "invoices_created", "payments_received", "paid_shares", "channel_mix"):
            t = time.perf_counter()
            getattr(dashboard, name)(ledger=ledger, period=period)
            parts[name] = time.perf_counter() - t
        total = time.perf_counter() - t0
        results.append(total)
        print(f"selectors run {n + 1}: {total:.3f} s  " + "  ".join(f"{k} {v:.3f}" for k, v in parts.items()),
              flush=True)  # fmt: skip
    figures = dashboard.dashboard_figures(ledger=ledger, period=period)
    check(len(figures.balances) == 12 and figures.balances[-1].open > 0, "no open amount")
    check(sum(m.count for m in figures.created) > 0, "no invoices created")
    print("open at the month ends:", [str(p.open) for p in figures.balances], flush=True)
    print("paid by stage:", figures.paid_total, flush=True)
    return results


def explain(ledger) -> None:
    from django.db import connection

    from accounting import dashboard

    period = dashboard.dashboard_period(ledger=ledger, months=12)
    fetch = dashboard._fetch

    def explained(sql, params):
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            print("\n".join(row[0] for row in cursor.fetchall()), flush=True)
        return fetch(sql, params)

    dashboard._fetch = explained
    try:
        dashboard.dashboard_figures(ledger=ledger, period=period)
    finally:
        dashboard._fetch = fetch


def time_page(args, user) -> list[float]:
    from django.conf import settings
    from django.test import Client

    from tests.helpers import sign_in

    # The session is signed with the secret key gunicorn runs with (bench_api.start_gunicorn's).
    settings.SECRET_KEY = "bench-only-secret-key-" + "x" * 40
    cookie = sign_in(Client(), user).cookies[settings.SESSION_COOKIE_NAME].value
    # DEBUG off serves hashed static files: collect them once for this run.
    static_root = tempfile.mkdtemp(prefix="bench-static-")
    os.environ["DJANGO_STATIC_ROOT"] = static_root
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, check=True,
                   env={**os.environ, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": settings.SECRET_KEY})  # fmt: skip
    port = free_port()
    process = start_gunicorn(args, port)
    headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}", "X-Forwarded-Proto": "https"}
    results = []
    try:
        for n in range(args.repeat + 1):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            t0 = time.perf_counter()
            conn.request("GET", "/360/dashboard/", headers=headers)
            response = conn.getresponse()
            body = response.read().decode()
            elapsed = time.perf_counter() - t0
            conn.close()
            check(response.status == 200, f"GET /360/dashboard/: {response.status} {body[:300]}")
            check(body.count("<svg") == 7, "the page does not have its seven charts")
            results.append(elapsed)
            print(f"page request {n + 1}{' (new worker)' if n == 0 else ''}: {elapsed:.3f} s, {len(body):,} bytes",
                  flush=True)  # fmt: skip
    finally:
        process.terminate()
        process.wait(30)
        shutil.rmtree(static_root, ignore_errors=True)
    return results


# What the reports read before the open-amount versions: the journal summed up to the day (the reference
# the versions' answers are compared with).
JOURNAL_OPEN_AS_OF = """
    SELECT p.invoice_id, (SELECT customer_id FROM ledger_invoice WHERE id = p.invoice_id) AS customer_id,
           (SELECT due_date FROM ledger_invoice WHERE id = p.invoice_id) AS due_date,
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


def time_as_of(ledger) -> dict[str, float]:
    """The reports as of a day a year back, half a year back and today, each on a new connection: the aging
    per customer and for the whole ledger, and the ledger report's first page as the 360 page asks for it
    (its row count, totals and first 50 rows). The agings are compared with the journal's."""
    from datetime import timedelta

    from django.db import connection, connections

    from accounting.reports import receivables
    from accounting.reports.core import report_page, report_run

    today = ledger.today()
    worst = {"aging": 0.0, "aging_first_page": 0.0, "ledger_first_page": 0.0}
    for label, day in (("a year back", today - timedelta(days=360)), ("half a year back", today - timedelta(days=182)),
                       ("today", today)):  # fmt: skip
        timings = {}
        for name, measure in (
            ("aging", lambda day=day: report_run(receivables.aging_query(ledger=ledger, as_of=day, per_customer=False))),
            ("aging_first_page", lambda day=day: report_page(query=receivables.aging_query(ledger=ledger, as_of=day))),
            ("ledger_first_page", lambda day=day: report_page(query=receivables.ledger_report_query(ledger=ledger, as_of=day))),
        ):  # fmt: skip
            connections.close_all()  # each on a new connection
            with connection.cursor() as cursor:
                cursor.execute("DISCARD ALL")
            t0 = time.perf_counter()
            result = measure()
            timings[name] = time.perf_counter() - t0
            worst[name] = max(worst[name], timings[name])
            if name == "aging":
                whole = result
            elif name == "aging_first_page":
                aging_page = result
            else:
                listing = result
        # the same agings summed from the journal, as the reports read them before the versions
        versions_read = receivables.open_as_of
        receivables.open_as_of = lambda ledger_id, as_of: (JOURNAL_OPEN_AS_OF, [ledger_id, as_of])
        try:
            t0 = time.perf_counter()
            reference = report_run(receivables.aging_query(ledger=ledger, as_of=day, per_customer=False))
            journal_s = time.perf_counter() - t0
            reference_page = report_page(query=receivables.aging_query(ledger=ledger, as_of=day))
        finally:
            receivables.open_as_of = versions_read
        check(whole.rows == reference.rows, f"aging as of {day} differs from the journal's")
        check(aging_page.rows == reference_page.rows and aging_page.totals == reference_page.totals,
              f"the aging page as of {day} differs from the journal's")  # fmt: skip
        total = whole.rows[0][-1] if whole.rows else 0
        print(f"as of {day} ({label}): {listing.count:,} items open, {total} in all; whole-ledger aging "
              f"{timings['aging']:.3f} s (from the journal {journal_s:.3f} s, same figures); first page with count "
              f"and totals: aging per customer {timings['aging_first_page']:.3f} s (same as the journal's), ledger "
              f"report {timings['ledger_first_page']:.3f} s", flush=True)  # fmt: skip
    return worst


def run(args) -> int:
    ledger, small, user = setup(args)
    selectors = time_selectors(ledger, args.repeat)
    if small is not None:
        print(f"-- the same for the ledger of {args.small_invoices:,} invoices", flush=True)
        small_selectors = time_selectors(small, args.repeat)
    as_of = time_as_of(ledger)
    if args.explain:
        explain(ledger)
    page = time_page(args, user)
    print(f"BENCH dashboard_selectors_cold_connection {selectors[0]:.3f} s")
    print(f"BENCH dashboard_selectors_best {min(selectors):.3f} s")
    if small is not None:
        ratio = min(selectors) / min(small_selectors)
        print(f"dashboard at {args.invoices:,} / at {args.small_invoices:,} invoices (best of each): {ratio:.2f} "
              f"(target <= 1.5: {'met' if ratio <= 1.5 else 'NOT met'})")  # fmt: skip
        print(f"BENCH dashboard_selectors_small_best {min(small_selectors):.3f} s")
        print(f"BENCH dashboard_size_ratio {ratio:.2f} x")
    print(f"BENCH aging_as_of_cold_worst {as_of['aging']:.3f} s")
    print(f"BENCH aging_first_page_cold_worst {as_of['aging_first_page']:.3f} s")
    print(f"BENCH ledger_report_first_page_cold_worst {as_of['ledger_first_page']:.3f} s")
    print(f"BENCH dashboard_page_first {page[0]:.3f} s")
    print(f"BENCH dashboard_page_best {min(page[1:] or page):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
