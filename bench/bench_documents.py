"""Render and archive N reminders with the distribution run; documents/s and peak memory.

    python bench/bench_documents.py [--documents 2000] [--workers 2]

Queues N reminders (paper customers: render, archive, print batch, no network), then runs
`documents_distribute` in --workers processes at once; they share the work through the claim.
Timed: from the start of the workers to the end of the last (rendering, archiving, print batch).
"""

import argparse
import multiprocessing
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import check, progress, throwaway_database  # noqa: E402

AS_OF = "2026-02-20"


def _worker(name: str, data_dir: str, queue) -> None:
    from datetime import date

    from django.conf import settings
    from django.db import connections

    connections.close_all()
    settings.DATABASES["default"]["NAME"] = name
    settings.LEDGER_DATA_DIR = Path(data_dir)
    settings.STORAGES["documents"]["OPTIONS"]["location"] = str(Path(data_dir) / "documents")
    from distribution.services.sending import documents_distribute

    summary = documents_distribute(as_of=date.fromisoformat(AS_OF))
    connections.close_all()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    queue.put(
        (summary["documents"], len(summary["errors"]), usage.ru_maxrss, usage.ru_utime + usage.ru_stime)
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    import tempfile

    with throwaway_database() as name, tempfile.TemporaryDirectory() as data_dir:
        from datetime import date
        from decimal import Decimal

        from django.conf import settings
        from django.core.management import call_command
        from django.db import connections

        settings.LEDGER_DATA_DIR = Path(data_dir)
        settings.STORAGES["documents"]["OPTIONS"]["location"] = str(Path(data_dir) / "documents")
        call_command("migrate", verbosity=0)
        from distribution.models import Document
        from distribution.services.queueing import DocumentRequest, documents_queue
        from ledger.models import Customer
        from ledger.services.ledgers import ledger_create
        from ledger.services.registration import InvoiceInput, invoices_register

        ledger, _ = ledger_create(
            company_no="7001",
            ledger_no="7001",
            country="NO",
            name="Bench",
            client_funds_account="15032080003",
        )
        customers = Customer.objects.bulk_create(
            Customer(
                ledger=ledger,
                customer_no=str(100000 + n),
                name=f"Kunde {n}",
                address_line1=f"Storgata {n}",
                postal_code="0155",
                city="Oslo",
                country="NO",
            )
            for n in range(args.documents)
        )
        invoices = invoices_register(
            ledger=ledger,
            invoices=[
                InvoiceInput(
                    customer=c,
                    invoice_no=f"B-{c.customer_no}",
                    invoice_date=date(2026, 1, 5),
                    amount=Decimal("999.50"),
                )
                for c in customers
            ],
            actor="bench",
        )
        documents_queue(
            requests=[
                DocumentRequest(
                    ledger.id,
                    i.customer_id,
                    i.id,
                    "reminder",
                    date.fromisoformat(AS_OF),
                    f"r:{i.id}",
                    {"fee": "35.00", "deadline": "2026-03-06"},
                )
                for i in invoices
            ]
        )
        connections.close_all()
        progress(f"queued {args.documents} reminders; distributing with {args.workers} workers")
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        started = time.perf_counter()
        workers = [
            context.Process(target=_worker, args=(name, data_dir, results)) for _ in range(args.workers)
        ]
        for w in workers:
            w.start()
        outcomes = [results.get() for _ in workers]
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - started
        done = sum(o[0] for o in outcomes)
        errors = sum(o[1] for o in outcomes)
        peak_kib = max(o[2] for o in outcomes)
        cpu_seconds = sum(o[3] for o in outcomes)
        check(done == args.documents, f"distributed {done} of {args.documents}")
        check(errors == 0, f"{errors} errors")
        check(Document.objects.filter(status="sent").count() == args.documents, "not every document sent")
        rate = done / elapsed
        print(f"{done} reminders rendered, archived and batched in {elapsed:.1f} s by {args.workers} workers")
        print(f"peak memory per worker {peak_kib / 1024:.0f} MiB")
        # CPU time of the workers (PostgreSQL's share not included): what a free core would do.
        print(f"worker CPU time {cpu_seconds:.1f} s = {done / cpu_seconds:.1f} documents per CPU-second")
        print(f"BENCH documents_render_archive {rate:.1f} documents/s")
        print(f"BENCH documents_per_cpu_second {done / cpu_seconds:.1f} documents/s")
        print(f"BENCH documents_peak_memory {peak_kib / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
