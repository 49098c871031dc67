import argparse

from ledger.management.base import JsonCommand
from ledger.services.ledgers import ledger_create


class Command(JsonCommand):
    help = "Onboard a ledger with its chart of accounts (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--company-no", required=True, help="CUSIN CompanyNo")
        parser.add_argument("--ledger-no", required=True, help="ledger id used in payment references")
        parser.add_argument("--country", required=True, choices=["NO", "SE", "DK", "FI"])
        parser.add_argument("--name", required=True)
        parser.add_argument("--client", default=None, help="client name (default: the ledger name)")
        parser.add_argument("--account", default="", help="client-funds bank account receiving payments")
        parser.add_argument(
            "--collection-account", default="", help="client-funds bank account for claims in collection"
        )
        parser.add_argument("--currency", default=None)
        parser.add_argument("--org-no", default="", help="the client's organisation number (checked)")
        parser.add_argument(
            "--vat-registered",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="the client is registered for VAT (its e-invoices carry its VAT identifier)",
        )

    def run(self, **o):
        ledger, created = ledger_create(
            company_no=o["company_no"],
            ledger_no=o["ledger_no"],
            country=o["country"],
            name=o["name"],
            client_name=o["client"],
            client_funds_account=o["account"],
            collection_funds_account=o["collection_account"],
            currency=o["currency"],
            client_org_no=o["org_no"],
            client_vat_registered=o["vat_registered"],
        )
        return {
            "ok": True,
            "created": created,
            "company_no": ledger.company_no,
            "ledger_no": ledger.ledger_no,
            "name": ledger.name,
            "client": ledger.client.name,
            "client_org_no": ledger.client.org_no,
            "client_vat_registered": ledger.client.vat_registered,
            "country": ledger.country,
            "currency": ledger.currency,
            "reference_scheme": ledger.reference_scheme,
            "client_funds_account": ledger.client_funds_account,
            "collection_funds_account": ledger.collection_funds_account,
            "accounts": [
                {"number": a.number, "name": a.name, "role": a.role}
                for a in ledger.accounts.order_by("number")
            ],
        }, True
