"""The journal invariants live in PostgreSQL: these tests try to break them with raw writes."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from ledger.models import Account, AccountRole, JournalTransaction, Posting, TransactionKind
from ledger.services import Line, journal_book
from tests.factories import InvoiceFactory, LedgerFactory


def fire_deferred_constraints():
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def account(ledger, role):
    return Account.objects.get(ledger=ledger, role=role)


def new_transaction(ledger):
    return JournalTransaction.objects.create(
        ledger=ledger, booking_date="2026-01-05", kind=TransactionKind.FEE, actor="test"
    )


def test_unbalanced_postings_are_refused_at_commit(db):
    ledger = LedgerFactory()
    with pytest.raises(IntegrityError, match="does not balance"):
        with transaction.atomic():
            txn = new_transaction(ledger)
            Posting.objects.create(
                transaction=txn,
                ledger=ledger,
                account=account(ledger, AccountRole.FEE_INCOME),
                amount=Decimal("10.00"),
                currency="NOK",
            )
            Posting.objects.create(
                transaction=txn,
                ledger=ledger,
                account=account(ledger, AccountRole.CLIENT_FUNDS_BANK),
                amount=Decimal("-9.99"),
                currency="NOK",
            )
            fire_deferred_constraints()
    assert not JournalTransaction.objects.filter(ledger=ledger).exists()


def test_balance_is_checked_per_currency(db):
    ledger = LedgerFactory()
    with pytest.raises(IntegrityError, match="does not balance"):
        with transaction.atomic():
            txn = new_transaction(ledger)
            Posting.objects.create(
                transaction=txn,
                ledger=ledger,
                account=account(ledger, AccountRole.FEE_INCOME),
                amount=Decimal("10.00"),
                currency="NOK",
            )
            Posting.objects.create(
                transaction=txn,
                ledger=ledger,
                account=account(ledger, AccountRole.CLIENT_FUNDS_BANK),
                amount=Decimal("-10.00"),
                currency="SEK",
            )
            fire_deferred_constraints()


def test_balanced_postings_inserted_one_by_one_are_accepted(db):
    ledger = LedgerFactory()
    with transaction.atomic():
        txn = new_transaction(ledger)
        Posting.objects.create(
            transaction=txn,
            ledger=ledger,
            account=account(ledger, AccountRole.FEE_INCOME),
            amount=Decimal("-10.00"),
            currency="NOK",
        )
        Posting.objects.create(
            transaction=txn,
            ledger=ledger,
            account=account(ledger, AccountRole.CLIENT_FUNDS_BANK),
            amount=Decimal("10.00"),
            currency="NOK",
        )
        fire_deferred_constraints()
    assert Posting.objects.filter(transaction=txn).count() == 2


def test_transaction_without_postings_is_refused(db):
    ledger = LedgerFactory()
    with pytest.raises(IntegrityError, match="has no postings"):
        with transaction.atomic():
            new_transaction(ledger)
            fire_deferred_constraints()


def test_zero_amount_posting_is_refused(db):
    ledger = LedgerFactory()
    with pytest.raises(IntegrityError, match="posting_amount_nonzero"):
        with transaction.atomic():
            txn = new_transaction(ledger)
            Posting.objects.create(
                transaction=txn,
                ledger=ledger,
                account=account(ledger, AccountRole.FEE_INCOME),
                amount=Decimal("0.00"),
                currency="NOK",
            )


def test_postings_cannot_be_updated(db):
    invoice = InvoiceFactory()
    posting = Posting.objects.get(invoice=invoice, component="capital")
    with pytest.raises(IntegrityError, match="append-only: UPDATE refused"):
        with transaction.atomic():
            Posting.objects.filter(pk=posting.pk).update(amount=Decimal("1.00"))
    posting.refresh_from_db()
    assert posting.amount == Decimal("1000.00")


def test_postings_cannot_be_deleted(db):
    invoice = InvoiceFactory()
    with pytest.raises(IntegrityError, match="append-only: DELETE refused"):
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM ledger_posting WHERE invoice_id = %s", [invoice.pk])
    assert Posting.objects.filter(invoice=invoice).count() == 2


def test_journal_transactions_cannot_be_updated_or_deleted(db):
    invoice = InvoiceFactory()
    txn = JournalTransaction.objects.get(invoice=invoice)
    with pytest.raises(IntegrityError, match="append-only: UPDATE refused"):
        with transaction.atomic():
            JournalTransaction.objects.filter(pk=txn.pk).update(description="changed")
    with pytest.raises(IntegrityError, match="append-only: DELETE refused"):
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM ledger_journaltransaction WHERE id = %s", [txn.pk])


def test_posting_to_another_ledgers_account_is_refused(db):
    ledger, other = LedgerFactory(), LedgerFactory()
    with pytest.raises(IntegrityError, match="posting_account_same_ledger"):
        with transaction.atomic():
            txn = new_transaction(ledger)
            Posting.objects.create(
                transaction=txn,
                ledger=ledger,
                account=account(other, AccountRole.FEE_INCOME),
                amount=Decimal("10.00"),
                currency="NOK",
            )


def test_posting_on_another_ledgers_invoice_is_refused(db):
    ledger = LedgerFactory()
    foreign_invoice = InvoiceFactory()
    with pytest.raises(IntegrityError, match="posting_invoice_same_ledger"):
        with transaction.atomic():
            txn = new_transaction(ledger)
            Posting.objects.create(
                transaction=txn,
                ledger=ledger,
                account=account(ledger, AccountRole.FEE_INCOME),
                invoice=foreign_invoice,
                amount=Decimal("10.00"),
                currency="NOK",
            )


def test_journal_book_refuses_unbalanced_lines_before_writing(db):
    ledger = LedgerFactory()
    with pytest.raises(Exception) as excinfo:
        journal_book(
            ledger=ledger,
            kind=TransactionKind.FEE,
            booking_date=ledger.today(),
            actor="test",
            lines=[
                Line(role=AccountRole.CLIENT_FUNDS_BANK, amount=Decimal("5")),
                Line(role=AccountRole.FEE_INCOME, amount=Decimal("-4")),
            ],
        )
    assert excinfo.value.code == "unbalanced_transaction"
    assert not JournalTransaction.objects.filter(ledger=ledger).exists()


def test_journal_book_writes_balanced_transaction(db):
    ledger = LedgerFactory()
    txn = journal_book(
        ledger=ledger,
        kind=TransactionKind.FEE,
        booking_date=ledger.today(),
        actor="test",
        lines=[
            Line(role=AccountRole.CLIENT_FUNDS_BANK, amount=Decimal("5.00")),
            Line(role=AccountRole.FEE_INCOME, amount=Decimal("-5.00")),
        ],
    )
    fire_deferred_constraints()
    assert sorted(Posting.objects.filter(transaction=txn).values_list("amount", flat=True)) == [
        Decimal("-5.00"),
        Decimal("5.00"),
    ]


@pytest.mark.parametrize("field", ["account_id", "transaction_id", "invoice_id", "customer_id", "payment_id"])
def test_posting_to_a_row_that_does_not_exist_is_refused(db, field):
    ledger = LedgerFactory()
    with pytest.raises(IntegrityError, match="same_ledger"):
        with transaction.atomic():
            txn = new_transaction(ledger)
            values = {
                "transaction_id": txn.id,
                "account_id": account(ledger, AccountRole.FEE_INCOME).id,
                field: 987654321,
            }
            Posting.objects.create(ledger=ledger, amount=Decimal("1.00"), currency="NOK", **values)
