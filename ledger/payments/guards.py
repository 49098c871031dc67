"""What the operator services on payments share: reasons, locks, guards, events and payouts."""

from ledger.bank_accounts import bank_account_clean
from ledger.errors import InvalidTransition, NotFound, ValidationFailed
from ledger.models import (
    Customer,
    Invoice,
    InvoiceEvent,
    Payment,
    PaymentEvent,
    Payout,
)
from ledger.payments.placement import _events_and_closes, _OpenItem, _Placed
from ledger.selectors import invoice_balance
from ledger.services.common import _actor_fields
from ledger.services.invoice_changes import invoice_close_if_settled


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
