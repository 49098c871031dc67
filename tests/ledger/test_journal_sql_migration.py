"""The journal SQL is reversible: the reverse file removes every guard, the forward file restores them.

DDL is transactional in PostgreSQL, so the test's rollback leaves the schema as it was.
"""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from distribution.sql import read_sql as read_distribution_sql
from ledger.models import Posting
from ledger.sql import read_sql
from tests.factories import InvoiceFactory


def execute(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)


def test_reverse_sql_removes_the_guards_and_forward_sql_restores_them(db):
    invoice, foreign = InvoiceFactory(), InvoiceFactory()
    posting = Posting.objects.get(invoice=invoice, component="capital")
    execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses to run with trigger events pending

    # In reverse migration order: the newest keys first (tenancy_keys_3.sql, tenancy_keys_2.sql), the
    # set-based checks give the composite keys back, and the later tenancy keys (and distribution's
    # document keys) depend on journal.sql's unique keys.
    execute(read_sql("tenancy_keys_3_reverse.sql"))
    execute(read_sql("tenancy_keys_2_reverse.sql"))
    execute(read_sql("tenancy_checks_reverse.sql"))
    execute(read_distribution_sql("documents_reverse.sql"))
    execute(read_sql("tenancy_keys_reverse.sql"))
    execute(read_sql("journal_reverse.sql"))
    with transaction.atomic():
        Posting.objects.filter(pk=posting.pk).update(amount=Decimal("999.00"))
        transaction.set_rollback(True)

    execute(read_sql("journal.sql"))
    execute(read_sql("tenancy_keys.sql"))
    execute(read_distribution_sql("documents.sql"))
    execute(read_sql("tenancy_keys_2.sql"))
    execute(read_sql("tenancy_keys_3.sql"))
    with pytest.raises(IntegrityError, match="append-only"):
        with transaction.atomic():
            Posting.objects.filter(pk=posting.pk).update(amount=Decimal("999.00"))
    with pytest.raises(IntegrityError, match="posting_invoice_same_ledger"):  # the per-row key
        with transaction.atomic():
            execute("SET CONSTRAINTS ALL DEFERRED")  # the balance check waits; the key does not
            Posting.objects.create(**_posting_values(posting), invoice=foreign)
    execute(read_sql("tenancy_checks.sql"))
    with pytest.raises(IntegrityError, match="posting_invoice_same_ledger"):  # the set-based check
        with transaction.atomic():
            execute("SET CONSTRAINTS ALL DEFERRED")  # the balance check waits; the key does not
            Posting.objects.create(**_posting_values(posting), invoice=foreign)


def _posting_values(posting):
    return {
        "transaction_id": posting.transaction_id,
        "ledger_id": posting.ledger_id,
        "account_id": posting.account_id,
        "amount": Decimal("1.00"),
        "currency": "NOK",
    }


def test_an_event_cannot_name_another_ledgers_invoice(db):
    from ledger.models import InvoiceEvent

    mine, theirs = InvoiceFactory(), InvoiceFactory()
    with pytest.raises(IntegrityError, match="invoiceevent_invoice_same_ledger"):
        with transaction.atomic():
            InvoiceEvent.objects.create(
                ledger=mine.ledger,
                invoice=theirs,
                kind="registered",
                to_status="open",
                booking_date="2026-01-05",
                actor="test",
            )


def test_the_set_based_checks_reverse_to_the_per_row_ones_and_back(db):
    ledger = InvoiceFactory().ledger
    execute("SET CONSTRAINTS ALL IMMEDIATE")
    for sql in ("journal_checks_reverse.sql", "journal_checks.sql"):
        execute(read_sql(sql))
        with pytest.raises(IntegrityError, match="does not balance"):
            with transaction.atomic():
                execute("SET CONSTRAINTS ALL DEFERRED")
                posting = Posting.objects.filter(ledger=ledger).first()
                Posting.objects.create(
                    transaction_id=posting.transaction_id,
                    ledger=ledger,
                    account_id=posting.account_id,
                    amount=Decimal("1.00"),
                    currency=posting.currency,
                )
                execute("SET CONSTRAINTS ALL IMMEDIATE")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = 'posting_transaction_balanced'"
        )
        assert [row[0] for row in cursor.fetchall()] == ["ledger_journal_check"]
