#!/usr/bin/env python
"""Benchmark: import an OCR Giro file of payments end to end, against a parse-only floor.

Run from the project root:

    python bench/bench_import_payments.py [--invoices 100000] [--customers 10000] [--profile]

The database is a throwaway one (ledger_bench_<pid>) created on the PostgreSQL server behind
settings.DATABASES['default'] (DATABASE_URL, else the embedded server), migrated, and dropped at
the end: the real data in the configured database is never touched. The generated files go to a
temporary directory, removed at the end.

Setup (not timed): a Norwegian ledger (KID mod 10) with its client-funds account set, N invoices
registered with `invoices_register` in batches of 10,000 over C customers (not yet due on the payment
date, so no surplus is settled against older invoices), and, taking the invoices 50 at a time:
  45 paid exactly, 2 paid in part (60 %), 1 overpaid (amount + 100.00), 1 paid twice (a first OCR
  file, imported in the setup, closes it; the measured file pays it again), and 1 left alone whose
  slot in the file is an unidentified payment (a KID with a valid check digit that matches nothing);
that is 90 % exact, 4 % partial, 2 % over, 2 % double, 2 % unidentified: N payments for N invoices.
The measured file is written with `ledger.payments.bankfiles.write.write_ocr_giro` to disk.

Measured, in this process:
  1. the import: reading the file's bytes + `payments_import(data=..., file_name=...)`, the whole call
     (digest, parse, matching, booking, commit with the deferred balance and key checks). Printed with
     where its time went: opening the file (`open_bank_file`: the checks made up front), reading,
     planning and writing (`_book_rounds`: the file is parsed, planned and built into rows round by
     round in the main thread while a background thread stores the round before), of which the rows
     built (`_round`), commit, and the rest (lock, dedup query, summary, file row).
  2. the floor: `ledger.payments.bankfiles.parse_bank_file(data)` of the same bytes, alone.
  ratio = import time / floor time.
  3. what the read models cost (issue 26): a twin ledger, the same invoices, the same payments in four
     files of a quarter each, imported after the measured import: the first and the last with the read
     models' triggers disabled, the two between with them;
     kept = the time of those without / the time of those with.

Checks: the summary's counts are exactly the mix (and its total the file's total), the database holds
the payments, their PAYMENT transactions and the invoices closed / left open as planned, and every
check of `ledger_verify` is ok. --profile runs the import under cProfile and prints the top 30
functions by cumulative and by own time to stderr; the timings of such a run include its overhead.

Ends with `BENCH <name> <value> <unit>` lines.
"""

import argparse
import contextlib
import gc
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from _common import (
    READ_MODEL_FUNCTIONS,
    CheckFailed,
    check,
    function_seconds,
    function_stats_reset,
    migrate_and_describe,  # noqa: E402 (sets up sys.path)
    progress,
    read_model_triggers_disabled,
    throwaway_database,
)

ACCOUNT = "15030000002"  # the ledger's client-funds account, the files' receiving account
TWIN_ACCOUNT = "15030000010"  # the twin ledger's (without the read models)
PAYER_ACCOUNT = "12345678903"
BATCH_SIZE = 10_000  # invoices per invoices_register call in the setup
TARGET_SECONDS = 10.0
TARGET_PER_S = 10_000

# The mix, per block of 50 invoices: slot -> kind.
MIX = {**dict.fromkeys(range(45), "exact"), 45: "partial", 46: "partial", 47: "over", 48: "double",
       49: "unidentified"}  # fmt: skip
SUMMARY_KEY = {"exact": "matched", "partial": "partially_paid", "over": "overpaid", "double": "double_paid",
               "unidentified": "unidentified"}  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--invoices",
        type=int,
        default=100_000,
        help="open invoices, and payments in the file (default 100000)",
    )
    parser.add_argument(
        "--customers", type=int, default=10_000, help="customers the invoices are spread over (default 10000)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="run the import under cProfile and print the top 30 to stderr"
    )
    args = parser.parse_args()
    if args.invoices < 50 or args.customers < 1:
        parser.error("--invoices must be at least 50 and --customers positive")
    if -(-args.invoices // args.customers) > 9999:
        parser.error("more than 9999 invoices per customer (the KID serial limit): raise --customers")
    return args


def main() -> int:
    args = parse_args()
    try:
        with throwaway_database(), tempfile.TemporaryDirectory(prefix="bench_payments_") as tmp:
            return run(args, Path(tmp))
    except CheckFailed as exc:
        print(f"CHECK FAILED: {exc}", flush=True)
        return 1


class _Timed:
    """Wrap a module's function (or a class's method) so that the time spent in it is added up (phase
    breakdown). The wrapper is a plain function, so that it binds as a method does."""

    def __init__(self, module, name: str):
        self.module, self.name, self.original, self.seconds = module, name, getattr(module, name), 0.0
        original = self.original

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - t0

        setattr(module, name, timed)

    def restore(self) -> None:
        setattr(self.module, self.name, self.original)


def settle() -> None:
    """Before each timed import: the setup's (or the twin's) rows vacuumed and analyzed, and written out by
    a checkpoint, so that neither import pays for what came before it (autovacuum, dirty buffers): the
    first import ran some 7 % slower than the second without it."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")


def run(args: argparse.Namespace, tmp: Path) -> int:
    from django.db import connection

    from ledger.models import Customer, Invoice, InvoiceStatus, JournalTransaction, Payment, TransactionKind
    from ledger.payments import bank_import, bankfiles, booking, matching
    from ledger.payments.bank_import import payments_import
    from ledger.payments.bankfiles.write import PaymentSpec, write_ocr_giro
    from ledger.references import kid_generate
    from ledger.services.ledgers import ledger_create
    from ledger.services.registration import InvoiceInput, invoices_register
    from ledger.verify import ledger_verify

    n = args.invoices

    # --- Setup (not timed) ------------------------------------------------------------------------
    db_name, version, sync_commit, fsync, shared_buffers = migrate_and_describe()

    def ledger_and_file(
        *, company_no: str, ledger_no: str, account: str, numbers: tuple[str, str], parts: int = 1
    ) -> dict:
        """A ledger with N open invoices (the first file's payments booked) and the measured file, or the
        same payments in `parts` files."""
        ledger, _ = ledger_create(
            company_no=company_no,
            ledger_no=ledger_no,
            country="NO",
            name=f"Bench payments {ledger_no}",
            client_name="Bench client",
            client_funds_account=account,
        )
        customers = Customer.objects.bulk_create(
            Customer(ledger=ledger, customer_no=str(100_000 + i), name=f"Bench customer {i}", country="NO")
            for i in range(args.customers)
        )
        pay_day = ledger.today()
        invoice_date = pay_day - timedelta(days=3)  # due in 11 days: nothing is overdue on the pay day
        inputs = [
            InvoiceInput(
                customer=customers[i % len(customers)],
                invoice_no=f"P{i:08d}",
                invoice_date=invoice_date,
                amount=Decimal(10_000 + (i * 7919) % 1_000_000).scaleb(-2),
            )  # 100.00 .. 10099.99
            for i in range(n)
        ]
        t = time.perf_counter()
        invoices = []
        for start in range(0, n, BATCH_SIZE):
            invoices += invoices_register(
                ledger=ledger,
                invoices=inputs[start : start + BATCH_SIZE],
                actor="bench",
                booking_date=invoice_date,
            )
        progress(
            f"registered {len(invoices)} invoices for {len(customers)} customers in "
            f"{time.perf_counter() - t:.1f} s"
        )

        # What each invoice's slot in the file pays.
        specs, first_specs, kinds = [], [], Counter()
        expected_total = Decimal("0.00")
        for i, invoice in enumerate(invoices):
            kind = MIX[i % 50]
            kinds[kind] += 1
            if kind == "unidentified":
                # No customer 9000000 or above exists: a valid KID that matches nothing (distinct each time).
                u = kinds[kind]
                reference = kid_generate(customer_no=str(9_000_000 + u // 9999), serial=1 + u % 9999)
                amount = Decimal(25_000 + u).scaleb(-2)
            else:
                reference = invoice.payment_ref
                amount = {
                    "exact": invoice.amount,
                    "partial": (invoice.amount * Decimal("0.6")).quantize(Decimal("0.01"), ROUND_HALF_UP),
                    "over": invoice.amount + Decimal("100.00"),
                    "double": invoice.amount,
                }[kind]
            if kind == "double":
                first_specs.append(
                    PaymentSpec(
                        reference=reference,
                        amount=invoice.amount,
                        payer_account=PAYER_ACCOUNT,
                        archive_ref=f"{800_000_000 + len(first_specs):09d}",
                    )
                )
            specs.append(
                PaymentSpec(
                    reference=reference,
                    amount=amount,
                    payer_account=PAYER_ACCOUNT,
                    archive_ref=f"{i + 1:09d}",
                )
            )
            expected_total += amount

        # The double payments' first payment: a small file of its own, imported now.
        t = time.perf_counter()
        first = payments_import(
            data=write_ocr_giro(
                first_specs,
                receiving_account=account,
                nets_date=pay_day - timedelta(days=1),
                transmission_number=numbers[0],
                assignment_number=numbers[0],
            ),
            file_name="OCR.first.txt",
        )
        check(
            first["status"] == "accepted" and first["matched"] == len(first_specs),
            f"the first file: {first['status']}, {first['matched']} matched of {len(first_specs)}",
        )
        progress(f"setup file: {len(first_specs)} payments booked in {time.perf_counter() - t:.2f} s")

        t = time.perf_counter()
        paths, size = [], len(specs) // parts
        for part in range(parts):
            number = f"{int(numbers[1]) + part:07d}"
            path = tmp / f"OCR.bench.{ledger_no}.{part + 1}.txt"
            path.write_bytes(
                write_ocr_giro(
                    specs[part * size : (part + 1) * size if part < parts - 1 else None],
                    receiving_account=account,
                    nets_date=pay_day,
                    transmission_number=number,
                    assignment_number=number,
                )
            )
            paths.append(path)
        size_mb = sum(path.stat().st_size for path in paths) / 2**20
        progress(
            f"wrote {len(paths)} file(s) ({size_mb:.1f} MiB, {len(specs)} payments) in {time.perf_counter() - t:.1f} s"
        )

        # The setup's objects (invoices, inputs, specs) are not the import's: free them, so that the
        # garbage collector does not walk through them while the import runs.
        return dict(ledger=ledger, paths=paths, size_mb=size_mb, kinds=kinds, expected_total=expected_total,
                    n_payments=len(specs), n_customers=len(customers), n_first=len(first_specs))  # fmt: skip

    made = ledger_and_file(
        company_no="900000002", ledger_no="9002", account=ACCOUNT, numbers=("0000001", "0000002")
    )
    # The twin: the same ledger, invoices and file, imported without the read models (issue 26: what they
    # cost, measured in the same run).
    twin = ledger_and_file(company_no="900000003", ledger_no="9003", account=TWIN_ACCOUNT,
                           numbers=("0000003", "0000004"), parts=4)  # fmt: skip
    ledger, path, size_mb, kinds = made["ledger"], made["paths"][0], made["size_mb"], made["kinds"]
    expected_total, n_payments, n_customers, n_first = (
        made["expected_total"],
        made["n_payments"],
        made["n_customers"],
        made["n_first"],
    )
    gc.collect()  # the setup's objects are gone: the collector does not walk through them in the import

    print(
        f"import_payments: {n_payments} OCR Giro payments ({size_mb:.1f} MiB) against {n} invoices of "
        f"{n_customers} customers, ledger {ledger.ledger_no} ({ledger.reference_scheme}); mix "
        + ", ".join(f"{k} {kinds[k]}" for k in SUMMARY_KEY)
    )
    print(
        f"database: {db_name} on PostgreSQL {version} (synchronous_commit={sync_commit}, fsync={fsync}, "
        f"shared_buffers={shared_buffers})"
    )

    # --- The import (timed: reading the file + payments_import, commit included) -------------------
    settle()
    timers = [
        _Timed(bankfiles, "open_bank_file"),
        _Timed(bank_import, "_round"),
        _Timed(bank_import, "_book_rounds"),
    ]
    # In the writer thread: the statements themselves.
    store_timers = [_Timed(booking, "_copy_lines"), _Timed(booking, "_close_invoices")]
    load_timer = _Timed(matching, "_load_items")
    commit_time = [0.0]
    real_commit = connection._commit

    def timed_commit():
        t0 = time.perf_counter()
        try:
            return real_commit()
        finally:
            commit_time[0] += time.perf_counter() - t0

    connection._commit = timed_commit
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    function_stats_reset()
    try:
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        data = path.read_bytes()
        summary = payments_import(data=data, file_name=path.name)
        if profiler:
            profiler.disable()
        import_time = time.perf_counter() - t0
    finally:
        for timer in (*timers, *store_timers, load_timer):
            timer.restore()
        del connection._commit
    parse_in_import, rows_time, write_time = (timer.seconds for timer in timers)
    read_model_parts = {name: function_seconds((name,)) for name in READ_MODEL_FUNCTIONS}
    read_models_time = sum(read_model_parts.values())
    estimated_kept = 1 - read_models_time / import_time
    per_s = n_payments / import_time

    # --- Checks -------------------------------------------------------------------------------------
    check(summary["status"] == "accepted", f"status {summary['status']}: {summary['errors'][:3]}")
    check(summary["payments"] == n_payments, f"{summary['payments']} payments booked, expected {n_payments}")
    for kind, key in SUMMARY_KEY.items():
        check(summary[key] == kinds[kind], f"summary {key} = {summary[key]}, expected {kinds[kind]}")
    for key in ("misdirected", "duplicates_skipped", "not_booked"):
        check(summary[key] == 0, f"summary {key} = {summary[key]}, expected 0")
    check(summary["errors"] == [], f"errors: {summary['errors'][:3]}")
    check(
        Decimal(summary["total_amount"]) == expected_total,
        f"total {summary['total_amount']}, expected {expected_total}",
    )
    booked = Payment.objects.filter(ledger=ledger).count()
    payment_txns = JournalTransaction.objects.filter(ledger=ledger, kind=TransactionKind.PAYMENT).count()
    expected_payments = n_first + n_payments
    check(booked == expected_payments, f"{booked} payments in the ledger, expected {expected_payments}")
    check(
        payment_txns == expected_payments,
        f"{payment_txns} PAYMENT transactions, expected {expected_payments}",
    )
    closed = Invoice.objects.filter(ledger=ledger, status=InvoiceStatus.CLOSED).count()
    expected_closed = kinds["exact"] + kinds["over"] + kinds["double"]
    check(closed == expected_closed, f"{closed} invoices closed, expected {expected_closed}")
    t = time.perf_counter()
    failed = [c for c in ledger_verify(ledger=ledger) if not c["ok"]]
    check(not failed, f"ledger_verify: {failed}")
    progress(f"ledger_verify in {time.perf_counter() - t:.1f} s")

    # --- What the read models cost (issue 26): the twin's four quarter files, imported without the read
    # models, with, with, without (the order evens out what the process and the tables gain as they go)
    quarter_times = []
    for number, quarter in enumerate(twin["paths"]):
        settle()
        with_read_models = number in (1, 2)
        with contextlib.ExitStack() as stack:
            if not with_read_models:
                stack.enter_context(read_model_triggers_disabled())
            t0 = time.perf_counter()
            quarter_summary = payments_import(data=quarter.read_bytes(), file_name=quarter.name)
            quarter_times.append(time.perf_counter() - t0)
        check(quarter_summary["status"] == "accepted", f"{quarter.name}: {quarter_summary['status']}")
        progress(
            f"{quarter.name} {'with' if with_read_models else 'without'} the read models: {quarter_times[-1]:.2f} s"
        )
    bare_time = quarter_times[0] + quarter_times[3]
    with_time = quarter_times[1] + quarter_times[2]
    kept = bare_time / with_time  # throughput with the read models / without, same run
    print(
        f"verified: summary {', '.join(f'{SUMMARY_KEY[k]} {summary[SUMMARY_KEY[k]]}' for k in SUMMARY_KEY)}, "
        f"total {summary['total_amount']}; {booked} payments and PAYMENT transactions, {closed} invoices "
        "closed; ledger_verify: all checks ok"
    )

    # --- Floor: parsing the same bytes, alone ---------------------------------------------------------
    t0 = time.perf_counter()
    parsed = bankfiles.parse_bank_file(data)
    floor_time = time.perf_counter() - t0
    check(len(parsed.payments) == n_payments, f"floor parsed {len(parsed.payments)} payments")
    ratio = import_time / floor_time

    rest = import_time - parse_in_import - write_time - commit_time[0]
    print(
        f"import: {n_payments} payments in {import_time:.2f} s = {per_s:,.0f} payments/s"
        + (" (under cProfile)" if profiler else "")
    )
    print(
        f"        open {parse_in_import:.2f} s, read + plan + write {write_time:.2f} s (of which rows built "
        f"{rows_time:.2f} s), "
        f"commit {commit_time[0]:.2f} s (deferred balance / key checks), rest {rest:.2f} s"
    )
    print(
        f"        in read + plan + write: invoices locked and balances read {load_timer.seconds:.2f} s; "
        f"the writer's COPYs {store_timers[0].seconds:.2f} s and closing UPDATEs {store_timers[1].seconds:.2f} s"
    )
    print(
        f"floor: parse_bank_file of the same {size_mb:.1f} MiB in {floor_time:.2f} s = "
        f"{n_payments / floor_time:,.0f} payments/s"
    )
    print(f"ratio: import {import_time:.2f} s / floor {floor_time:.2f} s = {ratio:.1f} x")
    print(
        f"read models: the twin ledger's {twin['n_payments']} payments in four files, imported without them "
        f"(their triggers off), with, with, without: "
        + " / ".join(f"{t:.2f}" for t in quarter_times)
        + f" s; {kept:.1%} of the throughput kept (target >= 90 %: {'met' if kept >= 0.9 else 'NOT met'})"
    )
    print(
        f"        their triggers, timed in PostgreSQL: {read_models_time:.2f} s, {estimated_kept:.1%} kept if nothing overlapped; "
        + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in read_model_parts.items())
    )
    print(
        f"target <= {TARGET_SECONDS:.0f} s (>= {TARGET_PER_S:,} payments/s): "
        f"{'met' if import_time <= TARGET_SECONDS else 'NOT met'}"
    )

    if profiler:
        import pstats

        for key in ("cumulative", "tottime"):
            pstats.Stats(profiler, stream=sys.stderr).sort_stats(key).print_stats(30)

    print(f"BENCH import_payments_seconds {import_time:.2f} s")
    print(f"BENCH import_payments_per_second {per_s:.0f} payments/s")
    print(f"BENCH import_payments_floor_parse_seconds {floor_time:.2f} s")
    print(f"BENCH import_payments_vs_parse_ratio {ratio:.1f} x")
    print(f"BENCH import_payments_read_models_kept {kept * 100:.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
