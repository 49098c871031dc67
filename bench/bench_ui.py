#!/usr/bin/env python
"""Benchmark: the operator UI 360 under gunicorn with a million invoices, signed-in load from a second process.

Run from the project root:

    python bench/bench_ui.py [--invoices 1000000] [--customers 500000] [--requests 1000] [--connections 4]
                             [--workers 2] [--threads 4] [--keep] [--show-queries]

The database is a throwaway one (ledger_bench_<pid>, see _common.py; --keep leaves it for EXPLAIN).
Setup (not timed): migrate, one ledger with --customers customers (Norwegian names, national ids,
e-mail, phone, address; `customers_upsert` in batches of 25,000) and --invoices invoices registered
by `invoices_register` in batches of 50,000 (about two per customer, ten customers with 200 each),
ANALYZE, one operator per connection with a verified second factor and a session of its own.
Then gunicorn serves the project on a loopback port and a separate load process keeps --connections
keep-alive HTTP connections busy until --requests requests of each scenario are done, each on another
customer or invoice:

  1. GET /360/customers/?q=<3-5 first letters of a customer's name>
  2. GET /360/customers/?q=<a customer's national id>
  3. GET /360/customers/?q=<an invoice's KID>
  4. GET /360/customers/?q=<an invoice's number>
  5. GET /360/l/<company_no>/customers/<customer_no>/
  6. GET /360/l/<company_no>/invoices/<invoice_no>/

Every response must be 200 with the asked customer / invoice in the HTML. Prints requests/s and
p50/p95/p99 latency per scenario, and the SQL queries per page (in-process, Django's test Client) for
a customer with 2 invoices and one with 200; ends with `BENCH <name> <value> <unit>` lines.
Target: p95 <= 150 ms for each scenario.

Past 500 lines: one benchmark, read top to bottom (the million-invoice setup, the server, the load, the figures).
"""

import argparse
import html
import http.client
import multiprocessing
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import quote

from _common import ROOT, bench_main, check, progress, throwaway_database  # noqa: E402 (sets up sys.path)
from bench_api import database_url, free_port, start_gunicorn
from stdnum.no import fodselsnummer

COMPANY_NO = "900000360"
TARGET_P95_MS = 150.0
# The key bench_api.start_gunicorn gives gunicorn: the sessions made here are signed with it too.
GUNICORN_SECRET_KEY = "bench-only-secret-key-" + "x" * 40
HEAVY_CUSTOMERS = 10  # customers with HEAVY_INVOICES invoices each (the "many invoices" case)
HEAVY_INVOICES = 200
CUSTOMER_BATCH = 25_000
INVOICE_BATCH = 50_000

# Common Norwegian given names and surnames, most common first; drawn with weights 1/(rank + 3), so a
# prefix matches from tens to tens of thousands of customers.
FIRST_NAMES = """
Anne Jan Per Inger Kari Bjørn Ole Lars Marit Kjell Ingrid Knut Liv Arne Eva Svein Berit Thomas Astrid
Hans Geir Bjørg Tor Hilde Morten Anna Terje Solveig Odd Marianne Erik Randi Martin Ida Andreas Nina
John Maria Anders Elisabeth Rune Kristin Trond Bente Jon Heidi Tore Silje Harald Hanne Olav Gerd Nils
Linda Gunnar Tone Kristian Tove Stian Elin Espen Anita Øyvind Wenche Jørgen Camilla Magnus Ragnhild
Henrik Grete Jonas Ellen Daniel Karin Fredrik Turid Sindre Mona Håkon Monica Even Sissel Sander Siri
Kristoffer Julie Eirik Hege Leif Åse Helge Nora Egil Emma Einar Sofie Rolf Thea Steinar Ingeborg Sigurd
Mari Emil Marte Mathias Sara Tobias Helene Jakob Maja Filip Vilde Oskar Emilie Aksel Frida Ola Tuva Kåre
Oda Asbjørn Sigrid Åge Ella Ivar Hedda Halvor Synnøve Vegard Ørjan
""".split()
SURNAMES = """
Hansen Johansen Olsen Larsen Andersen Pedersen Nilsen Kristiansen Jensen Karlsen Johnsen Pettersen
Eriksen Berg Haugen Hagen Johannessen Andreassen Jacobsen Dahl Jørgensen Halvorsen Henriksen Lund
Sørensen Jakobsen Moen Gundersen Iversen Strand Solberg Svendsen Eide Knutsen Martinsen Paulsen Bakken
Kristoffersen Mathisen Lie Amundsen Nguyen Rasmussen Ali Lunde Solheim Berntsen Nygård Bakke Kristensen
Moe Ahmed Fredriksen Holm Lien Hauge Christensen Andresen Nielsen Knudsen Evensen Sæther Aas Myhre
Hanssen Ødegård Ellingsen Thorsen Mikkelsen Isaksen Edvardsen Birkeland Sandvik Tangen Thomassen Brekke
Næss Aasen Dahle Vik Aune Hovland Ruud Sunde Fjeld Bøe Engen Løken Rønning Tveit Haugland Strøm Wold
Hoel Kvam Gulbrandsen Helland Våge
""".split()
STREETS = "Storgata Kirkeveien Skolegata Parkveien Fjordgata Sjøgata Bakkeveien Granveien Solbakken Elvegata".split()
CITIES = [("0150", "Oslo"), ("5003", "Bergen"), ("7010", "Trondheim"), ("4006", "Stavanger"),
          ("9008", "Tromsø"), ("4608", "Kristiansand"), ("3015", "Drammen"), ("1607", "Fredrikstad"),
          ("2317", "Hamar"), ("8006", "Bodø"), ("6003", "Ålesund"), ("3117", "Tønsberg")]  # fmt: skip
ASCII = str.maketrans({"æ": "ae", "ø": "o", "å": "a"})


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=500_000)
    parser.add_argument("--requests", type=int, default=1000, help="measured requests per scenario (>= 500)")
    parser.add_argument("--connections", type=int, default=4, help="concurrent keep-alive connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (for EXPLAIN); drop it yourself"
    )
    parser.add_argument("--show-queries", action="store_true", help="print each page's SQL to stderr")
    args = parser.parse_args()
    if args.requests < 500:
        parser.error("--requests must be at least 500")
    if args.customers < 10 * HEAVY_CUSTOMERS or args.invoices < 2 * HEAVY_CUSTOMERS * HEAVY_INVOICES:
        parser.error(f"at least {10 * HEAVY_CUSTOMERS} customers and {2 * HEAVY_CUSTOMERS * HEAVY_INVOICES} "
                     "invoices")  # fmt: skip
    return args


def main() -> int:
    args = parse_args()
    return bench_main(run, args, bench_database(args.keep))


@contextmanager
def bench_database(keep: bool) -> Iterator[str]:
    """throwaway_database(); with --keep, the same database created but left for EXPLAIN afterwards."""
    if not keep:
        with throwaway_database() as name:
            yield name
        return
    import django

    django.setup()
    import psycopg
    from django.conf import settings
    from django.db import connection, connections

    admin_params = connection.get_connection_params()
    connections.close_all()
    name = f"ledger_bench_{os.getpid()}"
    with psycopg.connect(**admin_params, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    progress(f"created database {name} (--keep: not dropped)")
    settings.DATABASES["default"]["NAME"] = name
    connection.settings_dict["NAME"] = name
    try:
        yield name
    finally:
        connections.close_all()
        progress(f"kept database {name}: drop it with  dropdb -h {admin_params.get('host') or '127.0.0.1'} "
                 f"-U {admin_params.get('user') or 'postgres'} {name}")  # fmt: skip


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# --- Setup ---------------------------------------------------------------------------------------


def customer_no(index: int) -> str:
    return str(100_000 + index)


def invoice_no(index: int) -> str:
    return str(10_000_000 + index)


def person(rng: random.Random, index: int, national_ids: set[str]) -> dict:
    first = rng.choices(FIRST_NAMES, cum_weights=FIRST_WEIGHTS)[0]
    if rng.random() < 0.2:  # a double given name: "Anne Lise", "Per Olav"
        first += " " + rng.choices(FIRST_NAMES, cum_weights=FIRST_WEIGHTS)[0]
    last = rng.choices(SURNAMES, cum_weights=SURNAME_WEIGHTS)[0]
    while True:  # a valid fødselsnummer (the national id decides the legal entity): DDMMYY, an
        # individual number that gives the century (000-499: 1900s, 500-999: 2000s), two mod-11 checks
        born = date(1930, 1, 1) + timedelta(days=rng.randrange(27_000))
        body = f"{born:%d%m%y}{rng.randrange(500) + (500 if born.year >= 2000 else 0):03d}"
        first_check = fodselsnummer.calc_check_digit1(body)
        national_id = body + first_check + fodselsnummer.calc_check_digit2(body + first_check)
        if national_id not in national_ids and fodselsnummer.is_valid(national_id):
            national_ids.add(national_id)
            break
    postal_code, city = rng.choice(CITIES)
    return {
        "name": f"{first} {last}",
        "national_id": national_id,
        "email": f"{first.split()[0]}.{last}{index}@example.no".lower().translate(ASCII),
        "phone": f"+47{rng.choice('49')}{rng.randrange(10_000_000):07d}",
        "address_line1": f"{rng.choice(STREETS)} {rng.randrange(1, 120)}",
        "postal_code": postal_code,
        "city": city,
    }


def _cumulative(names: list[str]) -> list[float]:
    total, out = 0.0, []
    for rank in range(1, len(names) + 1):
        total += 1 / (rank + 3)
        out.append(total)
    return out


FIRST_WEIGHTS = _cumulative(FIRST_NAMES)
SURNAME_WEIGHTS = _cumulative(SURNAMES)


def setup(args) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from ledger.models import Customer
    from ledger.services.customers import CustomerInput, customers_upsert
    from ledger.services.ledgers import ledger_create
    from ledger.services.registration import InvoiceInput, invoices_register

    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    ledger, _ = ledger_create(
        company_no=COMPANY_NO, ledger_no="9360", country="NO", name="Bench ledger", client_name="Bench client",
        client_funds_account="15030000002",
    )  # fmt: skip
    rng = random.Random(0)
    national_ids: set[str] = set()
    ids: list[int] = []
    for start in range(0, args.customers, CUSTOMER_BATCH):
        inputs = [
            CustomerInput(customer_no=customer_no(i), national_id_country="NO", country="NO",
                          **person(rng, i, national_ids))
            for i in range(start, min(start + CUSTOMER_BATCH, args.customers))
        ]  # fmt: skip
        by_no = customers_upsert(ledger=ledger, customers=inputs, actor="bench")
        ids.extend(by_no[item.customer_no].id for item in inputs)
        progress(f"created {len(ids):,} customers ({time.perf_counter() - t:.0f} s)")
    del national_ids

    # Who owns each invoice: HEAVY_CUSTOMERS customers spread over the numbers have HEAVY_INVOICES each,
    # the others share the rest at random (about two each; some none, some more).
    heavy = [k * (args.customers // HEAVY_CUSTOMERS) for k in range(HEAVY_CUSTOMERS)]
    heavy_set = set(heavy)
    owners = [c for c in heavy for _ in range(HEAVY_INVOICES)]
    while len(owners) < args.invoices:
        c = rng.randrange(args.customers)
        if c not in heavy_set:
            owners.append(c)
    rng.shuffle(owners)
    counts = Counter(owners)
    few = next(c for c in range(args.customers) if counts[c] == 2)
    today = ledger.today()
    for start in range(0, args.invoices, INVOICE_BATCH):
        customers = {}  # light instances: registration reads only id, ledger_id and customer_no
        inputs = []
        for i in range(start, min(start + INVOICE_BATCH, args.invoices)):
            c = owners[i]
            if c not in customers:
                customers[c] = Customer(id=ids[c], ledger_id=ledger.id, customer_no=customer_no(c))
            inputs.append(
                InvoiceInput(
                    customer=customers[c],
                    invoice_no=invoice_no(i),
                    invoice_date=today - timedelta(days=i % 400),  # due dates spread over 400 days
                    amount=Decimal(10_000 + (i * 7919) % 1_000_000).scaleb(-2),
                )
            )
        invoices_register(ledger=ledger, invoices=inputs, actor="bench", booking_date=today)
        progress(f"registered {start + len(inputs):,} invoices ({time.perf_counter() - t:.0f} s)")
    del owners
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    sessions = operator_sessions(ledger, args.connections)
    elapsed = time.perf_counter() - t
    progress(f"setup done in {elapsed:.0f} s")
    return {
        "ledger": ledger,
        "sessions": sessions,
        "heavy": [customer_no(c) for c in heavy],
        "few": customer_no(few),
        "setup_seconds": elapsed,
    }


def operator_sessions(ledger, connections: int) -> list[str]:
    """One operator of the ledger's client per connection, each signed in on a session of its own with
    the code given now (what portal360.middleware checks; as tests/helpers.py sign_in does), signed with
    gunicorn's key. Returns the session keys."""
    import importlib

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_email.models import EmailDevice

    from ledger.models import User, UserRole
    from portal360.middleware import SESSION_VERIFIED_AT

    settings.SECRET_KEY = GUNICORN_SECRET_KEY
    store = importlib.import_module(settings.SESSION_ENGINE).SessionStore
    sessions = []
    for n in range(max(1, connections)):
        user = User.objects.create_user(
            username=f"bench-operator-{n}", email=f"bench-operator-{n}@example.no", client=ledger.client,
            role=UserRole.OPERATOR,
        )  # fmt: skip
        device = EmailDevice.objects.create(user=user, name="bench", email=user.email)
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session[SESSION_VERIFIED_AT] = int(time.time())
        session.set_expiry(24 * 3600)
        session.save()
        sessions.append(session.session_key)
    return sessions


# --- What to ask for -----------------------------------------------------------------------------


def _rows(sql: str, params: list) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _sample(rows: list, n: int) -> list:
    """n of the rows: each once while they last (a small ledger repeats them)."""
    return [rows[i % len(rows)] for i in range(n)] if rows else []


def _has(text: str) -> str:
    """A pattern: the text as the HTML shows it."""
    return re.escape(html.escape(text))


def targets(data: dict, args, warmup: int) -> dict[str, tuple[list, list]]:
    """Per scenario, (measured items, warm-up items), each item (path, patterns the HTML must match)."""
    ledger = data["ledger"]
    per = args.requests + warmup
    rng = random.Random(1)
    customers = _rows(
        "SELECT customer_no, name, national_id FROM ledger_customer WHERE ledger_id = %s ORDER BY random() LIMIT %s",
        [ledger.id, 3 * per],
    )
    invoices = _rows(
        """
        SELECT i.invoice_no, i.payment_ref, c.customer_no, c.name
        FROM (SELECT invoice_no, payment_ref, customer_id FROM ledger_invoice WHERE ledger_id = %s
              ORDER BY random() LIMIT %s) i
        JOIN ledger_customer c ON c.id = i.customer_id
        """,
        [ledger.id, 3 * per],
    )
    heavy = _rows(
        "SELECT customer_no, name, national_id FROM ledger_customer WHERE ledger_id = %s AND customer_no = ANY(%s)",
        [ledger.id, data["heavy"]],
    )
    rng.shuffle(invoices)
    by_name = _sample(customers[0::3], per)
    by_id = _sample(customers[1::3], per)
    pages = _sample(customers[2::3], per)
    # The customers with many invoices are among those looked up (replacing as many random ones).
    by_id[: len(heavy)] = heavy
    pages[: len(heavy)] = heavy
    rng.shuffle(by_id)
    rng.shuffle(pages)
    search = "/360/customers/?q="
    base = f"/360/l/{COMPANY_NO}"
    items = {
        "search_name": [],
        "search_national_id": [
            (search + quote(nid), [">" + _has(no) + "<", _has(name)]) for no, name, nid in by_id
        ],
        "search_kid": [
            (search + quote(kid), [">" + _has(ino) + "<", ">" + _has(cno) + "<"])
            for ino, kid, cno, _ in _sample(invoices[0::3], per)
        ],
        "search_invoice_no": [
            (search + quote(ino), [">" + _has(ino) + "<", ">" + _has(cno) + "<"])
            for ino, _, cno, _ in _sample(invoices[1::3], per)
        ],
        "customer_page": [
            (f"{base}/customers/{quote(no)}/", [_has(name), _has(no)]) for no, name, _ in pages
        ],
        "invoice_page": [
            (f"{base}/invoices/{quote(ino)}/", [_has(ino), _has(name)])
            for ino, _, _, name in _sample(invoices[2::3], per)
        ],
    }
    for _, name, _ in by_name:
        prefix = name[: rng.choice((3, 4, 5))].rstrip()
        # A result cell that starts with the prefix (the search is case-insensitive).
        items["search_name"].append((search + quote(prefix), ["(?i)>\\s*" + _has(prefix)]))
    return {key: (value[warmup:], value[:warmup]) for key, value in items.items()}


def prefix_matches(data: dict, items: list) -> list[int]:
    """How many customers each distinct prefix of the name scenario matches."""
    from urllib.parse import unquote

    prefixes = sorted({unquote(path.split("q=", 1)[1]) for path, _ in items})
    counts = []
    for prefix in prefixes:
        (n,) = _rows(
            "SELECT count(*) FROM ledger_customer WHERE ledger_id = %s AND upper(name) LIKE %s",
            [data["ledger"].id, re.sub(r"([\\%_])", r"\\\1", prefix.upper()) + "%"],
        )[0]
        counts.append(n)
    return sorted(counts)


# --- The load process ----------------------------------------------------------------------------


def load(port, cookie_name, sessions, items, seconds, connections, queue) -> None:
    """Runs in a separate process: `connections` keep-alive connections, each with its own signed-in
    session, share the items; each goes once through its share, or (seconds: the warm-up) round it until
    then. Like bench_api.load, with a session cookie instead of a token and HTML checked instead of JSON."""
    compiled = [(path, [re.compile(p) for p in patterns]) for path, patterns in items]
    latencies, failures, lock = [], [], threading.Lock()
    stop_at = time.perf_counter() + seconds if seconds else None

    def worker(n):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Cookie": f"{cookie_name}={sessions[n % len(sessions)]}", "Accept": "text/html"}
        share = compiled[n::connections]
        mine, bad, i = [], [], 0
        while share and (i < len(share) if stop_at is None else time.perf_counter() < stop_at):
            path, patterns = share[i % len(share)]
            i += 1
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            mine.append(time.perf_counter() - t0)
            text = body.decode("utf-8", "replace")
            if response.status != 200 or not all(p.search(text) for p in patterns):
                bad.append((path, response.status, response.getheader("Location"), text[:200]))
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


def signed_in(port, cookie_name, sessions) -> None:
    """Each session is signed in with the second factor given on gunicorn (else a redirect to sign in)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for key in sessions:
        conn.request("GET", "/360/customers/", headers={"Cookie": f"{cookie_name}={key}"})
        response = conn.getresponse()
        response.read()
        check(response.status == 200,
              f"session not signed in on gunicorn: {response.status} {response.getheader('Location')}")  # fmt: skip
    conn.close()


def scenario(name, port, cookie_name, sessions, items, warmup_items, args) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    # Warm-up (not counted): a short burst on other customers/invoices, so connections and caches are set.
    for batch, seconds in ((warmup_items, 2.0), (items, None)):
        process = context.Process(
            target=load, args=(port, cookie_name, sessions, batch, seconds, args.connections, queue)
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
    result["met"] = result["p95"] <= TARGET_P95_MS
    print(f"{name}: {result['requests']} requests in {elapsed:.1f} s over {args.connections} connections: "
          f"{result['rps']:.0f} requests/s, p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms, "
          f"p99 {result['p99']:.1f} ms; p95 <= {TARGET_P95_MS:.0f} ms: "
          f"{'met' if result['met'] else 'NOT met'}", flush=True)  # fmt: skip
    return result


# --- Queries per page, in-process ----------------------------------------------------------------


def query_counts(data: dict, args) -> dict[str, tuple[int, int]]:
    """Each page for a customer with 2 invoices and one with HEAVY_INVOICES (for the name search: a
    prefix matching few customers and one matching many), counted with CaptureQueriesContext."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from ledger.models import Customer, Invoice

    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = data["sessions"][0]
    ledger = data["ledger"]
    pair = {
        "few": Customer.objects.get(ledger=ledger, customer_no=data["few"]),
        "many": Customer.objects.get(ledger=ledger, customer_no=data["heavy"][0]),
    }
    check(pair["few"].invoices.count() == 2, "the few-invoices customer has 2 invoices")
    check(
        pair["many"].invoices.count() == HEAVY_INVOICES, f"the heavy customer has {HEAVY_INVOICES} invoices"
    )
    # For the name search: the rarest and the commonest name's first five / three letters.
    names = dict(Counter(Customer.objects.filter(ledger=ledger).values_list("name", flat=True)[:20_000])
                 .most_common())  # fmt: skip
    prefixes = {"few": min(names, key=names.get)[:5].rstrip(), "many": max(names, key=names.get)[:3]}
    pages = {}
    for key, customer in pair.items():
        invoice = Invoice.objects.filter(customer=customer).order_by("-id").first()
        search = "/360/customers/?q="
        pages[key] = {
            "search_name": (search + quote(prefixes[key]), [prefixes[key]]),
            "search_national_id": (search + customer.national_id, [customer.customer_no]),
            "search_kid": (search + invoice.payment_ref, [invoice.invoice_no]),
            "search_invoice_no": (search + invoice.invoice_no, [invoice.invoice_no]),
            "customer_page": (f"/360/l/{COMPANY_NO}/customers/{customer.customer_no}/", [customer.name]),
            "invoice_page": (f"/360/l/{COMPANY_NO}/invoices/{invoice.invoice_no}/", [invoice.invoice_no]),
        }
    counts = {}
    for name in pages["few"]:
        row = []
        for key in ("few", "many"):
            path, expected = pages[key][name]
            client.get(path, secure=True)  # once first: what is cached per process is not counted
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path, secure=True)
            text = response.content.decode()
            check(response.status_code == 200 and all(html.escape(e) in text for e in expected),
                  f"in-process {path}: {response.status_code}")  # fmt: skip
            row.append(len(captured.captured_queries))
            if args.show_queries:
                progress(f"--- {name} ({key}) {path}: {len(captured.captured_queries)} queries")
                for q in captured.captured_queries:
                    progress(f"[{q['time']} s] {q['sql']}")
        counts[name] = tuple(row)
    return counts


# --- Run -----------------------------------------------------------------------------------------

SCENARIOS = [
    ("search_name", "customer search by name prefix"),
    ("search_national_id", "customer search by national id"),
    ("search_kid", "customer search by KID"),
    ("search_invoice_no", "customer search by invoice number"),
    ("customer_page", "customer page"),
    ("invoice_page", "invoice page"),
]


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """os.environ with these values while start_gunicorn copies it (it starts from os.environ)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run(args) -> int:
    from django.conf import settings

    progress(f"load average before setup: {loadavg()}")
    data = setup(args)
    warmup = max(50, args.requests // 5)
    items = targets(data, args, warmup)
    matches = prefix_matches(data, items["search_name"][0])
    counts = query_counts(data, args)
    port = free_port()
    # Production settings (DJANGO_DEBUG=0) over plain HTTP on loopback: no redirect to HTTPS, and the
    # sessions' idle time well beyond the run. The pages need the collected static files' manifest: they
    # are collected into a temporary directory (the project's own var/ is left alone), with DATABASE_URL
    # set, so that no embedded server is started under the temporary LEDGER_DATA_DIR.
    data_dir = tempfile.TemporaryDirectory(prefix="bench_ui_")
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
    with environment(**env):
        server = start_gunicorn(args, port)
    results = {}
    try:
        signed_in(port, settings.SESSION_COOKIE_NAME, data["sessions"])
        print(f"ui bench: {args.invoices:,} invoices, {args.customers:,} customers in one ledger "
              f"(setup {data['setup_seconds']:.0f} s), gunicorn {args.workers} workers x {args.threads} "
              f"threads, {args.connections} connections from a second process, {os.cpu_count()} CPUs")  # fmt: skip
        print(f"name prefixes: {len(matches)} distinct, matching {matches[0]:,} to {matches[-1]:,} customers "
              f"(median {matches[len(matches) // 2]:,})")  # fmt: skip
        print(f"load average before the load: {loadavg()}", flush=True)
        for key, title in SCENARIOS:
            measured, warm = items[key]
            results[key] = scenario(title, port, settings.SESSION_COOKIE_NAME, data["sessions"], measured, warm,
                                    args)  # fmt: skip
        print(f"load average after the load: {loadavg()}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        data_dir.cleanup()
    print(f"SQL queries per page (in-process), customer with 2 invoices vs {HEAVY_INVOICES} "
          "(name search: a prefix matching few customers vs many):")  # fmt: skip
    for key, title in SCENARIOS:
        few, many = counts[key]
        print(f"  {title}: {few} vs {many} ({'constant' if few == many else 'NOT constant'})")
    met = all(r["met"] for r in results.values())
    print(f"target p95 <= {TARGET_P95_MS:.0f} ms: {'met' if met else 'NOT met'} "
          f"({', '.join(k for k, r in results.items() if not r['met']) or 'all scenarios'}"
          f"{' missed' if not met else ''})")  # fmt: skip
    for key, result in results.items():
        print(f"BENCH ui_{key}_rps {result['rps']:.0f} requests/s")
        for p in ("p50", "p95", "p99"):
            print(f"BENCH ui_{key}_{p} {result[p]:.1f} ms")
    for key in results:
        print(f"BENCH ui_{key}_queries {counts[key][1]} queries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
