#!/usr/bin/env python
"""Benchmark: one day's accounting files (Accounting Detail XML + CSV, SIE4, Bill Journal) for a ledger
with many postings that day, and an aging report over many open invoices; each against its floor.

Run from the project root:

    python bench/bench_accounting.py [--day-invoices 100000] [--open-invoices 1000000]

The database is a throwaway one (ledger_bench_<pid>, see _common.py); the outbox is a temporary
directory. Setup (not timed): one Norwegian ledger; `--open-invoices` invoices registered with
`invoices_register` in batches of 10,000 over enough customers (a KID allows 9,999 per customer), due
dates spread over 150 days so that every aging bucket is filled. The first `--day-invoices` are booked
on the measured day, 2 postings each (so 100,000 invoices = 200,000 postings that day), the rest on
earlier days.

Measured:
  1. `accounting_files_write(ledger=..., as_of=day)`: the whole call (queries, building and validating
     the XML, the CSV, SIE4 and the Bill Journal, writing them, the records, the commit).
     Floor: the SIE4 GROUP BY query alone (postings of the day summed per account).
  2. `accounting.reports.aging(ledger=..., as_of=...)` per customer.
     Floor: the GROUP BY of the open amount per invoice alone (counted, not fetched).
  ratio = time / floor.

Checks: the four files of the day are written and valid (the writer validates each XML against
its schema), the Accounting Detail control totals count the day's postings, the aging total equals the
receivable accounts' balance. Ends with `BENCH <name> <value> <unit>` lines.
"""

import argparse
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from _common import CheckFailed, check, progress, throwaway_database  # noqa: E402 (sets up sys.path)

BATCH_SIZE = 10_000
DAY = date(2026, 3, 2)
TARGET_FILES_SECONDS = 10.0
TARGET_AGING_SECONDS = 5.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--day-invoices", type=int, default=100_000, help="invoices booked on the day (2 postings each)"
    )
    parser.add_argument(
        "--open-invoices", type=int, default=1_000_000, help="open invoices in the ledger in all"
    )
    args = parser.parse_args()
    if not 0 < args.day_invoices <= args.open_invoices:
        parser.error("need 0 < --day-invoices <= --open-invoices")
    return args


def main() -> int:
    args = parse_args()
    try:
        with throwaway_database(), tempfile.TemporaryDirectory(prefix="bench_accounting_") as tmp:
            return run(args, Path(tmp))
    except CheckFailed as exc:
        print(f"CHECK FAILED: {exc}", flush=True)
        return 1


def timed(fn):
    t = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t


def run(args: argparse.Namespace, tmp: Path) -> int:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from accounting.reports.receivables import _OPEN_AS_OF, aging, receivables_balance
    from accounting.services import accounting_files_write
    from ledger.models import Customer
    from ledger.services.ledgers import ledger_create
    from ledger.services.registration import InvoiceInput, invoices_register

    settings.LEDGER_DATA_DIR = tmp
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        check(cursor.fetchone()[0].startswith("ledger_bench_"), "not the throwaway database")

    ledger, _ = ledger_create(company_no="900000007", ledger_no="9007", country="NO", name="Bench accounting")
    n = args.open_invoices
    customers = Customer.objects.bulk_create(
        Customer(ledger=ledger, customer_no=str(100_000 + i), name=f"Bench customer {i}", country="NO")
        for i in range(-(-n // 5_000))
    )
    t = time.perf_counter()
    batches = [
        (start, min(BATCH_SIZE, args.day_invoices - start), DAY)
        for start in range(0, args.day_invoices, BATCH_SIZE)
    ]
    batches += [
        (start, min(BATCH_SIZE, n - start), DAY - timedelta(days=1 + (start // BATCH_SIZE) % 120))
        for start in range(args.day_invoices, n, BATCH_SIZE)
    ]
    for start, size, booking_date in batches:
        invoices_register(
            ledger=ledger,
            invoices=[
                InvoiceInput(
                    customer=customers[i % len(customers)],
                    invoice_no=f"A{i:08d}",
                    invoice_date=DAY - timedelta(days=200),
                    due_date=DAY - timedelta(days=i % 150 - 20),
                    amount=Decimal(10_000 + (i * 7919) % 1_000_000).scaleb(-2),
                )
                for i in range(start, start + size)
            ],
            actor="bench",
            booking_date=booking_date,
        )
    registered = ledger.invoices.count()
    progress(f"registered {registered} invoices in {time.perf_counter() - t:.1f} s")
    check(registered == n, f"registered {registered} invoices, expected {n}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    # 1. The day's files, and their floor.
    result, files_seconds = timed(lambda: accounting_files_write(ledger=ledger, as_of=DAY))
    check(len(result["written"]) == 4, f"wrote {result['written']}")
    postings = 2 * args.day_invoices
    detail = (
        tmp / "sftp" / ledger.company_no / "outbox" / f"ACCOUNTINGDETAIL_{ledger.company_no}_20260302.xml"
    )
    check(
        f"<NoOfPostings>{postings}</NoOfPostings>".encode() in detail.read_bytes()[-1000:], "control totals"
    )

    def group_by():
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT a.number, a.name, sum(p.amount)
                     FROM ledger_journaltransaction t
                     JOIN ledger_posting p ON p.transaction_id = t.id
                     JOIN ledger_account a ON a.id = p.account_id
                    WHERE t.ledger_id = %s AND t.booking_date = %s
                    GROUP BY a.number, a.name""",
                [ledger.id, DAY],
            )
            return cursor.fetchall()

    _, files_floor = timed(group_by)

    # 2. Aging, and its floor.
    as_of = DAY
    report, aging_seconds = timed(lambda: aging(ledger=ledger, as_of=as_of))
    total = sum(row[-1] for row in report.rows)
    check(total == receivables_balance(ledger=ledger, as_of=as_of), "aging total != receivables")

    def open_items():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM ({_OPEN_AS_OF}) o", [ledger.id, as_of])
            return cursor.fetchone()

    (count,), aging_floor = timed(open_items)
    check(count == n, f"{count} open items, expected {n}")

    print(
        f"day files: {postings} postings in {files_seconds:.2f} s (floor {files_floor:.2f} s, target {TARGET_FILES_SECONDS} s)"
    )
    print(
        f"aging: {n} open invoices, {len(report.rows)} customers in {aging_seconds:.2f} s (floor {aging_floor:.2f} s, target {TARGET_AGING_SECONDS} s)"
    )
    print(f"BENCH accounting_day_files {files_seconds:.2f} s")
    print(f"BENCH accounting_day_files_floor {files_floor:.3f} s")
    print(f"BENCH accounting_day_files_ratio {files_seconds / files_floor:.1f} x")
    print(f"BENCH aging {aging_seconds:.2f} s")
    print(f"BENCH aging_floor {aging_floor:.2f} s")
    print(f"BENCH aging_ratio {aging_seconds / aging_floor:.1f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
