#!/usr/bin/env python
"""Benchmark: the REST API under gunicorn with a million invoices, load from a second process.

Run from the project root:

    python bench/bench_api.py [--invoices 1000000] [--seconds 20] [--connections 8] [--workers 2]

The database is a throwaway one (ledger_bench_<pid>, see _common.py). Setup (not timed): migrate,
one ledger with --customers customers and --invoices invoices registered by `invoices_register`,
ANALYZE, a read token. Then gunicorn serves the project on a loopback port and a separate load
process keeps --connections keep-alive HTTP connections busy for --seconds per scenario:

  1. GET /api/v1/ledgers/<no>/invoices/<invoice_no>/  (a random invoice each time)
  2. GET /api/v1/ledgers/<no>/invoices/?limit=50      (first pages with filters and orderings, and
     pages deep in the list through cursors)

Every response must be 200 with the right invoice / 50 rows. Prints requests/s and p50/p95/p99
latency per scenario, and ends with `BENCH <name> <value> <unit>` lines.
Targets (issue 8): GET invoice >= 400 requests/s and p95 <= 50 ms; list p95 <= 150 ms.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta
from decimal import Decimal

from _common import ROOT, CheckFailed, bench_main, check, progress  # noqa: E402 (sets up sys.path)

COMPANY_NO = "900000001"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--seconds", type=float, default=20.0, help="load per scenario")
    parser.add_argument("--connections", type=int, default=8, help="concurrent keep-alive connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    args = parser.parse_args()
    if -(-args.invoices // args.customers) > 9999:
        parser.error("more than 9999 invoices per customer: raise --customers")
    return args


def main() -> int:
    args = parse_args()
    return bench_main(run, args)


def setup(args) -> tuple[str, list[str]]:
    from django.core.management import call_command
    from django.db import connection

    from api.services import api_token_create
    from ledger.models import Customer
    from ledger.services.ledgers import ledger_create
    from ledger.services.registration import InvoiceInput, invoices_register

    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    ledger, _ = ledger_create(
        company_no=COMPANY_NO, ledger_no="9001", country="NO", name="Bench ledger", client_name="Bench client",
        client_funds_account="15030000002",
    )  # fmt: skip
    customers = Customer.objects.bulk_create(
        Customer(ledger=ledger, customer_no=str(100_000 + i), name=f"Bench customer {i}", country="NO")
        for i in range(args.customers)
    )
    today = ledger.today()
    batch = 50_000
    for start in range(0, args.invoices, batch):
        inputs = [
            InvoiceInput(
                customer=customers[i % len(customers)],
                invoice_no=f"B{i:08d}",
                invoice_date=today - timedelta(days=i % 400),  # due dates spread over 400 days
                amount=Decimal(10_000 + (i * 7919) % 1_000_000).scaleb(-2),
            )
            for i in range(start, min(start + batch, args.invoices))
        ]
        invoices_register(ledger=ledger, invoices=inputs, actor="bench", booking_date=today)
        progress(f"registered {start + len(inputs):,} invoices ({time.perf_counter() - t:.0f} s)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    _, secret = api_token_create(client=ledger.client, ledger=ledger, rate_limit="100000000/min")
    progress(f"setup done in {time.perf_counter() - t:.0f} s")
    return secret, [c.customer_no for c in customers]


def database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(args, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DB_CONN_MAX_AGE": "600",
    }
    env.pop("REDIS_URL", None)
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    process = subprocess.Popen(
        [gunicorn, "payex_ledger.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
         "--worker-class", "gthread", "--threads", str(args.threads), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise CheckFailed("gunicorn did not start")


# --- The load process ---------------------------------------------------------------------------


def load(port, secret, paths, expect, seconds, connections, queue) -> None:
    """Runs in a separate process: keep `connections` connections busy for `seconds`."""
    latencies, failures, lock = [], [], threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker(seed):
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {secret}", "Accept": "application/json"}
        mine, bad = [], []
        while time.perf_counter() < stop_at:
            path = rng.choice(paths)
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            mine.append(time.perf_counter() - t0)
            if response.status != 200 or not expect(path, json.loads(body)):
                bad.append((path, response.status, body[:200]))
        conn.close()
        with lock:
            latencies.extend(mine)
            failures.extend(bad)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put((latencies, time.perf_counter() - started, failures[:5], len(failures)))


def expect_invoice(path, body) -> bool:
    return body.get("invoice_no") == path.rstrip("/").rsplit("/", 1)[-1] and "amounts" in body


def expect_page(path, body) -> bool:
    return len(body.get("results", [])) == 50


def scenario(name, port, secret, paths, expect, args) -> dict:
    queue = multiprocessing.get_context("spawn").Queue()
    # Warm-up (not counted): a short burst so connections and caches are set.
    for seconds in (2.0, args.seconds):
        process = multiprocessing.get_context("spawn").Process(
            target=load, args=(port, secret, paths, expect, seconds, args.connections, queue)
        )
        process.start()
        latencies, elapsed, failures, failed = queue.get()
        process.join()
        check(failed == 0, f"{name}: {failed} bad responses, e.g. {failures}")
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    result = {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": pct(50),
        "p95": pct(95),
        "p99": pct(99),
        "mean": statistics.fmean(latencies) * 1000,
    }
    print(f"{name}: {result['requests']} requests in {elapsed:.1f} s over {args.connections} connections: "
          f"{result['rps']:.0f} requests/s, p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms, "
          f"p99 {result['p99']:.1f} ms")  # fmt: skip
    return result


def list_paths(args, customer_nos) -> list[str]:
    """First pages with filters and orderings, and cursor pages deep in the list."""
    from datetime import date

    from api.pagination import _encode

    base = f"/api/v1/ledgers/{COMPANY_NO}/invoices/?limit=50"
    rng = random.Random(1)
    paths = [base, base + "&ordering=-due_date", base + "&status=open", base + "&ordering=invoice_no"]
    paths += [f"{base}&customer={rng.choice(customer_nos)}" for _ in range(50)]
    today = date.today()
    for _ in range(200):
        due = today - timedelta(days=rng.randrange(10, 380))
        cursor = _encode("due_date", due, rng.randrange(1, args.invoices))
        paths.append(f"{base}&cursor={cursor}")
        paths.append(f"{base}&status=open&cursor={cursor}")
    return paths


def run(args) -> int:
    secret, customer_nos = setup(args)
    port = free_port()
    server = start_gunicorn(args, port)
    try:
        print(f"api bench: {args.invoices:,} invoices in one ledger, gunicorn {args.workers} workers x "
              f"{args.threads} threads, {args.connections} connections from a second process, "
              f"{os.cpu_count()} CPUs")  # fmt: skip
        rng = random.Random(0)
        invoice_paths = [
            f"/api/v1/ledgers/{COMPANY_NO}/invoices/B{rng.randrange(args.invoices):08d}/"
            for _ in range(20_000)
        ]
        single = scenario("GET invoice", port, secret, invoice_paths, expect_invoice, args)
        listing = scenario("GET invoice list (50 per page)", port, secret, list_paths(args, customer_nos),
                           expect_page, args)  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    met = single["rps"] >= 400 and single["p95"] <= 50
    print(
        f"targets: GET invoice >= 400 requests/s and p95 <= 50 ms: {'met' if met else 'NOT met'}; "
        f"list p95 <= 150 ms: {'met' if listing['p95'] <= 150 else 'NOT met'}"
    )
    for key, result in (("api_get_invoice", single), ("api_list_invoices", listing)):
        print(f"BENCH {key}_rps {result['rps']:.0f} requests/s")
        for p in ("p50", "p95", "p99"):
            print(f"BENCH {key}_{p} {result[p]:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
