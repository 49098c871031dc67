"""Operator services on payments and credit balances: allocate, refund, move and refund credit, reverse.
Each succeeds with who and why recorded, refuses its guarded case writing nothing, and leaves
verify_ledger passing; the credit and payout checks find planted discrepancies.

Past 500 lines: the tests of one family of services (ledger/payments/ allocation, refunds, reversal),
which share their fixtures.
"""

from datetime import date
from decimal import Decimal

import pytest

from ledger.errors import InvalidTransition, ValidationFailed
from ledger.models import (
    AccountRole,
    InvoiceEvent,
    InvoiceStatus,
    JournalTransaction,
    Payment,
    PaymentEvent,
    Payout,
    Posting,
    TransactionKind,
)
from ledger.payments.allocation import Allocation, payment_allocate
from ledger.payments.refunds import customer_credit_move, customer_credit_refund, payment_refund
from ledger.payments.reversal import payment_move_to_ledger, payment_reverse
from ledger.payments.selectors import customer_credit_balance, payment_unallocated, unidentified_payments
from ledger.selectors import invoice_balance
from ledger.services.journal import Line, journal_book
from tests.factories import CustomerFactory, InvoiceFactory, UserFactory
from tests.ledger.test_payments_import import (
    account_balance,
    assert_verified,
    book,
    failed_checks,
    ledger_with_account,
    ocr_file,
    pay,
    stray_kid,
)

DAY = date(2026, 3, 5)


def journal_state(ledger) -> tuple:
    """Everything an operator service may write, counted: a refused call must leave it unchanged."""
    return (
        JournalTransaction.objects.filter(ledger=ledger).count(),
        Posting.objects.filter(ledger=ledger).count(),
        Payout.objects.filter(ledger=ledger).count(),
        PaymentEvent.objects.filter(ledger=ledger).count(),
        InvoiceEvent.objects.filter(ledger=ledger).count(),
        tuple(Payment.objects.filter(ledger=ledger).order_by("id").values_list("status", flat=True)),
    )


@pytest.fixture
def ledger(db):
    ledger = ledger_with_account()
    ledger.settle_surplus_against_oldest = False
    ledger.save(update_fields=["settle_surplus_against_oldest"])
    return ledger


@pytest.fixture
def customer(ledger):
    return CustomerFactory(ledger=ledger)


def unidentified(amount: str, archive_ref: str = "000000901", payer_account="12345678903") -> Payment:
    out = book(
        ocr_file(
            [pay(stray_kid(int(archive_ref)), amount, archive_ref, payer_account)], number=archive_ref[-7:]
        ),
        name=f"{archive_ref}.txt",
    )
    assert out["unidentified"] == 1
    return Payment.objects.get(bank_archive_ref__startswith=archive_ref)


def paid(invoice, amount: str, archive_ref: str) -> Payment:
    book(
        ocr_file([pay(invoice.payment_ref, amount, archive_ref)], number=archive_ref[-7:]),
        name=f"{archive_ref}.txt",
    )
    return Payment.objects.get(bank_archive_ref__startswith=archive_ref)


# --- allocate an unidentified payment -------------------------------------------------------------


def test_allocate_an_unidentified_payment_to_an_invoice(ledger, customer):
    kari = UserFactory(client=ledger.client)
    invoice = InvoiceFactory(customer=customer, amount=Decimal("300.00"))
    payment = unidentified("300.00")
    txn = payment_allocate(
        payment=payment,
        allocations=[Allocation(invoice)],
        actor=kari,
        reason="Customer called: paid with an old KID",
        booking_date=DAY,
    )

    assert (txn.kind, txn.booking_date, txn.payment_id, txn.actor, txn.created_by) == (
        TransactionKind.ALLOCATION,
        DAY,
        payment.id,
        kari.username,
        kari,
    )
    lines = {(p.account.role, p.amount) for p in txn.postings.select_related("account")}
    assert lines == {
        (AccountRole.SUSPENSE, Decimal("300.00")),
        (AccountRole.RECEIVABLE_CAPITAL, Decimal("-300.00")),
    }
    assert all(p.payment_id == payment.id for p in txn.postings.all())
    payment.refresh_from_db()
    assert (payment.status, payment.invoice, payment.customer) == ("allocated", invoice, customer)
    assert payment_unallocated(payment=payment) == 0
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CLOSED
    assert list(InvoiceEvent.objects.filter(invoice=invoice).values_list("kind", "actor")) == [
        ("registered", "test"),
        ("paid", kari.username),
        ("closed", kari.username),
    ]
    event = PaymentEvent.objects.get(payment=payment)
    assert (event.kind, event.amount, event.actor, event.reason) == (
        "allocated",
        Decimal("300.00"),
        kari.username,
        "Customer called: paid with an old KID",
    )
    assert list(unidentified_payments(ledger=ledger)) == []
    assert_verified(ledger)


def test_allocate_over_several_invoices_and_the_rest_to_credit(ledger, customer):
    first = InvoiceFactory(customer=customer, amount=Decimal("100.00"))
    second = InvoiceFactory(customer=customer, amount=Decimal("500.00"))
    payment = unidentified("450.00")
    payment_allocate(
        payment=payment,
        allocations=[Allocation(first), Allocation(second, Decimal("300.00"))],
        credit_customer=customer,
        actor="kari",
        reason="Two invoices in one payment",
        booking_date=DAY,
    )
    assert invoice_balance(first).open_amount == 0
    assert invoice_balance(second).open_amount == Decimal("200.00")
    assert customer_credit_balance(customer=customer) == Decimal("50.00")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.ALLOCATED
    assert_verified(ledger)


def test_partial_allocation_keeps_the_rest_on_suspense(ledger, customer):
    invoice = InvoiceFactory(customer=customer, amount=Decimal("1000.00"))
    payment = unidentified("250.00")
    payment_allocate(
        payment=payment,
        allocations=[Allocation(invoice, Decimal("100.00"))],
        actor="kari",
        reason="part of it",
        booking_date=DAY,
    )
    payment.refresh_from_db()
    assert payment.status == Payment.Status.UNIDENTIFIED
    assert payment_unallocated(payment=payment) == Decimal("150.00")
    assert [p.unallocated for p in unidentified_payments(ledger=ledger)] == [Decimal("150.00")]
    assert_verified(ledger)


def test_allocating_more_than_is_unallocated_writes_nothing(ledger, customer):
    invoice = InvoiceFactory(customer=customer, amount=Decimal("1000.00"))
    payment = unidentified("250.00")
    before = journal_state(ledger)
    with pytest.raises(ValidationFailed) as excinfo:
        payment_allocate(
            payment=payment,
            allocations=[Allocation(invoice, Decimal("250.01"))],
            actor="kari",
            reason="too much",
            booking_date=DAY,
        )
    assert excinfo.value.code == "allocation_exceeds_unallocated"
    assert journal_state(ledger) == before
    assert_verified(ledger)


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("more than the invoice has open", "allocation_exceeds_open"),
        ("closed invoice", "invoice_closed"),
        ("no reason", "reason_required"),
        ("another ledger's invoice", "invoice_not_in_ledger"),
        ("already allocated", "payment_not_unidentified"),
    ],
)
def test_allocation_guards(ledger, customer, case, code):
    invoice = InvoiceFactory(customer=customer, amount=Decimal("100.00"))
    payment = unidentified("250.00")
    reason = "because"
    amount = None
    if case == "more than the invoice has open":
        amount = Decimal("100.01")
    elif case == "closed invoice":
        paid(invoice, "100.00", "000000077")
    elif case == "no reason":
        reason = "  "
    elif case == "another ledger's invoice":
        invoice = InvoiceFactory(amount=Decimal("100.00"))
    elif case == "already allocated":
        payment_allocate(payment=payment, allocations=[], credit_customer=customer, actor="kari", reason="x")
    before = journal_state(ledger)
    with pytest.raises((ValidationFailed, InvalidTransition)) as excinfo:
        payment_allocate(
            payment=payment,
            allocations=[Allocation(invoice, amount)],
            actor="kari",
            reason=reason,
            booking_date=DAY,
        )
    assert excinfo.value.code == code
    assert journal_state(ledger) == before


# --- refund an unidentified payment ---------------------------------------------------------------


def test_refund_an_unidentified_payment(ledger):
    payment = unidentified("99.90", payer_account="12345678903")
    payout = payment_refund(payment=payment, actor="kari", reason="Not our customer", booking_date=DAY)

    assert (payout.amount, payout.bank_account, payout.status, payout.payment, payout.customer) == (
        Decimal("99.90"),
        "12345678903",
        "pending",
        payment,
        None,
    )
    assert (payout.actor, payout.reason, payout.currency) == ("kari", "Not our customer", "NOK")
    txn = payout.transaction
    assert (txn.kind, txn.payment_id) == (TransactionKind.PAYOUT, payment.id)
    assert {(p.account.role, p.amount) for p in txn.postings.select_related("account")} == {
        (AccountRole.SUSPENSE, Decimal("99.90")),
        (AccountRole.CLIENT_FUNDS_BANK, Decimal("-99.90")),
    }
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert PaymentEvent.objects.get(payment=payment).kind == "refunded"
    assert account_balance(ledger, AccountRole.CLIENT_FUNDS_BANK) == 0
    assert_verified(ledger)


def test_refunding_a_refunded_payment_writes_nothing(ledger):
    payment = unidentified("10.00")
    payment_refund(payment=payment, actor="kari", reason="Not ours", booking_date=DAY)
    before = journal_state(ledger)
    with pytest.raises(InvalidTransition) as excinfo:
        payment_refund(payment=payment, actor="kari", reason="again", booking_date=DAY)
    assert excinfo.value.code == "payment_refunded"
    assert journal_state(ledger) == before
    assert_verified(ledger)


def test_refund_needs_a_bank_account(ledger):
    payment = unidentified("10.00", payer_account="")
    before = journal_state(ledger)
    with pytest.raises(ValidationFailed) as excinfo:
        payment_refund(payment=payment, actor="kari", reason="Not ours", booking_date=DAY)
    assert excinfo.value.code == "bank_account_missing"
    assert journal_state(ledger) == before
    payout = payment_refund(
        payment=payment, actor="kari", reason="Not ours", bank_account="NO9386011117947", booking_date=DAY
    )
    assert payout.bank_account == "NO9386011117947"


def test_a_refund_to_an_account_failing_its_check_digits_books_nothing(ledger):
    payment = unidentified("499.00", payer_account="")
    before = journal_state(ledger)
    for account in ("abc", "86011117948"):
        with pytest.raises(ValidationFailed) as excinfo:
            payment_refund(
                payment=payment, actor="kari", reason="Not ours", bank_account=account, booking_date=DAY
            )
        assert (excinfo.value.code, excinfo.value.field) == ("invalid_bank_account", "bank_account")
    assert journal_state(ledger) == before
    payout = payment_refund(
        payment=payment, actor="kari", reason="Not ours", bank_account="8601 11 17947", booking_date=DAY
    )
    assert payout.bank_account == "86011117947"


def test_a_payer_account_from_the_bank_file_that_fails_is_not_refunded_to(ledger):
    payment = unidentified("10.00", payer_account="12345678901")  # mod 11 fails
    before = journal_state(ledger)
    with pytest.raises(ValidationFailed) as excinfo:
        payment_refund(payment=payment, actor="kari", reason="Not ours", booking_date=DAY)
    assert excinfo.value.code == "invalid_bank_account"
    assert journal_state(ledger) == before


def test_a_credit_balance_refund_checks_the_account(ledger, customer):
    invoice = InvoiceFactory(customer=customer, amount=Decimal("100.00"))
    paid(invoice, "150.00", "000000013")
    before = journal_state(ledger)
    with pytest.raises(ValidationFailed) as excinfo:
        customer_credit_refund(
            customer=customer, amount=Decimal("50.00"), actor="kari", reason="refund", bank_account="1234"
        )
    assert excinfo.value.code == "invalid_bank_account"
    assert journal_state(ledger) == before


# --- credit balances ------------------------------------------------------------------------------


def test_move_a_credit_balance_to_another_invoice(ledger, customer):
    first = InvoiceFactory(customer=customer, amount=Decimal("100.00"))
    second = InvoiceFactory(customer=customer, amount=Decimal("500.00"))
    paid(first, "300.00", "000000011")
    assert customer_credit_balance(customer=customer) == Decimal("200.00")

    txn = customer_credit_move(
        customer=customer,
        invoice=second,
        actor="kari",
        reason="Settle against open invoice",
        booking_date=DAY,
    )
    assert {(p.account.role, p.amount, p.customer_id) for p in txn.postings.select_related("account")} == {
        (AccountRole.CUSTOMER_CREDIT, Decimal("200.00"), customer.id),
        (AccountRole.RECEIVABLE_CAPITAL, Decimal("-200.00"), customer.id),
    }
    assert customer_credit_balance(customer=customer) == 0
    assert invoice_balance(second).open_amount == Decimal("300.00")
    assert InvoiceEvent.objects.filter(invoice=second).last().kind == "partially_paid"
    event = PaymentEvent.objects.get(kind="credit_moved")
    assert (event.customer, event.amount, event.reason) == (
        customer,
        Decimal("200.00"),
        "Settle against open invoice",
    )
    assert_verified(ledger)


def test_moving_more_than_the_credit_balance_writes_nothing(ledger, customer):
    first = InvoiceFactory(customer=customer, amount=Decimal("100.00"))
    second = InvoiceFactory(customer=customer, amount=Decimal("500.00"))
    paid(first, "150.00", "000000012")
    other = InvoiceFactory(customer=CustomerFactory(ledger=ledger), amount=Decimal("10.00"))
    before = journal_state(ledger)
    with pytest.raises(ValidationFailed) as excinfo:
        customer_credit_move(
            customer=customer,
            invoice=second,
            amount=Decimal("50.01"),
            actor="kari",
            reason="x",
            booking_date=DAY,
        )
    assert excinfo.value.code == "exceeds_credit"
    with pytest.raises(ValidationFailed) as excinfo:
        customer_credit_move(customer=customer, invoice=other, actor="kari", reason="x", booking_date=DAY)
    assert excinfo.value.code == "customer_mismatch"
    assert journal_state(ledger) == before


def test_refund_a_credit_balance(ledger, customer):
    invoice = InvoiceFactory(customer=customer, amount=Decimal("100.00"))
    paid(invoice, "175.25", "000000013")
    payout = customer_credit_refund(
        customer=customer, amount=Decimal("75.00"), actor="kari", reason="Customer asked", booking_date=DAY
    )
    assert (payout.amount, payout.customer, payout.bank_account, payout.status) == (
        Decimal("75.00"),
        customer,
        "12345678903",  # the account the customer paid from
        "pending",
    )
    assert {(p.account.role, p.amount) for p in payout.transaction.postings.select_related("account")} == {
        (AccountRole.CUSTOMER_CREDIT, Decimal("75.00")),
        (AccountRole.CLIENT_FUNDS_BANK, Decimal("-75.00")),
    }
    assert customer_credit_balance(customer=customer) == Decimal("0.25")
    assert PaymentEvent.objects.get(kind="credit_refunded").actor == "kari"
    assert_verified(ledger)

    before = journal_state(ledger)
    with pytest.raises(ValidationFailed) as excinfo:
        customer_credit_refund(
            customer=customer, amount=Decimal("0.26"), actor="kari", reason="too much", booking_date=DAY
        )
    assert excinfo.value.code == "exceeds_credit"
    assert journal_state(ledger) == before


# --- reverse a payment ----------------------------------------------------------------------------


def test_reverse_a_payment_reopens_the_invoice_it_closed(ledger, customer):
    invoice = InvoiceFactory(customer=customer, amount=Decimal("100.00"))
    payment = paid(invoice, "120.00", "000000021")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CLOSED

    txn = payment_reverse(
        payment=payment, actor="kari", reason="Booked on the wrong ledger", booking_date=DAY
    )
    original = JournalTransaction.objects.get(payment=payment, kind=TransactionKind.PAYMENT)
    assert (txn.kind, txn.reverses, txn.payment_id) == (TransactionKind.REVERSAL, original, payment.id)
    original_lines = sorted((p.account_id, p.amount) for p in original.postings.all())
    reversal_lines = sorted((p.account_id, -p.amount) for p in txn.postings.all())
    assert reversal_lines == original_lines
    invoice.refresh_from_db()
    assert (invoice.status, invoice.closed_on) == (InvoiceStatus.OPEN, None)
    assert invoice_balance(invoice).open_amount == Decimal("100.00")
    reopened = InvoiceEvent.objects.filter(invoice=invoice).last()
    assert (reopened.kind, reopened.from_status, reopened.to_status, reopened.actor) == (
        "reopened",
        "closed",
        "open",
        "kari",
    )
    assert "Booked on the wrong ledger" in reopened.reason
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REVERSED
    assert customer_credit_balance(customer=customer) == 0
    assert_verified(ledger)


def test_reversing_twice_writes_nothing(ledger, customer):
    invoice = InvoiceFactory(customer=customer, amount=Decimal("100.00"))
    payment = paid(invoice, "40.00", "000000022")
    payment_reverse(payment=payment, actor="kari", reason="mistake", booking_date=DAY)
    assert InvoiceEvent.objects.filter(invoice=invoice).last().kind == "payment_reversed"
    before = journal_state(ledger)
    with pytest.raises(InvalidTransition) as excinfo:
        payment_reverse(payment=payment, actor="kari", reason="again", booking_date=DAY)
    assert excinfo.value.code == "payment_reversed"
    assert journal_state(ledger) == before
    assert_verified(ledger)


def test_reverse_a_partly_allocated_unidentified_payment(ledger, customer):
    invoice = InvoiceFactory(customer=customer, amount=Decimal("1000.00"))
    payment = unidentified("250.00")
    payment_allocate(
        payment=payment,
        allocations=[Allocation(invoice, Decimal("100.00"))],
        actor="kari",
        reason="x",
        booking_date=DAY,
    )
    payment_reverse(payment=payment, actor="kari", reason="bank error", booking_date=DAY)
    assert payment_unallocated(payment=payment) == 0
    assert invoice_balance(invoice).open_amount == Decimal("1000.00")
    assert account_balance(ledger, AccountRole.SUSPENSE) == 0
    assert_verified(ledger)


@pytest.mark.parametrize("case", ["refunded", "credit used"])
def test_reversal_guards(ledger, customer, case):
    if case == "refunded":
        payment = unidentified("10.00")
        payment_refund(payment=payment, actor="kari", reason="Not ours", booking_date=DAY)
        code = "payment_refunded"
    else:
        invoice = InvoiceFactory(customer=customer, amount=Decimal("100.00"))
        payment = paid(invoice, "150.00", "000000023")
        customer_credit_refund(customer=customer, actor="kari", reason="asked", booking_date=DAY)
        code = "credit_already_used"
    before = journal_state(ledger)
    with pytest.raises(InvalidTransition) as excinfo:
        payment_reverse(payment=payment, actor="kari", reason="mistake", booking_date=DAY)
    assert excinfo.value.code == code
    assert journal_state(ledger) == before
    assert_verified(ledger)


# --- reconciliation: credit balances and payouts --------------------------------------------------


def test_verify_finds_a_customer_with_a_negative_credit_balance(ledger, customer):
    invoice = InvoiceFactory(customer=customer, amount=Decimal("100.00"))
    paid(invoice, "110.00", "000000031")
    assert_verified(ledger)
    journal_book(
        ledger=ledger,
        kind=TransactionKind.ALLOCATION,
        booking_date=DAY,
        actor="test",
        lines=[
            Line(role=AccountRole.CUSTOMER_CREDIT, amount=Decimal("10.01"), customer=customer),
            Line(role=AccountRole.FEE_INCOME, amount=Decimal("-10.01")),
        ],
    )
    failed = failed_checks(ledger)
    assert list(failed) == ["customer_credit_equals_surplus"]
    assert failed["customer_credit_equals_surplus"]["discrepancies"] == [
        {"customer": customer.customer_no, "surplus": "-0.01", "problem": "negative credit balance"}
    ]


def test_verify_finds_credit_booked_by_something_other_than_payments(ledger, customer):
    invoice = InvoiceFactory(customer=customer, amount=Decimal("100.00"))
    journal_book(
        ledger=ledger,
        kind=TransactionKind.CREDIT,
        booking_date=DAY,
        actor="test",
        lines=[
            Line(role=AccountRole.CREDIT, amount=Decimal("5.00"), invoice=invoice),
            Line(role=AccountRole.CUSTOMER_CREDIT, amount=Decimal("-5.00"), customer=customer),
        ],
    )
    failed = failed_checks(ledger)
    assert list(failed) == ["customer_credit_equals_surplus"]
    assert failed["customer_credit_equals_surplus"]["discrepancies"][0]["problem"] == (
        "credit posting from a credit transaction"
    )


def test_verify_finds_a_payout_that_differs_from_the_journal(ledger):
    payment = unidentified("10.00")
    payout = payment_refund(payment=payment, actor="kari", reason="Not ours", booking_date=DAY)
    assert_verified(ledger)
    Payout.objects.filter(pk=payout.pk).update(amount=Decimal("100.00"))
    failed = failed_checks(ledger)
    assert list(failed) == ["payouts_equal_journal"]
    assert failed["payouts_equal_journal"]["discrepancies"] == [
        {
            "transaction": payout.transaction_id,
            "payout": payout.pk,
            "payout_amount": "100.00",
            "bank_out": "10.00",
        }
    ]


def test_verify_finds_money_paid_out_without_a_payout(ledger, customer):
    invoice = InvoiceFactory(customer=customer, amount=Decimal("100.00"))
    paid(invoice, "110.00", "000000032")
    journal_book(
        ledger=ledger,
        kind=TransactionKind.PAYOUT,
        booking_date=DAY,
        actor="test",
        lines=[
            Line(role=AccountRole.CUSTOMER_CREDIT, amount=Decimal("10.00"), customer=customer),
            Line(role=AccountRole.CLIENT_FUNDS_BANK, amount=Decimal("-10.00")),
        ],
    )
    assert list(failed_checks(ledger)) == ["payouts_equal_journal"]


# --- move a misdirected payment to its ledger -----------------------------------------------------


@pytest.fixture
def other(ledger):
    """Another ledger (its own client-funds account) whose invoice references a payment may bear."""
    other = ledger_with_account("15030000010")
    other.settle_surplus_against_oldest = False
    other.save(update_fields=["settle_surplus_against_oldest"])
    return other


def misdirected(invoice, amount: str, archive_ref: str = "000000801") -> Payment:
    out = book(
        ocr_file([pay(invoice.payment_ref, amount, archive_ref)], number=archive_ref[-7:]),
        name=f"{archive_ref}.txt",
    )
    assert out["misdirected"] == 1
    return Payment.objects.get(bank_archive_ref__startswith=archive_ref)


def test_move_a_misdirected_payment_pays_the_other_ledgers_invoice(ledger, other):
    kari = UserFactory(client=ledger.client)
    theirs = InvoiceFactory(customer=CustomerFactory(ledger=other), amount=Decimal("250.00"))
    payment = misdirected(theirs, "250.00")
    assert (payment.ledger, payment.misdirected_company_no) == (ledger, other.company_no)

    moved = payment_move_to_ledger(
        payment=payment, actor=kari, reason="Paid to the wrong client's account", booking_date=DAY
    )

    # The receiving ledger: out of suspense and the bank account, the payment moved.
    payment.refresh_from_db()
    assert payment.status == Payment.Status.MOVED
    assert payment_unallocated(payment=payment) == 0
    out = JournalTransaction.objects.get(ledger=ledger, kind=TransactionKind.MOVE)
    assert (out.payment_id, out.booking_date, out.actor) == (payment.id, DAY, kari.username)
    assert {(p.account.role, p.amount, p.payment_id) for p in out.postings.select_related("account")} == {
        (AccountRole.SUSPENSE, Decimal("250.00"), payment.id),
        (AccountRole.CLIENT_FUNDS_BANK, Decimal("-250.00"), payment.id),
    }
    assert account_balance(ledger, AccountRole.CLIENT_FUNDS_BANK) == 0
    assert account_balance(ledger, AccountRole.SUSPENSE) == 0
    assert list(unidentified_payments(ledger=ledger)) == []
    event = PaymentEvent.objects.get(ledger=ledger)
    assert (event.kind, event.payment, event.amount, event.actor, event.created_by, event.reason) == (
        "moved_out",
        payment,
        Decimal("250.00"),
        kari.username,
        kari,
        "Paid to the wrong client's account",
    )

    # The target ledger: a payment booked as the import books one to that reference.
    assert (moved.ledger, moved.file, moved.bank_archive_ref) == (
        other,
        None,
        f"moved:{ledger.company_no}:{payment.bank_archive_ref}",
    )
    assert (moved.amount, moved.booking_date, moved.value_date, moved.payer_account) == (
        payment.amount,
        payment.booking_date,
        payment.value_date,
        payment.payer_account,
    )
    assert (moved.status, moved.outcome, moved.invoice, moved.customer) == (
        "allocated",
        "exact",
        theirs,
        theirs.customer,
    )
    txn = JournalTransaction.objects.get(ledger=other, kind=TransactionKind.PAYMENT)
    assert (txn.payment_id, txn.booking_date, txn.actor) == (moved.id, payment.booking_date, kari.username)
    assert {(p.account.role, p.amount) for p in txn.postings.select_related("account")} == {
        (AccountRole.CLIENT_FUNDS_BANK, Decimal("250.00")),
        (AccountRole.RECEIVABLE_CAPITAL, Decimal("-250.00")),
    }
    theirs.refresh_from_db()
    assert (theirs.status, theirs.closed_on) == (InvoiceStatus.CLOSED, payment.booking_date)
    assert list(InvoiceEvent.objects.filter(invoice=theirs).values_list("kind", "actor")) == [
        ("registered", "test"),
        ("paid", kari.username),
        ("closed", kari.username),
    ]
    event = PaymentEvent.objects.get(ledger=other)
    assert (event.kind, event.payment, event.amount, event.actor, event.reason, event.transaction) == (
        "moved_in",
        moved,
        Decimal("250.00"),
        kari.username,
        "Paid to the wrong client's account",
        txn,
    )
    assert_verified(ledger, other)


def test_moved_surplus_goes_to_the_customers_credit_balance(ledger, other):
    theirs = InvoiceFactory(customer=CustomerFactory(ledger=other), amount=Decimal("100.00"))
    payment = misdirected(theirs, "130.00")
    moved = payment_move_to_ledger(payment=payment, actor="kari", reason="Wrong account", booking_date=DAY)
    assert moved.outcome == "overpaid"
    assert customer_credit_balance(customer=theirs.customer) == Decimal("30.00")
    theirs.refresh_from_db()
    assert theirs.status == InvoiceStatus.CLOSED
    assert_verified(ledger, other)


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("not misdirected", "payment_not_misdirected"),
        ("already moved", "payment_moved"),
        ("no reason", "reason_required"),
        ("other currency", "currency_mismatch"),
        ("refunded", "payment_refunded"),
        ("several ledgers", "target_ledger_ambiguous"),
    ],
)
def test_move_guards(ledger, other, case, code):
    theirs = InvoiceFactory(customer=CustomerFactory(ledger=other), amount=Decimal("100.00"))
    payment = misdirected(theirs, "100.00")
    reason = "Wrong account"
    if case == "not misdirected":
        payment = unidentified("100.00")
    elif case == "already moved":
        payment_move_to_ledger(payment=payment, actor="kari", reason=reason, booking_date=DAY)
    elif case == "no reason":
        reason = " "
    elif case == "other currency":
        type(other).objects.filter(pk=other.pk).update(currency="SEK")
    elif case == "refunded":
        payment_refund(payment=payment, actor="kari", reason="Not ours", booking_date=DAY)
    elif case == "several ledgers":
        Payment.objects.filter(pk=payment.pk).update(misdirected_company_no=f"{other.company_no},99999")
    before, before_other = journal_state(ledger), journal_state(other)
    with pytest.raises((ValidationFailed, InvalidTransition)) as excinfo:
        payment_move_to_ledger(payment=payment, actor="kari", reason=reason, booking_date=DAY)
    assert excinfo.value.code == code
    assert (journal_state(ledger), journal_state(other)) == (before, before_other)
    assert Payment.objects.filter(ledger=other).count() == (1 if case == "already moved" else 0)
    if case != "other currency":
        assert_verified(ledger, other)


def test_a_moved_payment_cannot_be_reversed_or_refunded(ledger, other):
    theirs = InvoiceFactory(customer=CustomerFactory(ledger=other), amount=Decimal("250.00"))
    payment = misdirected(theirs, "250.00")
    payment_move_to_ledger(payment=payment, actor="test", reason="Wrong client", booking_date=DAY)
    transactions = JournalTransaction.objects.filter(ledger=ledger).count()
    with pytest.raises(InvalidTransition) as excinfo:
        payment_reverse(payment=payment, actor="test", reason="oops")
    assert excinfo.value.code == "payment_moved"
    with pytest.raises(InvalidTransition) as excinfo:
        payment_refund(payment=payment, actor="test", reason="oops", bank_account="12345678903")
    assert excinfo.value.code == "payment_moved"
    assert JournalTransaction.objects.filter(ledger=ledger).count() == transactions
