"""Writing a business day's decisions set-based: fee and interest transactions and postings, invoice and
claim events with COPY, the claims updated with one UPDATE, the letters queued."""

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from claims.models import (
    ClaimEventKind,
    ClaimStep,
    FigureKind,
    StepKind,
)
from claims.services.common import STEP_DOCUMENT, STEP_EVENT
from claims.services.decisions import _Due, _Run
from distribution.services.queueing import DocumentRequest, documents_queue
from ledger.bulk import _copy_rows, _next_ids
from ledger.errors import ValidationFailed
from ledger.models import (
    AccountRole,
    Component,
    InvoiceStatus,
    TransactionKind,
)
from ledger.money import ZERO
from ledger.payments.booking import INVOICE_EVENT_COPY_COLUMNS, POSTING_COPY_COLUMNS, TRANSACTION_COPY_COLUMNS
from ledger.services.common import _actor_fields
from ledger.services.journal import _accounts_by_role


def _write(run: _Run, due: list[_Due], actor) -> dict:
    """Book the fees and interest, record the events and move the claims on: set-based."""
    ledger, as_of = run.ledger, run.as_of
    accounts = _accounts_by_role(ledger)
    created_by_id, actor_label = _actor_fields(actor)
    now = timezone.now()
    bookings = []  # (item, step, kind, amount)
    for item in due:
        for step, fee, _note, interest in item.taken:
            if interest > 0:
                bookings.append((item, step, TransactionKind.INTEREST, interest))
            if fee > 0:
                bookings.append((item, step, TransactionKind.FEE, fee))
    transaction_ids = iter(_next_ids("ledger_journaltransaction", len(bookings))) if bookings else iter(())
    txn_of = {}
    for item, step, kind, _amount in bookings:
        txn_of[(item.claim_id, step.position, kind)] = next(transaction_ids)

    def transaction_rows():
        for item, step, kind, _amount in bookings:
            what = "interest" if kind == TransactionKind.INTEREST else f"{step.kind} fee"
            yield (
                txn_of[(item.claim_id, step.position, kind)], ledger.id, as_of, kind, "",
                f"{what} on invoice {item.invoice_no}"[:200], item.invoice_id, None, created_by_id, actor_label, now,
            )  # fmt: skip

    def posting_rows():
        for item, step, kind, amount in bookings:
            txn = txn_of[(item.claim_id, step.position, kind)]
            if kind == TransactionKind.INTEREST:
                debit, credit, component = (
                    AccountRole.RECEIVABLE_INTEREST,
                    AccountRole.INTEREST_INCOME,
                    Component.INTEREST,
                )
            else:
                debit, credit, component = AccountRole.RECEIVABLE_FEE, AccountRole.FEE_INCOME, Component.FEE
            yield (
                txn,
                ledger.id,
                accounts[debit],
                item.invoice_id,
                item.customer_id,
                None,
                component,
                amount,
                ledger.currency,
            )
            yield (
                txn,
                ledger.id,
                accounts[credit],
                item.invoice_id,
                item.customer_id,
                None,
                "",
                -amount,
                ledger.currency,
            )

    def invoice_event_rows():
        for item in due:
            for step, fee, fee_note, interest in item.taken:
                parts = [step.get_kind_display()]
                if fee:
                    parts.append(f"{fee_note} {fee}")
                if interest:
                    parts.append(f"interest {interest}")
                txn = txn_of.get((item.claim_id, step.position, TransactionKind.FEE)) or txn_of.get(
                    (item.claim_id, step.position, TransactionKind.INTEREST)
                )
                yield (
                    ledger.id, item.invoice_id, STEP_EVENT[StepKind(step.kind)], InvoiceStatus.OPEN,
                    InvoiceStatus.OPEN, as_of, "; ".join(parts)[:500], txn, created_by_id, actor_label, now,
                )  # fmt: skip

    def claim_event_rows():
        for item in due:
            for step, fee, fee_note, interest in item.taken:
                yield (
                    ledger.id, item.claim_id, item.invoice_id, ClaimEventKind.STEP, step.position, step.kind, as_of,
                    fee, interest, item.deadline if step.deadline_days else None, item.next_on,
                    STEP_DOCUMENT.get(StepKind(step.kind), "") if step.needs_document else "", fee_note[:300],
                    txn_of.get((item.claim_id, step.position, TransactionKind.FEE)),
                    txn_of.get((item.claim_id, step.position, TransactionKind.INTEREST)),
                    created_by_id, actor_label, now,
                )  # fmt: skip
            for kind, position, step_kind, reason in item.notes:
                yield (
                    ledger.id, item.claim_id, item.invoice_id, kind, position, step_kind, as_of, ZERO, ZERO, None,
                    item.next_on, "", reason[:300], None, None, created_by_id, actor_label, now,
                )  # fmt: skip

    changed = [item for item in due if item.changed]
    with connection.wrap_database_errors:
        if bookings:
            _copy_rows("ledger_journaltransaction", TRANSACTION_COPY_COLUMNS, transaction_rows())
            _copy_rows("ledger_posting", POSTING_COPY_COLUMNS, posting_rows())
        if any(item.taken for item in due):
            _copy_rows("ledger_invoiceevent", INVOICE_EVENT_COPY_COLUMNS, invoice_event_rows())
        if any(item.taken or item.notes for item in due):
            _copy_rows("claims_claimevent", CLAIM_EVENT_COPY_COLUMNS, claim_event_rows())
        if changed:
            _update_claims(changed, now)
    documents = [
        (item, step)
        for item in due
        for step, _fee, _note, _interest in item.taken
        if step.needs_document and StepKind(step.kind) in STEP_DOCUMENT
    ]
    return {
        "steps_taken": sum(len(item.taken) for item in due),
        "fees": str(sum((fee for item in due for _s, fee, _n, _i in item.taken), ZERO)),
        "interest": str(sum((i for item in due for _s, _f, _n, i in item.taken), ZERO)),
        "documents_queued": _queue_documents(run, documents),
        "by_step": _count_by_step(due),
    }


CLAIM_EVENT_COPY_COLUMNS = [
    "ledger_id", "claim_id", "invoice_id", "kind", "position", "step_kind", "booking_date", "fee", "interest",
    "deadline", "next_on", "document_kind", "reason", "fee_transaction_id", "interest_transaction_id",
    "created_by_id", "actor", "created_at",
]  # fmt: skip


def _count_by_step(due: list[_Due]) -> dict:
    counts: dict[str, int] = {}
    for item in due:
        for step, *_ in item.taken:
            counts[step.kind] = counts.get(step.kind, 0) + 1
    return dict(sorted(counts.items()))


def _update_claims(changed: list[_Due], now) -> None:
    """Move the claims on with one UPDATE, only where they still stand where this run found them."""

    columns = [
        ("id", "bigint", [i.claim_id for i in changed]),
        ("old_position", "smallint", [i.old_position for i in changed]),
        ("status", "text", [i.status for i in changed]),
        ("position", "smallint", [i.position for i in changed]),
        ("level", "text", [i.level for i in changed]),
        ("last_step_on", "date", [i.last_step_on for i in changed]),
        ("deadline", "date", [i.deadline for i in changed]),
        ("next_on", "date", [i.next_on for i in changed]),
        ("reminder_fees", "smallint", [i.reminder_fees for i in changed]),
        ("last_fee_on", "date", [i.last_fee_on for i in changed]),
        ("collection_fees_charged", "numeric", [i.collection_fees_charged for i in changed]),
        ("compensation_charged", "numeric", [i.compensation_charged for i in changed]),
        ("interest_through", "date", [i.interest_through for i in changed]),
        ("interest_booked", "numeric", [i.interest_booked for i in changed]),
    ]
    names = ", ".join(name for name, _, _ in columns)
    unnest = ", ".join(f"%s::{cast}[]" for _, cast, _ in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE claims_claim c
               SET status = v.status, position = v.position, level = v.level, last_step_on = v.last_step_on,
                   deadline = v.deadline, next_on = v.next_on, reminder_fees = v.reminder_fees,
                   last_fee_on = v.last_fee_on, collection_fees_charged = v.collection_fees_charged,
                   compensation_charged = v.compensation_charged, interest_through = v.interest_through,
                   interest_booked = v.interest_booked, pauses_counted_at = %s, updated_at = %s
              FROM unnest({unnest}) AS v({names})
             WHERE c.id = v.id AND c.position = v.old_position
            """,
            [now, now, *[values for _, _, values in columns]],
        )
        if cursor.rowcount != len(changed):
            raise ValidationFailed(
                f"{len(changed) - cursor.rowcount} claims were moved by another run meanwhile; run the day again",
                code="claims_moved_concurrently",
            )


def _queue_documents(run: _Run, documents: list) -> int:
    """Hand the day's letters to distribution (rendered and sent later, outside this transaction)."""
    if not documents:
        return 0
    requests = [
        DocumentRequest(
            ledger_id=run.ledger.id,
            customer_id=item.addressee_id or item.customer_id,
            invoice_id=item.invoice_id,
            kind=STEP_DOCUMENT[StepKind(step.kind)],
            booking_date=run.as_of,
            source_key=f"claim:{item.claim_id}:step:{step.position}",
            facts=_document_facts(run, item, step),
        )
        for item, step in documents
    ]
    return documents_queue(requests=requests)


def _document_facts(run: _Run, item: _Due, step: ClaimStep) -> dict:
    fee = next((fee for s, fee, _n, _i in item.taken if s.position == step.position), ZERO)
    rate = run.figures.get(FigureKind.LATE_INTEREST_RATE, run.as_of)
    return {
        "step": step.kind,
        "fee": str(fee),
        "deadline": (run.as_of + timedelta(days=step.deadline_days)).isoformat()
        if step.deadline_days
        else None,
        "interest_rate": str(rate) if rate is not None else None,
        "interest_from": (item.due_date + timedelta(days=1)).isoformat(),
        "capital": str(item.capital),
        "fees": str(item.fees),
        "interest": str(item.interest),
        "amount_due": str(item.open_amount),
        "channel": step.channel,
    }


# Capital is paid down by payments and credits, which record these events. The daily run looks back this
# far for them, so the scan stays small however many claims are open; a missed day is caught up.
