#!/usr/bin/env python
"""Benchmark: the claim escalation of one business day over a million open invoices in 20 ledgers.

Run from the project root:

    python bench/bench_claims_escalation.py [--invoices N] [--ledgers L]

The database is a throwaway one (ledger_bench_<pid>), migrated and dropped at the end.

Setup (not timed): N invoices registered with `invoices_register` across L Norwegian ledgers, and each
claim put where a daily run would have left it, so that on the run date about 5% reach a step:
2% the friendly-reminder SMS (due 3 days ago), 1% the collection notice (fee NOK 35), 1% the payment
demand (light collection fee), 1% the heavy fee; the other 95% are not due (a due date ahead, or
overdue with their next step days away).

Measured:
  1. escalation: `claims_escalate` for every ledger for the run date: the set-based selection, fees,
     interest accrued so far, invoice and claim events, claim updates and the queued documents (not
     their rendering), commit included.
  2. the floor: the one set-based SELECT of the due claims (the escalation's own query) for every ledger.
  ratio = escalation time / floor time. Then the same day again, which must take no step.

Ends with `BENCH <name> <value> <unit>` lines.
"""

import argparse
import sys
import time
from datetime import date, timedelta
from decimal import Decimal

from _common import CheckFailed, check, progress, throwaway_database  # noqa: E402 (sets up sys.path)

RUN_DATE = date(2026, 3, 2)
BATCH = 10_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--invoices", type=int, default=1_000_000, help="open invoices in all (default 1000000)"
    )
    parser.add_argument("--ledgers", type=int, default=20, help="ledgers they are spread over (default 20)")
    parser.add_argument("--profile", action="store_true", help="print where the escalation spends its time")
    args = parser.parse_args()
    if args.invoices < 100 or args.ledgers < 1:
        parser.error("--invoices must be at least 100 and --ledgers at least 1")
    return args


def main() -> int:
    args = parse_args()
    try:
        with throwaway_database():
            return run(args)
    except CheckFailed as exc:
        print(f"CHECK FAILED: {exc}", flush=True)
        return 1


def due_date_of(group: int) -> date:
    """The due date of an invoice by its group (its number modulo 100)."""
    if group < 2:
        return RUN_DATE - timedelta(days=3)
    if group == 2:
        return RUN_DATE - timedelta(days=18)
    if group == 3:
        return RUN_DATE - timedelta(days=36)
    if group == 4:
        return RUN_DATE - timedelta(days=79)
    if group < 50:
        return RUN_DATE + timedelta(days=5)
    return RUN_DATE - timedelta(days=10)


# Where a daily run would have left each group's claim (positions of the Norwegian default process:
# 1 late fee, 2 SMS, 3 collection notice, 4 foreign hand-over, 5 payment demand, 6-8 calls/SMS, 9 heavy fee).
CLAIMS_SQL = """
INSERT INTO claims_claim (ledger_id, invoice_id, status, position, level, last_step_on, deadline, next_on,
                          reminder_fees, last_fee_on, collection_fees_charged, compensation_charged, interest_booked,
                          pauses_counted_at, updated_at)
SELECT i.ledger_id, i.id, 'active',
       CASE WHEN g < 2 THEN 1 WHEN g = 2 THEN 2 WHEN g = 3 THEN 4 WHEN g = 4 THEN 8 WHEN g < 50 THEN 0 ELSE 2 END,
       CASE WHEN g < 2 OR (g >= 5 AND g < 50) THEN '' WHEN g = 2 OR g >= 50 THEN 'sms_reminder'
            WHEN g = 3 THEN 'collection_notice' ELSE 'call_task' END,
       CASE WHEN g = 2 THEN %(r)s::date - 15 WHEN g = 3 THEN %(r)s::date - 18 WHEN g = 4 THEN %(r)s::date - 30
            WHEN g >= 50 THEN %(r)s::date - 7 END,
       CASE WHEN g = 3 THEN %(r)s::date - 4 WHEN g = 4 THEN %(r)s::date - 29 ELSE i.due_date END,
       CASE WHEN g < 5 THEN %(r)s::date WHEN g < 50 THEN i.due_date + 1 ELSE %(r)s::date + 8 END,
       CASE WHEN g IN (3, 4) THEN 1 ELSE 0 END,
       CASE WHEN g = 3 THEN %(r)s::date - 18 WHEN g = 4 THEN %(r)s::date - 48 END,
       CASE WHEN g = 4 THEN 245 ELSE 0 END, 0, 0, now(), now()
  FROM (SELECT id, ledger_id, due_date, (substr(invoice_no, 2)::int %% 100) AS g FROM ledger_invoice) i
"""


def run(args: argparse.Namespace) -> int:
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Sum

    from claims.services.escalation import DUE_SQL, claims_escalate
    from ledger.addressees import minor_born_after
    from ledger.models import Customer, LegalEntity, Posting
    from ledger.services.ledgers import ledger_create
    from ledger.services.registration import InvoiceInput, invoices_register

    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    progress(f"migrated in {time.perf_counter() - t:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database(), current_setting('server_version')")
        db_name, version = cursor.fetchone()
    assert db_name.startswith("ledger_bench_"), db_name  # never run against the real database

    per_ledger = args.invoices // args.ledgers
    ledgers = []
    t_setup = time.perf_counter()
    for number in range(args.ledgers):
        ledger, _ = ledger_create(
            company_no=str(910_000 + number),
            ledger_no=str(9100 + number),
            country="NO",
            name=f"Bench ledger {number}",
            client_name="Bench client",
        )
        customers = Customer.objects.bulk_create(
            Customer(
                ledger=ledger,
                customer_no=str(100_000 + i),
                name=f"Customer {i}",
                country="NO",
                legal_entity=LegalEntity.PRIVATE,
            )
            for i in range(max(per_ledger // 50, 1))
        )
        for start in range(0, per_ledger, BATCH):
            inputs = [
                InvoiceInput(customer=customers[i % len(customers)], invoice_no=f"B{i:08d}",
                             invoice_date=due_date_of(i % 100) - timedelta(days=14), due_date=due_date_of(i % 100),
                             amount=Decimal(10_000 + (i * 7919) % 500_000).scaleb(-2))
                for i in range(start, min(start + BATCH, per_ledger))
            ]  # fmt: skip
            invoices_register(
                ledger=ledger, invoices=inputs, actor="bench", booking_date=RUN_DATE - timedelta(days=90)
            )
        ledgers.append(ledger)
        progress(
            f"ledger {number + 1}/{args.ledgers}: {per_ledger} invoices registered "
            f"({time.perf_counter() - t_setup:.0f} s so far)"
        )
    with connection.cursor() as cursor:
        cursor.execute(CLAIMS_SQL, {"r": RUN_DATE})
        cursor.execute("ANALYZE")
    n = per_ledger * args.ledgers
    expected_steps = sum(1 for i in range(per_ledger) if i % 100 < 5) * args.ledgers
    print(
        f"claims_escalation: {n} open invoices in {args.ledgers} ledgers, run date {RUN_DATE}, "
        f"{expected_steps} due ({expected_steps / n:.1%}); setup {time.perf_counter() - t_setup:.0f} s"
    )
    print(f"database: {db_name} on PostgreSQL {version}")

    # --- Floor: the set-based selection alone ---------------------------------------------------------
    t0 = time.perf_counter()
    selected = 0
    with connection.cursor() as cursor:
        for ledger in ledgers:
            cursor.execute(
                DUE_SQL,
                {
                    "business": LegalEntity.BUSINESS.value,
                    "country": "NO",
                    "ledger": ledger.id,
                    "as_of": RUN_DATE,
                    "minor_born_after": minor_born_after(RUN_DATE),
                },
            )
            selected += len(cursor.fetchall())
    floor_time = time.perf_counter() - t0
    check(selected == expected_steps, f"the floor selected {selected} claims, expected {expected_steps}")

    # --- The escalation of the day ------------------------------------------------------------------------
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t0 = time.perf_counter()
    summaries = []
    for number, ledger in enumerate(ledgers, start=1):
        t1 = time.perf_counter()
        summaries.append(claims_escalate(ledger=ledger, as_of=RUN_DATE, actor="bench"))
        progress(
            f"ledger {number}/{len(ledgers)}: {summaries[-1]['steps_taken']} steps in "
            f"{time.perf_counter() - t1:.2f} s"
        )
    escalation_time = time.perf_counter() - t0
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)

    steps = sum(s["steps_taken"] for s in summaries)
    fees = sum(Decimal(s["fees"]) for s in summaries)
    interest = sum(Decimal(s["interest"]) for s in summaries)
    check(steps == expected_steps, f"{steps} steps taken, expected {expected_steps}")
    by_step: dict[str, int] = {}
    for s in summaries:
        for kind, count in s["by_step"].items():
            by_step[kind] = by_step.get(kind, 0) + count
    posting_sum = Posting.objects.aggregate(total=Sum("amount"))["total"]
    check(posting_sum == 0, f"postings sum to {posting_sum}")
    again = sum(
        claims_escalate(ledger=ledger, as_of=RUN_DATE, actor="bench")["steps_taken"] for ledger in ledgers
    )
    check(again == 0, f"the same day again took {again} steps")

    ratio = escalation_time / floor_time
    print(
        f"escalation: {steps} steps ({', '.join(f'{k} {v}' for k, v in sorted(by_step.items()))}), "
        f"fees {fees}, interest {interest}, in {escalation_time:.2f} s = {steps / escalation_time:,.0f} steps/s"
    )
    print(f"floor: the set-based SELECT of the due claims of all ledgers in {floor_time:.2f} s")
    print(f"ratio: escalation {escalation_time:.2f} s / floor {floor_time:.2f} s = {ratio:.1f} x")
    print("the same day again: 0 steps")
    print(f"target <= 60 s: {'met' if escalation_time <= 60 else 'NOT met'}")
    print(f"BENCH claims_escalation {escalation_time:.2f} s")
    print(f"BENCH claims_escalation_steps {steps / escalation_time:.0f} steps/s")
    print(f"BENCH claims_escalation_floor {floor_time:.2f} s")
    print(f"BENCH claims_escalation_vs_floor_ratio {ratio:.1f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
