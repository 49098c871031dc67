from distribution.summaries import document_months_problems
from ledger.management.base import JsonCommand, ledgers_chosen
from ledger.verify import ledger_verify, verify_check


class Command(JsonCommand):
    help = (
        "Reconcile the journal: balances, invoice states, receivables, suspense, money in against the bank "
        "files, credit balances and payouts, and the read models against what they summarise. Exit 1 on any "
        "discrepancy."
    )

    def add_arguments(self, parser):
        parser.add_argument("--ledger", default=None, help="CompanyNo (default: every ledger)")

    def run(self, **o):
        ledgers = ledgers_chosen(o["ledger"])
        checks = []
        for ledger in ledgers:
            for check in ledger_verify(ledger=ledger):
                checks.append({"ledger": ledger.company_no, **check})
            problems = document_months_problems(ledger=ledger)
            checks.append(
                {"ledger": ledger.company_no, **verify_check("document_months_equal_documents", problems)}
            )
        ok = all(c["ok"] for c in checks)
        return {"ok": ok, "ledgers": len(ledgers), "checks": checks}, ok
