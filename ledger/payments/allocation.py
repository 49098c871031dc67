"""An operator places an unidentified or surplus payment on invoices (`payment_allocate`)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction

from ledger.errors import ValidationFailed
from ledger.models import (
    AccountRole,
    AllocationOrder,
    Customer,
    Invoice,
    JournalTransaction,
    Payment,
    PaymentEventKind,
    TransactionKind,
    User,
)
from ledger.money import ZERO
from ledger.payments.guards import (
    _book_invoice_placements,
    _guard_unidentified,
    _lock_payment,
    _open_item,
    _payment_event,
    _require_reason,
)
from ledger.payments.placement import COMPONENT_ORDER, _Placed, _receivable_lines
from ledger.payments.selectors import payment_unallocated
from ledger.services.invoice_changes import _guard_not_closed, _lock_invoice, _positive_amount
from ledger.services.journal import Line, journal_book


@dataclass(frozen=True)
class Allocation:
    """Place (part of) a payment on an invoice; amount None = as much as is open, up to what is left."""

    invoice: Invoice
    amount: Decimal | None = None


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
