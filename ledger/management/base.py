"""Operator commands print one JSON document on stdout and exit non-zero on failure."""

import json
import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from ledger.errors import LedgerError
from ledger.models import Ledger
from ledger.selectors import ledger_get


def ledgers_chosen(company_no: str | None) -> list[Ledger]:
    """The ledger named by `--ledger` (ledger_not_found if none), or every ledger by CompanyNo."""
    if company_no:
        return [ledger_get(company_no=company_no)]
    return list(Ledger.objects.order_by("company_no"))


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from exc


class JsonCommand(BaseCommand):
    """Subclasses implement `run(**options) -> (dict, ok)`; errors become JSON with a code, exit 1."""

    def run(self, **options) -> tuple[dict, bool]:
        raise NotImplementedError

    def handle(self, *args, **options):
        try:
            payload, ok = self.run(**options)
        except LedgerError as exc:
            payload, ok = {"ok": False, "error": exc.as_dict()}, False
        except CommandError as exc:
            payload, ok = {"ok": False, "error": {"code": "usage", "message": str(exc)}}, False
        except DatabaseError as exc:  # the database unreachable or restarted: nothing half-done, retry later
            payload = {"ok": False, "error": {"code": "database_error", "message": f"{type(exc).__name__}: {exc}"}}
            ok = False
        self.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
        if not ok:
            sys.exit(1)
