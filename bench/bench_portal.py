#!/usr/bin/env python
"""Benchmark: invoice-portal pages under gunicorn with a million invoices, load from a second process.

Run from the project root:

    python bench/bench_portal.py [--invoices 1000000] [--links 2000] [--seconds 20] [--connections 8]

Setup (not timed), as bench_api.py: a throwaway database, one ledger with --invoices invoices, ANALYZE;
then --links portal links to random invoices (PortalLink rows, as a distribution run makes them).
gunicorn serves the project on a loopback port and a separate process keeps --connections keep-alive
connections busy for --seconds, each request `GET /p/<token>/` with a random one of the tokens. Every
response must be 200 and name the link's invoice. Prints requests/s and p50/p95/p99 per number of
connections (4, then 8), ends with `BENCH <name> <value> <unit>` lines. Target (issue 15): p95 <= 100 ms over at least 500 requests with
different tokens.
"""

import argparse
import http.client
import multiprocessing
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta

from _common import ROOT, bench_main, check, progress  # noqa: E402 (sets up sys.path)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--links", type=int, default=2_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--connections", default="4,8", help="concurrent keep-alive connections; a list runs each in turn"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    return bench_main(run, args)


def make_links(args) -> list[tuple[str, str]]:
    """(token, invoice_no) for --links random invoices."""
    from bench_api import COMPANY_NO
    from django.conf import settings
    from django.utils import timezone

    from distribution.links import token_hash
    from distribution.models import PortalLink
    from ledger.models import Invoice, Ledger

    ledger = Ledger.objects.get(company_no=COMPANY_NO)
    rng = random.Random(0)
    numbers = {f"B{rng.randrange(args.invoices):08d}" for _ in range(args.links)}
    invoices = Invoice.objects.filter(ledger=ledger, invoice_no__in=numbers).values_list(
        "id", "customer_id", "invoice_no"
    )
    now = timezone.now()
    links, rows = [], []
    for invoice_id, customer_id, invoice_no in invoices:
        token = secrets.token_urlsafe(32)
        links.append((token, invoice_no))
        rows.append(
            PortalLink(
                token_hash=token_hash(token),
                ledger=ledger,
                customer_id=customer_id,
                invoice_id=invoice_id,
                created_at=now,
                expires_at=now + timedelta(days=settings.INVOICE_PORTAL_LINK_MAX_AGE_DAYS),
            )  # fmt: skip
        )
    PortalLink.objects.bulk_create(rows)
    progress(f"{len(links):,} portal links")
    return links


def load(port, links, seconds, connections, queue) -> None:
    latencies, failures, used, lock = [], [], set(), threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker(seed):
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad, tokens = [], [], set()
        while time.perf_counter() < stop_at:
            token, invoice_no = rng.choice(links)
            t0 = time.perf_counter()
            conn.request("GET", f"/p/{token}/", headers={"Accept-Language": "nb"})
            response = conn.getresponse()
            body = response.read()
            mine.append(time.perf_counter() - t0)
            tokens.add(token)
            if response.status != 200 or invoice_no.encode() not in body:
                bad.append((token, response.status, body[:200]))
        conn.close()
        with lock:
            latencies.extend(mine)
            failures.extend(bad)
            used.update(tokens)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put((latencies, time.perf_counter() - started, failures[:3], len(failures), len(used)))


def measure(port, links, args, connections) -> tuple[int, dict]:
    queue = multiprocessing.get_context("spawn").Queue()
    for seconds in (2.0, args.seconds):  # a warm-up burst, then the measured run
        process = multiprocessing.get_context("spawn").Process(
            target=load, args=(port, links, seconds, connections, queue)
        )
        process.start()
        latencies, elapsed, failures, failed, distinct = queue.get()
        process.join()
        check(failed == 0, f"{failed} bad responses, e.g. {failures}")
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    r = {"requests": len(latencies), "rps": len(latencies) / elapsed, "tokens": distinct,
         "p50": pct(50), "p95": pct(95), "p99": pct(99)}  # fmt: skip
    print(f"GET /p/<token>/, {connections} connections: {r['requests']} requests ({distinct} different tokens) "
          f"in {elapsed:.1f} s: {r['rps']:.0f} requests/s, p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, "
          f"p99 {r['p99']:.1f} ms, mean {statistics.fmean(latencies) * 1000:.1f} ms")  # fmt: skip
    return connections, r


def run(args) -> int:
    import bench_api

    # Every request comes from 127.0.0.1: the per-address limits must not be what is measured.
    os.environ["INVOICE_PORTAL_RATE_LIMIT"] = "100000000/min"
    # Plain http on loopback (production has TLS in front): no redirect to https.
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "0"
    bench_api.setup(args)
    links = make_links(args)
    # gunicorn runs with DJANGO_DEBUG=0: the pages name their CSS and script through the manifest.
    os.environ["DJANGO_STATIC_ROOT"] = tempfile.mkdtemp(prefix="bench-portal-static-")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "bench-only-" + "x" * 50,
             "DATABASE_URL": bench_api.database_url()},
        check=True,
    )  # fmt: skip
    check(len(links) >= 500, "fewer than 500 links")
    port = bench_api.free_port()
    server = bench_api.start_gunicorn(args, port)
    try:
        print(f"portal bench: {args.invoices:,} invoices, {len(links):,} links, gunicorn {args.workers} workers x "
              f"{args.threads} threads, load from a second process, {os.cpu_count()} CPUs")  # fmt: skip
        results = [measure(port, links, args, int(n)) for n in args.connections.split(",")]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    for connections, r in results:
        met = r["p95"] <= 100 and r["requests"] >= 500 and r["tokens"] >= 500
        print(f"target at {connections} connections: p95 <= 100 ms over >= 500 requests with different tokens: "
              f"{'met' if met else 'NOT met'}")  # fmt: skip
    for connections, r in results:
        key = f"portal_page_c{connections}"
        print(f"BENCH {key}_rps {r['rps']:.0f} requests/s")
        for p in ("p50", "p95", "p99"):
            print(f"BENCH {key}_{p} {r[p]:.1f} ms")
        print(f"BENCH {key}_tokens {r['tokens']} tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
