"""Money back to the payer: a payment refunded, a credit balance moved to an invoice or refunded."""

from datetime import date
from decimal import Decimal

from django.db import transaction

from ledger.bank_accounts import bank_account_clean
from ledger.errors import ValidationFailed
from ledger.models import (
    AccountRole,
    AllocationOrder,
    Customer,
    Invoice,
    JournalTransaction,
    Payment,
    PaymentEventKind,
    Payout,
    TransactionKind,
    User,
)
from ledger.payments.guards import (
    _book_invoice_placements,
    _guard_unidentified,
    _lock_customer,
    _lock_payment,
    _open_item,
    _payment_event,
    _payout,
    _require_reason,
)
from ledger.payments.placement import COMPONENT_ORDER, _Placed, _receivable_lines
from ledger.payments.selectors import customer_credit_balance, payment_unallocated
from ledger.services.invoice_changes import _guard_not_closed, _lock_invoice, _positive_amount
from ledger.services.journal import Line, journal_book


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
