#!/usr/bin/env python
"""Benchmark: register invoices with their postings for one ledger, against a plain-COPY floor.

Run from the project root:

    python bench/bench_register_invoices.py [--invoices N] [--batch-size B] [--customers C]

The database is a throwaway one (ledger_bench_<pid>) created on the PostgreSQL server behind
settings.DATABASES['default'] (DATABASE_URL, else the embedded server), migrated, and dropped at
the end: the real data in the configured database is never touched.

Measured:
  1. registration: `invoices_register` for N invoices in batches; each batch is one call and one
     database transaction, commit (and so the deferred balance triggers) included. Building the
     InvoiceInput objects and creating the ledger and customers is setup and is not timed.
  2. the floor: a plain `COPY ... FROM STDIN` (psycopg `write_row`) of the same posting rows
     (2 per invoice, read back from ledger_posting) into a temp table shaped like ledger_posting
     but without its triggers, indexes and foreign keys, commit included.
  ratio = registration time / floor time.
  3. what the read models cost (issue 26): each batch is registered a second time into a twin ledger
     without them (their triggers disabled and the registration's own COPY of them left out: the
     dashboard's monthly summaries and the open-amount versions), alternating with the measured batches so
     both see the same machine; the share of the throughput kept with them is printed (target >= 90 %).

Ends with `BENCH <name> <value> <unit>` lines.
"""

import argparse
import contextlib
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal

from _common import (  # noqa: E402 (sets up sys.path)
    CheckFailed,
    check,
    migrate_and_describe,
    progress,
    read_model_triggers_disabled,
    throwaway_database,
)

# The posting columns invoices_register writes by COPY, in its order.
POSTING_COLUMNS = [
    "transaction_id",
    "ledger_id",
    "invoice_id",
    "customer_id",
    "account_id",
    "component",
    "amount",
    "currency",
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=100_000, help="invoices to register (default 100000)")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=10_000,
        help="invoices per invoices_register call / transaction (default 10000)",
    )
    parser.add_argument(
        "--customers",
        type=int,
        default=1_000,
        help="customers the invoices are spread over (default 1000; at most 9999 invoices "
        "per customer, the KID serial limit)",
    )
    args = parser.parse_args()
    if args.invoices < 1 or args.batch_size < 1 or args.customers < 1:
        parser.error("--invoices, --batch-size and --customers must be positive")
    if -(-args.invoices // args.customers) > 9999:
        parser.error("more than 9999 invoices per customer: raise --customers")
    return args


def main() -> int:
    args = parse_args()
    try:
        with throwaway_database():
            return run(args)
    except CheckFailed as exc:
        print(f"CHECK FAILED: {exc}", flush=True)
        return 1


def run(args: argparse.Namespace) -> int:
    from django.db import connection, transaction
    from django.db.models import Sum

    from ledger.models import Component, Customer, Invoice, JournalTransaction, Posting
    from ledger.services.ledgers import ledger_create
    from ledger.services.registration import InvoiceInput, invoices_register

    n, batch_size = args.invoices, args.batch_size

    # --- Setup (not timed) ------------------------------------------------------------------------
    db_name, version, sync_commit, fsync, shared_buffers = migrate_and_describe()

    ledger, _ = ledger_create(
        company_no="900000001",
        ledger_no="9001",
        country="NO",
        name="Bench ledger",
        client_name="Bench client",
    )
    customers = Customer.objects.bulk_create(
        Customer(ledger=ledger, customer_no=str(100_000 + i), name=f"Bench customer {i}", country="NO")
        for i in range(args.customers)
    )
    twin, _ = ledger_create(
        company_no="900000002", ledger_no="9002", country="NO", name="Bench twin", client_name="Bench client"
    )
    twin_customers = Customer.objects.bulk_create(
        Customer(ledger=twin, customer_no=str(100_000 + i), name=f"Bench customer {i}", country="NO")
        for i in range(args.customers)
    )
    booking_date = ledger.today()
    invoice_date = booking_date - timedelta(days=3)
    inputs = [
        InvoiceInput(
            customer=customers[i % len(customers)],
            invoice_no=f"B{i:08d}",
            invoice_date=invoice_date,
            amount=Decimal(10_000 + (i * 7919) % 1_000_000).scaleb(-2),
        )  # 100.00 .. 10099.99
        for i in range(n)
    ]
    expected_total = sum((item.amount for item in inputs), Decimal("0.00"))
    twin_inputs = [
        InvoiceInput(customer=twin_customers[i % len(twin_customers)], invoice_no=item.invoice_no,
                     invoice_date=item.invoice_date, amount=item.amount)
        for i, item in enumerate(inputs)
    ]  # fmt: skip

    print(
        f"register_invoices: {n} invoices, batch size {batch_size}, {len(customers)} customers, "
        f"ledger {ledger.ledger_no} ({ledger.reference_scheme})"
    )
    print(
        f"database: {db_name} on PostgreSQL {version} (synchronous_commit={sync_commit}, fsync={fsync}, "
        f"shared_buffers={shared_buffers})"
    )

    # --- Registration (timed per call, commit included) --------------------------------------------
    batch_times, bare_times = [], []
    batches = [inputs[start : start + batch_size] for start in range(0, n, batch_size)]

    def bare(number: int) -> None:
        with read_models_off(connection):
            twin_batch = twin_inputs[(number - 1) * batch_size : number * batch_size]
            t1 = time.perf_counter()
            invoices_register(ledger=twin, invoices=twin_batch, actor="bench", booking_date=booking_date)
            bare_times.append(time.perf_counter() - t1)

    for number, batch in enumerate(batches, start=1):
        if number % 2 == 0:  # which goes first alternates too
            bare(number)
        t0 = time.perf_counter()
        registered = invoices_register(
            ledger=ledger, invoices=batch, actor="bench", booking_date=booking_date
        )
        elapsed = time.perf_counter() - t0
        batch_times.append(elapsed)
        if number % 2 == 1:
            bare(number)
        check(len(registered) == len(batch), f"batch {number}: {len(registered)} registered of {len(batch)}")
        progress(
            f"batch {number}/{len(batches)}: {len(batch)} invoices in {elapsed:.3f} s "
            f"({len(batch) / elapsed:,.0f} invoices/s)"
        )
    register_time = sum(batch_times)
    invoices_per_s = n / register_time

    # --- Verification: the ledger holds N invoices and balances --------------------------------------
    invoice_count = Invoice.objects.filter(ledger=ledger).count()
    transaction_count = JournalTransaction.objects.filter(ledger=ledger).count()
    postings = Posting.objects.filter(ledger=ledger)
    posting_count = postings.count()
    posting_sum = postings.aggregate(total=Sum("amount"))["total"]
    capital_sum = postings.filter(component=Component.CAPITAL).aggregate(total=Sum("amount"))["total"]
    check(invoice_count == n, f"{invoice_count} invoices in the ledger, expected {n}")
    check(transaction_count == n, f"{transaction_count} journal transactions, expected {n}")
    check(posting_count == 2 * n, f"{posting_count} postings, expected {2 * n}")
    check(posting_sum == 0, f"postings sum to {posting_sum}, expected 0")
    check(capital_sum == expected_total, f"capital postings sum to {capital_sum}, expected {expected_total}")

    per_batch = [len(b) / s for b, s in zip(batches, batch_times, strict=True)]
    print(
        f"registration: {n} invoices, {posting_count} postings in {register_time:.2f} s = "
        f"{invoices_per_s:,.0f} invoices/s ({posting_count / register_time:,.0f} postings/s); "
        f"per batch min/median/max {min(per_batch):,.0f}/{statistics.median(per_batch):,.0f}/"
        f"{max(per_batch):,.0f} invoices/s"
    )
    print(
        f"verified: {invoice_count} invoices, {transaction_count} transactions, postings sum to {posting_sum}"
    )

    bare_per_s = n / sum(bare_times)
    kept = invoices_per_s / bare_per_s
    print(
        f"read models: registration without them (triggers off, twin ledger, alternating batches) "
        f"{bare_per_s:,.0f} invoices/s; with them {invoices_per_s:,.0f} invoices/s = {kept:.1%} kept "
        f"(target >= 90 %: {'met' if kept >= 0.9 else 'NOT met'})"
    )

    # --- Floor: plain COPY of the same posting rows into a table without triggers or indexes --------
    rows = list(postings.order_by("id").values_list(*POSTING_COLUMNS))  # not timed
    with connection.cursor() as cursor:
        # LIKE copies columns, NOT NULL and (with these options) the id identity; not the triggers,
        # foreign keys, check constraints or indexes. A temp table also writes no WAL, so the same
        # COPY into a plain logged table is measured too, for information.
        like = "(LIKE ledger_posting INCLUDING DEFAULTS INCLUDING IDENTITY)"
        cursor.execute(f"CREATE TEMP TABLE posting_floor {like}")
        cursor.execute(f"CREATE TABLE posting_floor_logged {like}")

    def copy_floor(table: str) -> float:
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(POSTING_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return time.perf_counter() - t0

    floor_time = copy_floor("posting_floor")
    logged_time = copy_floor("posting_floor_logged")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), sum(amount) FROM posting_floor")
        floor_count, floor_sum = cursor.fetchone()
    check(floor_count == posting_count, f"floor copied {floor_count} rows, expected {posting_count}")
    check(floor_sum == 0, f"floor rows sum to {floor_sum}, expected 0")

    floor_rows_per_s = len(rows) / floor_time
    ratio = register_time / floor_time
    print(
        f"floor: COPY of {len(rows)} posting rows into a temp table (no triggers, indexes, FKs, WAL) "
        f"in {floor_time:.2f} s = {floor_rows_per_s:,.0f} rows/s = "
        f"{floor_rows_per_s / 2:,.0f} invoice-equivalents/s"
    )
    print(
        f"       same COPY into a plain logged table: {logged_time:.2f} s = "
        f"{len(rows) / logged_time:,.0f} rows/s (registration / logged floor = "
        f"{register_time / logged_time:.1f} x)"
    )
    print(f"ratio: registration {register_time:.2f} s / floor {floor_time:.2f} s = {ratio:.1f} x")
    print(f"target >= 5,000 invoices/s: {'met' if invoices_per_s >= 5000 else 'NOT met'}")

    print(f"BENCH register_invoices {invoices_per_s:.0f} invoices/s")
    print(f"BENCH register_invoices_floor_copy {floor_rows_per_s:.0f} rows/s")
    print(f"BENCH register_invoices_vs_copy_ratio {ratio:.1f} x")
    print(f"BENCH register_invoices_read_models_kept {kept * 100:.1f} %")
    return 0


# The read models' triggers (ledger/sql/journal_months.sql, open_versions.sql), by table.
@contextlib.contextmanager
def read_models_off(connection):
    """Registration as it would be without the read models (a benchmark's measure of what they cost):
    their triggers disabled, and the registration's own writing of them (its COPY of the new versions and
    summary rows, ledger.services.registration._read_models_write) left out."""
    from ledger.services import registration

    writes = registration._read_models_write
    registration._read_models_write = lambda **kwargs: None
    try:
        with read_model_triggers_disabled():
            yield
    finally:
        registration._read_models_write = writes


if __name__ == "__main__":
    sys.exit(main())
