from businessday.daily import PARTS, business_day_run
from ledger.management.base import JsonCommand, parse_date


class Command(JsonCommand):
    help = (
        "Run the business day for every ledger: inbox, payments, direct debit, claims (fees, interest), "
        "distribution, accounting files. Safe to run twice for the same date."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, help="The business date (YYYY-MM-DD)")
        parser.add_argument("--ledger", action="append", help="CompanyNo; repeat for several (default: all)")
        parser.add_argument("--only", action="append", choices=PARTS, help="Run only this part (repeatable)")

    def run(self, **o):
        summary = business_day_run(
            as_of=parse_date(o["date"]), company_nos=o.get("ledger"), parts=o.get("only")
        )
        return summary, summary["ok"]
