from ledger.management.base import JsonCommand
from ledger.selectors import invoice_detail, ledger_get


class Command(JsonCommand):
    help = "Print an invoice: status, balances by component, payment reference and its events."

    def add_arguments(self, parser):
        parser.add_argument("--ledger", required=True, help="CompanyNo of the ledger")
        parser.add_argument("invoice_no")

    def run(self, **o):
        ledger = ledger_get(company_no=o["ledger"])
        return invoice_detail(ledger=ledger, invoice_no=o["invoice_no"]), True
