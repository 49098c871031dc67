from pathlib import Path

from django.core.management.base import CommandError

from ledger.management.base import JsonCommand, parse_date
from ledger.models import PaymentFileStatus
from ledger.payments.direct_debit.avtalegiro import debit_agreement_file_import
from ledger.payments.direct_debit.common import BANK_ACTOR


class Command(JsonCommand):
    help = (
        "Book a direct-debit file from the bank: AvtaleGiro agreements (Nets), Autogiro mandate notices or "
        "payment specifications (Bankgirot), Betalingsservice agreement and payment information (Nets). "
        "Activates or cancels consents, settles failed debits; prints a JSON summary. Exit 1 only when "
        "the file is rejected whole."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the agreement file")
        parser.add_argument(
            "--ledger",
            default=None,
            help="CompanyNo (default: the ledger whose client-funds account the file is for)",
        )
        parser.add_argument(
            "--date", default=None, help="booking date, YYYY-MM-DD (default: the ledger's today)"
        )
        parser.add_argument("--actor", default=BANK_ACTOR, help="who is recorded as booking it")

    def run(self, **o):
        path = Path(o["path"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        booking_date = parse_date(o["date"]) if o["date"] else None
        summary = debit_agreement_file_import(
            path=path, company_no=o["ledger"], actor=o["actor"], booking_date=booking_date
        )
        return summary, summary["status"] != PaymentFileStatus.REJECTED
