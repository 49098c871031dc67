"""The double-entry journal: `journal_book` books one balanced transaction by account role."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction

from ledger.errors import LedgerError, ValidationFailed
from ledger.models import (
    Account,
    AccountRole,
    Cause,
    Customer,
    Invoice,
    JournalTransaction,
    Ledger,
    Posting,
    TransactionKind,
    User,
)
from ledger.money import ZERO, to_money
from ledger.services.common import _actor_fields

# --- The journal ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One posting to book: an account role and a signed amount (debit positive)."""

    role: AccountRole
    amount: Decimal
    component: str = ""
    invoice: Invoice | None = None
    customer: Customer | None = None
    payment_id: int | None = None


class _ChartOfAccounts(dict):
    """A ledger's accounts by role. A role the chart lacks is a coded error naming the ledger, not a
    KeyError: a ledger only books once `ledger_create` gave it its chart."""

    def __init__(self, ledger: Ledger, accounts: dict[str, int]):
        super().__init__(accounts)
        self.ledger = ledger

    def __missing__(self, role):
        raise LedgerError(
            f"ledger {self.ledger.company_no} has no account for {AccountRole(role).label!r}: "
            "a ledger must be onboarded with create_ledger, which gives it its chart of accounts",
            code="ledger_chart_missing",
        )


def _accounts_by_role(ledger: Ledger) -> dict[str, int]:
    return _ChartOfAccounts(
        ledger, dict(Account.objects.filter(ledger=ledger).exclude(role="").values_list("role", "id"))
    )


def journal_book(
    *,
    ledger: Ledger,
    kind: TransactionKind,
    booking_date: date,
    lines: Sequence[Line],
    actor: User | str | None,
    invoice: Invoice | None = None,
    payment_id: int | None = None,
    cause: str = "",
    description: str = "",
    reverses: JournalTransaction | None = None,
) -> JournalTransaction:
    """Book one balanced transaction. The database checks the balance again at commit."""
    amounts = [to_money(line.amount) for line in lines]
    if len(lines) < 2:
        raise ValidationFailed("a transaction needs at least two postings", code="unbalanced_transaction")
    if any(a == 0 for a in amounts):
        raise ValidationFailed("a posting amount must not be zero", code="zero_posting")
    if sum(amounts, ZERO) != 0:
        raise ValidationFailed(
            f"postings sum to {sum(amounts, ZERO)}, not zero", code="unbalanced_transaction"
        )
    if cause and cause not in Cause.values:
        raise ValidationFailed(f"unknown cause {cause!r}", field="cause")
    accounts = _accounts_by_role(ledger)
    missing = {line.role for line in lines} - accounts.keys()
    if missing:
        raise ValidationFailed(
            f"ledger {ledger.company_no} has no account for {sorted(missing)}", code="account_missing"
        )
    created_by_id, actor_label = _actor_fields(actor)
    with transaction.atomic():
        txn = JournalTransaction.objects.create(
            ledger=ledger,
            booking_date=booking_date,
            kind=kind,
            cause=cause,
            description=description[:200],
            invoice=invoice,
            payment_id=payment_id,
            reverses=reverses,
            created_by_id=created_by_id,
            actor=actor_label,
        )
        Posting.objects.bulk_create(
            Posting(
                transaction=txn,
                ledger=ledger,
                account_id=accounts[line.role],
                invoice=line.invoice,
                customer=line.customer or (line.invoice.customer if line.invoice else None),
                payment_id=line.payment_id,
                component=line.component,
                amount=amount,
                currency=ledger.currency,
            )
            for line, amount in zip(lines, amounts, strict=True)
        )
    return txn
