"""Placing money within an invoice: its open items by component, in the ledger's allocation order,
the postings that settle them, and the events and closes that follow."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from ledger.models import (
    RECEIVABLE_ROLE_BY_COMPONENT,
    AllocationOrder,
    Component,
    Customer,
    Invoice,
    InvoiceEvent,
    InvoiceEventKind,
    InvoiceStatus,
)
from ledger.money import ZERO
from ledger.services.common import _actor_fields
from ledger.services.journal import Line

# The components as plain strings: planning touches them millions of times in a large file, and an
# enum member costs several times a str to look up and hash (they compare and hash equal).
CAPITAL, FEE, INTEREST = Component.CAPITAL.value, Component.FEE.value, Component.INTEREST.value
COMPONENT_ORDER = {
    AllocationOrder.CAPITAL_FIRST: (CAPITAL, FEE, INTEREST),
    AllocationOrder.COSTS_FIRST: (FEE, INTEREST, CAPITAL),
}


# --- Allocation within an invoice -----------------------------------------------------------------


class _InvoiceRow:
    """What planning needs of an invoice, read as plain values (no model instance): the import plans
    against up to a whole ledger's invoices, and model instances cost more than the matching itself."""

    __slots__ = (
        "id", "ledger_id", "customer_id", "invoice_no", "payment_ref", "status", "due_date", "invoice_date",
        "closed_on", "respite_until",
    )  # fmt: skip

    def __init__(self, id, ledger_id, customer_id, invoice_no, payment_ref, status, due_date, invoice_date):
        self.id, self.ledger_id, self.customer_id = id, ledger_id, customer_id
        self.invoice_no, self.payment_ref, self.status = invoice_no, payment_ref, status
        self.due_date, self.invoice_date = due_date, invoice_date
        self.closed_on = self.respite_until = None

    @property
    def customer(self) -> Customer:
        return Customer(pk=self.customer_id, ledger_id=self.ledger_id)


@dataclass(slots=True)
class _OpenItem:
    """An invoice's open components while payments are planned against it (kept up to date in memory)."""

    invoice: "Invoice | _InvoiceRow"
    parts: dict[str, Decimal]
    closed: bool

    @property
    def open_amount(self) -> Decimal:
        parts = self.parts
        return parts[CAPITAL] + parts[FEE] + parts[INTEREST]

    @classmethod
    def of(
        cls, invoice: "Invoice | _InvoiceRow", capital: Decimal, fees: Decimal, interest: Decimal
    ) -> "_OpenItem":
        parts = {CAPITAL: capital, FEE: fees, INTEREST: interest}
        closed = invoice.status == InvoiceStatus.CLOSED or capital + fees + interest <= 0
        return cls(invoice=invoice, parts=parts, closed=closed)

    def take(self, amount: Decimal, order: Sequence[str]) -> dict[str, Decimal]:
        """Take up to `amount` from the open components in `order`; returns what was taken per component."""
        taken = {}
        for component in order:
            if amount <= 0:
                break
            part = min(amount, max(self.parts[component], ZERO))
            if part > 0:
                taken[component] = part
                self.parts[component] -= part
                amount -= part
        if self.open_amount <= 0:
            self.closed = True
        return taken


def _receivable_lines(invoice: Invoice, taken: dict[str, Decimal], payment_id: int | None) -> list[Line]:
    return [
        Line(
            role=RECEIVABLE_ROLE_BY_COMPONENT[component],
            amount=-amount,
            component=component,
            invoice=invoice,
            payment_id=payment_id,
        )
        for component, amount in taken.items()
    ]


@dataclass
class _Placed:
    """Part of a payment placed on one invoice."""

    item: _OpenItem
    taken: dict[str, Decimal]
    settles: bool
    surplus: bool = False  # the customer's surplus, settled against an older overdue invoice

    @property
    def amount(self) -> Decimal:
        return sum(self.taken.values(), ZERO)


def _events_and_closes(
    placed: Sequence[_Placed], *, txn, booking_date, actor, what: str
) -> tuple[list[InvoiceEvent], list[_Placed]]:
    """The paid / partially_paid events of a booking, and the placements that settle their invoice."""
    created_by_id, actor_label = _actor_fields(actor)
    now = timezone.now()
    events = []
    for p in placed:
        invoice = p.item.invoice
        note = f"{what}{' (surplus)' if p.surplus else ''}: {p.amount}"
        events.append(
            InvoiceEvent(
                ledger_id=invoice.ledger_id,
                invoice=invoice,
                kind=InvoiceEventKind.PAID if p.settles else InvoiceEventKind.PARTIALLY_PAID,
                from_status=invoice.status,
                to_status=invoice.status,
                booking_date=booking_date,
                reason=note[:500],
                transaction=txn,
                created_by_id=created_by_id,
                actor=actor_label,
                created_at=now,
            )
        )
    return events, [p for p in placed if p.settles]
