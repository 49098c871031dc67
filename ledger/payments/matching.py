"""Matching a bank file's payments: `_plan` decides, in memory and from a few set-based queries, where
each payment goes (the invoice its reference names, the customer's credit balance, or suspense)."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection

from ledger import references
from ledger.bulk import _int_array
from ledger.models import (
    AllocationOrder,
    Component,
    Customer,
    InvoiceStatus,
    Ledger,
    Payment,
)
from ledger.money import ZERO
from ledger.payments import bankfiles
from ledger.payments.placement import COMPONENT_ORDER, _InvoiceRow, _OpenItem, _Placed


@dataclass
class _Plan:
    bank: bankfiles.BankPayment
    reference: str
    status: str
    outcome: str
    match_detail: str = ""
    item: _OpenItem | None = None
    misdirected: str = ""
    placed: list[_Placed] = field(default_factory=list)
    credit: Decimal = ZERO
    suspense: Decimal = ZERO
    payment_id: int | None = None  # set by _write
    transaction_id: int | None = None  # set by _write

    @property
    def amount(self) -> Decimal:
        return self.bank.amount

    @property
    def customer(self) -> Customer | None:
        return self.item.invoice.customer if self.item else None


def _clean_reference(reference: str) -> str:
    return "".join((reference or "").split())


_LOCK_INVOICES_SQL = """
    SELECT i.id, i.ledger_id, i.customer_id, i.invoice_no, i.payment_ref, i.status, i.due_date,
           i.invoice_date
      FROM ledger_invoice AS i
     WHERE i.ledger_id = %s AND {where}
     ORDER BY i.id
       FOR UPDATE OF i
"""

# Per-component balances of the invoices, straight from the postings (no join back to the invoice).
_BALANCES_SQL = """
    SELECT p.invoice_id,
           COALESCE(SUM(p.amount) FILTER (WHERE p.component = %s), 0.00),
           COALESCE(SUM(p.amount) FILTER (WHERE p.component = %s), 0.00),
           COALESCE(SUM(p.amount) FILTER (WHERE p.component = %s), 0.00)
      FROM ledger_posting AS p
     WHERE p.invoice_id = ANY(%s::bigint[])
     GROUP BY p.invoice_id
"""


def _load_items(ledger_id: int, where: str, params: Sequence) -> dict[int, _OpenItem]:
    """Lock the ledger's invoices matching `where` (in id order) and load their balances: two queries,
    plain rows, no model instances."""
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_INVOICES_SQL.format(where=where), [ledger_id, *params])
        invoices = [_InvoiceRow(*row) for row in cursor.fetchall()]
        if not invoices:
            return {}
        cursor.execute(
            _BALANCES_SQL,
            [Component.CAPITAL, Component.FEE, Component.INTEREST, _int_array(i.id for i in invoices)],
        )
        balances = {row[0]: row[1:] for row in cursor.fetchall()}
    none = (ZERO, ZERO, ZERO)
    items = {}
    for invoice in invoices:
        capital, fees, interest = balances.get(invoice.id, none)
        items[invoice.id] = _OpenItem.of(invoice, capital, fees, interest)
    return items


def _plan(ledger: Ledger, payments: Sequence[bankfiles.BankPayment]) -> list[_Plan]:
    """Match and allocate every payment in memory, in file order. Locks the invoices it touches."""
    return _Planner(ledger).plan(payments)


class _Planner:
    """Plans a file's payments round by round (`plan`), in file order, as if all at once.

    Each round looks up what it needs that earlier rounds have not: the invoices its references name
    (locked, with their balances), other ledgers' references, and the open invoices of customers whose
    payment leaves a surplus. What the rounds decide stays in memory (the invoices' open components),
    so a later payment sees an earlier one's effect, and every invoice is one object whichever way it
    was found (by reference, or as a customer's open invoice).
    """

    def __init__(self, ledger: Ledger):
        self.ledger = ledger
        self.order = COMPONENT_ORDER[AllocationOrder(ledger.allocation_order)]
        self.items: dict[int, _OpenItem] = {}  # invoice id -> item
        self.by_ref: dict[str, _OpenItem] = {}
        self.refs_looked_up: set[str] = set()
        self.by_customer: dict[int, list[_OpenItem]] = defaultdict(list)
        self.elsewhere: dict[str, list[str]] = defaultdict(list)  # reference -> other ledgers' CompanyNo
        self.overdue: dict[int, list[_OpenItem]] = {}  # customer id -> open invoices, oldest first

    def plan(self, payments: Sequence[bankfiles.BankPayment]) -> list[_Plan]:
        self._look_up_references(payments)
        if self.ledger.settle_surplus_against_oldest and payments:
            self._load_surplus_customers(payments)
        return [self._plan_one(p) for p in payments]

    def _add(self, items: dict[int, _OpenItem]) -> None:
        for invoice_id, item in items.items():
            if invoice_id not in self.items:
                self.items[invoice_id] = item
                self.by_ref[item.invoice.payment_ref] = item
                self.by_customer[item.invoice.customer_id].append(item)

    def preload(self, references: set[str]) -> None:
        """Look up a whole file's references at once, before its first round."""
        self._look_up({_clean_reference(r) for r in references})

    def _look_up_references(self, payments) -> None:
        self._look_up({_clean_reference(p.reference) for p in payments})

    def _look_up(self, refs: set[str]) -> None:
        refs = refs - {""} - self.refs_looked_up
        new = sorted(r for r in refs if r not in self.by_ref)
        if new:
            self._add(_load_items(self.ledger.id, "i.payment_ref = ANY(%s::text[])", [new]))
        self.refs_looked_up |= refs
        # Another ledger's references, for misdirected payments (KIDs do not say which ledger they are of).
        unknown = [r for r in new if r not in self.by_ref and references.has_valid_check_digit(r)]
        if unknown:
            with connection.cursor() as cursor:
                cursor.execute(
                    """
                    SELECT i.payment_ref, l.company_no
                      FROM ledger_invoice AS i JOIN ledger_ledger AS l ON l.id = i.ledger_id
                     WHERE i.payment_ref = ANY(%s::text[]) AND i.ledger_id <> %s
                     ORDER BY l.company_no
                    """,
                    [unknown, self.ledger.id],
                )
                for ref, company_no in cursor.fetchall():
                    self.elsewhere[ref].append(company_no)

    def _load_surplus_customers(self, payments) -> None:
        """Surplus can only arise on an invoice paid more than it has open (or closed): load those
        customers' open invoices before planning, so that surplus is settled against the oldest overdue.
        All their open invoices, whatever the due date: which are overdue depends on each payment's date."""
        paid: dict[int, Decimal] = defaultdict(Decimal)
        for p in payments:
            item = self.by_ref.get(_clean_reference(p.reference))
            if item is not None:
                paid[item.invoice.id] += p.amount
        customers = {
            self.items[pk].invoice.customer_id
            for pk, amount in paid.items()
            if self.items[pk].closed or amount > self.items[pk].open_amount
        } - set(self.overdue)
        if not customers:
            return
        self._add(
            _load_items(
                self.ledger.id,
                "i.customer_id = ANY(%s::bigint[]) AND i.status = %s AND NOT (i.id = ANY(%s::bigint[]))",
                [_int_array(sorted(customers)), InvoiceStatus.OPEN.value, _int_array(self.items)],
            )
        )
        for customer_id in customers:
            self.overdue[customer_id] = sorted(
                (item for item in self.by_customer[customer_id] if item.invoice.status == InvoiceStatus.OPEN),
                key=lambda i: (i.invoice.due_date, i.invoice.invoice_date, i.invoice.id),
            )

    def _plan_one(self, p: bankfiles.BankPayment) -> _Plan:
        ref = _clean_reference(p.reference)
        item = self.by_ref.get(ref)
        if item is None:
            if not ref:
                detail = Payment.MatchDetail.NO_REFERENCE
            elif not references.has_valid_check_digit(ref):
                detail = Payment.MatchDetail.INVALID_CHECK_DIGIT
            elif ref in self.elsewhere:
                detail = Payment.MatchDetail.OTHER_LEDGER
            else:
                detail = Payment.MatchDetail.NO_MATCH
            misdirected = ",".join(self.elsewhere.get(ref, []))[:100]
            return _Plan(
                bank=p,
                reference=ref,
                status=Payment.Status.UNIDENTIFIED,
                outcome=Payment.Outcome.MISDIRECTED if misdirected else Payment.Outcome.UNIDENTIFIED,
                match_detail=detail,
                misdirected=misdirected,
                suspense=p.amount,
            )

        order = self.order
        plan = _Plan(bank=p, reference=ref, status=Payment.Status.ALLOCATED, outcome="", item=item)
        remaining = p.amount
        if item.closed:
            plan.outcome = Payment.Outcome.DOUBLE
        else:
            open_before = item.open_amount
            taken = item.take(remaining, order)
            remaining -= sum(taken.values(), ZERO)
            plan.placed.append(_Placed(item=item, taken=taken, settles=item.closed))
            plan.outcome = (
                Payment.Outcome.EXACT
                if p.amount == open_before
                else Payment.Outcome.PARTIAL
                if p.amount < open_before
                else Payment.Outcome.OVERPAID
            )
        if remaining > 0:
            for other in self.overdue.get(item.invoice.customer_id, []):
                if other is item or other.closed or other.invoice.due_date >= p.booking_date:
                    continue
                taken = other.take(remaining, order)
                remaining -= sum(taken.values(), ZERO)
                plan.placed.append(_Placed(item=other, taken=taken, settles=other.closed, surplus=True))
                if remaining <= 0:
                    break
        plan.credit = remaining
        return plan
