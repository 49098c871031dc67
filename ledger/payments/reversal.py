"""A payment reversed (booked in error), or moved to the ledger its reference belongs to."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from ledger.errors import InvalidTransition, NotFound, ValidationFailed
from ledger.models import (
    AccountRole,
    Customer,
    Invoice,
    InvoiceEventKind,
    InvoiceStatus,
    JournalTransaction,
    Ledger,
    Payment,
    PaymentEventKind,
    PaymentFile,
    Posting,
    TransactionKind,
    User,
)
from ledger.payments import bankfiles
from ledger.payments.booking import _write
from ledger.payments.guards import (
    _guard_unidentified,
    _lock_customer,
    _lock_payment,
    _payment_event,
    _require_reason,
)
from ledger.payments.matching import _plan
from ledger.payments.selectors import customer_credit_balance, payment_unallocated
from ledger.services.invoice_changes import _invoice_event, _lock_invoice
from ledger.services.journal import Line, journal_book


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
        target = Ledger.objects.select_for_update(no_key=True).filter(company_no=company_nos[0]).first()
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
