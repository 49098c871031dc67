from claims.selectors import claim_status
from distribution.selectors import invoice_distribution_status, invoice_documents
from ledger.management.base import JsonCommand, parse_date
from ledger.selectors import invoice_detail, invoice_get, ledger_get


class Command(JsonCommand):
    help = (
        "Print an invoice: status, balances by component, payment reference, its events, its documents and its "
        "claim: claim_level and next_event ({kind, date, amount}) as of --date."
    )

    def add_arguments(self, parser):
        parser.add_argument("--ledger", required=True, help="CompanyNo of the ledger")
        parser.add_argument("--date", help="Business date for the claim's level and next event (YYYY-MM-DD)")
        parser.add_argument("invoice_no")

    def run(self, **o):
        ledger = ledger_get(company_no=o["ledger"])
        detail = invoice_detail(ledger=ledger, invoice_no=o["invoice_no"])
        invoice = invoice_get(ledger=ledger, invoice_no=o["invoice_no"])
        as_of = parse_date(o["date"]) if o.get("date") else None
        detail.update(claim_status(invoice=invoice, as_of=as_of))
        detail["distribution_status"] = invoice_distribution_status(invoice=invoice)
        detail["documents"] = invoice_documents(invoice=invoice)
        return detail, True
