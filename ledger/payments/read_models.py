"""The read models of a bank file's payments, written by the import itself.

The posting triggers that keep the dashboard's months, the accounting days and the open-amount versions
(ledger/sql/journal_months_probes.sql, account_days.sql, open_versions.sql) read every posting of a
statement back and probe its transaction; the import has the same figures at hand while it builds the
rows, so it sums them there, writes the summary rows itself and hands the versions their per-invoice
deltas, and the triggers stand aside for its postings (bench_import_payments.py: the triggers cost the
import 17 % of its throughput). The same rows as the triggers'; verify_ledger checks them against the
journal like any other. The paid months stay with the invoice-event trigger: the stage an invoice was
paid at is read from its events.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from ledger.bulk import _copy_lines
from ledger.models import AccountRole, Component, TransactionKind
from ledger.money import ZERO
from ledger.services.registration import JOURNAL_MONTH_COPY_COLUMNS

PAYMENT = TransactionKind.PAYMENT.value
CAPITAL = Component.CAPITAL.value
COMPONENT_INDEX = {Component.CAPITAL.value: 0, Component.FEE.value: 1, Component.INTEREST.value: 2}
ACCOUNT_DAY_COPY_COLUMNS = [
    "ledger_id",
    "booking_date",
    "account_id",
    "action",
    "postings",
    "debit",
    "credit",
]


class PaymentReadModels:
    """What a round of payments brings to the read models, summed while its postings are built (`add`),
    written by the writer thread right after them (`store`)."""

    def __init__(self, *, ledger_id: int, accounts: dict[str, int]):
        self.ledger_id = ledger_id
        self.funds_account = accounts[AccountRole.CLIENT_FUNDS_BANK.value]
        # (month, overdue_from) -> receivable, capital, capital postings, funds in, funds-in postings
        self.months: dict[tuple, list] = defaultdict(lambda: [ZERO, ZERO, 0, ZERO, 0])
        # (booking day, account) -> postings, debit, credit
        self.days: dict[tuple, list] = defaultdict(lambda: [0, ZERO, ZERO])
        # booking day -> invoice -> capital, fees, interest
        self.versions: dict[date, dict[int, list]] = defaultdict(
            lambda: defaultdict(lambda: [ZERO, ZERO, ZERO])
        )

    def add(self, *, day: date, account_id: int, invoice_id: int | None, due_date: date | None,
            component: str, amount: Decimal) -> None:  # fmt: skip
        """One posting of a PAYMENT transaction booked on `day`."""
        totals = self.days[(day, account_id)]
        totals[0] += 1
        if amount > 0:
            totals[1] += amount
        else:
            totals[2] -= amount
        month = day.replace(day=1)
        if component:
            row = self.months[(month, None if due_date is None else due_date + timedelta(days=1))]
            row[0] += amount
            if component == CAPITAL:
                row[1] += amount
                row[2] += 1
            self.versions[day][invoice_id][COMPONENT_INDEX[component]] += amount
        elif account_id == self.funds_account and amount > 0:
            row = self.months[(month, None)]
            row[3] += amount
            row[4] += 1

    def store(self, cursor) -> None:
        """Write the summed rows and the versions' deltas (on the writer's cursor, after the postings)."""
        ledger_id = self.ledger_id
        _copy_lines(
            "ledger_journalmonth",
            JOURNAL_MONTH_COPY_COLUMNS,
            (
                f"{ledger_id}\t{month}\t{PAYMENT}\t{_nullable(overdue)}\t{r[0]}\t{r[1]}\t{r[2]}\t{r[3]}\t{r[4]}\n"
                for (month, overdue), r in self.months.items()
            ),
            cursor=cursor,
        )
        _copy_lines(
            "ledger_accountday",
            ACCOUNT_DAY_COPY_COLUMNS,
            (
                f"{ledger_id}\t{day}\t{account_id}\t{PAYMENT}\t{r[0]}\t{r[1]}\t{r[2]}\n"
                for (day, account_id), r in self.days.items()
            ),
            cursor=cursor,
        )
        for day in sorted(self.versions):
            deltas = self.versions[day]
            invoice_ids = list(deltas)
            capitals = [deltas[i][0] for i in invoice_ids]
            fees = [deltas[i][1] for i in invoice_ids]
            interests = [deltas[i][2] for i in invoice_ids]
            opens = [c + f + n for c, f, n in zip(capitals, fees, interests, strict=True)]
            cursor.execute(
                "SELECT ledger_open_versions_apply(%s, %s::bigint[], %s::bigint[], %s::numeric[], "
                "%s::numeric[], %s::numeric[], %s::numeric[], %s::numeric[])",
                [day, invoice_ids, [ledger_id] * len(invoice_ids), capitals, fees, interests,
                 [-o for o in opens], opens],
            )  # fmt: skip


def _nullable(value) -> str:
    return "\\N" if value is None else str(value)
