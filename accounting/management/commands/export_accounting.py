from accounting.services import accounting_files_write
from ledger.errors import LedgerError
from ledger.management.base import JsonCommand, ledgers_chosen, parse_date


class Command(JsonCommand):
    help = (
        "Write the accounting files of one booking date (Accounting Detail XML + CSV, SIE4, Bill Journal, "
        "Customer Journal) to each ledger's outbox. Running a date again writes nothing new; a changed day "
        "gets a new file with the next sequence number. A ledger that fails writes nothing and does not "
        "stop the others; the exit status is 1 if any failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, help="booking date YYYY-MM-DD")
        parser.add_argument("--ledger", default=None, help="CompanyNo (default: every ledger)")

    def run(self, **o):
        as_of = parse_date(o["date"])
        ledgers = ledgers_chosen(o["ledger"])
        results = []
        for ledger in ledgers:
            try:
                results.append(accounting_files_write(ledger=ledger, as_of=as_of))
            except LedgerError as exc:
                results.append({"ok": False, "ledger": ledger.company_no, "error": exc.as_dict()})
        ok = all(r["ok"] for r in results)
        written = sum(len(r.get("written", [])) for r in results)
        return {"ok": ok, "date": as_of.isoformat(), "written": written, "ledgers": results}, ok
