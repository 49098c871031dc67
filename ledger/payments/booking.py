"""Booking a planned bank file set-based: ids reserved up front; Payment, journal transaction, posting
and invoice-event rows written with COPY (in rounds, by a background writer); the invoices the file
settles closed with one UPDATE."""

import queue
import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from ledger.bulk import _copy_field, _copy_lines, _int_array, _next_ids
from ledger.dbstats import BULK_TABLES, analyze_if_never_analyzed
from ledger.errors import InvalidTransition, ValidationFailed
from ledger.models import (
    RECEIVABLE_ROLE_BY_COMPONENT,
    AccountRole,
    InvoiceEventKind,
    InvoiceStatus,
    Ledger,
    PaymentFile,
    TransactionKind,
)
from ledger.money import ZERO
from ledger.payments.matching import _Plan
from ledger.selectors import bank_role_for
from ledger.services.common import _actor_fields
from ledger.services.invoice_changes import ALLOWED_TRANSITIONS
from ledger.services.journal import _accounts_by_role
from ledger.services.registration import BULK_SIZE


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
    bank_role = CLIENT_FUNDS_BANK
    if ledger.collection_funds_account:  # paid into the collection client-funds account: booked on its own
        bank_role = str(bank_role_for(ledger, plan.bank.receiving_account))
    lines = [(bank_role, plan.amount, "", None, None)]
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
