"""Matching and allocation of imported payments: exact, partial (both allocation orders), overpaid,
surplus settled against the oldest overdue invoice, double payment, unidentified and misdirected."""

from datetime import date
from decimal import Decimal

import pytest

from ledger import references
from ledger.models import (
    AccountRole,
    AllocationOrder,
    Component,
    InvoiceEvent,
    InvoiceStatus,
    JournalTransaction,
    Payment,
    Posting,
    TransactionKind,
)
from ledger.payments.bankfiles.write import PaymentSpec, write_bgmax
from ledger.payments.selectors import customer_credit_balance, customers_with_credit, unidentified_payments
from ledger.selectors import invoice_balance
from ledger.services.journal import Line, journal_book
from tests.factories import CustomerFactory, InvoiceFactory
from tests.ledger.test_payments_import import (
    PAY_DAY,
    account_balance,
    assert_verified,
    book,
    ledger_with_account,
    ocr_file,
    pay,
)


def add_fee(invoice, amount: str):
    amount = Decimal(amount)
    journal_book(
        ledger=invoice.ledger,
        kind=TransactionKind.FEE,
        booking_date=date(2026, 2, 1),
        actor="test",
        invoice=invoice,
        lines=[
            Line(role=AccountRole.RECEIVABLE_FEE, amount=amount, component=Component.FEE, invoice=invoice),
            Line(role=AccountRole.FEE_INCOME, amount=-amount, invoice=invoice),
        ],
    )


def add_interest(invoice, amount: str):
    amount = Decimal(amount)
    journal_book(
        ledger=invoice.ledger,
        kind=TransactionKind.INTEREST,
        booking_date=date(2026, 2, 1),
        actor="test",
        invoice=invoice,
        lines=[
            Line(
                role=AccountRole.RECEIVABLE_INTEREST,
                amount=amount,
                component=Component.INTEREST,
                invoice=invoice,
            ),
            Line(role=AccountRole.INTEREST_INCOME, amount=-amount, invoice=invoice),
        ],
    )


def event_kinds(invoice) -> list[str]:
    return list(InvoiceEvent.objects.filter(invoice=invoice).values_list("kind", flat=True))


def payment_postings(payment) -> dict:
    """{(role, invoice_no or customer_no or ''): amount} of the payment's PAYMENT transaction."""
    txn = JournalTransaction.objects.get(payment=payment, kind=TransactionKind.PAYMENT)
    out = {}
    for p in Posting.objects.filter(transaction=txn).select_related("account", "invoice", "customer"):
        assert p.payment_id == payment.id  # every line of the payment carries it
        key = p.invoice.invoice_no if p.invoice else (p.customer.customer_no if p.customer else "")
        out[(p.account.role, p.component, key)] = p.amount
    return out


def make_ledger(**kwargs):
    ledger = ledger_with_account()
    for name, value in kwargs.items():
        setattr(ledger, name, value)
    ledger.save(update_fields=list(kwargs))
    return ledger


def test_exact_payment_closes_the_invoice(db):
    ledger = make_ledger()
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), amount=Decimal("1234.56"))
    out = book(ocr_file([pay(invoice.payment_ref, "1234.56", "000000001")]))

    assert (out["matched"], out["payments"]) == (1, 1)
    payment = Payment.objects.get()
    assert (payment.status, payment.outcome, payment.invoice, payment.customer) == (
        "allocated",
        "exact",
        invoice,
        invoice.customer,
    )
    assert payment_postings(payment) == {
        (AccountRole.CLIENT_FUNDS_BANK, "", ""): Decimal("1234.56"),
        (AccountRole.RECEIVABLE_CAPITAL, "capital", invoice.invoice_no): Decimal("-1234.56"),
    }
    invoice.refresh_from_db()
    assert (invoice.status, invoice.closed_on) == (InvoiceStatus.CLOSED, PAY_DAY)
    assert event_kinds(invoice) == ["registered", "paid", "closed"]
    paid = InvoiceEvent.objects.get(invoice=invoice, kind="paid")
    assert (paid.actor, paid.booking_date) == ("bank", PAY_DAY)
    assert "000000001" in paid.reason
    assert_verified(ledger)


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        # 1000 capital + 35 fee + 12.50 interest open; 500.00 paid
        (AllocationOrder.CAPITAL_FIRST, {"capital": "500.00", "fee": "35.00", "interest": "12.50"}),
        (AllocationOrder.COSTS_FIRST, {"capital": "547.50", "fee": "0.00", "interest": "0.00"}),
    ],
)
def test_partial_payment_follows_the_allocation_order_and_leaves_the_rest_open(db, order, expected):
    ledger = make_ledger(allocation_order=order)
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), amount=Decimal("1000.00"))
    add_fee(invoice, "35.00")
    add_interest(invoice, "12.50")
    out = book(ocr_file([pay(invoice.payment_ref, "500.00", "000000001")]))

    assert (out["partially_paid"], out["matched"]) == (1, 0)
    balance = invoice_balance(invoice)
    assert {
        "capital": str(balance.capital),
        "fee": str(balance.fees),
        "interest": str(balance.interest),
    } == expected
    assert balance.open_amount == Decimal("547.50")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    assert event_kinds(invoice) == ["registered", "partially_paid"]
    assert Payment.objects.get().outcome == "partial"
    assert_verified(ledger)


def test_costs_first_spreads_a_payment_over_fee_interest_then_capital(db):
    ledger = make_ledger(allocation_order=AllocationOrder.COSTS_FIRST)
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), amount=Decimal("1000.00"))
    add_fee(invoice, "35.00")
    add_interest(invoice, "12.50")
    book(ocr_file([pay(invoice.payment_ref, "40.00", "000000001")]))
    payment = Payment.objects.get()
    assert payment_postings(payment) == {
        (AccountRole.CLIENT_FUNDS_BANK, "", ""): Decimal("40.00"),
        (AccountRole.RECEIVABLE_FEE, "fee", invoice.invoice_no): Decimal("-35.00"),
        (AccountRole.RECEIVABLE_INTEREST, "interest", invoice.invoice_no): Decimal("-5.00"),
    }
    # The rest, exactly, closes it.
    out = book(ocr_file([pay(invoice.payment_ref, "1007.50", "000000002")], number="0000002"))
    assert out["matched"] == 1
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CLOSED
    assert event_kinds(invoice) == ["registered", "partially_paid", "paid", "closed"]
    assert_verified(ledger)


def test_overpayment_becomes_the_customers_credit_balance(db):
    ledger = make_ledger(settle_surplus_against_oldest=False)
    customer = CustomerFactory(ledger=ledger)
    older = InvoiceFactory(customer=customer, amount=Decimal("300.00"), invoice_date=date(2025, 12, 1))
    invoice = InvoiceFactory(customer=customer, amount=Decimal("1000.00"))
    out = book(ocr_file([pay(invoice.payment_ref, "1200.01", "000000001")]))

    assert (out["overpaid"], out["payments"]) == (1, 1)
    payment = Payment.objects.get()
    assert (payment.status, payment.outcome) == ("allocated", "overpaid")
    assert payment_postings(payment) == {
        (AccountRole.CLIENT_FUNDS_BANK, "", ""): Decimal("1200.01"),
        (AccountRole.RECEIVABLE_CAPITAL, "capital", invoice.invoice_no): Decimal("-1000.00"),
        (AccountRole.CUSTOMER_CREDIT, "", customer.customer_no): Decimal("-200.01"),
    }
    assert customer_credit_balance(customer=customer) == Decimal("200.01")
    assert [(c.customer_no, c.credit) for c in customers_with_credit(ledger=ledger)] == [
        (customer.customer_no, Decimal("200.01"))
    ]
    assert invoice_balance(older).open_amount == Decimal("300.00")  # the rule is off: kept for refund
    assert_verified(ledger)


def test_surplus_is_settled_against_the_customers_oldest_overdue_invoices(db):
    ledger = make_ledger(settle_surplus_against_oldest=True)
    customer = CustomerFactory(ledger=ledger)
    # due 2025-12-15 and 2026-01-04: both overdue on 2026-03-02; the oldest is paid first.
    oldest = InvoiceFactory(customer=customer, amount=Decimal("100.00"), invoice_date=date(2025, 12, 1))
    older = InvoiceFactory(customer=customer, amount=Decimal("300.00"), invoice_date=date(2025, 12, 21))
    not_due = InvoiceFactory(customer=customer, amount=Decimal("50.00"), invoice_date=date(2026, 2, 27))
    someone_else = InvoiceFactory(
        customer=CustomerFactory(ledger=ledger), amount=Decimal("70.00"), invoice_date=date(2025, 11, 1)
    )
    invoice = InvoiceFactory(customer=customer, amount=Decimal("1000.00"))
    out = book(ocr_file([pay(invoice.payment_ref, "1250.00", "000000001")]))

    assert out["overpaid"] == 1
    payment = Payment.objects.get()
    assert payment_postings(payment) == {
        (AccountRole.CLIENT_FUNDS_BANK, "", ""): Decimal("1250.00"),
        (AccountRole.RECEIVABLE_CAPITAL, "capital", invoice.invoice_no): Decimal("-1000.00"),
        (AccountRole.RECEIVABLE_CAPITAL, "capital", oldest.invoice_no): Decimal("-100.00"),
        (AccountRole.RECEIVABLE_CAPITAL, "capital", older.invoice_no): Decimal("-150.00"),
    }
    for inv, status, kinds in (
        (invoice, "closed", ["registered", "paid", "closed"]),
        (oldest, "closed", ["registered", "paid", "closed"]),
        (older, "open", ["registered", "partially_paid"]),
        (not_due, "open", ["registered"]),
        (someone_else, "open", ["registered"]),
    ):
        inv.refresh_from_db()
        assert (inv.invoice_no, inv.status, event_kinds(inv)) == (inv.invoice_no, status, kinds)
    assert "surplus" in InvoiceEvent.objects.get(invoice=older, kind="partially_paid").reason
    assert customer_credit_balance(customer=customer) == 0
    assert_verified(ledger)


def test_surplus_beyond_the_overdue_invoices_stays_as_credit(db):
    ledger = make_ledger(settle_surplus_against_oldest=True)
    customer = CustomerFactory(ledger=ledger)
    oldest = InvoiceFactory(customer=customer, amount=Decimal("100.00"), invoice_date=date(2025, 12, 1))
    invoice = InvoiceFactory(customer=customer, amount=Decimal("1000.00"))
    book(ocr_file([pay(invoice.payment_ref, "1100.50", "000000001")]))
    oldest.refresh_from_db()
    assert oldest.status == InvoiceStatus.CLOSED
    assert customer_credit_balance(customer=customer) == Decimal("0.50")
    assert_verified(ledger)


def test_payment_on_a_closed_invoice_is_a_double_payment_and_becomes_credit(db):
    ledger = make_ledger(settle_surplus_against_oldest=False)
    customer = CustomerFactory(ledger=ledger)
    invoice = InvoiceFactory(customer=customer, amount=Decimal("499.90"))
    book(ocr_file([pay(invoice.payment_ref, "499.90", "000000001")]))
    out = book(
        ocr_file([pay(invoice.payment_ref, "499.90", "000000002")], number="0000002"), name="again.txt"
    )

    assert (out["double_paid"], out["matched"], out["overpaid"]) == (1, 0, 0)
    second = Payment.objects.get(bank_archive_ref__startswith="000000002")
    assert (second.status, second.outcome, second.invoice) == ("allocated", "double", invoice)
    assert payment_postings(second) == {
        (AccountRole.CLIENT_FUNDS_BANK, "", ""): Decimal("499.90"),
        (AccountRole.CUSTOMER_CREDIT, "", customer.customer_no): Decimal("-499.90"),
    }
    assert event_kinds(invoice) == ["registered", "paid", "closed"]
    assert customer_credit_balance(customer=customer) == Decimal("499.90")
    assert_verified(ledger)


def test_two_payments_of_one_invoice_in_one_file(db):
    ledger = make_ledger(settle_surplus_against_oldest=False)
    customer = CustomerFactory(ledger=ledger)
    invoice = InvoiceFactory(customer=customer, amount=Decimal("100.00"))
    out = book(
        ocr_file(
            [
                pay(invoice.payment_ref, "60.00", "000000001"),
                pay(invoice.payment_ref, "40.00", "000000002"),
                pay(invoice.payment_ref, "100.00", "000000003"),
            ]
        )
    )
    assert (out["partially_paid"], out["matched"], out["double_paid"]) == (1, 1, 1)
    assert list(Payment.objects.order_by("bank_archive_ref").values_list("outcome", flat=True)) == [
        "partial",
        "exact",
        "double",
    ]
    assert event_kinds(invoice) == ["registered", "partially_paid", "paid", "closed"]
    assert customer_credit_balance(customer=customer) == Decimal("100.00")
    assert_verified(ledger)


def test_unidentified_payments_go_to_suspense_and_the_worklist(db):
    ledger = ledger_with_account("9912346", country="SE")
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), amount=Decimal("10.00"))
    valid_unknown = references.ocr_generate(ledger_id=ledger.ledger_no, serial=999_999)
    # a last digit that is neither the Luhn nor the mod 11 check digit (either would count as valid)
    wrong_check_digit = next(
        invoice.payment_ref[:-1] + digit
        for digit in "0123456789"
        if not references.has_valid_check_digit(invoice.payment_ref[:-1] + digit)
    )
    data = write_bgmax(
        [
            PaymentSpec(valid_unknown, Decimal("100.00"), payer_name="Anna", archive_ref="1"),
            PaymentSpec(wrong_check_digit, Decimal("10.00"), archive_ref="2"),
            PaymentSpec("", Decimal("0.01"), text="for my invoice", archive_ref="3"),
        ],
        receiving_bankgiro="9912346",
        payment_date=PAY_DAY,
    )
    out = book(data, name="bgmax.txt")

    assert (out["unidentified"], out["misdirected"], out["payments"], out["total_amount"]) == (
        3,
        0,
        3,
        "110.01",
    )
    details = dict(Payment.objects.values_list("amount", "match_detail"))
    assert details == {
        Decimal("100.00"): "no_match",
        Decimal("10.00"): "invalid_check_digit",
        Decimal("0.01"): "no_reference",
    }
    assert set(Payment.objects.values_list("status", "outcome")) == {("unidentified", "unidentified")}
    assert account_balance(ledger, AccountRole.SUSPENSE) == Decimal("-110.01")
    for p in Payment.objects.all():
        assert Posting.objects.get(payment=p, account__role=AccountRole.SUSPENSE).amount == -p.amount
    worklist = list(unidentified_payments(ledger=ledger))
    assert [(p.amount, p.unallocated) for p in worklist] == [(p.amount, p.amount) for p in worklist]
    assert Payment.objects.get(amount=Decimal("0.01")).text == "for my invoice"
    assert invoice_balance(invoice).open_amount == Decimal("10.00")
    assert_verified(ledger)


def test_reference_of_another_ledger_is_a_misdirected_payment(db):
    ledger = make_ledger()
    other = ledger_with_account("15030000010")
    theirs = InvoiceFactory(customer=CustomerFactory(ledger=other), amount=Decimal("250.00"))
    out = book(ocr_file([pay(theirs.payment_ref, "250.00", "000000001")]))

    assert (out["ledger"], out["unidentified"], out["misdirected"], out["matched"]) == (
        ledger.company_no,
        1,
        1,
        0,
    )
    payment = Payment.objects.get()
    assert (payment.ledger, payment.status, payment.outcome, payment.match_detail) == (
        ledger,
        "unidentified",
        "misdirected",
        "other_ledger",
    )
    assert payment.misdirected_company_no == other.company_no
    assert payment.invoice is None
    assert [p.misdirected_company_no for p in unidentified_payments(ledger=ledger)] == [other.company_no]
    assert invoice_balance(theirs).open_amount == Decimal("250.00")
    assert_verified(ledger, other)


def test_payment_on_a_disputed_invoice_is_allocated_and_closes_it(db):
    from ledger.services.respite_dispute import invoice_dispute_open

    ledger = make_ledger()
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), amount=Decimal("10.00"))
    invoice_dispute_open(invoice=invoice, actor="kari", reason="Wrong amount", booking_date=date(2026, 2, 1))
    book(ocr_file([pay(invoice.payment_ref, "10.00", "000000001")]))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CLOSED
    assert InvoiceEvent.objects.filter(invoice=invoice).last().from_status == "disputed"
    assert_verified(ledger)
