import csv
from pathlib import Path

from django.core.management.base import CommandError

from distribution.models import ReturnKind
from distribution.services.returns import document_for_return, document_return_register
from ledger.errors import LedgerError
from ledger.management.base import JsonCommand, parse_date
from ledger.selectors import ledger_get

ADDRESS_COLUMNS = ("line1", "line2", "postal_code", "city", "country")


class Command(JsonCommand):
    help = (
        "Register returned mail / bounces from a CSV file (columns: document_id, kind, reason and, when the "
        "post gave one, line1, line2, postal_code, city, country). Rows that fail are listed; the rest count."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--ledger", required=True, help="CompanyNo of the ledger")
        parser.add_argument("--date", required=True, help="business date YYYY-MM-DD")

    def run(self, **o):
        ledger = ledger_get(company_no=o["ledger"])
        booking_date = parse_date(o["date"])
        path = Path(o["path"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        registered, rejected = [], []
        with path.open(newline="", encoding="utf-8") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                try:
                    if not (row.get("document_id") or "").strip().isdigit():
                        raise LedgerError("document_id must be a number", code="invalid_document_id")
                    document = document_for_return(ledger=ledger, document_id=int(row["document_id"]))
                    address = {
                        k: (row.get(k) or "").strip() for k in ADDRESS_COLUMNS if (row.get(k) or "").strip()
                    }
                    item = document_return_register(
                        document=document,
                        kind=(row.get("kind") or ReturnKind.PAPER_RETURNED).strip(),
                        reason=(row.get("reason") or "").strip(),
                        booking_date=booking_date,
                        actor="returns-file",
                        new_address=address or None,
                    )
                    registered.append({"line": line, "document": document.pk, "status": item.status})
                except LedgerError as exc:
                    rejected.append({"line": line, **exc.as_dict()})
        payload = {"ok": not rejected, "file": path.name, "registered": registered, "rejected": rejected}
        return payload, not rejected or bool(registered)
