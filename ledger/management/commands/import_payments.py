from pathlib import Path

from django.core.management.base import CommandError

from ledger.management.base import JsonCommand
from ledger.models import PaymentFileStatus
from ledger.payments.bank_import import BANK_ACTOR, payment_file_import
from ledger.payments.bankfiles import FORMATS


class Command(JsonCommand):
    help = (
        "Book a bank payment file (OCR Giro, BgMax, camt.054): match, allocate, print a JSON summary. "
        "Exit 1 only when the file is rejected whole."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the bank file")
        parser.add_argument("--format", choices=FORMATS, default=None, help="default: detected from the file")
        parser.add_argument(
            "--ledger",
            default=None,
            help="CompanyNo (default: the ledger whose client-funds account the file pays into)",
        )
        parser.add_argument("--actor", default=BANK_ACTOR, help="who is recorded as booking it")

    def run(self, **o):
        path = Path(o["path"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        summary = payment_file_import(path=path, company_no=o["ledger"], format=o["format"], actor=o["actor"])
        return summary, summary["status"] != PaymentFileStatus.REJECTED
