from django.db.models import Q

from ledger.errors import LedgerError
from ledger.management.base import JsonCommand, parse_date
from ledger.models import CustomerConsent, DirectDebitAttempt, DirectDebitStatus, Ledger
from ledger.payments.direct_debit.claims import debit_claims_send
from ledger.payments.direct_debit.common import CONSENT_BY_KIND, DEFAULT_DAYS_AHEAD
from ledger.payments.direct_debit.settlement import debit_attempts_settle, debit_claims_cancel
from ledger.selectors import ledger_get


class Command(JsonCommand):
    help = (
        "Direct debit for a business day: cancel the claims of invoices settled otherwise before their debit "
        "date, settle the attempts sent earlier (paid or failed), then send the payment claims that are due "
        "(one file per ledger in its outbox: AvtaleGiro in Norway, Autogiro in Sweden, Betalingsservice in "
        "Denmark). "
        "Exit 1 if any ledger failed (its claims are not sent; settled attempts stay settled)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, help="Business date, YYYY-MM-DD")
        parser.add_argument(
            "--ledger", default=None, help="CompanyNo (default: every ledger with direct-debit consents)"
        )
        parser.add_argument(
            "--days-ahead",
            type=int,
            default=DEFAULT_DAYS_AHEAD,
            help=f"claim invoices due within this many days (default {DEFAULT_DAYS_AHEAD})",
        )
        parser.add_argument("--actor", default="send_debit_claims", help="who is recorded as sending them")

    def run(self, **o):
        as_of = parse_date(o["date"])
        if o["ledger"]:
            ledgers = [ledger_get(company_no=o["ledger"])]
        else:
            consenting = CustomerConsent.objects.filter(kind__in=list(CONSENT_BY_KIND.values()), active=True)
            pending = DirectDebitAttempt.objects.filter(status=DirectDebitStatus.SENT)
            ledgers = list(
                Ledger.objects.filter(
                    Q(id__in=consenting.values("ledger_id")) | Q(id__in=pending.values("ledger_id"))
                ).order_by("company_no")
            )
        results = []
        for ledger in ledgers:
            result = {"ledger": ledger.company_no, "ok": True}
            try:
                result["cancelled"] = debit_claims_cancel(ledger=ledger, as_of=as_of, actor=o["actor"])
                result["settled"] = debit_attempts_settle(ledger=ledger, as_of=as_of, actor=o["actor"])
                result["sent"] = debit_claims_send(
                    ledger=ledger, as_of=as_of, days_ahead=o["days_ahead"], actor=o["actor"]
                )
            except LedgerError as exc:
                result.update(ok=False, error=exc.as_dict())
            results.append(result)
        ok = all(r["ok"] for r in results)
        return {
            "ok": ok,
            "date": as_of.isoformat(),
            "files": sum(1 for r in results if r.get("sent", {}).get("file")),
            "claims": sum(r.get("sent", {}).get("claims", 0) for r in results),
            "cancelled": sum(r.get("cancelled", {}).get("cancelled", 0) for r in results),
            "paid": sum(r.get("settled", {}).get("paid", 0) for r in results),
            "failed": sum(r.get("settled", {}).get("failed", 0) for r in results),
            "ledgers": results,
        }, ok
