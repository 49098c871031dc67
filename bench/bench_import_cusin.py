#!/usr/bin/env python
"""Benchmark: import a generated CUSIN file end to end, against a parse-and-validate floor.

Run from the project root:

    python bench/bench_import_cusin.py [--invoices 50000] [--customers 25000] [--skip-double] [--profile]

The database is a throwaway one (ledger_bench_<pid>) created on the PostgreSQL server behind
settings.DATABASES['default'] (DATABASE_URL, else the embedded server), migrated, and dropped at
the end: the real data in the configured database is never touched. settings.LEDGER_DATA_DIR (the
sFTP tree the receipts go to) points at a temporary directory, removed at the end with the files.

Setup (not timed): a Norwegian ledger (CompanyNo 7777), and a CUSIN 2.0 file
CUSIN_7777_20260115083000_1.xml of N invoices for C customers, written with cusin.generate: each
customer with a name, a valid fødselsnummer (private) or organisation number (business), a legal
address, a phone number, an e-mail address for some and AvtaleGiro / eFaktura consents for a few;
the invoices spread evenly over the customers, each with 2-4 order rows (article, description,
quantity, unit price, amount) in an A7 print block and the A3 VAT summary, AmountExclVat +
VatAmount at 25 %, a DueDate, a TotalAmount on half and an InvoiceReferenceText on a third.

Measured, each in its own child process (this script run again with --child), so that the peak
memory (the child's ru_maxrss from os.wait4, i.e. getrusage of that child alone) is the work's:
  1. the floor: xmlread.check_prolog + xmlread.read_header + xmlread.validate (lxml iterparse with
     schema validation, plus the index of numbers the import keeps) of the same file;
  2. the import: cusin.services.cusin_import(path=..., booking_date=2026-01-15), the whole call
     (digest, validation, booking in batches, receipt written to the outbox);
  ratio = import time / floor time.
  3. unless --skip-double: a file twice the size (2N invoices, 2C customers) imported into a second
     ledger (CompanyNo 7778) in a child that raises settings.CUSIN_MAX_INVOICES (and, when that file
     is larger than it, CUSIN_MAX_FILE_BYTES) so that it is accepted: its peak memory.
  With 2-4 order rows an invoice takes about 2.4 KB of XML, so a 50,000-invoice file is about 115 MiB,
  over CUSIN_MAX_FILE_BYTES (100 MiB): the import child then raises that limit too, and says so.

The receipts are checked (accepted, every invoice booked) and the invoices counted in the database.
--profile runs the (first) import child under cProfile and prints the top 30 functions by cumulative
and by own time to stderr; the timed figures of such a run include the profiler's overhead.

Ends with `BENCH <name> <value> <unit>` lines.

Past 500 lines: one benchmark, read top to bottom (setup, the timed import, its checks, the floor).
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from _common import ROOT, CheckFailed, check, migrate_and_describe, progress, throwaway_database  # noqa: E402 (sets up sys.path)

BOOKING_DATE = date(2026, 1, 15)
INVOICE_DATE = date(2026, 1, 12)
FILE_STAMP = "20260115083000"
FIRST_FILE = {"company_no": "7777", "ledger_no": "54321", "name": "Bench"}
DOUBLE_FILE = {"company_no": "7778", "ledger_no": "54322", "name": "Bench double"}
CHILD_RESULT = "CHILD_RESULT "  # prefix of the child's one result line on stdout

TARGET_SECONDS = 10.0
TARGET_INVOICES_PER_S = 5_000
TARGET_PEAK_MB = 300


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=50_000, help="invoices in the file (default 50000)")
    parser.add_argument(
        "--customers", type=int, default=25_000, help="customers the invoices are spread over (default 25000)"
    )
    parser.add_argument(
        "--skip-double",
        action="store_true",
        help="skip the import of a file twice the size (its peak memory)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the import child under cProfile and print the top 30 to stderr",
    )
    # Internal: this script run again as a child process that does one measured piece of work.
    parser.add_argument("--child", choices=["import", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--max-invoices", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--max-file-bytes", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return args
    if args.invoices < 1 or args.customers < 1:
        parser.error("--invoices and --customers must be positive")
    if args.customers > args.invoices:
        parser.error("--customers must not exceed --invoices (every customer gets an invoice)")
    if args.customers * 2 > 9_999_999 - 1_000_000:
        parser.error("too many customers for 7-digit customer numbers")
    if -(-args.invoices // args.customers) > 9999:
        parser.error("more than 9999 invoices per customer (the KID serial limit): raise --customers")
    return args


# --- Memory figures ---------------------------------------------------------------------------------


def _proc_status_kb(field: str) -> int:
    """VmRSS / VmHWM of this process in KB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _mb(kb: float) -> float:
    return kb / 1024


# --- The generated file -------------------------------------------------------------------------------

FIRST_NAMES = [
    "Ola",
    "Kari",
    "Per",
    "Anne",
    "Lars",
    "Ingrid",
    "Jon",
    "Marit",
    "Bjørn",
    "Liv",
    "Kjetil",
    "Silje",
    "Håkon",
    "Nora",
    "Øyvind",
    "Ragnhild",
    "Sindre",
    "Tone",
    "Eirik",
    "Åse",
]
LAST_NAMES = [
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Nilsen",
    "Kristiansen",
    "Jensen",
    "Karlsen",
    "Berg",
    "Haugen",
    "Hagen",
    "Eriksen",
    "Bakken",
    "Solberg",
    "Dahl",
    "Lie",
    "Strand",
    "Sæther",
]
COMPANY_WORDS = ["Fjord", "Nord", "Vest", "Berg", "Skog", "Havbris", "Polar", "Lyng", "Stein", "Elve"]
COMPANY_KINDS = ["Bygg AS", "Regnskap AS", "Transport AS", "Eiendom AS", "Consulting AS", "Handel AS"]
STREETS = [
    "Storgata",
    "Kirkegata",
    "Dronningens gate",
    "Bygdøy allé",
    "Thorvald Meyers gate",
    "Kongens gate",
    "Skolegata",
    "Strandveien",
    "Industriveien",
    "Parkveien",
    "Sjøgata",
]
PLACES = [
    ("0155", "Oslo"),
    ("0562", "Oslo"),
    ("5003", "Bergen"),
    ("7011", "Trondheim"),
    ("4006", "Stavanger"),
    ("9008", "Tromsø"),
    ("3015", "Drammen"),
    ("4612", "Kristiansand"),
    ("1606", "Fredrikstad"),
    ("2317", "Hamar"),
    ("8006", "Bodø"),
    ("6002", "Ålesund"),
]
# (article, description, unit price in kroner)
ARTICLES = [
    ("SUB-BAS", "Abonnement Basis, månedlig", Decimal("199.00")),
    ("SUB-PLU", "Abonnement Pluss, månedlig", Decimal("349.00")),
    ("DATA-10", "Ekstra data 10 GB", Decimal("99.00")),
    ("SRV-TIM", "Servicetime, tekniker", Decimal("895.00")),
    ("FRAKT", "Frakt og emballasje", Decimal("79.00")),
    ("LIS-ÅR", "Programlisens, årlig", Decimal("1490.00")),
    ("VARE-1042", "Blekkpatron sort XL", Decimal("329.50")),
    ("VARE-2210", "Kontorpapir A4, 5 x 500 ark", Decimal("259.90")),
    ("GEBYR", "Fakturagebyr", Decimal("39.00")),
    ("INST", "Installasjon og oppsett", Decimal("1250.00")),
]
REFERENCE_TEXTS = [
    "Abonnement januar 2026",
    "Ordre {n}",
    "Deres ref. innkjøp {n}",
    "Kundeservice: 22 00 00 00",
    "Prosjekt {n}",
]
CENT = Decimal("0.01")


def _kr(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def _fodselsnummer(rng: random.Random) -> str:
    """A valid Norwegian fødselsnummer of a person born 1940-2005."""
    from stdnum.no import fodselsnummer

    while True:
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 66))
        individual = rng.randrange(500) if born.year < 2000 else rng.randrange(500, 1000)
        body = f"{born:%d%m}{born.year % 100:02d}{individual:03d}"
        k1 = fodselsnummer.calc_check_digit1(body)
        k2 = fodselsnummer.calc_check_digit2(body + k1) if k1 != "10" else "10"
        if k1 != "10" and k2 != "10":
            return body + k1 + k2


def _orgnr(rng: random.Random) -> str:
    """A valid Norwegian organisation number (9 digits, mod-11 check digit)."""
    while True:
        body = f"{rng.choice('89')}{rng.randrange(10**7):07d}"
        check_digit = (
            11 - sum(w * int(d) for w, d in zip((3, 2, 7, 6, 5, 4, 3, 2), body, strict=True)) % 11
        ) % 11
        if check_digit != 10:
            return body + str(check_digit)


class FileStats:
    def __init__(self) -> None:
        self.customers = 0
        self.invoices = 0
        self.order_rows = 0
        self.total = Decimal("0.00")


def customer_specs(*, company_no: str, invoices: int, customers: int, stats: FileStats, seed: int):
    """Yield CustomerSpecs lazily (the file is streamed; nothing is kept but the stats)."""
    from cusin.generate import CustomerSpec, InvoiceSpec

    rng = random.Random(seed)
    per_customer, extra = divmod(invoices, customers)
    invoice_serial = 0
    for i in range(customers):
        business = rng.random() < 0.15
        if business:
            name = f"{rng.choice(COMPANY_WORDS)}{rng.choice(['', 'vik', 'dal', 'heim'])} {rng.choice(COMPANY_KINDS)}"
            reg_no = _orgnr(rng)
        else:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            reg_no = _fodselsnummer(rng)
        zip_code, city = rng.choice(PLACES)
        with_email = rng.random() < 0.6
        local = name.split()[0].lower().replace("ø", "o").replace("å", "a").replace("æ", "ae")
        payment_rules = {"UseBKAGNO": True} if rng.random() < 0.1 else {}
        distribution_rules = {"UseEInvoiceB2CNO": True} if not business and rng.random() < 0.1 else {}
        items = []
        for _ in range(per_customer + (1 if i < extra else 0)):
            invoice_serial += 1
            rows, excl = [], Decimal("0.00")
            for article, description, unit_price in rng.sample(ARTICLES, rng.randint(2, 4)):
                quantity = rng.choice((1, 1, 1, 2, 3, 5))
                amount = unit_price * quantity
                excl += amount
                rows.append((article, description, str(quantity), _kr(unit_price), _kr(amount)))
            vat = (excl * Decimal("0.25")).quantize(CENT, rounding=ROUND_HALF_UP)
            reference_text = None
            if rng.random() < 1 / 3:
                reference_text = rng.choice(REFERENCE_TEXTS).format(n=rng.randrange(100_000, 999_999))
            invoice_date = INVOICE_DATE - timedelta(days=rng.randrange(5))
            items.append(
                InvoiceSpec(
                    invoice_no=f"{company_no}-{invoice_serial:08d}",
                    invoice_date=invoice_date,
                    due_date=invoice_date + timedelta(days=rng.choice((14, 14, 20, 30))),
                    amount_excl_vat=excl,
                    vat_amount=vat,
                    total_amount=excl + vat if rng.random() < 0.5 else None,
                    currency="NOK",
                    reference_text=reference_text,
                    order_rows=rows,
                )
            )
            stats.invoices += 1
            stats.order_rows += len(rows)
            stats.total += excl + vat
        stats.customers += 1
        yield CustomerSpec(
            customer_no=str(1_000_001 + i),
            name=name,
            legal_entity="Business" if business else "Private",
            reg_no=reg_no,
            street=f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
            zip_code=zip_code,
            city=city,
            email=f"{local}.{i}@example.no" if with_email else None,
            phone=f"+47 {rng.choice('49')}{rng.randrange(10**7):07d}",
            payment_rules=payment_rules,
            distribution_rules=distribution_rules,
            items=items,
        )


def generate(directory: Path, *, company_no: str, invoices: int, customers: int, seed: int):
    from cusin.generate import write_cusin

    stats = FileStats()
    target = directory / f"CUSIN_{company_no}_{FILE_STAMP}_1.xml"
    t0 = time.perf_counter()
    write_cusin(
        target,
        company_no=company_no,
        company_name="Bench Kunde AS",
        customers=customer_specs(
            company_no=company_no, invoices=invoices, customers=customers, stats=stats, seed=seed
        ),
    )
    elapsed = time.perf_counter() - t0
    size = target.stat().st_size
    progress(
        f"generated {target.name}: {stats.invoices} invoices, {stats.customers} customers, "
        f"{size / 2**20:.1f} MiB in {elapsed:.1f} s"
    )
    return target, stats, size


# --- Children -------------------------------------------------------------------------------------------


def run_child(
    mode: str,
    path: Path,
    *,
    db: str,
    data_dir: Path,
    profile: bool = False,
    max_invoices: int | None = None,
    max_file_bytes: int | None = None,
) -> dict:
    """Run this script as a child doing one piece of work; its result plus its own peak RSS."""
    from django.conf import settings

    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        mode,
        "--file",
        str(path),
        "--db",
        db,
        "--data-dir",
        str(data_dir),
    ]
    if profile:
        command.append("--profile")
    if max_invoices:
        command += ["--max-invoices", str(max_invoices)]
    if max_file_bytes:
        command += ["--max-file-bytes", str(max_file_bytes)]
    # The parent's resolved database URL (so the child neither starts nor asks the embedded server).
    env = {**os.environ, "DATABASE_URL": settings.DATABASE_URL, "LEDGER_DATA_DIR": str(data_dir)}
    t0 = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, env=env, text=True, cwd=ROOT)
    output = child.stdout.read()
    child.stdout.close()
    # wait4: the rusage of this child alone (RUSAGE_CHILDREN would be the maximum over all children).
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    lines = [line for line in output.splitlines() if line.startswith(CHILD_RESULT)]
    check(
        child.returncode == 0 and len(lines) == 1,
        f"{mode} child exited with {child.returncode}; output:\n{output[-2000:]}",
    )
    result = json.loads(lines[0][len(CHILD_RESULT) :])
    result["maxrss_kb"] = usage.ru_maxrss  # KB on Linux
    result["process_seconds"] = wall
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    return result


def child_main(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    settings.LEDGER_DATA_DIR = Path(args.data_dir)
    path = Path(args.file)
    if args.child == "floor":
        from cusin import xmlread

        xmlread.schema("2.0")  # not timed (cached per process); the same warm-up as for the import
        baseline_kb = _proc_status_kb("VmRSS")
        t0 = time.perf_counter()
        xmlread.check_prolog(path)
        header = xmlread.read_header(path)
        index = xmlread.validate(path, header.version)
        elapsed = time.perf_counter() - t0
        result = {
            "seconds": elapsed,
            "invoices": index.invoices,
            "baseline_rss_kb": baseline_kb,
            "hwm_kb": _proc_status_kb("VmHWM"),
        }
    else:
        from cusin import xmlread
        from cusin.services import cusin_import

        settings.DATABASES["default"]["NAME"] = args.db
        connection.settings_dict["NAME"] = args.db
        if args.max_invoices:
            settings.CUSIN_MAX_INVOICES = args.max_invoices
        if args.max_file_bytes:
            settings.CUSIN_MAX_FILE_BYTES = args.max_file_bytes
        connection.ensure_connection()
        xmlread.schema("2.0")
        baseline_kb = _proc_status_kb("VmRSS")
        phases = {}
        validate = xmlread.validate

        def timed_validate(*a, **kw):
            # The import's own validation pass, timed (a wrapper in this process; no product code changed).
            t = time.perf_counter()
            index = validate(*a, **kw)
            phases["validate_seconds"] = time.perf_counter() - t
            phases["validate_end"] = time.perf_counter() - t0
            phases["hwm_after_validate_kb"] = _proc_status_kb("VmHWM")
            return index

        xmlread.validate = timed_validate
        marks = []  # (invoices read, seconds since start) after each batch

        def on_progress(done: int, total: int) -> None:
            now = time.perf_counter() - t0
            tenth = max(total // 10, 1)
            report = not marks or done == total or done // tenth != marks[-1][0] // tenth
            marks.append((done, now))
            if report:
                progress(
                    f"  imported {done}/{total} invoices, {now:.1f} s, RSS {_mb(_proc_status_kb('VmRSS')):.0f} MB"
                )

        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        receipt = cusin_import(path=path, booking_date=BOOKING_DATE, progress=on_progress)
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - t0
        xmlread.validate = validate
        if profiler:
            import pstats

            for order in ("cumulative", "tottime"):
                print(f"\n--- cProfile of cusin_import, top 30 by {order} ---", file=sys.stderr)
                pstats.Stats(profiler, stream=sys.stderr).sort_stats(order).print_stats(30)
        result = {
            "seconds": elapsed,
            "baseline_rss_kb": baseline_kb,
            "hwm_kb": _proc_status_kb("VmHWM"),
            "receipt": {k: v for k, v in receipt.items() if k != "errors"},
            "errors": len(receipt["errors"]),
            "first_errors": receipt["errors"][:5],
            "marks": marks,
            **phases,
        }
    print(CHILD_RESULT + json.dumps(result), flush=True)
    return 0


# --- The benchmark ---------------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    if args.child:
        return child_main(args)
    try:
        with throwaway_database() as bench_db, tempfile.TemporaryDirectory(prefix="bench_cusin_") as tmp:
            return run(args, bench_db, Path(tmp))
    except CheckFailed as exc:
        print(f"CHECK FAILED: {exc}", flush=True)
        return 1


def verify_import(result: dict, *, ledger, stats: FileStats, label: str) -> None:
    from ledger.models import Customer, Invoice

    receipt = result["receipt"]
    check(
        receipt["status"] == "accepted",
        f"{label}: receipt status {receipt['status']}, {result['errors']} errors, first: {result['first_errors']}",
    )
    check(
        receipt["invoices"] == stats.invoices,
        f"{label}: receipt has {receipt['invoices']} invoices, expected {stats.invoices}",
    )
    check(
        receipt["failed_invoices"] == 0 and receipt["failed_customers"] == 0,
        f"{label}: {receipt['failed_invoices']} failed invoices, {receipt['failed_customers']} failed customers",
    )
    check(
        receipt["customers"] == stats.customers,
        f"{label}: receipt has {receipt['customers']} customers, expected {stats.customers}",
    )
    check(
        Decimal(receipt["total_invoice_amount"]) == stats.total,
        f"{label}: receipt total {receipt['total_invoice_amount']}, expected {stats.total}",
    )
    invoices = Invoice.objects.filter(ledger=ledger).count()
    customers = Customer.objects.filter(ledger=ledger).count()
    check(
        invoices == stats.invoices, f"{label}: {invoices} invoices in the database, expected {stats.invoices}"
    )
    check(
        customers == stats.customers,
        f"{label}: {customers} customers in the database, expected {stats.customers}",
    )
    result["db_invoices"], result["db_customers"] = invoices, customers


def phases_line(result: dict, invoices: int) -> str:
    """Where the import's time went. The validation pass runs in a thread of its own alongside the
    booking (which holds its batches in one transaction until the pass has passed the file), so this
    says when it ended and how much was booked by then, and the rate after it."""
    marks = result["marks"]
    end = result.get("validate_end")
    if end is None or not marks:
        return "phases: n/a"
    booked_by_then = next((m[0] for m in marks if m[1] >= end), marks[-1][0])
    after = result["seconds"] - end
    rest = invoices - booked_by_then
    rate = f" = {rest / after:,.0f} invoices/s" if after > 0 and rest > 0 else ""
    return (
        f"validation pass (alongside the booking) done at {result['validate_seconds']:.2f} s, peak RSS "
        f"{_mb(result['hwm_after_validate_kb']):.0f} MB by then, with {booked_by_then} invoices booked "
        f"(held); the other {rest} booked in the {after:.2f} s after it{rate}"
    )


def run(args: argparse.Namespace, bench_db: str, tmp: Path) -> int:
    import lxml.etree
    from django.conf import settings
    from django.db import connection

    from ledger.services.ledgers import ledger_create

    data_dir = tmp / "data"
    data_dir.mkdir()
    settings.LEDGER_DATA_DIR = data_dir

    # --- Setup (not timed) ------------------------------------------------------------------------
    db_name, version, sync_commit, fsync, shared_buffers = migrate_and_describe()

    ledger, _ = ledger_create(country="NO", **FIRST_FILE)
    path, stats, size = generate(
        tmp, company_no=ledger.company_no, invoices=args.invoices, customers=args.customers, seed=1
    )
    connection.close()  # the children have the database to themselves

    print(
        f"import_cusin: {stats.invoices} invoices ({stats.order_rows} order rows) for {stats.customers} "
        f"customers, ledger {ledger.company_no}/{ledger.ledger_no} ({ledger.reference_scheme})"
    )
    print(
        f"file: {path.name}, {size:,} bytes = {size / 2**20:.1f} MiB "
        f"({size / stats.invoices:,.0f} bytes/invoice; CUSIN_MAX_FILE_BYTES = "
        f"{settings.CUSIN_MAX_FILE_BYTES:,})"
    )
    print(
        f"database: {db_name} on PostgreSQL {version} (synchronous_commit={sync_commit}, fsync={fsync}, "
        f"shared_buffers={shared_buffers}); lxml {lxml.etree.__version__}, libxml2 "
        f"{'.'.join(map(str, lxml.etree.LIBXML_VERSION))}, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs"
    )

    # --- Floor: prolog + header + streaming schema validation alone, same file ----------------------
    progress("floor: check_prolog + read_header + validate ...")
    floor = run_child("floor", path, db=bench_db, data_dir=data_dir)
    check(
        floor["invoices"] == stats.invoices,
        f"floor counted {floor['invoices']} invoices, expected {stats.invoices}",
    )

    # --- The import, end to end ---------------------------------------------------------------------
    # With 2-4 order rows a 50,000-invoice file is larger than CUSIN_MAX_FILE_BYTES (100 MiB): the child
    # then raises the byte limit so that the file is imported rather than rejected, and says so.
    max_bytes = settings.CUSIN_MAX_FILE_BYTES
    raised_bytes = size + 1 if size > max_bytes else None
    if raised_bytes:
        print(
            f"note: the file is larger than CUSIN_MAX_FILE_BYTES ({max_bytes:,}): raised to {raised_bytes:,} "
            f"in the import child"
        )
    progress("import: cusin_import ...")
    imported = run_child(
        "import", path, db=bench_db, data_dir=data_dir, profile=args.profile, max_file_bytes=raised_bytes
    )
    verify_import(imported, ledger=ledger, stats=stats, label="import")
    connection.close()

    # --- Twice the size: peak memory --------------------------------------------------------------
    double = None
    if not args.skip_double:
        path.unlink()  # one big file on disk at a time
        ledger2, _ = ledger_create(country="NO", **DOUBLE_FILE)
        path2, stats2, size2 = generate(
            tmp,
            company_no=ledger2.company_no,
            invoices=2 * args.invoices,
            customers=2 * args.customers,
            seed=2,
        )
        connection.close()
        progress("double: cusin_import of the file twice the size ...")
        double = run_child(
            "import",
            path2,
            db=bench_db,
            data_dir=data_dir,
            max_invoices=max(200_000, 2 * stats2.invoices),
            max_file_bytes=size2 + 1 if size2 > max_bytes else None,
        )
        verify_import(double, ledger=ledger2, stats=stats2, label="double")
        connection.close()
        path2.unlink()

    # --- Figures ------------------------------------------------------------------------------------
    seconds = imported["seconds"]
    per_s = stats.invoices / seconds
    peak_mb = _mb(imported["maxrss_kb"])
    ratio = seconds / floor["seconds"]
    receipt = imported["receipt"]
    print(
        f"floor: check_prolog + read_header + validate in {floor['seconds']:.2f} s = "
        f"{stats.invoices / floor['seconds']:,.0f} invoices/s = {size / 2**20 / floor['seconds']:.1f} MiB/s; "
        f"peak RSS {_mb(floor['maxrss_kb']):.0f} MB (after Django setup {_mb(floor['baseline_rss_kb']):.0f} MB)"
    )
    print(
        f"import: {receipt['invoices']} invoices, {receipt['customers']} customers, status {receipt['status']}, "
        f"{receipt['failed_invoices']} failed, total {receipt['total_invoice_amount']} {receipt['currency']}; "
        f"database holds {imported['db_invoices']} invoices, {imported['db_customers']} customers"
    )
    print(
        f"import: {seconds:.2f} s = {per_s:,.0f} invoices/s (child CPU {imported['cpu_seconds']:.1f} s of "
        f"{imported['process_seconds']:.1f} s child process incl. start-up); peak RSS {peak_mb:.0f} MB "
        f"(after Django setup {_mb(imported['baseline_rss_kb']):.0f} MB, so {peak_mb - _mb(imported['baseline_rss_kb']):.0f} MB "
        f"for the import; VmHWM {_mb(imported['hwm_kb']):.0f} MB)"
    )
    print(f"        {phases_line(imported, stats.invoices)}")
    if double:
        print(
            f"double: {double['receipt']['invoices']} invoices, {double['receipt']['customers']} customers in "
            f"{double['seconds']:.2f} s = {double['receipt']['invoices'] / double['seconds']:,.0f} invoices/s; "
            f"file {size2 / 2**20:.1f} MiB; peak RSS {_mb(double['maxrss_kb']):.0f} MB "
            f"(after Django setup {_mb(double['baseline_rss_kb']):.0f} MB; VmHWM {_mb(double['hwm_kb']):.0f} MB)"
        )
        print(f"        {phases_line(double, stats2.invoices)}")
    print(f"ratio: import {seconds:.2f} s / floor {floor['seconds']:.2f} s = {ratio:.1f} x")
    if args.profile:
        print("note: --profile: the import ran under cProfile, its time includes the profiler's overhead")
    met = seconds <= TARGET_SECONDS and per_s >= TARGET_INVOICES_PER_S
    print(
        f"target <= {TARGET_SECONDS:.0f} s / >= {TARGET_INVOICES_PER_S:,} invoices/s: "
        f"{'met' if met else 'NOT met'}; peak <= {TARGET_PEAK_MB} MB: "
        f"{'met' if peak_mb <= TARGET_PEAK_MB else 'NOT met'}"
        + (
            f"; double peak <= {TARGET_PEAK_MB} MB: "
            f"{'met' if _mb(double['maxrss_kb']) <= TARGET_PEAK_MB else 'NOT met'}"
            if double
            else ""
        )
    )

    print(f"BENCH import_cusin_seconds {seconds:.2f} s")
    print(f"BENCH import_cusin_invoices_per_second {per_s:.0f} invoices/s")
    print(f"BENCH import_cusin_peak_rss {peak_mb:.0f} MB")
    if double:
        print(f"BENCH import_cusin_double_peak_rss {_mb(double['maxrss_kb']):.0f} MB")
    print(f"BENCH import_cusin_floor_validate_seconds {floor['seconds']:.2f} s")
    print(f"BENCH import_cusin_vs_validate_ratio {ratio:.1f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
