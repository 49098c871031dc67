"""The journal invariants live in PostgreSQL: these tests try to break them with raw writes."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from ledger.models import Account, AccountRole, JournalTransaction, Posting, TransactionKind
from ledger.services.journal import Line, journal_book
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


# --- The deferred checks are set-based (migration 0013): one check per statement, same guarantees ------


def copy_postings(rows):
    with connection.cursor() as cursor:
        with cursor.copy(
            "COPY ledger_posting (transaction_id, ledger_id, account_id, amount, currency, component) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row((*row, ""))


def pending_checks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM ledger_journal_check")
        return cursor.fetchone()[0]


def test_one_unbalanced_transaction_among_many_in_one_copy_is_found_and_named(db):
    ledger = LedgerFactory()
    fee, bank = account(ledger, AccountRole.FEE_INCOME).pk, account(ledger, AccountRole.CLIENT_FUNDS_BANK).pk
    with pytest.raises(IntegrityError, match=r"journal transaction (\d+) does not balance") as excinfo:
        with transaction.atomic():
            txns = [new_transaction(ledger) for _ in range(50)]
            rows = []
            for i, txn in enumerate(txns):
                rows.append((txn.pk, ledger.pk, fee, Decimal("-10.00"), "NOK"))
                rows.append((txn.pk, ledger.pk, bank, Decimal("9.99" if i == 37 else "10.00"), "NOK"))
            copy_postings(rows)
            fire_deferred_constraints()
    assert excinfo.value.__cause__.diag.constraint_name == "posting_transaction_balanced"
    assert str(txns[37].pk) in str(excinfo.value)
    assert not JournalTransaction.objects.filter(ledger=ledger).exists()


def test_one_transaction_without_postings_among_many_is_found(db):
    ledger = LedgerFactory()
    fee, bank = account(ledger, AccountRole.FEE_INCOME).pk, account(ledger, AccountRole.CLIENT_FUNDS_BANK).pk
    with pytest.raises(IntegrityError, match="has no postings") as excinfo:
        with transaction.atomic():
            txns = [new_transaction(ledger) for _ in range(10)]
            copy_postings(
                row
                for txn in txns[:-1]
                for row in (
                    (txn.pk, ledger.pk, fee, Decimal("-1.00"), "NOK"),
                    (txn.pk, ledger.pk, bank, Decimal("1.00"), "NOK"),
                )
            )
            fire_deferred_constraints()
    assert excinfo.value.__cause__.diag.constraint_name == "journaltransaction_has_postings"
    assert str(txns[-1].pk) in str(excinfo.value)


def test_a_posting_added_later_to_a_booked_transaction_is_checked_again(db):
    invoice = InvoiceFactory()
    txn = JournalTransaction.objects.get(invoice=invoice)
    with pytest.raises(IntegrityError, match="does not balance"):
        with transaction.atomic():
            Posting.objects.create(
                transaction=txn,
                ledger=invoice.ledger,
                account=account(invoice.ledger, AccountRole.FEE_INCOME),
                amount=Decimal("5.00"),
                currency="NOK",
            )
            fire_deferred_constraints()


def test_the_checks_can_be_made_immediate_by_name_and_leave_nothing_behind(db):
    ledger = LedgerFactory()
    with pytest.raises(IntegrityError, match="does not balance"):
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS posting_transaction_balanced IMMEDIATE")
            txn = new_transaction(ledger)
            # Immediate: the first posting alone is refused at the end of its own statement.
            Posting.objects.create(
                transaction=txn,
                ledger=ledger,
                account=account(ledger, AccountRole.FEE_INCOME),
                amount=Decimal("10.00"),
                currency="NOK",
            )
    journal_book(
        ledger=ledger,
        kind=TransactionKind.FEE,
        booking_date=ledger.today(),
        actor="test",
        lines=[
            Line(role=AccountRole.CLIENT_FUNDS_BANK, amount=Decimal("5")),
            Line(role=AccountRole.FEE_INCOME, amount=Decimal("-5")),
        ],
    )
    assert pending_checks() == 2  # the transaction's and its postings' checks wait for the commit
    fire_deferred_constraints()
    assert pending_checks() == 0  # each check removes its note once it has passed


def test_a_transaction_is_reversed_at_most_once(db):
    original = JournalTransaction.objects.filter(invoice=InvoiceFactory()).get()
    reversal = {
        "ledger_id": original.ledger_id,
        "booking_date": "2026-01-06",
        "kind": "reversal",
        "actor": "t",
    }
    with transaction.atomic():
        JournalTransaction.objects.create(reverses=original, **reversal)
        with pytest.raises(IntegrityError, match="transaction_reversed_once"), transaction.atomic():
            JournalTransaction.objects.create(reverses=original, **reversal)
        transaction.set_rollback(True)  # the first reversal has no postings: not a booking to keep
