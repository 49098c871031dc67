from ledger.management.base import JsonCommand
from ledger.selectors import invoice_detail, invoice_get, ledger_get


class Command(JsonCommand):
    help = "Print an invoice: status, balances by component, payment reference, its events and documents."

    def add_arguments(self, parser):
        parser.add_argument("--ledger", required=True, help="CompanyNo of the ledger")
        parser.add_argument("invoice_no")

    def run(self, **o):
        # distribution depends on ledger, never the other way round: imported here, not in ledger/.
        from distribution.selectors import invoice_distribution_status, invoice_documents

        ledger = ledger_get(company_no=o["ledger"])
        detail = invoice_detail(ledger=ledger, invoice_no=o["invoice_no"])
        invoice = invoice_get(ledger=ledger, invoice_no=o["invoice_no"])
        detail["distribution_status"] = invoice_distribution_status(invoice=invoice)
        detail["documents"] = invoice_documents(invoice=invoice)
        return detail, True
