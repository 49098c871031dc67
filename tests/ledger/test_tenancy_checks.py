"""The tenancy keys (ledger/sql/tenancy_checks.sql): every reference between the ledger's tables stays
inside one ledger, checked once per statement; the rows referred to are never deleted or re-keyed.
These tests try to break them with raw writes."""

from decimal import Decimal

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from ledger.models import (
    Account,
    AccountRole,
    Customer,
    CustomerEvent,
    Invoice,
    InvoiceEvent,
    JournalTransaction,
    Ledger,
    Payment,
    PaymentFile,
    Posting,
    TransactionKind,
)
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory


def execute(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def refused(constraint):
    """The write fails as a foreign key would: an IntegrityError (SQLSTATE 23503) naming the constraint."""
    return pytest.raises(IntegrityError, match=f'violates foreign key constraint "{constraint}"')


def payment(ledger, **values):
    return Payment.objects.create(
        ledger=ledger,
        bank_archive_ref=f"A{Payment.objects.count() + 1}",
        amount=Decimal("10.00"),
        currency="NOK",
        booking_date="2026-01-05",
        value_date="2026-01-05",
        status=Payment.Status.UNIDENTIFIED,
        **values,
    )


def test_the_error_is_a_foreign_key_violation_with_the_constraint_name(db):
    mine, theirs = InvoiceFactory(), InvoiceFactory()
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        payment(mine.ledger, invoice=theirs)
    cause = caught.value.__cause__
    assert isinstance(cause, psycopg.errors.ForeignKeyViolation)
    assert cause.diag.constraint_name == "payment_invoice_same_ledger"
    assert cause.diag.message_detail == (
        f'Key (invoice_id, ledger_id)=({theirs.id}, {mine.ledger_id}) is not present in table "ledger_invoice".'
    )


def test_one_bad_row_in_a_copy_refuses_the_whole_statement(db):
    """The check is per statement: a COPY of many good rows and one bad one writes nothing."""
    ledger, other = LedgerFactory(), LedgerFactory()
    invoices = [InvoiceFactory(customer=CustomerFactory(ledger=ledger)) for _ in range(3)]
    foreign = InvoiceFactory(customer=CustomerFactory(ledger=other))
    before = InvoiceEvent.objects.count()
    with refused("invoiceevent_invoice_same_ledger"), transaction.atomic():
        with connection.wrap_database_errors, connection.cursor() as cursor:
            with cursor.copy(
                "COPY ledger_invoiceevent (ledger_id, invoice_id, kind, from_status, to_status, booking_date,"
                " reason, actor, created_at) FROM STDIN"
            ) as copy:
                for invoice in [*invoices, foreign, *invoices]:
                    copy.write_row(
                        (
                            ledger.id,
                            invoice.id,
                            "paid",
                            "open",
                            "open",
                            "2026-01-05",
                            "",
                            "test",
                            "2026-01-05",
                        )
                    )
    assert InvoiceEvent.objects.count() == before


@pytest.mark.parametrize(
    ("field", "constraint"),
    [
        ("transaction_id", "posting_transaction_same_ledger"),
        ("account_id", "posting_account_same_ledger"),
        ("invoice_id", "posting_invoice_same_ledger"),
        ("customer_id", "posting_customer_same_ledger"),
        ("payment_id", "posting_payment_same_ledger"),
    ],
)
def test_a_posting_names_only_its_own_ledgers_rows(db, field, constraint):
    mine, theirs = InvoiceFactory(), InvoiceFactory()
    ledger, other = mine.ledger, theirs.ledger
    txn = JournalTransaction.objects.filter(invoice=mine).get()
    values = {
        "transaction_id": txn.id,
        "account_id": Account.objects.get(ledger=ledger, role=AccountRole.FEE_INCOME).id,
    }
    foreign = {
        "transaction_id": JournalTransaction.objects.filter(invoice=theirs).get().id,
        "account_id": Account.objects.get(ledger=other, role=AccountRole.FEE_INCOME).id,
        "invoice_id": theirs.id,
        "customer_id": theirs.customer_id,
        "payment_id": payment(other).id,
    }
    values[field] = foreign[field]
    with refused(constraint), transaction.atomic():
        Posting.objects.create(ledger=ledger, amount=Decimal("1.00"), currency="NOK", **values)


@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        ({"ledger_id": 987654321}, "journaltransaction_ledger_exists"),
        ({"invoice": "theirs"}, "journaltransaction_invoice_same_ledger"),
        ({"payment": "theirs"}, "journaltransaction_payment_same_ledger"),
    ],
)
def test_a_journal_transaction_names_only_its_own_ledgers_rows(db, values, constraint):
    mine, theirs = InvoiceFactory(), InvoiceFactory()
    fields = {"ledger_id": mine.ledger_id}
    for key, value in values.items():
        if key == "invoice":
            fields["invoice"] = theirs
        elif key == "payment":
            fields["payment"] = payment(theirs.ledger)
        else:
            fields[key] = value
    with refused(constraint), transaction.atomic():
        JournalTransaction.objects.create(
            booking_date="2026-01-05", kind=TransactionKind.FEE, actor="t", **fields
        )


@pytest.mark.parametrize(
    ("field", "constraint"),
    [
        ("ledger_id", "payment_ledger_exists"),
        ("file_id", "payment_file_exists"),
        ("invoice_id", "payment_invoice_same_ledger"),
        ("customer_id", "payment_customer_same_ledger"),
    ],
)
def test_a_payment_names_only_its_own_ledgers_rows(db, field, constraint):
    mine, theirs = InvoiceFactory(), InvoiceFactory()
    bad = {
        "ledger_id": 987654321,
        "file_id": 987654321,
        "invoice_id": theirs.id,
        "customer_id": theirs.customer_id,
    }
    fields = {"ledger_id": mine.ledger_id, field: bad[field]}
    ledger = Ledger(pk=fields.pop("ledger_id"))
    with refused(constraint), transaction.atomic():
        payment(ledger, **fields)


def test_an_invoice_and_a_customer_event_name_only_their_own_ledgers_customer(db):
    mine, theirs = InvoiceFactory(), InvoiceFactory()
    with refused("invoice_customer_same_ledger"), transaction.atomic():
        Invoice.objects.create(
            ledger=mine.ledger,
            customer_id=theirs.customer_id,
            invoice_no="X1",
            payment_ref="1234",
            invoice_date="2026-01-05",
            due_date="2026-01-19",
            currency="NOK",
            amount=Decimal("10.00"),
        )
    with refused("customerevent_customer_same_ledger"), transaction.atomic():
        CustomerEvent.objects.create(
            ledger=mine.ledger,
            customer_id=theirs.customer_id,
            kind="created",
            actor="t",
            booking_date="2026-01-05",
        )


def test_a_changed_reference_is_checked_too(db):
    mine, theirs = InvoiceFactory(), InvoiceFactory()
    money = payment(mine.ledger)
    with refused("payment_invoice_same_ledger"), transaction.atomic():
        Payment.objects.filter(pk=money.pk).update(invoice=theirs)
    with refused("payment_customer_same_ledger"), transaction.atomic():
        Payment.objects.filter(pk=money.pk).update(customer_id=theirs.customer_id)
    with refused("invoice_customer_same_ledger"), transaction.atomic():
        Invoice.objects.filter(pk=mine.pk).update(customer_id=theirs.customer_id)
    event = InvoiceEvent.objects.filter(invoice=mine).first()
    with refused("invoiceevent_invoice_same_ledger"), transaction.atomic():
        InvoiceEvent.objects.filter(pk=event.pk).update(invoice=theirs)

    # A reference moved within the ledger is fine, and saving a row without changing its keys is too.
    Payment.objects.filter(pk=money.pk).update(invoice=mine, customer_id=mine.customer_id)
    mine.reference_text = "saved"
    mine.save()
    assert Payment.objects.get(pk=money.pk).invoice_id == mine.id


@pytest.mark.parametrize("model", [Ledger, Customer, Invoice, Payment, Account, PaymentFile])
def test_the_rows_referred_to_are_never_deleted(db, model):
    invoice = InvoiceFactory()
    rows = {
        Ledger: invoice.ledger,
        Customer: invoice.customer,
        Invoice: invoice,
        Payment: payment(invoice.ledger),
        Account: Account.objects.filter(ledger=invoice.ledger).first(),
        PaymentFile: PaymentFile.objects.create(
            ledger=invoice.ledger, file_name="f", digest="d", size=1, status="accepted", actor="t"
        ),
    }
    row = rows[model]
    table = model._meta.db_table
    with pytest.raises(
        IntegrityError, match=f"{table} rows are kept for the ledger's history: DELETE refused"
    ):
        with transaction.atomic():
            execute(f"DELETE FROM {table} WHERE id = %s", [row.pk])
    assert model.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("model", [Customer, Invoice, Payment, Account])
def test_the_rows_referred_to_never_move_to_another_ledger(db, model):
    invoice, other = InvoiceFactory(), LedgerFactory()
    rows = {
        Customer: invoice.customer,
        Invoice: invoice,
        Payment: payment(invoice.ledger),
        Account: Account.objects.filter(ledger=invoice.ledger).first(),
    }
    row = rows[model]
    table = model._meta.db_table
    with pytest.raises(IntegrityError, match="keep their id and ledger"):
        with transaction.atomic():
            execute(f"UPDATE {table} SET ledger_id = %s WHERE id = %s", [other.id, row.pk])
    with pytest.raises(IntegrityError, match="keep their id and ledger"):
        with transaction.atomic():
            execute(f"UPDATE {table} SET id = id + 1000000 WHERE id = %s", [row.pk])
    # Writing the same key back (as Django's save() does) is not a change.
    assert execute(f"UPDATE {table} SET ledger_id = ledger_id WHERE id = %s", [row.pk]) == 1


@pytest.mark.parametrize(
    ("sql", "constraint"),
    [
        ("INSERT INTO ledger_invoiceattachment (ledger_id, invoice_id, position, file_name, size, pages, sha256, "
         "archive_name, actor, created_at) VALUES (%(ledger)s, %(invoice)s, 1, 'a.pdf', 1, 1, '', 'x', 't', now())",
         "invoiceattachment_invoice_same_ledger"),
        ("INSERT INTO ledger_autogiromandaterequest (ledger_id, customer_id, payer_number, clearing, account, "
         "national_id, status, source, requested_on, file_name, answer, created_at) VALUES (%(ledger)s, "
         "%(customer)s, '1', '6000', '1', '1', 'pending', 't', now(), '', '', now())",
         "autogiromandaterequest_customer_same_ledger"),
        ("INSERT INTO distribution_efakturamatch (ledger_id, customer_id, receiver_id, matched_by, accepts_all, "
         "reason, checked_on, checked_at) VALUES (%(ledger)s, %(customer)s, '', '', false, '', now(), now())",
         "efakturamatch_customer_same_ledger"),
    ],
)  # fmt: skip
def test_attachments_mandate_requests_and_efaktura_matches_stay_in_their_ledger(db, sql, constraint):
    """Each names an invoice or customer of its own ledger: another ledger's is refused."""
    mine, theirs = LedgerFactory(), LedgerFactory()
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=theirs))
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        execute(sql, {"ledger": mine.id, "invoice": invoice.id, "customer": invoice.customer_id})
