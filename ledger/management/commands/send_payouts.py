from ledger.errors import LedgerError
from ledger.management.base import JsonCommand, parse_date
from ledger.models import Ledger, PayoutStatus
from ledger.payments.payouts import payouts_send
from ledger.selectors import ledger_get


class Command(JsonCommand):
    help = (
        "Send pending payouts: one pain.001 credit-transfer file per ledger in its outbox. "
        "Exit 1 if any ledger failed (its payouts stay pending)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, help="Requested execution date, YYYY-MM-DD")
        parser.add_argument(
            "--ledger", default=None, help="CompanyNo (default: every ledger with pending payouts)"
        )
        parser.add_argument("--actor", default="send_payouts", help="who is recorded as sending them")

    def run(self, **o):
        as_of = parse_date(o["date"])
        if o["ledger"]:
            ledgers = [ledger_get(company_no=o["ledger"])]
        else:
            ledgers = list(
                Ledger.objects.filter(payouts__status=PayoutStatus.PENDING).distinct().order_by("company_no")
            )
        results = []
        for ledger in ledgers:
            try:
                result = payouts_send(ledger=ledger, as_of=as_of, actor=o["actor"])
            except LedgerError as exc:
                result = {"ok": False, "error": exc.as_dict()}
            results.append({"ledger": ledger.company_no, **result})
        ok = all(r["ok"] for r in results)
        return {
            "ok": ok,
            "date": as_of.isoformat(),
            "files": sum(1 for r in results if r.get("file")),
            "payouts": sum(r.get("payouts", 0) for r in results),
            "ledgers": results,
        }, ok
