import sys
from pathlib import Path

from django.core.management.base import CommandError

from cusin.services import cusin_import
from ledger.management.base import JsonCommand, parse_date


class Command(JsonCommand):
    help = "Import a CUSIN file: prints the receipt as JSON; exit 1 only when the file is rejected whole."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--date", default=None, help="booking date (default: the ledger's today)")
        parser.add_argument("--no-outbox", action="store_true", help="do not write receipt/error log files")

    def run(self, **o):
        path = Path(o["path"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")

        def progress(done, total):
            sys.stderr.write(f"\r{done}/{total} invoices")
            if done == total:
                sys.stderr.write("\n")

        receipt = cusin_import(
            path=Path(o["path"]),
            source="cli",
            booking_date=parse_date(o["date"]) if o["date"] else None,
            write_outbox=not o["no_outbox"],
            progress=progress if sys.stderr.isatty() else None,
        )
        return receipt, receipt["status"] != "rejected"
