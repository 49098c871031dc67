"""Reads about payments: what is unallocated, credit balances, the unidentified-payments worklist."""

from decimal import Decimal

from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from ledger.models import AccountRole, Customer, Ledger, Payment, PaymentFile, Posting
from ledger.money import ZERO

_MONEY_FIELD = DecimalField(max_digits=18, decimal_places=2)


def payment_unallocated(*, payment: Payment) -> Decimal:
    """What of the payment still sits on suspense (positive), from the postings."""
    total = Posting.objects.filter(payment_id=payment.pk, account__role=AccountRole.SUSPENSE).aggregate(
        total=Sum("amount")
    )["total"]
    return -(total or ZERO)


def payments_unallocated(*, payment_ids: list[int]) -> dict[int, Decimal]:
    """What of each payment still sits on suspense (positive), for a page of payments in one query."""
    totals = dict(
        Posting.objects.filter(payment_id__in=payment_ids, account__role=AccountRole.SUSPENSE)
        .values_list("payment_id")
        .annotate(total=Sum("amount"))
        .values_list("payment_id", "total")
    )
    return {payment_id: ZERO - totals.get(payment_id, ZERO) for payment_id in payment_ids}


def customer_credit_balance(*, customer: Customer) -> Decimal:
    """The customer's surplus (credit balance) as a positive amount, from the postings."""
    total = Posting.objects.filter(
        customer_id=customer.pk, account__role=AccountRole.CUSTOMER_CREDIT
    ).aggregate(total=Sum("amount"))["total"]
    return -(total or ZERO)


def _suspense_subquery():
    return Coalesce(
        Subquery(
            Posting.objects.filter(payment_id=OuterRef("pk"), account__role=AccountRole.SUSPENSE)
            .values("payment_id")
            .annotate(total=Sum("amount"))
            .values("total")[:1]
        ),
        Value(ZERO),
        output_field=_MONEY_FIELD,
    )


def unidentified_payments(*, ledger: Ledger) -> QuerySet[Payment]:
    """The worklist: unidentified payments, oldest first, each with `unallocated` (what is on suspense)."""
    return (
        Payment.objects.filter(ledger=ledger, status=Payment.Status.UNIDENTIFIED)
        .annotate(unallocated=-_suspense_subquery())
        .order_by("booking_date", "id")
    )


def customers_with_credit(*, ledger: Ledger) -> QuerySet[Customer]:
    """Customers holding a credit balance, each with `credit` (positive), largest first."""
    credit_postings = (
        Posting.objects.filter(customer_id=OuterRef("pk"), account__role=AccountRole.CUSTOMER_CREDIT)
        .values("customer_id")
        .annotate(total=Sum("amount"))
        .values("total")[:1]
    )
    return (
        Customer.objects.filter(ledger=ledger)
        .annotate(credit=-Coalesce(Subquery(credit_postings), Value(ZERO), output_field=_MONEY_FIELD))
        .filter(credit__gt=0)
        .order_by("-credit", "customer_no")
    )


def payment_files(*, ledger: Ledger) -> QuerySet[PaymentFile]:
    return PaymentFile.objects.filter(ledger=ledger).order_by("-received_at", "-id")
