#!/usr/bin/env python
"""Benchmark: the whole product under a working day's mixed load, at rising rates (issue 30).

Run from the project root:

    python bench/bench_mixed_load.py [--invoices 200000] [--rates 10,20,40,60] [--seconds 300]
                                     [--workers 2] [--threads 4] [--clients 64]
                                     [--import-rate 20 [--import-invoices 50000] [--import-payments 100000]]

The database is a throwaway one (ledger_bench_<pid>, see _common.py). Setup (not timed): bench_api.py's
ledger (--invoices registered by `invoices_register` over --customers customers), a write token, signed-in
360 operators (bench_ui.py's sessions) and portal links for 500 invoices. Then gunicorn serves the project
with the production settings on a loopback port, and a second process sends requests OPEN-LOOP at each
rate of --rates for --seconds: request i is due at i / rate seconds, whatever the answers before it, and
its latency counts from when it was due (so a server that falls behind shows it, queueing included). The
mix, as a working day has it:

  35 % API: GET one invoice              10 % API: GET a page of invoices (first pages, filters)
  10 % API: POST a new invoice (a registration, a new number each time)
  15 % 360: a customer page              10 % 360: an invoice page
  15 % portal: an invoice's page from its link

Every answer must be 200 (201 for a registration) and hold what it should. Per rate: requests, errors,
achieved rate, p50/p95/p99; the highest rate held with p95 <= 250 ms and no error; then verify_ledger,
which must be clean. Ends with `BENCH <name> <value> <unit>` lines. Target (issue 30): the highest rate
the 2-core machine holds for 5 minutes (--seconds 300) with p95 <= 250 ms and no errors.

With --import-rate R: at R requests/s, the load for --import-seconds idle, then again while a CUSIN file
of --import-invoices invoices and an OCR Giro file of --import-payments payments (on the ledger's open
invoices) are imported through their commands in a third process; both must finish accepted, and the
API's p95 with the imports is printed against its idle figure (target, issue 30: within 2 x).
"""

import argparse
import http.client
import json
import multiprocessing
import os
import queue as queue_module
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

from _common import ROOT, bench_main, check  # noqa: E402 (sets up sys.path)
from bench_api import COMPANY_NO, free_port, start_gunicorn
from bench_api import database_url as bench_database_url
from bench_api import setup as api_setup
from bench_ui import GUNICORN_SECRET_KEY, environment, loadavg, operator_sessions

TARGET_P95_MS = 250.0
MIX = [("api_invoice", 35), ("api_list", 10), ("api_register", 10), ("360_customer", 15), ("360_invoice", 10),
       ("portal_invoice", 15)]  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=200_000)
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--rates", default="10,20,40,60", help="requests/s to try, in order")
    parser.add_argument("--seconds", type=float, default=300.0, help="load per rate")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--clients", type=int, default=64, help="client threads (connections) of the load")
    parser.add_argument("--import-rate", type=float, default=0.0,
                        help="then, at this rate: the load idle, and again while a CUSIN file and a payment file "
                             "are imported (0: not run)")  # fmt: skip
    parser.add_argument("--import-invoices", type=int, default=50_000, help="invoices in the CUSIN file")
    parser.add_argument("--import-payments", type=int, default=100_000, help="payments in the OCR Giro file")
    parser.add_argument("--import-seconds", type=float, default=240.0, help="each of the two windows")
    return parser.parse_args()


def main() -> int:
    return bench_main(run, parse_args())


def setup(args) -> dict:
    from api.services import api_token_create
    from distribution.links import portal_link_issue
    from ledger.models import Invoice, Ledger

    _, customer_nos = api_setup(args)
    ledger = Ledger.objects.get(company_no=COMPANY_NO)
    _, secret = api_token_create(
        client=ledger.client, ledger=ledger, can_write=True, rate_limit="100000000/min"
    )
    sessions = operator_sessions(ledger, 8)
    invoices = list(Invoice.objects.filter(ledger=ledger).order_by("?").values_list("id", "customer_id",
                                                                                   "invoice_no")[:500])  # fmt: skip
    links = [(portal_link_issue(ledger_id=ledger.id, customer_id=c, invoice_id=i), i) for i, c, _ in invoices]
    return {"secret": secret, "customer_nos": customer_nos, "sessions": sessions, "links": links,
            "invoice_nos": [n for _, _, n in invoices]}  # fmt: skip


# --- The load process ---------------------------------------------------------------------------


def request_for(
    kind: str, rng: random.Random, data: dict, serial: int
) -> tuple[str, str, bytes | None, dict]:
    """(method, path, body, headers) of one request of the kind."""
    api = {"Authorization": f"Bearer {data['secret']}", "Accept": "application/json"}
    base = f"/api/v1/ledgers/{COMPANY_NO}"
    if kind == "api_invoice":
        return "GET", f"{base}/invoices/{rng.choice(data['invoice_nos'])}/", None, api
    if kind == "api_list":
        extra = rng.choice(
            ["", "&status=open", "&ordering=-due_date", f"&customer={rng.choice(data['customer_nos'])}"]
        )
        return "GET", f"{base}/invoices/?limit=50{extra}", None, api
    if kind == "api_register":
        body = {"customer_no": rng.choice(data["customer_nos"]), "invoice_no": f"LOAD-{os.getpid()}-{serial}",
                "invoice_date": time.strftime("%Y-%m-%d"), "amount": f"{rng.randrange(10_000, 1_000_000) / 100:.2f}"}  # fmt: skip
        return (
            "POST",
            f"{base}/invoices/",
            json.dumps(body).encode(),
            {**api, "Content-Type": "application/json"},
        )
    cookie = {"Cookie": f"{data['cookie_name']}={rng.choice(data['sessions'])}"}
    if kind == "360_customer":
        return "GET", f"/360/l/{COMPANY_NO}/customers/{rng.choice(data['customer_nos'])}/", None, cookie
    if kind == "360_invoice":
        return "GET", f"/360/l/{COMPANY_NO}/invoices/{rng.choice(data['invoice_nos'])}/", None, cookie
    token, invoice_id = rng.choice(data["links"])
    return "GET", f"/p/{token}/invoices/{invoice_id}/", None, {}


def load(port: int, data: dict, rate: float, seconds: float, clients: int, out) -> None:
    """Open loop: request i is due at start + i / rate; `clients` threads take them as they fall due."""
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    total = int(rate * seconds)
    due: queue_module.Queue = queue_module.Queue()
    results, lock = [], threading.Lock()
    start = time.perf_counter() + 0.5

    def client(n: int) -> None:
        rng = random.Random(n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while (item := due.get()) is not None:
            i, kind, at = item
            method, path, body, headers = request_for(kind, rng, data, i)
            for attempt in (1, 2):
                try:
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    payload = response.read()
                    ok = response.status == (201 if kind == "api_register" else 200)
                    error = None if ok else f"{response.status} {path} {payload[:160]!r}"
                    break
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    error = f"{type(exc).__name__} {path}"
                    # gunicorn closes a keep-alive connection idle past its timeout: the request never
                    # reached it, so it is sent once more on a new connection (as HTTP clients do)
                    if attempt == 2 or not isinstance(
                        exc, (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected)
                    ):
                        break
            mine.append((kind, time.perf_counter() - at, error))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    rng = random.Random(7)
    for i in range(total):
        at = start + i / rate
        delay = at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        due.put((i, rng.choice(kinds), at))
    for _ in threads:
        due.put(None)
    for thread in threads:
        thread.join()
    out.put((results, time.perf_counter() - start))


def measure(port: int, data: dict, rate: float, seconds: float, clients: int) -> dict:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=load, args=(port, data, rate, seconds, clients, out))
    process.start()
    results, elapsed = out.get()
    process.join()
    latencies = sorted(latency for _, latency, _ in results)
    errors = [error for _, _, error in results if error]

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    by_kind = {}
    for kind, _ in MIX:
        mine = sorted(latency for k, latency, _ in results if k == kind)
        by_kind[kind] = mine[min(len(mine) - 1, int(0.95 * len(mine)))] * 1000 if mine else 0.0
    return {"rate": rate, "requests": len(results), "achieved": len(results) / elapsed, "errors": len(errors),
            "error_examples": errors[:3], "p50": pct(50), "p95": pct(95), "p99": pct(99), "p95_by_kind": by_kind}  # fmt: skip


# --- The imports under load ------------------------------------------------------------------------------


def import_files(args, folder: str, data: dict) -> tuple[str, str]:
    """A CUSIN file of --import-invoices new invoices (50 per customer, new customers) and an OCR Giro file
    of --import-payments payments on the ledger's open invoices (exact amounts), written before the load.
    The invoices the load opens portal links for are not paid: a paid invoice's link has ended (410)."""
    from decimal import Decimal

    from cusin.generate import CustomerSpec, InvoiceSpec, write_cusin
    from ledger.models import Invoice
    from ledger.payments.bankfiles.write import PaymentSpec, write_ocr_giro

    day = time.strftime("%Y-%m-%d")
    from datetime import date

    today = date.fromisoformat(day)
    customers = (
        CustomerSpec(customer_no=f"7{c:06d}", name=f"Imported customer {c}", street="Storgata 1", zip_code="0155",
                     city="Oslo", items=[InvoiceSpec(invoice_no=f"IMP-{c:06d}-{n:02d}", invoice_date=today,
                                                     amount_excl_vat=Decimal("800.00"), vat_amount=Decimal("200.00"),
                                                     currency="NOK") for n in range(50)])
        for c in range(args.import_invoices // 50)
    )  # fmt: skip
    cusin = write_cusin(os.path.join(folder, f"CUSIN_{COMPANY_NO}_{time.strftime('%Y%m%d%H%M%S')}_1.xml"),
                        company_no=COMPANY_NO, customers=customers)  # fmt: skip
    linked = [invoice_id for _, invoice_id in data["links"]]
    invoices = (
        Invoice.objects.filter(ledger__company_no=COMPANY_NO, status="open")
        .exclude(id__in=linked)
        .order_by("id")
    )
    payments = [PaymentSpec(reference=ref, amount=amount, archive_ref=f"{n:09d}")
                for n, (ref, amount) in enumerate(invoices.values_list("payment_ref", "amount")[: args.import_payments], 1)]  # fmt: skip
    ocr = os.path.join(folder, "OCR_import_under_load.txt")
    with open(ocr, "wb") as handle:
        handle.write(write_ocr_giro(payments, receiving_account="15030000002", nets_date=today,
                                    transmission_number="0000001", assignment_number="0000001"))  # fmt: skip
    return str(cusin), ocr


def run_imports(files: tuple[str, str], env: dict, out: dict) -> None:
    """The CUSIN import, then the payment import, each through its command, timed; results into `out`."""
    for name, command in (("cusin", ["import_cusin", files[0]]), ("payments", ["import_payments", files[1]])):
        t = time.perf_counter()
        done = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True,
                              text=True)  # fmt: skip
        try:
            summary = json.loads(done.stdout)
        except ValueError:
            summary = {"status": f"exit {done.returncode}: {done.stderr[-500:]}"}
        out[name] = {"seconds": time.perf_counter() - t, "status": summary.get("status"), "exit": done.returncode,
                     "summary": {k: summary.get(k) for k in ("invoices", "failed_invoices", "payments", "matched")}}  # fmt: skip


def api_p95(r: dict) -> float:
    """The API requests' p95 of a measurement (reads and registrations together), in ms."""
    return max(r["p95_by_kind"][k] for k in ("api_invoice", "api_list", "api_register"))


def imports_under_load(args, port: int, data: dict, env: dict) -> None:
    folder = tempfile.mkdtemp(prefix="bench_imports_")
    files = import_files(args, folder, data)
    print(f"imports under load at {args.import_rate:.0f}/s: {args.import_invoices:,} invoices in a CUSIN file, "
          f"{args.import_payments:,} payments in an OCR Giro file; {args.import_seconds:.0f} s idle, then "
          f"{args.import_seconds:.0f} s with the imports", flush=True)  # fmt: skip
    idle = measure(port, data, args.import_rate, args.import_seconds, args.clients)
    imported: dict = {}
    worker = threading.Thread(target=run_imports, args=(files, env, imported))
    worker.start()
    busy = measure(port, data, args.import_rate, args.import_seconds, args.clients)
    worker.join()
    for label, r in (("idle", idle), ("with imports", busy)):
        print(f"{label}: {r['requests']} requests, {r['errors']} errors {r['error_examples']}, p95 {r['p95']:.1f} ms, "
              f"API p95 {api_p95(r):.1f} ms", flush=True)  # fmt: skip
    for name, result in imported.items():
        print(
            f"import {name}: {result['status']} in {result['seconds']:.1f} s {result['summary']}", flush=True
        )
    check(all(r["status"] == "accepted" for r in imported.values()) and len(imported) == 2,
          f"both imports finish accepted: {imported}")  # fmt: skip
    ratio = api_p95(busy) / api_p95(idle)
    print(
        f"API p95 with the imports / idle: {ratio:.2f} x (target <= 2): {'met' if ratio <= 2 else 'NOT met'}"
    )
    print(f"BENCH import_under_load_api_p95_idle {api_p95(idle):.1f} ms")
    print(f"BENCH import_under_load_api_p95_busy {api_p95(busy):.1f} ms")
    print(f"BENCH import_under_load_ratio {ratio:.2f} x")
    for name, result in imported.items():
        print(f"BENCH import_under_load_{name}_seconds {result['seconds']:.1f} s")


def run(args) -> int:
    from django.conf import settings

    from ledger.models import Ledger
    from ledger.verify import ledger_verify

    data = setup(args)
    data["cookie_name"] = settings.SESSION_COOKIE_NAME
    port = free_port()
    data_dir = tempfile.TemporaryDirectory(prefix="bench_mixed_")
    env = {"DJANGO_SECURE_SSL_REDIRECT": "0", "SESSION_IDLE_MINUTES": "1440", "LEDGER_DATA_DIR": data_dir.name,
           "DJANGO_STATIC_ROOT": os.path.join(data_dir.name, "static"), "LOG_LEVEL": "ERROR",
           # every customer of the load comes from one loopback address: the portal's per-address limit
           # (a protection against guessing links) would answer them 429 (as bench_portal.py sets it)
           "INVOICE_PORTAL_RATE_LIMIT": "100000000/min"}  # fmt: skip
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=ROOT, check=True,
        env={**os.environ, **env, "DATABASE_URL": bench_database_url(), "DJANGO_DEBUG": "0",
             "DJANGO_SECRET_KEY": GUNICORN_SECRET_KEY},
    )  # fmt: skip
    with environment(**env):
        server = start_gunicorn(args, port)
    held = None
    results = []
    try:
        print(f"mixed load: {args.invoices:,} invoices, {args.customers:,} customers, gunicorn {args.workers} x "
              f"{args.threads} threads, {args.clients} client threads in a second process, {os.cpu_count()} CPUs, "
              f"{args.seconds:.0f} s per rate; mix {', '.join(f'{k} {w} %' for k, w in MIX)}")  # fmt: skip
        measure(port, data, 5.0, 5.0, args.clients)  # warm-up: connections, caches (not counted)
        for rate in [float(r) for r in args.rates.split(",")]:
            print(f"rate {rate:.0f}/s: load average before {loadavg()}", flush=True)
            r = measure(port, data, rate, args.seconds, args.clients)
            results.append(r)
            ok = r["errors"] == 0 and r["p95"] <= TARGET_P95_MS
            held = rate if ok else held
            kinds = ", ".join(f"{k} {v:.0f}" for k, v in r["p95_by_kind"].items())
            print(f"rate {rate:.0f}/s: {r['requests']} requests, {r['achieved']:.1f}/s achieved, {r['errors']} errors "
                  f"{r['error_examples']}, p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, p99 {r['p99']:.1f} ms "
                  f"(p95 by kind, ms: {kinds}): {'held' if ok else 'NOT held'}", flush=True)  # fmt: skip
            if not ok:
                break
        if args.import_rate:
            imports_under_load(args, port, data, {**os.environ, **env, "DATABASE_URL": bench_database_url(),
                                                  "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": GUNICORN_SECRET_KEY})  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        data_dir.cleanup()
    failed = [c for c in ledger_verify(ledger=Ledger.objects.get(company_no=COMPANY_NO)) if not c["ok"]]
    check(failed == [], f"verify_ledger after the load: {failed}")
    print("verify_ledger after the load: all checks ok")
    print(f"highest rate held (p95 <= {TARGET_P95_MS:.0f} ms, no errors, {args.seconds:.0f} s): "
          f"{held if held is not None else 'none'}")  # fmt: skip
    print(f"BENCH mixed_load_rate_held {held or 0:.0f} requests/s")
    for r in results:
        print(f"BENCH mixed_load_p95_at_{r['rate']:.0f} {r['p95']:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
