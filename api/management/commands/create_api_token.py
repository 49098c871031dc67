"""Create an API token for a ledger (or every ledger of its client) and print it, once, as JSON."""

from api.services import api_token_create
from ledger.management.base import JsonCommand
from ledger.selectors import ledger_get


class Command(JsonCommand):
    help = "Create an API token; the token is printed once and stored only hashed."

    def add_arguments(self, parser):
        parser.add_argument("--ledger", required=True, metavar="COMPANY_NO")
        parser.add_argument("--write", action="store_true", help="may also write (default: read only)")
        parser.add_argument(
            "--client-wide", action="store_true", help="reach every ledger of the ledger's client"
        )
        parser.add_argument("--name", default="", help="what the token is for")
        parser.add_argument("--rate-limit", default="", help="e.g. 600/min (default: API_RATE_LIMIT)")

    def run(self, **options):
        ledger = ledger_get(company_no=options["ledger"])
        token, secret = api_token_create(
            client=ledger.client,
            ledger=None if options["client_wide"] else ledger,
            can_write=options["write"],
            name=options["name"],
            rate_limit=options["rate_limit"],
        )
        return {
            "ok": True,
            "id": token.id,
            "token": secret,
            "prefix": token.prefix,
            "client": ledger.client.name,
            "ledger": None if options["client_wide"] else ledger.company_no,
            "write": token.can_write,
            "note": "store the token now: it is kept only hashed and cannot be shown again",
        }, True
