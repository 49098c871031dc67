"""The money of approved direct debits arriving in a payment file.

Autogiro and Betalingsservice debits the bank reports approved are booked from the result file
(ledger.payments.direct_debit.scheme_files). When the bank's own line for that money comes in a payment
file (same reference, same amount), it reconciles the booked debit instead of being booked a second time:
the attempt records the line (its archive reference, booking date and file). A second line for the same
reference is new money and is booked as any payment (the customer's credit balance if nothing is open).
"""

from collections import defaultdict
from datetime import date

from django.db import connection

from ledger.models import Ledger, PaymentFile
from ledger.payments import bankfiles

_AWAITING_SQL = """
SELECT i.payment_ref, a.id, a.amount
  FROM ledger_directdebitattempt a JOIN ledger_invoice i ON i.id = a.invoice_id
 WHERE a.ledger_id = %s AND a.payment_id IS NOT NULL AND a.reconciled_on IS NULL
 ORDER BY a.due_date, a.id
"""

_RECONCILE_SQL = """
UPDATE ledger_directdebitattempt a
   SET reconciled_on = v.booking_date, reconciled_ref = v.archive_ref, reconciled_file_id = %(file)s
  FROM unnest(%(ids)s::bigint[], %(refs)s::text[], %(dates)s::date[]) AS v(id, archive_ref, booking_date)
 WHERE a.id = v.id AND a.ledger_id = %(ledger)s AND a.reconciled_on IS NULL
"""


class DebitsAwaitingMoney:
    """The ledger's booked debits whose money has not been seen, read once per payment file (a partial
    index keeps it to those few), taken line by line as the file's rounds are planned."""

    def __init__(self, ledger: Ledger):
        self.ledger = ledger
        self.by_ref: dict[str, list[tuple[int, object]]] = defaultdict(list)
        with connection.cursor() as cursor:
            cursor.execute(_AWAITING_SQL, [ledger.id])
            for ref, attempt_id, amount in cursor.fetchall():
                self.by_ref[ref].append((attempt_id, amount))
        self.taken: list[tuple[int, str, date]] = []

    def take(self, payments: list[bankfiles.BankPayment], summary: dict) -> list[bankfiles.BankPayment]:
        """The payments still to book: a line with a waiting debit's reference and amount is taken as
        that debit's money (counted in summary["debits_reconciled"]) and not booked."""
        if not self.by_ref:
            return payments
        to_book = []
        for p in payments:
            waiting = self.by_ref.get("".join((p.reference or "").split()), [])
            match = next((w for w in waiting if w[1] == p.amount), None)
            if match is None:
                to_book.append(p)
                continue
            waiting.remove(match)
            self.taken.append((match[0], p.archive_ref, p.booking_date))
            summary["debits_reconciled"] += 1
        return to_book

    def record(self, file_row: PaymentFile) -> None:
        """Mark the debits whose money this file brought (in the import's transaction)."""
        if not self.taken:
            return
        ids, refs, dates = zip(*self.taken, strict=True)
        with connection.cursor() as cursor:
            cursor.execute(
                _RECONCILE_SQL,
                {"file": file_row.pk, "ids": list(ids), "refs": list(refs), "dates": list(dates),
                 "ledger": self.ledger.id},
            )  # fmt: skip
            if cursor.rowcount != len(ids):  # the ledger is locked by the import: nobody else reconciles
                raise RuntimeError("debits changed while reconciling them")
