#!/usr/bin/env python
"""Benchmark: the 360 reports under gunicorn with a million invoices, signed-in load from a second process.

Run from the project root:

    python bench/bench_reports.py [--data history|all-open] [--invoices 1000000] [--customers 500000]
                                  [--requests 100] [--connections 4] [--workers 2] [--threads 4] [--keep]

The database is a throwaway one (ledger_bench_<pid>, see _common.py; --keep leaves it for EXPLAIN). Setup (not timed), one ledger with
--customers customers and --invoices invoices, VACUUM ANALYZE (history) or ANALYZE, one signed-in operator
session per connection:
  --data history (the default): bench_dashboard.py's year of history, loaded set-based: invoices booked
      evenly over the last 365 days, most paid (before the due date, late, after a reminder, a notice or
      in collection), 10 % never paid, fees, documents; about 14 % of them open today;
  --data all-open: bench_ui.py's: every invoice registered today by `invoices_register` and open (the
      worst case for the reports as of today: the answer is the whole ledger).
Then gunicorn (production settings) serves the project on a loopback port and measures:

  1. GET /360/l/<company_no>/reports/<name>/ (first page, default period: as of / up to today) for every
     report, --requests requests each from --connections keep-alive connections in a second process;
     each response must be 200 and hold the report's CSV download link. Target: p95 <= 300 ms.
  2. the aging report cold: a fresh gunicorn (one worker, so a new database connection), its first
     request. Target: <= 2 s.
  3. GET .../reports/ledger/download.csv: the whole ledger report (one row per open invoice); the rows
     counted must equal X-Report-Rows and the number of open invoices. rows/s (target >= 50,000) and
     the gunicorn workers' VmHWM / VmRSS before and after (target: flat memory).

Ends with `BENCH <name> <value> <unit>` lines.
"""

import argparse
import http.client
import signal
import sys
import time

from _common import bench_main, check, progress  # noqa: E402 (sets up sys.path)
from bench_api import free_port, start_gunicorn
from bench_ui import (
    HEAVY_CUSTOMERS,
    HEAVY_INVOICES,
    _rows,
    bench_database,
    environment,
    loadavg,
    operator_sessions,
    scenario,
    setup,
    signed_in,
)  # fmt: skip

TARGET_P95_MS = 300.0
TARGET_COLD_S = 2.0
TARGET_ROWS_PER_S = 50_000
REPORTS = ["created_invoices", "created_invoices_files", "aging", "ledger", "invoice_claims", "write_offs",
           "monthly_accounting", "settlements", "payouts", "payment_files", "unidentified_payments"]  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", choices=["history", "all-open"], default="history")
    parser.add_argument("--keep", action="store_true", help="leave the database for EXPLAIN afterwards")
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=500_000)
    parser.add_argument("--requests", type=int, default=100, help="measured requests per report (>= 100)")
    parser.add_argument("--connections", type=int, default=4, help="concurrent keep-alive connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    args = parser.parse_args()
    if args.requests < 100:
        parser.error("--requests must be at least 100")
    if args.data == "all-open" and (
        args.customers < 10 * HEAVY_CUSTOMERS or args.invoices < 2 * HEAVY_CUSTOMERS * HEAVY_INVOICES
    ):
        parser.error(f"at least {10 * HEAVY_CUSTOMERS} customers and {2 * HEAVY_CUSTOMERS * HEAVY_INVOICES} "
                     "invoices")  # fmt: skip
    return args


def main() -> int:
    args = parse_args()
    return bench_main(run, args, bench_database(args.keep))


def history_setup(args) -> dict:
    """bench_dashboard.py's ledger: a year of history loaded set-based, the read models rebuilt."""
    from bench_dashboard import COMPANY_NO, load_ledger
    from django.core.management import call_command
    from django.db import connection

    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    ledger = load_ledger(COMPANY_NO, "9002", invoices=args.invoices, customers=args.customers, base=0)
    with connection.cursor() as cursor:
        # VACUUM as autovacuum would soon after such a load: it marks the pages all-visible, which the
        # reports' index-only scans of the open-amount versions need (else one heap page read per version)
        cursor.execute("VACUUM ANALYZE")
    sessions = operator_sessions(ledger, args.connections)
    return {"ledger": ledger, "sessions": sessions, "setup_seconds": time.perf_counter() - t}


def workers_memory(master_pid: int) -> dict[int, tuple[int, int]]:
    """Per gunicorn worker (the master's children): (VmHWM, VmRSS) in kB from /proc/<pid>/status."""
    with open(f"/proc/{master_pid}/task/{master_pid}/children") as f:
        pids = [int(p) for p in f.read().split()]
    out = {}
    for pid in pids:
        values = {}
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmHWM:", "VmRSS:")):
                    values[line.split(":")[0]] = int(line.split()[1])
        out[pid] = (values["VmHWM"], values["VmRSS"])
    return out


def get(port, path, cookie) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("GET", path, headers={"Cookie": cookie, "Accept": "text/html"})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body


def cold_aging(args, data, cookie_name) -> float:
    """A fresh gunicorn with one worker: its first request (a new process, a new database connection)."""
    import argparse as _a

    port = free_port()
    server = start_gunicorn(_a.Namespace(workers=1, threads=1), port)
    try:
        path = f"/360/l/{data['ledger'].company_no}/reports/aging/"
        t0 = time.perf_counter()
        response, body = get(port, path, f"{cookie_name}={data['sessions'][0]}")
        seconds = time.perf_counter() - t0
        check(response.status == 200 and b"reports/aging/download.csv" in body,
              f"cold aging: {response.status}")  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return seconds


def csv_download(server, port, data, cookie_name, open_invoices) -> dict:
    path = f"/360/l/{data['ledger'].company_no}/reports/ledger/download.csv"
    before = workers_memory(server.pid)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t0 = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": f"{cookie_name}={data['sessions'][0]}"})
    response = conn.getresponse()
    check(response.status == 200, f"csv download: {response.status}")
    header_rows = int(response.getheader("X-Report-Rows"))
    lines, size, peak_during = 0, 0, {}
    last_sample = 0.0
    while chunk := response.read(1 << 16):
        lines += chunk.count(b"\n")
        size += len(chunk)
        now = time.perf_counter()
        if now - last_sample > 0.5:  # the workers' RSS while the download runs
            last_sample = now
            for pid, (_, rss) in workers_memory(server.pid).items():
                peak_during[pid] = max(peak_during.get(pid, 0), rss)
    seconds = time.perf_counter() - t0
    conn.close()
    after = workers_memory(server.pid)
    rows = lines - 1  # the header line
    check(rows == header_rows == open_invoices,
          f"csv rows {rows}, X-Report-Rows {header_rows}, open invoices {open_invoices}")  # fmt: skip
    return {"rows": rows, "seconds": seconds, "bytes": size, "rps": rows / seconds, "before": before,
            "after": after, "during": peak_during}  # fmt: skip


def run(args) -> int:
    import os
    import subprocess
    import tempfile

    from bench_api import database_url
    from bench_ui import GUNICORN_SECRET_KEY, ROOT
    from django.conf import settings

    progress(f"load average before setup: {loadavg()}")
    data = setup(args) if args.data == "all-open" else history_setup(args)
    ledger = data["ledger"]
    (open_invoices,) = _rows(
        "SELECT count(*) FROM ledger_invoice WHERE ledger_id = %s AND status <> 'closed'", [ledger.id]
    )[0]
    warmup = 20
    items = {}
    for name in REPORTS:
        path = f"/360/l/{ledger.company_no}/reports/{name}/"
        patterns = [f"reports/{name}/download\\.csv"]
        items[name] = ([(path, patterns)] * args.requests, [(path, patterns)] * warmup)
    data_dir = tempfile.TemporaryDirectory(prefix="bench_reports_")
    env = {
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "SESSION_IDLE_MINUTES": "1440",
        "LEDGER_DATA_DIR": data_dir.name,
        "DJANGO_STATIC_ROOT": os.path.join(data_dir.name, "static"),
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=ROOT, check=True,
        env={**os.environ, **env, "DATABASE_URL": database_url(), "DJANGO_DEBUG": "0",
             "DJANGO_SECRET_KEY": GUNICORN_SECRET_KEY},
    )  # fmt: skip
    cookie_name = settings.SESSION_COOKIE_NAME
    results = {}
    try:
        with environment(**env):
            cold = cold_aging(args, data, cookie_name)
            port = free_port()
            server = start_gunicorn(args, port)
        try:
            signed_in(port, cookie_name, data["sessions"])
            print(f"reports bench ({args.data}): {args.invoices:,} invoices ({open_invoices:,} open), {args.customers:,} "
                  f"customers in one ledger (setup {data['setup_seconds']:.0f} s), gunicorn {args.workers} "
                  f"workers x {args.threads} threads, {args.connections} connections, {os.cpu_count()} CPUs")  # fmt: skip
            print(f"aging cold (new gunicorn worker, first request): {cold * 1000:.0f} ms; <= "
                  f"{TARGET_COLD_S:.0f} s: {'met' if cold <= TARGET_COLD_S else 'NOT met'}", flush=True)  # fmt: skip
            print(f"load average before the load: {loadavg()}", flush=True)
            for name in REPORTS:
                measured, warm = items[name]
                r = scenario(f"report {name}", port, cookie_name, data["sessions"], measured, warm, args)
                r["met"] = r["p95"] <= TARGET_P95_MS
                results[name] = r
            print(f"load average after the load: {loadavg()}", flush=True)
            dl = csv_download(server, port, data, cookie_name, open_invoices)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    finally:
        data_dir.cleanup()
    hwm_before = max(h for h, _ in dl["before"].values())
    hwm_after = max(h for h, _ in dl["after"].values())
    rss_during = max(dl["during"].values(), default=0)
    print(f"(scenario lines above judge p95 against bench_ui's 150 ms; this bench's target is "
          f"{TARGET_P95_MS:.0f} ms)")  # fmt: skip
    missed = [n for n, r in results.items() if not r["met"]]
    print(f"target p95 <= {TARGET_P95_MS:.0f} ms: {'met' if not missed else 'NOT met'} "
          f"({', '.join(missed) + ' missed' if missed else 'all reports'})")  # fmt: skip
    print(f"ledger CSV: {dl['rows']:,} rows, {dl['bytes'] / 1e6:.1f} MB in {dl['seconds']:.1f} s: "
          f"{dl['rps']:,.0f} rows/s; >= {TARGET_ROWS_PER_S:,} rows/s: "
          f"{'met' if dl['rps'] >= TARGET_ROWS_PER_S else 'NOT met'}")  # fmt: skip
    for pid in dl["before"]:
        (hb, rb), (ha, ra) = dl["before"][pid], dl["after"].get(pid, (0, 0))
        print(f"  worker {pid}: VmHWM {hb / 1024:.0f} -> {ha / 1024:.0f} MB, VmRSS {rb / 1024:.0f} -> "
              f"{ra / 1024:.0f} MB (peak sampled during {dl['during'].get(pid, 0) / 1024:.0f} MB)")  # fmt: skip
    growth = (hwm_after - hwm_before) / 1024
    print(f"worker peak RSS (VmHWM) grew {growth:.0f} MB during the download "
          f"({'flat' if growth <= 50 else 'NOT flat'}; flat = at most 50 MB)")  # fmt: skip
    for name, r in results.items():
        for p in ("p50", "p95", "p99"):
            print(f"BENCH report_{name}_{p} {r[p]:.1f} ms")
    print(f"BENCH report_aging_cold {cold * 1000:.0f} ms")
    print(f"BENCH report_ledger_csv_rows_per_second {dl['rps']:.0f} rows/s")
    print(f"BENCH report_ledger_csv_worker_vmhwm_before {hwm_before / 1024:.0f} MB")
    print(f"BENCH report_ledger_csv_worker_vmhwm_after {hwm_after / 1024:.0f} MB")
    print(f"BENCH report_ledger_csv_worker_rss_during {rss_during / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
