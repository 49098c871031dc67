from businessday.daily import PARTS, business_day_run, business_day_work
from businessday.models import DayPlan
from ledger.management.base import JsonCommand, parse_date


class Command(JsonCommand):
    help = (
        "Run the business day for every ledger: inbox, payments, direct debit, claims (fees, interest), "
        "distribution, accounting files. Safe to run twice for the same date."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="The business date (YYYY-MM-DD); required unless --join")
        parser.add_argument(
            "--workers", type=int, default=1,
            help="Share the ledgers with this many workers in all: this one and N-1 Celery tasks",
        )
        parser.add_argument(
            "--join", type=int, metavar="PLAN",
            help="Work on a day already planned (its id, from a run's summary) alongside its other workers",
        )
        parser.add_argument("--ledger", action="append", help="CompanyNo; repeat for several (default: all)")
        parser.add_argument("--only", action="append", choices=PARTS, help="Run only this part (repeatable)")

    def run(self, **o):
        if o.get("join"):
            plan = DayPlan.objects.filter(pk=o["join"]).first()
            if plan is None:
                return {"error": {"code": "plan_not_found", "message": f"no business day plan {o['join']}"}}, False
            ran = business_day_work(plan=plan)
            return {"plan": plan.pk, "date": plan.business_date.isoformat(), "chunks_run": ran}, True
        if not o.get("date"):
            return {"error": {"code": "date_required", "message": "give --date YYYY-MM-DD (or --join PLAN)"}}, False
        summary = business_day_run(
            as_of=parse_date(o["date"]), company_nos=o.get("ledger"), parts=o.get("only"),
            workers=max(1, o["workers"]),
        )
        return summary, summary["ok"]
