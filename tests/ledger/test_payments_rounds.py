"""A file is written in rounds (ledger.payments.booking.WRITE_CHUNK payments each) by a background writer
while the next round is planned: the rounds see each other's effects, and a failure in any round
books nothing of the file."""

from datetime import timedelta
from decimal import Decimal

import pytest

from ledger.errors import InvalidTransition
from ledger.models import Account, AccountRole, Invoice, InvoiceEvent, Payment, PaymentFile, Posting
from ledger.payments import bank_import, booking
from tests.factories import CustomerFactory, InvoiceFactory
from tests.ledger.test_payments_import import (
    PAY_DAY,
    assert_verified,
    book,
    ledger_with_account,
    ocr_file,
    pay,
    stray_kid,
)


@pytest.fixture
def rounds_of_two(monkeypatch):
    monkeypatch.setattr(bank_import, "WRITE_CHUNK", 2)
    monkeypatch.setattr(bank_import, "FIRST_ROUND", 2)


def test_payments_across_rounds_see_each_other(db, rounds_of_two):
    ledger = ledger_with_account()
    customer = CustomerFactory(ledger=ledger)
    not_due = {"customer": customer, "invoice_date": PAY_DAY - timedelta(days=3)}  # no surplus settling
    twice = InvoiceFactory(amount=Decimal("100.00"), **not_due)
    in_parts = InvoiceFactory(amount=Decimal("300.00"), **not_due)
    exact = InvoiceFactory(amount=Decimal("50.00"), **not_due)
    data = ocr_file(
        [
            pay(twice.payment_ref, "100.00", "000000001"),  # round 1: closes it
            pay(in_parts.payment_ref, "120.00", "000000002"),  # round 1: partly
            pay(in_parts.payment_ref, "100.00", "000000003"),  # round 2: partly
            pay(twice.payment_ref, "100.00", "000000004"),  # round 2: paid twice -> credit balance
            pay(in_parts.payment_ref, "80.00", "000000005"),  # round 3: the rest, closes it
            pay(stray_kid(), "7.00", "000000006"),  # round 3: unidentified
            pay(exact.payment_ref, "50.00", "000000007"),  # round 4
        ]
    )
    summary = book(data)
    assert summary["status"] == "accepted"
    assert (summary["payments"], summary["matched"], summary["partially_paid"]) == (7, 3, 2)
    assert (summary["double_paid"], summary["unidentified"], summary["total_amount"]) == (1, 1, "557.00")
    assert PaymentFile.objects.get(pk=summary["payment_file"]).summary["payments"] == 7

    for invoice in (twice, in_parts, exact):
        invoice.refresh_from_db()
        assert (invoice.status, invoice.closed_on) == ("closed", PAY_DAY)
    # Closed once each, paid events for every placement, in file order.
    assert InvoiceEvent.objects.filter(invoice__ledger=ledger, kind="closed").count() == 3
    assert list(
        InvoiceEvent.objects.filter(invoice=in_parts, kind__in=["paid", "partially_paid"])
        .order_by("transaction_id")
        .values_list("kind", flat=True)
    ) == ["partially_paid", "partially_paid", "paid"]
    double = Payment.objects.get(ledger=ledger, bank_archive_ref__startswith="000000004")
    assert double.outcome == Payment.Outcome.DOUBLE
    credit = Posting.objects.filter(payment=double, account__role=AccountRole.CUSTOMER_CREDIT).get()
    assert (credit.amount, credit.customer_id) == (Decimal("-100.00"), customer.id)
    assert_verified(ledger)


def test_a_failure_in_a_later_round_books_nothing_of_the_file(db, rounds_of_two):
    from ledger.errors import ValidationFailed

    ledger = ledger_with_account()
    customer = CustomerFactory(ledger=ledger)
    invoices = [InvoiceFactory(customer=customer, amount=Decimal("100.00")) for _ in range(5)]
    # The fifth payment (third round) overpays: it needs the customer-credit account, which is gone.
    Account.objects.filter(ledger=ledger, role=AccountRole.CUSTOMER_CREDIT).update(role="")
    specs = [pay(invoice.payment_ref, "100.00", f"00000000{n}") for n, invoice in enumerate(invoices[:4], 1)]
    data = ocr_file([*specs, pay(invoices[4].payment_ref, "150.00", "000000005")])
    with pytest.raises(ValidationFailed) as caught:
        book(data)
    assert caught.value.code == "account_missing"
    assert not Payment.objects.filter(ledger=ledger).exists()
    assert not PaymentFile.objects.filter(ledger=ledger).exists()
    assert set(Invoice.objects.filter(ledger=ledger).values_list("status", flat=True)) == {"open"}


def test_a_database_error_in_the_writer_books_nothing_of_the_file(db, rounds_of_two, monkeypatch):
    """PostgreSQL refuses a row of the third round in the writer thread: the caller gets the import's
    import_conflict error (from the IntegrityError) and the transaction rolls back whole."""
    from ledger.errors import ValidationFailed

    ledger = ledger_with_account()
    customer = CustomerFactory(ledger=ledger)
    invoices = [InvoiceFactory(customer=customer, amount=Decimal("100.00")) for _ in range(5)]
    foreign = InvoiceFactory()  # another ledger's invoice
    real_posting_rows = booking._posting_rows

    def posting_on_another_ledgers_invoice(ledger, plan, accounts):
        rows = real_posting_rows(ledger, plan, accounts)
        if plan.bank.archive_ref.startswith("000000005"):
            rows[-1] = (
                *rows[-1][:3],
                foreign.id,
                *rows[-1][4:],
            )
        return rows

    monkeypatch.setattr(booking, "_posting_rows", posting_on_another_ledgers_invoice)
    data = ocr_file(
        [pay(invoice.payment_ref, "100.00", f"00000000{n}") for n, invoice in enumerate(invoices, 1)]
    )
    with pytest.raises(ValidationFailed, match="posting_invoice_same_ledger") as caught:
        book(data)
    assert caught.value.code == "import_conflict"
    assert not Payment.objects.filter(ledger=ledger).exists()
    assert not PaymentFile.objects.filter(ledger=ledger).exists()
    assert set(Invoice.objects.filter(ledger=ledger).values_list("status", flat=True)) == {"open"}


def test_a_refused_close_in_a_later_round_books_nothing_of_the_file(db, rounds_of_two, monkeypatch):
    ledger = ledger_with_account()
    customer = CustomerFactory(ledger=ledger)
    invoices = [InvoiceFactory(customer=customer, amount=Decimal("100.00")) for _ in range(5)]
    real_closes = booking._closes

    def close_an_invoice_twice(ledger, plans, **kwargs):
        closes, events = real_closes(ledger, plans, **kwargs)
        if any(plan.bank.archive_ref.startswith("000000005") for plan in plans):
            closes.append(closes[0])  # the UPDATE finds it closed already: not every invoice closes
        return closes, events

    monkeypatch.setattr(booking, "_closes", close_an_invoice_twice)
    data = ocr_file(
        [pay(invoice.payment_ref, "100.00", f"00000000{n}") for n, invoice in enumerate(invoices, 1)]
    )
    with pytest.raises(InvalidTransition) as caught:
        book(data)
    assert caught.value.code == "invoice_closed"
    assert not Payment.objects.filter(ledger=ledger).exists()
    assert set(Invoice.objects.filter(ledger=ledger).values_list("status", flat=True)) == {"open"}


def test_awkward_text_from_the_bank_is_stored_as_given(db):
    """The rows go to COPY as text lines built by the import: tabs, newlines, backslashes and quotes
    in what the bank sent must arrive unchanged, not split a row or end a field."""
    from ledger.payments.bankfiles.write import PaymentSpec, write_camt054

    ledger = ledger_with_account(currency="EUR", country="FI")
    awkward = 'Tab\there, new\nline, back\\slash, "quotes" and \\N'  # (XML turns a CR into LF)
    data = write_camt054(
        [
            PaymentSpec(
                reference="",
                amount=Decimal("12.50"),
                payer_name=awkward[:60],
                text=awkward,
                archive_ref="AW\\1",
            )
        ],
        receiving_account="15030000002",
        booking_date=PAY_DAY,
    )
    summary = book(data, name="camt.xml")
    assert summary["status"] == "accepted", summary["errors"]
    payment = Payment.objects.get(ledger=ledger)
    assert (payment.payer_name, payment.text, payment.bank_archive_ref) == (awkward[:60], awkward, "AW\\1")
    assert payment.status == Payment.Status.UNIDENTIFIED
    assert_verified(ledger)


def test_a_bad_end_record_found_after_rounds_were_stored_rejects_the_whole_file(db, rounds_of_two):
    """The OCR Giro file is read while it is booked: its end records are checked last, after rounds
    have gone to the database. A wrong transmission total still books nothing and rejects the file."""
    ledger = ledger_with_account()
    customer = CustomerFactory(ledger=ledger)
    invoices = [InvoiceFactory(customer=customer, amount=Decimal("100.00")) for _ in range(5)]
    data = ocr_file(
        [pay(invoice.payment_ref, "100.00", f"00000000{n}") for n, invoice in enumerate(invoices, 1)]
    )
    end_record = data.splitlines()[-1]
    assert b"00000000000050000" in end_record  # the transmission total, in øre
    tampered = data.replace(end_record, end_record.replace(b"00000000000050000", b"00000000000050100"))

    out = book(tampered)
    assert (out["status"], out["errors"][0]["code"]) == ("rejected", "control_total_mismatch")
    assert "transmission end record" in out["errors"][0]["message"]
    assert not Payment.objects.filter(ledger=ledger).exists()
    assert set(Invoice.objects.filter(ledger=ledger).values_list("status", flat=True)) == {"open"}
    assert PaymentFile.objects.get(pk=out["payment_file"]).status == "rejected"
    assert book(data)["status"] == "accepted"  # the good file, afterwards, books as usual
    assert_verified(ledger)


def test_a_record_broken_in_a_later_round_rejects_the_whole_file(db, rounds_of_two):
    ledger = ledger_with_account()
    customer = CustomerFactory(ledger=ledger)
    invoices = [InvoiceFactory(customer=customer, amount=Decimal("100.00")) for _ in range(5)]
    data = ocr_file(
        [pay(invoice.payment_ref, "100.00", f"00000000{n}") for n, invoice in enumerate(invoices, 1)]
    )
    lines = data.splitlines(keepends=True)
    lines[-4] = lines[-4][:40] + b"X" + lines[-4][41:]  # in the last transaction's records
    out = book(b"".join(lines))
    assert out["status"] == "rejected"
    assert out["errors"][0]["line"] == len(lines) - 3
    assert not Payment.objects.filter(ledger=ledger).exists()


def test_surplus_in_a_later_round_settles_the_oldest_and_later_rounds_see_it(db, rounds_of_two):
    """The overdue invoices are loaded in the round whose surplus needs them; a later round that pays
    one of them by reference finds the same invoice, already part paid by that surplus."""
    from datetime import date

    ledger = ledger_with_account()
    customer = CustomerFactory(ledger=ledger)
    not_due = {"customer": customer, "invoice_date": PAY_DAY - timedelta(days=3)}
    first, second, third = (InvoiceFactory(amount=Decimal("100.00"), **not_due) for _ in range(3))
    overdue = InvoiceFactory(customer=customer, amount=Decimal("300.00"), invoice_date=date(2025, 12, 1))
    oldest = InvoiceFactory(
        customer=customer, amount=Decimal("50.00"), invoice_date=date(2025, 11, 1)
    )  # not in the file
    data = ocr_file(
        [
            pay(first.payment_ref, "100.00", "000000001"),  # round 1: exact
            pay(third.payment_ref, "10.00", "000000002"),  # round 1: partial
            pay(second.payment_ref, "220.00", "000000003"),  # round 2: 120.00 surplus -> the overdue ones
            pay(third.payment_ref, "90.00", "000000004"),  # round 2: the rest of the third
            pay(overdue.payment_ref, "230.00", "000000005"),  # round 3: what the surplus left open
        ]
    )
    summary = book(data)
    assert (summary["matched"], summary["partially_paid"], summary["overpaid"]) == (3, 1, 1)

    surplus = Payment.objects.get(ledger=ledger, bank_archive_ref__startswith="000000003")
    placed = dict(
        Posting.objects.filter(payment=surplus, invoice__isnull=False).values_list("invoice_id", "amount")
    )
    # the oldest first (loaded for the surplus), then the one the file also pays by reference
    assert placed == {
        second.id: Decimal("-100.00"),
        oldest.id: Decimal("-50.00"),
        overdue.id: Decimal("-70.00"),
    }
    last = Payment.objects.get(ledger=ledger, bank_archive_ref__startswith="000000005")
    assert last.outcome == Payment.Outcome.EXACT  # 300.00 - 70.00 left, paid exactly
    for invoice in (first, second, third, overdue, oldest):
        invoice.refresh_from_db()
        assert invoice.status == "closed", invoice.invoice_no
    assert_verified(ledger)
