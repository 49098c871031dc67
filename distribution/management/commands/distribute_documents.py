from distribution.services.queueing import invoice_documents_queue
from distribution.services.sending import documents_distribute
from ledger.management.base import JsonCommand, parse_date
from ledger.selectors import ledger_get


class Command(JsonCommand):
    help = (
        "Queue invoice documents for InvoiceWithDistribution invoices, then render, archive and send every "
        "document due by --date (one ledger or all); print batches go to the outbox."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, help="business date YYYY-MM-DD")
        parser.add_argument("--ledger", help="CompanyNo of one ledger (default: all)")

    def run(self, **o):
        from django.db import transaction

        from ledger.models import Ledger

        as_of = parse_date(o["date"])
        ledger = ledger_get(company_no=o["ledger"]) if o.get("ledger") else None
        with transaction.atomic():
            queued = sum(
                invoice_documents_queue(ledger=one, as_of=as_of)
                for one in ([ledger] if ledger is not None else Ledger.objects.order_by("id"))
            )
        summary = documents_distribute(as_of=as_of, ledger=ledger)
        # A document that failed is recorded (and listed under "errors"); the run itself succeeded.
        return {"ok": True, "invoice_documents_queued": queued, **summary}, True
