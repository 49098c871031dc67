from accounting.models import SettlementAgreement
from accounting.services import settlement_book
from ledger.errors import LedgerError
from ledger.management.base import JsonCommand, parse_date
from ledger.selectors import ledger_get


class Command(JsonCommand):
    help = (
        "Settle to the client the latest completed period (daily, weekly or monthly by agreement) before "
        "--date, booked on --date: Balance Report (XML + PDF), settlement transaction, pain.001 payout, "
        "OCR settlement file. A period already settled is not settled again. A ledger that fails books "
        "nothing and does not stop the others; the exit status is 1 if any failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, help="settlement date YYYY-MM-DD")
        parser.add_argument(
            "--ledger", default=None, help="CompanyNo (default: every ledger with an agreement)"
        )

    def run(self, **o):
        as_of = parse_date(o["date"])
        if o["ledger"]:
            ledgers = [ledger_get(company_no=o["ledger"])]
        else:
            agreements = SettlementAgreement.objects.select_related("ledger").order_by("ledger__company_no")
            ledgers = [a.ledger for a in agreements]
        results = []
        for ledger in ledgers:
            try:
                results.append(settlement_book(ledger=ledger, as_of=as_of))
            except LedgerError as exc:
                results.append({"ok": False, "ledger": ledger.company_no, "error": exc.as_dict()})
        ok = all(r["ok"] for r in results)
        return {"ok": ok, "date": as_of.isoformat(), "settlements": results}, ok
