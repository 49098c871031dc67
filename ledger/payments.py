"""Payments: bank files in, matching and allocation, and the operator's corrections.

A bank file is checked whole first (the parsers in ledger.bankfiles check record counts, control
totals, dates and amounts); a file that fails is rejected whole and books nothing. An accepted file is
booked in one database transaction: each payment is one PAYMENT journal transaction that brings the
money in on the client-funds account and places it, in the same transaction, on the matched invoice
(in the ledger's allocation order), on the customer's credit balance (surplus) or on suspense
(unidentified). Files (by digest) and payments (by bank archive reference) are booked at most once.

Booking a file is two phases: `_plan` decides everything in memory from a few set-based queries
(invoices by reference, their balances, archive references already booked), then `_write` writes it
set-based: ids reserved up front, the Payment, journal transaction, posting and invoice-event rows
written with COPY, and the invoices the file settles closed with one UPDATE.

Operator services (each one database transaction, recorded with who and why as a PaymentEvent):
`payment_allocate`, `payment_refund`, `customer_credit_move`, `customer_credit_refund`,
`payment_reverse`, `payment_move_to_ledger`.
"""

import hashlib
import queue
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import islice
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from . import bankfiles, references
from .bank_accounts import bank_account_clean
from .bulk import gc_paused
from .dbstats import BULK_TABLES, analyze_if_never_analyzed
from .errors import FileRejected, InvalidTransition, NotFound, ValidationFailed
from .models import (
    RECEIVABLE_ROLE_BY_COMPONENT,
    AccountRole,
    AllocationOrder,
    Component,
    Customer,
    Invoice,
    InvoiceEvent,
    InvoiceEventKind,
    InvoiceStatus,
    JournalTransaction,
    Ledger,
    Payment,
    PaymentEvent,
    PaymentEventKind,
    PaymentFile,
    PaymentFileStatus,
    Payout,
    Posting,
    TransactionKind,
    User,
)
from .money import ZERO, to_money
from .payment_selectors import customer_credit_balance, payment_unallocated
from .selectors import invoice_balance, ledger_for_account
from .services import (
    ALLOWED_TRANSITIONS,
    BULK_SIZE,
    Line,
    _accounts_by_role,
    _actor_fields,
    _copy_field,
    _copy_lines,
    _guard_not_closed,
    _int_array,
    _invoice_event,
    _lock_invoice,
    _next_ids,
    _positive_amount,
    invoice_close_if_settled,
    journal_book,
)

BANK_ACTOR = "bank"
MAX_FILE_BYTES = 256 * 1024 * 1024

# The components as plain strings: planning touches them millions of times in a large file, and an
# enum member costs several times a str to look up and hash (they compare and hash equal).
CAPITAL, FEE, INTEREST = Component.CAPITAL.value, Component.FEE.value, Component.INTEREST.value
COMPONENT_ORDER = {
    AllocationOrder.CAPITAL_FIRST: (CAPITAL, FEE, INTEREST),
    AllocationOrder.COSTS_FIRST: (FEE, INTEREST, CAPITAL),
}


class PaymentFileRejected(FileRejected):
    """A bank payment file is refused whole."""


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


# --- Bank files in --------------------------------------------------------------------------------


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


def _posting_rows(ledger: Ledger, plan: _Plan, accounts: dict[str, int]) -> list[tuple]:
    """A planned payment's postings, as COPY rows: the money in on the client-funds account, placed on
    the invoices' components, the customer's credit balance (surplus) or suspense (unidentified).

    What `journal_book` checks before it books holds here too: at least two postings, none zero,
    summing to zero (the amounts are the bank file's and the invoices' own two-decimal Decimals).
    `accounts` maps roles (and components, to their receivable account) to account ids: `_account_ids`."""
    transaction_id, payment_id, ledger_id, currency = (
        plan.transaction_id,
        plan.payment_id,
        ledger.id,
        ledger.currency,
    )
    lines = [(CLIENT_FUNDS_BANK, plan.amount, "", None, None)]
    for placed in plan.placed:
        invoice = placed.item.invoice
        for component, amount in placed.taken.items():
            lines.append((component, -amount, component, invoice.id, invoice.customer_id))
    if plan.credit > 0:
        lines.append((CUSTOMER_CREDIT, -plan.credit, "", None, plan.item.invoice.customer_id))
    if plan.suspense > 0:
        lines.append((SUSPENSE, -plan.suspense, "", None, None))
    if len(lines) < 2:
        raise ValidationFailed(
            f"payment {plan.bank.archive_ref}: a transaction needs at least two postings",
            code="unbalanced_transaction",
        )
    total = ZERO
    rows = []
    for role, amount, component, invoice_id, customer_id in lines:
        account_id = accounts.get(role)
        if account_id is None or not amount:
            _refuse_posting(ledger, plan, role, amount)
        total += amount
        rows.append(
            (
                transaction_id,
                ledger_id,
                account_id,
                invoice_id,
                customer_id,
                payment_id,
                component,
                amount,
                currency,
            )
        )
    if total:
        raise ValidationFailed(
            f"payment {plan.bank.archive_ref}: postings sum to {total}, not zero",
            code="unbalanced_transaction",
        )
    return rows


# Roles as plain strings, for the same reason as the components above.
CLIENT_FUNDS_BANK, CUSTOMER_CREDIT, SUSPENSE = (
    AccountRole.CLIENT_FUNDS_BANK.value,
    AccountRole.CUSTOMER_CREDIT.value,
    AccountRole.SUSPENSE.value,
)


def _account_ids(ledger: Ledger) -> dict[str, int]:
    """The ledger's account ids by role, and by component for the component's receivable account."""
    by_role = _accounts_by_role(ledger)
    by_component = {
        str(component): by_role[role]
        for component, role in RECEIVABLE_ROLE_BY_COMPONENT.items()
        if role in by_role
    }
    return {**{str(role): account_id for role, account_id in by_role.items()}, **by_component}


def _refuse_posting(ledger: Ledger, plan: _Plan, role: str, amount: Decimal):
    if not amount:
        raise ValidationFailed(
            f"payment {plan.bank.archive_ref}: a posting amount must not be zero", code="zero_posting"
        )
    role = RECEIVABLE_ROLE_BY_COMPONENT.get(role, role)
    raise ValidationFailed(
        f"ledger {ledger.company_no} has no account for {[AccountRole(role)]}", code="account_missing"
    )


# The columns the import writes with COPY (the rest keep their NULL defaults).
PAYMENT_COPY_COLUMNS = [
    "id", "ledger_id", "file_id", "bank_archive_ref", "amount", "currency", "payment_ref", "payer_name",
    "payer_account", "receiving_account", "text", "booking_date", "value_date", "status", "outcome",
    "match_detail", "invoice_id", "customer_id", "misdirected_company_no", "created_at",
]  # fmt: skip
TRANSACTION_COPY_COLUMNS = [
    "id", "ledger_id", "booking_date", "kind", "cause", "description", "invoice_id", "payment_id",
    "created_by_id", "actor", "created_at",
]  # fmt: skip
POSTING_COPY_COLUMNS = [
    "transaction_id", "ledger_id", "account_id", "invoice_id", "customer_id", "payment_id", "component",
    "amount", "currency",
]  # fmt: skip
INVOICE_EVENT_COPY_COLUMNS = [
    "ledger_id", "invoice_id", "kind", "from_status", "to_status", "booking_date", "reason", "transaction_id",
    "created_by_id", "actor", "created_at",
]  # fmt: skip


# Payments per round of COPYs: the next round is prepared while the database stores this one.
WRITE_CHUNK = 10_000
# The first round is small, so that the writer starts at once instead of waiting for a whole round.
FIRST_ROUND = 1_000


class _BackgroundWriter:
    """Runs the import's statements in a thread of their own, on the same connection and transaction.

    The import's time is half Python (deciding and building the rows) and half PostgreSQL (storing them,
    keeping the indexes and checking the keys). Done one after the other, the two add up; here the main
    thread prepares the next round of rows while this thread waits for PostgreSQL to store the last
    one (waiting on the server releases the GIL). The main thread does not use the connection until
    `close`; psycopg connections are thread-safe, so even if it did, it would wait its turn.
    A failed statement stops the writer; the error is raised in the main thread, and the caller's
    transaction rolls back as ever.
    """

    def __init__(self):
        connection.ensure_connection()
        self.raw = connection.connection  # psycopg's connection: Django's wrapper is per thread
        self.jobs: queue.Queue = queue.Queue(maxsize=2)  # bounded: at most two rounds of rows in memory
        self.error: BaseException | None = None
        self.cancelled = False
        self.thread = threading.Thread(target=self._run, name="payments-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with self.raw.cursor() as cursor:
            while (job := self.jobs.get()) is not None:
                if self.error is None and not self.cancelled:
                    try:
                        job(cursor)
                    except BaseException as exc:  # noqa: BLE001 (handed to the main thread)
                        self.error = exc

    def submit(self, job: Callable) -> None:
        self._raise_error()
        self.jobs.put(job)

    def close(self) -> None:
        self.jobs.put(None)
        self.thread.join()
        self._raise_error()

    def _raise_error(self) -> None:
        if self.error is not None:
            with connection.wrap_database_errors:  # a key conflict is an IntegrityError, as with bulk_create
                raise self.error

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:  # the main thread failed: the writer skips what is queued, then the caller rolls back
            self.cancelled = True
            self.jobs.put(None)
            self.thread.join()
        return False


def _write(ledger: Ledger, file_row: PaymentFile, plans: list[_Plan], actor) -> None:
    """Write planned payments set-based, in the caller's database transaction, as one round (see
    `_round`): what `journal_book` and `invoice_close_if_settled` would write one payment at a time."""
    if plans:
        fields = _round_fields(ledger, file_row, actor)
        _IdBlock(len(plans)).assign(plans)
        with _BackgroundWriter() as writer:
            writer.submit(_round(plans, analyze=len(plans) >= BULK_SIZE, **fields))


def _round_fields(ledger: Ledger, file_row: PaymentFile, actor) -> dict:
    created_by_id, actor_label = _actor_fields(actor)
    return dict(ledger=ledger, file_row=file_row, accounts=_account_ids(ledger), created_by_id=created_by_id,
                actor_label=actor_label, now=timezone.now())  # fmt: skip


class _IdBlock:
    """Payment and transaction ids reserved up front (the postings and events name them), `count` at a
    time, handed out as rounds need them."""

    def __init__(self, count: int):
        self.payment_ids: list[int] = []
        self.transaction_ids: list[int] = []
        self._reserve(count)

    def _reserve(self, count: int) -> None:
        if count > 0:
            self.payment_ids += _next_ids("ledger_payment", count)
            self.transaction_ids += _next_ids("ledger_journaltransaction", count)

    def assign(self, plans: list[_Plan]) -> None:
        self._reserve(len(plans) - len(self.payment_ids))
        for plan, payment_id, transaction_id in zip(
            plans, self.payment_ids, self.transaction_ids, strict=False
        ):
            plan.payment_id, plan.transaction_id = payment_id, transaction_id
        del self.payment_ids[: len(plans)], self.transaction_ids[: len(plans)]


def _round(plans, *, ledger, file_row, accounts, created_by_id, actor_label, now, analyze) -> Callable:
    """Build one round's rows (here, in the main thread) and return the job that stores them.

    The rows are built as lines of COPY's text format (services._copy_field), so that the writer thread
    only sends them: formatting there would hold the interpreter lock while PostgreSQL waits for data.
    """
    text = _copy_field  # escapes what came from the bank file (tabs, newlines, backslashes)
    ledger_id, file_id = ledger.id, _nullable(file_row.id)
    who = f"{_nullable(created_by_id)}\t{text(actor_label)}\t{now.isoformat()}\n"
    payments, transactions, postings, events = [], [], [], []
    for plan in plans:
        bank, invoice = plan.bank, plan.item.invoice if plan.item else None
        invoice_id = invoice.id if invoice else "\\N"
        customer_id = invoice.customer_id if invoice else "\\N"
        payments.append(
            f"{plan.payment_id}\t{ledger_id}\t{file_id}\t{text(bank.archive_ref)}\t{plan.amount}\t"
            f"{text(bank.currency)}\t{text(plan.reference[:40])}\t{text(bank.payer_name[:200])}\t"
            f"{text(bank.payer_account[:40])}\t{text(bank.receiving_account[:40])}\t{text(bank.text)}\t"
            f"{bank.booking_date}\t{bank.value_date}\t{plan.status}\t{plan.outcome}\t{plan.match_detail}\t"
            f"{invoice_id}\t{customer_id}\t{text(plan.misdirected)}\t{now.isoformat()}\n"
        )
        description = text(f"Payment {bank.archive_ref} {plan.reference}".strip()[:200])
        transactions.append(
            f"{plan.transaction_id}\t{ledger_id}\t{bank.booking_date}\t{PAYMENT}\t\t{description}\t"
            f"{invoice_id}\t{plan.payment_id}\t{who}"
        )
        for (
            transaction_id,
            _,
            account_id,
            line_invoice,
            line_customer,
            payment_id,
            component,
            amount,
            currency,
        ) in _posting_rows(ledger, plan, accounts):
            postings.append(
                f"{transaction_id}\t{ledger_id}\t{account_id}\t{_nullable(line_invoice)}\t"
                f"{_nullable(line_customer)}\t{payment_id}\t{component}\t{amount}\t{currency}\n"
            )
        for placed in plan.placed:
            placed_invoice = placed.item.invoice
            note = text(
                f"payment {bank.archive_ref}{' (surplus)' if placed.surplus else ''}: {placed.amount}"[:500]
            )
            kind = PAID if placed.settles else PARTIALLY_PAID
            events.append(
                f"{ledger_id}\t{placed_invoice.id}\t{kind}\t{placed_invoice.status}\t{placed_invoice.status}\t"
                f"{bank.booking_date}\t{note}\t{plan.transaction_id}\t{who}"
            )
    closes, closed_events = _closes(ledger, plans, who=who)

    def store(cursor) -> None:
        _copy_lines("ledger_payment", PAYMENT_COPY_COLUMNS, payments, cursor=cursor)
        _copy_lines("ledger_journaltransaction", TRANSACTION_COPY_COLUMNS, transactions, cursor=cursor)
        if analyze:
            analyze_if_never_analyzed((*BULK_TABLES, "ledger_payment"), cursor=cursor)
        _copy_lines("ledger_posting", POSTING_COPY_COLUMNS, postings, cursor=cursor)
        if events:
            _copy_lines("ledger_invoiceevent", INVOICE_EVENT_COPY_COLUMNS, events, cursor=cursor)
        if closes:
            _close_invoices(cursor, ledger, closes)
            _copy_lines("ledger_invoiceevent", INVOICE_EVENT_COPY_COLUMNS, closed_events, cursor=cursor)

    return store


# Choices as plain strings, formatted into COPY lines.
PAYMENT = TransactionKind.PAYMENT.value
PAID, PARTIALLY_PAID, CLOSED = (
    InvoiceEventKind.PAID.value,
    InvoiceEventKind.PARTIALLY_PAID.value,
    InvoiceEventKind.CLOSED.value,
)


def _nullable(value) -> str:
    return "\\N" if value is None else str(value)


def _closes(ledger: Ledger, plans: list[_Plan], *, who: str) -> tuple[list, list]:
    """The invoices this round's payments settle, as (id, closed_on), and their `closed` events as COPY
    lines (`who`: the lines' created_by, actor and created_at): what invoice_close_if_settled does for
    each (status closed, closed_on = booking date, no respite). The invoices are marked closed in
    memory at once, for the rounds that follow."""
    settled = [(placed.item.invoice, plan) for plan in plans for placed in plan.placed if placed.settles]
    for status in {invoice.status for invoice, _ in settled}:
        if (InvoiceStatus(status), InvoiceStatus.CLOSED) not in ALLOWED_TRANSITIONS:
            invoice = next(invoice for invoice, _ in settled if invoice.status == status)
            raise InvalidTransition(
                f"invoice {invoice.invoice_no}: cannot go from {invoice.status} to {InvoiceStatus.CLOSED.value}"
            )
    closes, events = [], []
    for invoice, plan in settled:
        booking_date = plan.bank.booking_date
        closes.append((invoice.id, booking_date))
        reason = _copy_field(f"paid by payment {plan.bank.archive_ref}"[:500])
        events.append(
            f"{ledger.id}\t{invoice.id}\t{CLOSED}\t{invoice.status}\t{CLOSED}\t{booking_date}\t{reason}\t"
            f"{plan.transaction_id}\t{who}"
        )
        invoice.status, invoice.closed_on, invoice.respite_until = (
            InvoiceStatus.CLOSED.value,
            booking_date,
            None,
        )
    return closes, events


def _close_invoices(cursor, ledger: Ledger, closes: list[tuple[int, date]]) -> None:
    cursor.execute(
        """
        UPDATE ledger_invoice AS i
           SET status = %s, closed_on = v.closed_on, respite_until = NULL
          FROM unnest(%s::bigint[], %s::date[]) AS v(id, closed_on)
         WHERE i.id = v.id AND i.ledger_id = %s AND i.status <> %s
        """,
        [
            InvoiceStatus.CLOSED.value,
            # Array literals as text, as services._next_customer_serials does: cheaper than lists.
            _int_array(invoice_id for invoice_id, _ in closes),
            "{" + ",".join(closed_on.isoformat() for _, closed_on in closes) + "}",
            ledger.id,
            InvoiceStatus.CLOSED.value,
        ],
    )
    if cursor.rowcount != len(closes):
        raise InvalidTransition(
            f"{len(closes) - cursor.rowcount} of the {len(closes)} invoices the payments settle "
            "are closed already or not of this ledger",
            code="invoice_closed",
        )


def _empty_summary(name: str, fmt: str, ledger: Ledger | None) -> dict:
    return {
        "file": name,
        "format": fmt,
        "status": "",
        "ledger": ledger.company_no if ledger else None,
        "currency": ledger.currency if ledger else None,
        "payments": 0,
        "total_amount": str(ZERO),
        "matched": 0,
        "partially_paid": 0,
        "overpaid": 0,
        "double_paid": 0,
        "unidentified": 0,
        "misdirected": 0,
        "duplicates_skipped": 0,
        "not_booked": 0,
        "booked_by_date": {},
        "errors": [],
    }


_OUTCOME_KEYS = {
    Payment.Outcome.EXACT: "matched",
    Payment.Outcome.PARTIAL: "partially_paid",
    Payment.Outcome.OVERPAID: "overpaid",
    Payment.Outcome.DOUBLE: "double_paid",
    Payment.Outcome.UNIDENTIFIED: "unidentified",
    Payment.Outcome.MISDIRECTED: "unidentified",
}


def _payment_error(p: bankfiles.BankPayment, code: str, message: str) -> dict:
    return {"code": code, "message": message, "line": p.line, "archive_ref": p.archive_ref}


def payments_import(
    *,
    data: bytes,
    file_name: str,
    company_no: str | None = None,
    format: str | None = None,
    actor: User | str | None = BANK_ACTOR,
) -> dict:
    """Import one bank payment file; returns its summary (also kept on the PaymentFile row).

    status is "accepted" (booked; payments that cannot be booked are listed in errors), "duplicate"
    (the same content was booked before: nothing booked) or "rejected" (nothing booked; errors say why).
    The matched / partially_paid / overpaid / double_paid / unidentified counts add up to `payments`,
    the number booked; `misdirected` counts the unidentified payments bearing another ledger's reference.
    """
    with gc_paused():
        return _payments_import(
            data=data, file_name=file_name, company_no=company_no, format=format, actor=actor
        )


def _payments_import(*, data, file_name, company_no, format, actor) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    created_by_id, actor_label = _actor_fields(actor)
    ledger = None
    fmt = format or ""
    summary = _empty_summary(file_name, fmt, None)
    try:
        if len(data) > MAX_FILE_BYTES:
            raise PaymentFileRejected(
                f"the file has {len(data)} bytes; at most {MAX_FILE_BYTES} are accepted",
                code="file_too_large",
            )
        try:
            bank = bankfiles.open_bank_file(data, format=format, name=file_name)
        except bankfiles.BankFileError as exc:
            raise PaymentFileRejected(exc.message, code=exc.code, line=exc.line) from exc
        fmt = bank.format
        if bank.test:
            raise PaymentFileRejected("the file is marked as a test file; it is not booked", code="test_file")
        ledger = ledger_for_account(accounts=bank.receiving_accounts, company_no=company_no)
        summary = _empty_summary(file_name, fmt, ledger)
        try:
            with transaction.atomic():
                # One import per ledger at a time: archive references and invoice balances stay consistent.
                Ledger.objects.select_for_update().filter(pk=ledger.pk).first()
                earlier = PaymentFile.objects.filter(
                    ledger=ledger, digest=digest, status=PaymentFileStatus.ACCEPTED
                ).first()
                fields = dict(ledger=ledger, file_name=file_name[:255], format=fmt, digest=digest, size=len(data),
                              created_by_id=created_by_id, actor=actor_label)  # fmt: skip
                if earlier is not None:
                    summary["status"] = PaymentFileStatus.DUPLICATE
                    summary["duplicates_skipped"] = bank.count
                    summary["duplicate_of"] = {"payment_file": earlier.pk, "file": earlier.file_name}
                    row = PaymentFile.objects.create(
                        status=PaymentFileStatus.DUPLICATE, summary=summary, **fields
                    )
                    return {**summary, "payment_file": row.pk}

                file_row = PaymentFile.objects.create(status=PaymentFileStatus.ACCEPTED, summary={}, **fields)
                # Read, planned and written in rounds: a round is stored while the next is read and decided.
                _book_rounds(
                    ledger=ledger, file_row=file_row, payments=bank.payments(), references=bank.references(),
                    expected=bank.count,
                    actor=actor, summary=summary,
                )  # fmt: skip
                summary["status"] = PaymentFileStatus.ACCEPTED
                PaymentFile.objects.filter(pk=file_row.pk).update(summary=summary)
        except bankfiles.BankFileError as exc:  # found while reading: nothing of the file was kept
            raise PaymentFileRejected(exc.message, code=exc.code, line=exc.line) from exc
        except IntegrityError as exc:
            # Only a concurrent import of the same file or payments gets here (the ledger lock prevents it
            # within one database); nothing of this import was written.
            raise ValidationFailed(
                f"{file_name}: conflicts with a concurrent import: {exc}", code="import_conflict"
            ) from exc
    except FileRejected as exc:  # ours, or the ledger lookup's
        summary = _empty_summary(file_name, fmt, ledger)
        summary["status"] = PaymentFileStatus.REJECTED
        summary["errors"] = [exc.as_dict()]
        row = PaymentFile.objects.create(
            ledger=ledger,
            file_name=file_name[:255],
            format=fmt,
            digest=digest,
            size=len(data),
            status=PaymentFileStatus.REJECTED,
            summary=summary,
            created_by_id=created_by_id,
            actor=actor_label,
        )
        return {**summary, "payment_file": row.pk}
    return {**summary, "payment_file": file_row.pk}


def _book_rounds(
    *,
    ledger,
    file_row,
    payments: Iterator[bankfiles.BankPayment],
    references: set[str],
    expected: int,
    actor,
    summary,
):
    """Book the file's payments in rounds (FIRST_ROUND, then WRITE_CHUNK payments): each round's
    payments are checked (currency, kind, archive reference booked before), planned (`_Planner`) and
    built here, then stored by a `_BackgroundWriter` while the next round is read and planned.
    Fills in the summary's counts."""
    planner = _Planner(ledger)
    planner.preload(references)
    fields = _round_fields(ledger, file_row, actor)
    booked_by_date: dict[date, Decimal] = defaultdict(Decimal)
    booked = 0
    # The rows' ids for as many payments as the file declares, up front: the main thread's queries
    # wait for the writer's statement in progress, so the fewer it makes the better.
    ids = _IdBlock(expected)
    with _BackgroundWriter() as writer:
        size, first = FIRST_ROUND, True
        while batch := list(islice(payments, size)):
            plans = planner.plan(_bookable(ledger, batch, summary))
            for plan in plans:
                summary[_OUTCOME_KEYS[plan.outcome]] += 1
                if plan.outcome == Payment.Outcome.MISDIRECTED:
                    summary["misdirected"] += 1
                booked_by_date[plan.bank.booking_date] += plan.amount
            booked += len(plans)
            if plans:
                ids.assign(plans)
                # Statistics before the key checks plan their lookups (ledger/dbstats.py): the first
                # round's payment rows are in the table by the time its postings are checked.
                writer.submit(_round(plans, analyze=first and expected >= BULK_SIZE, **fields))
                first = False
            size = WRITE_CHUNK
    summary["payments"] = booked
    summary["total_amount"] = str(to_money(sum(booked_by_date.values(), ZERO)))
    summary["booked_by_date"] = {d.isoformat(): str(to_money(a)) for d, a in sorted(booked_by_date.items())}


def _bookable(
    ledger: Ledger, batch: list[bankfiles.BankPayment], summary: dict
) -> list[bankfiles.BankPayment]:
    """The payments of a round that can be booked: incoming, in the ledger's currency, not booked before.
    The others are counted in the summary (errors, not_booked, duplicates_skipped)."""
    bookable = []
    for p in batch:
        if p.currency != ledger.currency:
            summary["errors"].append(
                _payment_error(
                    p,
                    "currency_mismatch",
                    f"{p.currency} {p.amount}: ledger {ledger.company_no} books {ledger.currency} only",
                )
            )
        elif p.kind != "payment" or p.amount <= 0:
            summary["errors"].append(
                _payment_error(
                    p, "not_a_payment", f"{p.kind} of {p.amount}: only incoming payments are booked"
                )
            )
        else:
            bookable.append(p)
    summary["not_booked"] = len(summary["errors"])
    already = _archive_refs_booked(ledger, [p.archive_ref for p in bookable])
    summary["duplicates_skipped"] += sum(1 for p in bookable if p.archive_ref in already)
    return [p for p in bookable if p.archive_ref not in already]


def _archive_refs_booked(ledger: Ledger, archive_refs: list[str]) -> set[str]:
    """Which of these bank archive references the ledger has booked already (one array parameter: a
    100,000-payment file would otherwise make a query of 100,000 placeholders)."""
    if not archive_refs:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bank_archive_ref FROM ledger_payment WHERE ledger_id = %s AND bank_archive_ref = ANY(%s::text[])",
            [ledger.id, archive_refs],
        )
        return {ref for (ref,) in cursor.fetchall()}


def payment_file_import(
    *,
    path: Path | str,
    company_no: str | None = None,
    format: str | None = None,
    actor: User | str | None = BANK_ACTOR,
) -> dict:
    """Import a bank payment file from disk (see payments_import)."""
    path = Path(path)
    with path.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)  # one byte more than allowed is enough to refuse it
    return payments_import(data=data, file_name=path.name, company_no=company_no, format=format, actor=actor)


# --- Operator services ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Allocation:
    """Place (part of) a payment on an invoice; amount None = as much as is open, up to what is left."""

    invoice: Invoice
    amount: Decimal | None = None


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("say why: a reason is required", code="reason_required", field="reason")
    return reason


def _lock_payment(payment: Payment) -> Payment:
    try:
        return Payment.objects.select_for_update(of=("self",)).select_related("ledger").get(pk=payment.pk)
    except Payment.DoesNotExist as exc:
        raise NotFound(f"payment {payment.bank_archive_ref} not found", code="payment_not_found",
                       params={"number": payment.bank_archive_ref}) from exc  # fmt: skip


def _lock_customer(customer: Customer) -> Customer:
    try:
        return Customer.objects.select_for_update(of=("self",)).select_related("ledger").get(pk=customer.pk)
    except Customer.DoesNotExist as exc:
        raise NotFound(f"customer {customer.customer_no} not found", code="customer_not_found",
                       params={"number": customer.customer_no}) from exc  # fmt: skip


def _guard_unidentified(payment: Payment, action: str) -> None:
    if payment.status == Payment.Status.UNIDENTIFIED:
        return
    code = {
        Payment.Status.REFUNDED: "payment_refunded",
        Payment.Status.REVERSED: "payment_reversed",
        Payment.Status.MOVED: "payment_moved",
    }.get(payment.status, "payment_not_unidentified")
    raise InvalidTransition(
        f"payment {payment.bank_archive_ref} is {payment.status}: cannot {action}", code=code
    )


def _open_item(invoice: Invoice) -> _OpenItem:
    balance = invoice_balance(invoice)
    return _OpenItem.of(invoice, balance.capital, balance.fees, balance.interest)


def _payment_event(*, ledger, kind, amount, booking_date, reason, txn, actor, payment=None, customer=None):
    created_by_id, actor_label = _actor_fields(actor)
    return PaymentEvent.objects.create(
        ledger=ledger,
        payment=payment,
        customer=customer,
        kind=kind,
        amount=amount,
        booking_date=booking_date,
        reason=reason[:500],
        transaction=txn,
        created_by_id=created_by_id,
        actor=actor_label,
    )


def _book_invoice_placements(placed: list[_Placed], *, txn, booking_date, actor, what: str) -> None:
    events, closes = _events_and_closes(placed, txn=txn, booking_date=booking_date, actor=actor, what=what)
    InvoiceEvent.objects.bulk_create(events)
    for p in closes:
        invoice_close_if_settled(
            invoice=p.item.invoice, booking_date=booking_date, actor=actor, reason=f"paid: {what}", txn=txn
        )


def _payout(*, ledger, amount, bank_account, reason, txn, actor, customer=None, payment=None) -> Payout:
    """The pending payout of a booked refund. The account is checked here, for every caller: a number that
    fails its check digits raises, and the caller's transaction (the booking with it) is rolled back."""
    bank_account = bank_account_clean(bank_account, country=ledger.country)
    created_by_id, actor_label = _actor_fields(actor)
    return Payout.objects.create(
        ledger=ledger,
        customer=customer,
        payment=payment,
        amount=amount,
        currency=ledger.currency,
        bank_account=bank_account,
        reason=reason[:500],
        transaction=txn,
        created_by_id=created_by_id,
        actor=actor_label,
    )


def payment_allocate(
    *,
    payment: Payment,
    allocations: Sequence[Allocation],
    actor: User | str | None,
    reason: str,
    credit_customer: Customer | None = None,
    booking_date: date | None = None,
) -> JournalTransaction:
    """Place an unidentified payment's suspense money on invoices (in the ledger's allocation order),
    and what is left on `credit_customer`'s credit balance if given (else it stays on suspense).

    One ALLOCATION transaction: Dr suspense / Cr receivables (+ Cr customer_credit).
    """
    reason = _require_reason(reason)
    if not allocations and credit_customer is None:
        raise ValidationFailed("give invoices or a customer to allocate to", code="nothing_to_allocate")
    with transaction.atomic():
        payment = _lock_payment(payment)
        _guard_unidentified(payment, "allocate it")
        ledger = payment.ledger
        booking_date = booking_date or ledger.today()
        order = COMPONENT_ORDER[AllocationOrder(ledger.allocation_order)]
        unallocated = payment_unallocated(payment=payment)
        remaining = unallocated
        placed: list[_Placed] = []
        seen = set()
        for allocation in allocations:
            invoice = _lock_invoice(allocation.invoice)
            if invoice.ledger_id != ledger.id:
                raise ValidationFailed(
                    f"invoice {invoice.invoice_no} belongs to another ledger", code="invoice_not_in_ledger"
                )
            if invoice.id in seen:
                raise ValidationFailed(
                    f"invoice {invoice.invoice_no} is given twice", code="duplicate_invoice"
                )
            seen.add(invoice.id)
            _guard_not_closed(invoice, "allocate a payment to it")
            item = _open_item(invoice)
            if allocation.amount is None:
                amount = min(item.open_amount, remaining)
            else:
                amount = _positive_amount(allocation.amount, "amount")
                if amount > item.open_amount:
                    raise ValidationFailed(
                        f"invoice {invoice.invoice_no}: {amount} exceeds its open amount {item.open_amount}",
                        code="allocation_exceeds_open",
                        field="amount",
                    )
            if amount <= 0 or amount > remaining:
                raise ValidationFailed(
                    f"payment {payment.bank_archive_ref}: allocating {amount} to invoice {invoice.invoice_no} "
                    f"exceeds the {remaining} left unallocated",
                    code="allocation_exceeds_unallocated",
                    field="amount",
                )
            taken = item.take(amount, order)
            remaining -= amount
            placed.append(_Placed(item=item, taken=taken, settles=item.closed))
        credit = ZERO
        if credit_customer is not None:
            if credit_customer.ledger_id != ledger.id:
                raise ValidationFailed(
                    f"customer {credit_customer.customer_no} belongs to another ledger",
                    code="customer_not_in_ledger",
                )
            credit, remaining = remaining, ZERO
        total = unallocated - remaining
        if total <= 0:
            raise ValidationFailed(
                f"payment {payment.bank_archive_ref}: nothing left to allocate", code="nothing_to_allocate"
            )
        lines = [Line(role=AccountRole.SUSPENSE, amount=total, payment_id=payment.id)]
        for p in placed:
            lines += _receivable_lines(p.item.invoice, p.taken, payment.id)
        if credit > 0:
            lines.append(
                Line(
                    role=AccountRole.CUSTOMER_CREDIT,
                    amount=-credit,
                    customer=credit_customer,
                    payment_id=payment.id,
                )
            )
        txn = journal_book(
            ledger=ledger,
            kind=TransactionKind.ALLOCATION,
            booking_date=booking_date,
            lines=lines,
            actor=actor,
            invoice=placed[0].item.invoice if placed else None,
            payment_id=payment.id,
            description=f"Allocation of payment {payment.bank_archive_ref}: {reason}",
        )
        _book_invoice_placements(
            placed,
            txn=txn,
            booking_date=booking_date,
            actor=actor,
            what=f"payment {payment.bank_archive_ref}",
        )
        if payment.invoice_id is None and placed:
            payment.invoice = placed[0].item.invoice
        if payment.customer_id is None:
            payment.customer = placed[0].item.invoice.customer if placed else credit_customer
        payment.status = Payment.Status.ALLOCATED if remaining == 0 else Payment.Status.UNIDENTIFIED
        payment.save(update_fields=["invoice", "customer", "status"])
        _payment_event(
            ledger=ledger,
            payment=payment,
            customer=payment.customer,
            kind=PaymentEventKind.ALLOCATED,
            amount=total,
            booking_date=booking_date,
            reason=reason,
            txn=txn,
            actor=actor,
        )
    return txn


def payment_refund(
    *,
    payment: Payment,
    actor: User | str | None,
    reason: str,
    bank_account: str = "",
    booking_date: date | None = None,
) -> Payout:
    """Pay back what is left of an unidentified payment to the payer: Dr suspense / Cr client-funds
    bank (PAYOUT), and a pending Payout to `bank_account` (default: the account it was paid from)."""
    reason = _require_reason(reason)
    with transaction.atomic():
        payment = _lock_payment(payment)
        _guard_unidentified(payment, "refund it")
        ledger = payment.ledger
        booking_date = booking_date or ledger.today()
        account = (bank_account or payment.payer_account).strip()
        if not account:
            raise ValidationFailed(
                f"payment {payment.bank_archive_ref} has no payer account: give the bank account to refund to",
                code="bank_account_missing",
                field="bank_account",
            )
        account = bank_account_clean(account, country=ledger.country)  # before anything is booked
        amount = payment_unallocated(payment=payment)
        if amount <= 0:
            raise ValidationFailed(
                f"payment {payment.bank_archive_ref}: nothing left to refund", code="nothing_to_refund"
            )
        txn = journal_book(
            ledger=ledger,
            kind=TransactionKind.PAYOUT,
            booking_date=booking_date,
            lines=[
                Line(role=AccountRole.SUSPENSE, amount=amount, payment_id=payment.id),
                Line(role=AccountRole.CLIENT_FUNDS_BANK, amount=-amount, payment_id=payment.id),
            ],
            actor=actor,
            payment_id=payment.id,
            description=f"Refund of payment {payment.bank_archive_ref}: {reason}",
        )
        payout = _payout(
            ledger=ledger,
            amount=amount,
            bank_account=account,
            reason=reason,
            txn=txn,
            actor=actor,
            customer=payment.customer,
            payment=payment,
        )
        payment.status = Payment.Status.REFUNDED
        payment.save(update_fields=["status"])
        _payment_event(
            ledger=ledger,
            payment=payment,
            customer=payment.customer,
            kind=PaymentEventKind.REFUNDED,
            amount=amount,
            booking_date=booking_date,
            reason=reason,
            txn=txn,
            actor=actor,
        )
    return payout


def customer_credit_move(
    *,
    customer: Customer,
    invoice: Invoice,
    actor: User | str | None,
    reason: str,
    amount: Decimal | None = None,
    booking_date: date | None = None,
) -> JournalTransaction:
    """Settle (part of) a customer's credit balance against one of the customer's open invoices:
    Dr customer_credit / Cr receivables (ALLOCATION). amount None = as much as both allow."""
    reason = _require_reason(reason)
    with transaction.atomic():
        customer = _lock_customer(customer)
        invoice = _lock_invoice(invoice)
        if invoice.customer_id != customer.id:
            raise ValidationFailed(
                f"invoice {invoice.invoice_no} is not customer {customer.customer_no}'s",
                code="customer_mismatch",
            )
        _guard_not_closed(invoice, "move a credit balance to it")
        ledger = customer.ledger
        booking_date = booking_date or ledger.today()
        credit = customer_credit_balance(customer=customer)
        item = _open_item(invoice)
        amount = min(credit, item.open_amount) if amount is None else _positive_amount(amount, "amount")
        if amount > credit:
            raise ValidationFailed(
                f"customer {customer.customer_no}: {amount} exceeds the credit balance {credit}",
                code="exceeds_credit",
                field="amount",
                params={"amount": amount, "credit": credit},
            )
        if amount > item.open_amount:
            raise ValidationFailed(
                f"invoice {invoice.invoice_no}: {amount} exceeds its open amount {item.open_amount}",
                code="allocation_exceeds_open",
                field="amount",
            )
        if amount <= 0:
            raise ValidationFailed(
                f"customer {customer.customer_no} has no credit balance to move", code="no_credit"
            )
        order = COMPONENT_ORDER[AllocationOrder(ledger.allocation_order)]
        taken = item.take(amount, order)
        placed = [_Placed(item=item, taken=taken, settles=item.closed)]
        txn = journal_book(
            ledger=ledger,
            kind=TransactionKind.ALLOCATION,
            booking_date=booking_date,
            lines=[
                Line(role=AccountRole.CUSTOMER_CREDIT, amount=amount, customer=customer),
                *_receivable_lines(invoice, taken, None),
            ],
            actor=actor,
            invoice=invoice,
            description=f"Credit balance of customer {customer.customer_no} to invoice {invoice.invoice_no}: {reason}",
        )
        _book_invoice_placements(
            placed, txn=txn, booking_date=booking_date, actor=actor, what="credit balance"
        )
        _payment_event(
            ledger=ledger,
            customer=customer,
            kind=PaymentEventKind.CREDIT_MOVED,
            amount=amount,
            booking_date=booking_date,
            reason=reason,
            txn=txn,
            actor=actor,
        )
    return txn


def customer_credit_refund(
    *,
    customer: Customer,
    actor: User | str | None,
    reason: str,
    amount: Decimal | None = None,
    bank_account: str = "",
    booking_date: date | None = None,
) -> Payout:
    """Pay (part of) a customer's credit balance back: Dr customer_credit / Cr client-funds bank (PAYOUT)
    and a pending Payout to `bank_account` (default: the account of the customer's latest payment)."""
    reason = _require_reason(reason)
    with transaction.atomic():
        customer = _lock_customer(customer)
        ledger = customer.ledger
        booking_date = booking_date or ledger.today()
        credit = customer_credit_balance(customer=customer)
        amount = credit if amount is None else _positive_amount(amount, "amount")
        if amount > credit:
            raise ValidationFailed(
                f"customer {customer.customer_no}: {amount} exceeds the credit balance {credit}",
                code="exceeds_credit",
                field="amount",
                params={"amount": amount, "credit": credit},
            )
        if amount <= 0:
            raise ValidationFailed(f"customer {customer.customer_no} has no credit balance", code="no_credit")
        account = bank_account.strip() or (
            Payment.objects.filter(customer=customer)
            .exclude(payer_account="")
            .order_by("-booking_date", "-id")
            .values_list("payer_account", flat=True)
            .first()
            or ""
        )
        if not account:
            raise ValidationFailed(
                f"no bank account known for customer {customer.customer_no}: give one",
                code="bank_account_missing",
                field="bank_account",
            )
        account = bank_account_clean(account, country=ledger.country)  # before anything is booked
        txn = journal_book(
            ledger=ledger,
            kind=TransactionKind.PAYOUT,
            booking_date=booking_date,
            lines=[
                Line(role=AccountRole.CUSTOMER_CREDIT, amount=amount, customer=customer),
                Line(role=AccountRole.CLIENT_FUNDS_BANK, amount=-amount, customer=customer),
            ],
            actor=actor,
            description=f"Refund of credit balance of customer {customer.customer_no}: {reason}",
        )
        payout = _payout(
            ledger=ledger,
            amount=amount,
            bank_account=account,
            reason=reason,
            txn=txn,
            actor=actor,
            customer=customer,
        )
        _payment_event(
            ledger=ledger,
            customer=customer,
            kind=PaymentEventKind.CREDIT_REFUNDED,
            amount=amount,
            booking_date=booking_date,
            reason=reason,
            txn=txn,
            actor=actor,
        )
    return payout


def payment_reverse(
    *,
    payment: Payment,
    actor: User | str | None,
    reason: str,
    booking_date: date | None = None,
) -> JournalTransaction:
    """Undo a payment booked by mistake: one REVERSAL transaction negating every posting of the payment
    (its PAYMENT transaction and any later allocation). Invoices it had closed are reopened (event
    `reopened`); others get a `payment_reversed` event. Refused when the payment was refunded, or when
    its surplus has since been used from the customer's credit balance."""
    reason = _require_reason(reason)
    with transaction.atomic():
        payment = _lock_payment(payment)
        if payment.status in (Payment.Status.REVERSED, Payment.Status.REFUNDED, Payment.Status.MOVED):
            raise InvalidTransition(
                f"payment {payment.bank_archive_ref} is {payment.status}: cannot reverse it",
                code=f"payment_{payment.status}",
            )
        ledger = payment.ledger
        booking_date = booking_date or ledger.today()
        original = JournalTransaction.objects.filter(payment=payment, kind=TransactionKind.PAYMENT).first()
        if original is None:
            raise InvalidTransition(
                f"payment {payment.bank_archive_ref} has no payment transaction", code="payment_not_booked"
            )
        net = [
            row
            for row in Posting.objects.filter(payment_id=payment.id)
            .values("account__role", "invoice_id", "component", "customer_id")
            .annotate(total=Sum("amount"))
            .order_by("invoice_id", "account__role", "component")
            if row["total"] != 0
        ]
        invoice_ids = sorted({row["invoice_id"] for row in net if row["invoice_id"]})
        invoices = {i.id: _lock_invoice(i) for i in Invoice.objects.filter(pk__in=invoice_ids).order_by("id")}
        credit_by_customer: dict[int, Decimal] = defaultdict(Decimal)
        for row in net:
            if row["account__role"] == AccountRole.CUSTOMER_CREDIT:
                credit_by_customer[row["customer_id"]] -= row["total"]
        for customer_id, surplus in credit_by_customer.items():
            customer = _lock_customer(Customer(pk=customer_id))
            available = customer_credit_balance(customer=customer)
            if surplus > available:
                raise InvalidTransition(
                    f"payment {payment.bank_archive_ref}: its surplus {surplus} has been used; customer "
                    f"{customer.customer_no} has {available} credit left",
                    code="credit_already_used",
                )
        lines = [
            Line(
                role=AccountRole(row["account__role"]),
                amount=-row["total"],
                component=row["component"],
                invoice=invoices.get(row["invoice_id"]),
                customer=Customer(pk=row["customer_id"], ledger_id=ledger.id) if row["customer_id"] else None,
                payment_id=payment.id,
            )
            for row in net
        ]
        txn = journal_book(
            ledger=ledger,
            kind=TransactionKind.REVERSAL,
            booking_date=booking_date,
            lines=lines,
            actor=actor,
            invoice=payment.invoice,
            payment_id=payment.id,
            reverses=original,
            description=f"Reversal of payment {payment.bank_archive_ref}: {reason}",
        )
        for invoice in invoices.values():
            if invoice.status == InvoiceStatus.CLOSED:
                invoice.status, invoice.closed_on = InvoiceStatus.OPEN, None
                invoice.save(update_fields=["status", "closed_on"])
                kind, from_status = InvoiceEventKind.REOPENED, InvoiceStatus.CLOSED
            else:
                kind, from_status = InvoiceEventKind.PAYMENT_REVERSED, invoice.status
            _invoice_event(
                invoice,
                kind=kind,
                from_status=from_status,
                booking_date=booking_date,
                actor=actor,
                reason=f"payment {payment.bank_archive_ref} reversed: {reason}",
                txn=txn,
            )
        payment.status = Payment.Status.REVERSED
        payment.save(update_fields=["status"])
        _payment_event(
            ledger=ledger,
            payment=payment,
            customer=payment.customer,
            kind=PaymentEventKind.REVERSED,
            amount=payment.amount,
            booking_date=booking_date,
            reason=reason,
            txn=txn,
            actor=actor,
        )
    return txn


def payment_move_to_ledger(
    *,
    payment: Payment,
    actor: User | str | None,
    reason: str,
    booking_date: date | None = None,
) -> Payment:
    """A payment to a reference of another ledger is a misdirected payment: moved to that ledger, or
    refunded. This moves it, in one database transaction:

    - in the receiving ledger the money leaves suspense and the client-funds bank account
      (Dr suspense / Cr client-funds bank, MOVE) and the payment becomes `moved`;
    - in the target ledger a new Payment (no file, archive reference `moved:<CompanyNo>:<archive ref>`,
      same amount, dates and payer) is matched and booked exactly as the import books a payment to that
      reference (one PAYMENT transaction, allocation order, surplus, paid / closed invoice events).

    Both get a PaymentEvent with who and why. Returns the new payment in the target ledger.
    """
    reason = _require_reason(reason)
    with transaction.atomic():
        payment = _lock_payment(payment)
        if payment.status == Payment.Status.MOVED:
            raise InvalidTransition(
                f"payment {payment.bank_archive_ref} is moved already", code="payment_moved"
            )
        _guard_unidentified(payment, "move it to another ledger")
        if payment.outcome != Payment.Outcome.MISDIRECTED:
            raise InvalidTransition(
                f"payment {payment.bank_archive_ref} does not bear another ledger's reference: "
                "allocate or refund it",
                code="payment_not_misdirected",
            )
        source = payment.ledger
        company_nos = [c.strip() for c in payment.misdirected_company_no.split(",") if c.strip()]
        if len(company_nos) != 1:
            raise ValidationFailed(
                f"payment {payment.bank_archive_ref}: its reference is of ledgers "
                f"{', '.join(company_nos) or '(none)'}; it can be moved to exactly one",
                code="target_ledger_ambiguous",
            )
        # As the import does: one booking into a ledger at a time.
        target = Ledger.objects.select_for_update().filter(company_no=company_nos[0]).first()
        if target is None or target.pk == source.pk:
            raise NotFound(f"ledger {company_nos[0]} not found", code="ledger_not_found")
        if target.currency != source.currency or payment.currency != target.currency:
            raise ValidationFailed(
                f"payment {payment.bank_archive_ref} is {payment.currency}; ledger {target.company_no} "
                f"books {target.currency} only",
                code="currency_mismatch",
            )
        amount = payment_unallocated(payment=payment)
        if amount != payment.amount:
            raise InvalidTransition(
                f"payment {payment.bank_archive_ref}: {payment.amount - amount} of it is allocated in "
                f"ledger {source.company_no}; only a wholly unallocated payment can be moved",
                code="payment_partly_allocated",
            )
        archive_ref = f"moved:{source.company_no}:{payment.bank_archive_ref}"
        if len(archive_ref) > Payment._meta.get_field("bank_archive_ref").max_length:
            raise ValidationFailed(
                f"payment {payment.bank_archive_ref}: archive reference {archive_ref} is too long",
                code="archive_ref_too_long",
            )
        if Payment.objects.filter(ledger=target, bank_archive_ref=archive_ref).exists():
            raise InvalidTransition(
                f"payment {archive_ref} is in ledger {target.company_no} already", code="payment_moved"
            )
        bank = bankfiles.BankPayment(
            archive_ref=archive_ref,
            amount=payment.amount,
            currency=payment.currency,
            reference=payment.payment_ref,
            text=payment.text,
            payer_name=payment.payer_name,
            payer_account=payment.payer_account,
            booking_date=payment.booking_date,
            value_date=payment.value_date,
            receiving_account=payment.receiving_account,
            line=None,
        )
        plans = _plan(target, [bank])
        if plans[0].item is None:
            raise ValidationFailed(
                f"payment {payment.bank_archive_ref}: reference {payment.payment_ref} matches no invoice of "
                f"ledger {target.company_no}",
                code="reference_not_in_ledger",
            )
        booking_date = booking_date or source.today()
        txn = journal_book(
            ledger=source,
            kind=TransactionKind.MOVE,
            booking_date=booking_date,
            lines=[
                Line(role=AccountRole.SUSPENSE, amount=amount, payment_id=payment.id),
                Line(role=AccountRole.CLIENT_FUNDS_BANK, amount=-amount, payment_id=payment.id),
            ],
            actor=actor,
            payment_id=payment.id,
            description=f"Payment {payment.bank_archive_ref} moved to ledger {target.company_no}: {reason}",
        )
        payment.status = Payment.Status.MOVED
        payment.save(update_fields=["status"])
        _payment_event(
            ledger=source,
            payment=payment,
            customer=payment.customer,
            kind=PaymentEventKind.MOVED_OUT,
            amount=amount,
            booking_date=booking_date,
            reason=reason,
            txn=txn,
            actor=actor,
        )
        # The import's own writer, for this one payment and no file (an unsaved PaymentFile: file NULL).
        _write(target, PaymentFile(), plans, actor)
        moved = Payment.objects.select_related("ledger").get(pk=plans[0].payment_id)
        _payment_event(
            ledger=target,
            payment=moved,
            customer=moved.customer,
            kind=PaymentEventKind.MOVED_IN,
            amount=moved.amount,
            booking_date=booking_date,
            reason=reason,
            txn=JournalTransaction.objects.get(pk=plans[0].transaction_id),
            actor=actor,
        )
    return moved


__all__ = [
    "Allocation",
    "PaymentFileRejected",
    "customer_credit_move",
    "customer_credit_refund",
    "payment_allocate",
    "payment_file_import",
    "payment_move_to_ledger",
    "payment_refund",
    "payment_reverse",
    "payments_import",
]
