import time

from distribution.summaries import document_months_problems, document_months_rebuild
from ledger.management.base import JsonCommand, ledgers_chosen
from ledger.summaries import (
    ledger_open_versions_problems,
    ledger_summaries_problems,
    ledger_summaries_rebuild,
)


class Command(JsonCommand):
    help = (
        "Recompute the read models from the journal and the documents (the dashboard's monthly summaries and "
        "channel mix, the invoices' open-amount versions), one ledger per transaction, after a load that bypassed the triggers or to "
        "repair them; each ledger is checked against the journal afterwards. Exit 1 if one still differs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--ledger", default=None, help="CompanyNo (default: every ledger)")

    def run(self, **o):
        ledgers = ledgers_chosen(o["ledger"])
        done = []
        for number, ledger in enumerate(ledgers, start=1):
            started = time.monotonic()
            ledger_summaries_rebuild(ledger=ledger)
            document_months_rebuild(ledger=ledger)
            problems = (
                ledger_summaries_problems(ledger=ledger)
                + ledger_open_versions_problems(ledger=ledger)
                + document_months_problems(ledger=ledger)
            )
            done.append(
                {"ledger": ledger.company_no, "seconds": round(time.monotonic() - started, 2),
                 "ok": not problems, "problems": problems[:10]}
            )  # fmt: skip
            self.stderr.write(f"{number}/{len(ledgers)} {ledger.company_no} rebuilt")
        ok = all(entry["ok"] for entry in done)
        return {"ok": ok, "ledgers": done}, ok
