from datetime import date, timedelta
from decimal import Decimal

import pytest

from ledger import references
from ledger.errors import ValidationFailed
from ledger.models import (
    AccountRole,
    Customer,
    Invoice,
    InvoiceEvent,
    InvoiceStatus,
    JournalTransaction,
    Posting,
    TransactionKind,
)
from ledger.selectors import invoice_balance
from ledger.services.registration import InvoiceInput, invoice_register, invoices_register
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory, UserFactory


def nothing_written(ledger):
    return (
        not Invoice.objects.filter(ledger=ledger).exists()
        and not JournalTransaction.objects.filter(ledger=ledger).exists()
        and not Posting.objects.filter(ledger=ledger).exists()
        and not InvoiceEvent.objects.filter(ledger=ledger).exists()
    )


def test_register_books_capital_against_invoiced_sales(db):
    customer = CustomerFactory(customer_no="1234567")
    invoice = invoice_register(
        ledger=customer.ledger,
        customer=customer,
        invoice_no="A-1",
        invoice_date=date(2026, 3, 1),
        amount=Decimal("1250.50"),
        actor="test",
    )

    postings = {p.account.role: p for p in Posting.objects.filter(invoice=invoice).select_related("account")}
    assert postings[AccountRole.RECEIVABLE_CAPITAL].amount == Decimal("1250.50")
    assert postings[AccountRole.RECEIVABLE_CAPITAL].component == "capital"
    assert postings[AccountRole.INVOICE_CLEARING].amount == Decimal("-1250.50")
    assert {p.customer_id for p in postings.values()} == {customer.id}
    txn = JournalTransaction.objects.get(invoice=invoice)
    assert txn.kind == TransactionKind.INVOICE
    assert invoice_balance(invoice).open_amount == Decimal("1250.50")
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.OPEN


def test_register_defaults_due_date_to_ledger_payment_terms(db):
    invoice = InvoiceFactory(invoice_date=date(2026, 3, 1))
    assert invoice.due_date == date(2026, 3, 15)
    assert Invoice.objects.get(pk=invoice.pk).due_date == date(2026, 3, 15)


def test_norwegian_ledger_generates_kid_per_customer(db):
    customer = CustomerFactory(customer_no="1234567")
    first = InvoiceFactory(customer=customer)
    second = InvoiceFactory(customer=customer)
    assert first.payment_ref == "123456700012"
    assert second.payment_ref == references.kid_generate(customer_no="1234567", serial=2)
    customer.refresh_from_db()
    assert customer.last_reference_serial == 2


def test_swedish_ledger_generates_ocr_per_ledger(db):
    ledger = LedgerFactory(country="SE", ledger_no="12345")
    customers = CustomerFactory.create_batch(2, ledger=ledger)
    refs = [InvoiceFactory(customer=c).payment_ref for c in customers]
    assert refs == [
        references.ocr_generate(ledger_id="12345", serial=1),
        references.ocr_generate(ledger_id="12345", serial=2),
    ]
    assert all(len(r) == 14 and r.startswith("512345") for r in refs)
    assert all(Invoice.objects.get(payment_ref=r).currency == "SEK" for r in refs)


def test_mod11_ledger_skips_serials_without_check_digit(db):
    ledger = LedgerFactory()
    ledger.reference_scheme = references.ReferenceScheme.KID_MOD11
    ledger.save()
    customer = CustomerFactory(ledger=ledger, customer_no="1234567")
    refs = [InvoiceFactory(customer=customer, ledger=ledger).payment_ref for _ in range(12)]
    for ref in refs:
        assert references.validate(ref, scheme=references.ReferenceScheme.KID_MOD11) == ref
        assert not ref.endswith("-")
    assert len(set(refs)) == 12


def test_supplied_payment_ref_is_validated_and_used(db):
    customer = CustomerFactory()
    ref = references.kid_generate(customer_no="7654321", serial=5)
    invoice = InvoiceFactory(customer=customer, payment_ref=ref)
    assert invoice.payment_ref == ref


def test_generated_ref_never_collides_with_a_supplied_one(db):
    customer = CustomerFactory(customer_no="1234567")
    taken = references.kid_generate(customer_no="1234567", serial=1)
    InvoiceFactory(customer=customer, payment_ref=taken)
    generated = InvoiceFactory(customer=customer)
    assert generated.payment_ref == references.kid_generate(customer_no="1234567", serial=2)


def test_wrong_check_digit_is_refused_and_nothing_written(db):
    customer = CustomerFactory()
    with pytest.raises(ValidationFailed) as excinfo:
        InvoiceFactory(customer=customer, payment_ref="123456700013")
    assert excinfo.value.code == "invalid_payment_ref"
    assert excinfo.value.field == "payment_ref"
    assert nothing_written(customer.ledger)


def test_duplicate_invoice_no_is_refused_and_nothing_written(db):
    existing = InvoiceFactory(invoice_no="DUP-1")
    ledger = existing.ledger
    before = Posting.objects.filter(ledger=ledger).count()
    with pytest.raises(ValidationFailed) as excinfo:
        InvoiceFactory(customer=existing.customer, invoice_no="DUP-1")
    assert excinfo.value.code == "duplicate_invoice_no"
    assert Posting.objects.filter(ledger=ledger).count() == before
    assert Invoice.objects.filter(ledger=ledger).count() == 1


def test_same_invoice_no_in_another_ledger_is_fine(db):
    InvoiceFactory(invoice_no="SAME-1")
    other = InvoiceFactory(invoice_no="SAME-1")
    assert Invoice.objects.filter(invoice_no="SAME-1").count() == 2
    assert other.ledger_id is not None


def test_duplicate_payment_ref_is_refused(db):
    existing = InvoiceFactory()
    with pytest.raises(ValidationFailed) as excinfo:
        InvoiceFactory(customer=existing.customer, payment_ref=existing.payment_ref)
    assert excinfo.value.code == "duplicate_payment_ref"


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"amount": Decimal("0")}, "amount_not_positive", "amount"),
        ({"amount": Decimal("-5")}, "amount_not_positive", "amount"),
        ({"amount": "abc"}, "validation_failed", "amount"),
        ({"currency": "SEK"}, "currency_mismatch", "currency"),
        ({"due_date": date(2026, 1, 1)}, "due_before_invoice_date", "due_date"),
        ({"invoice_no": ""}, "validation_failed", "invoice_no"),
    ],
)
def test_bad_invoice_is_refused_with_code_and_field(db, changes, code, field):
    customer = CustomerFactory()
    with pytest.raises(ValidationFailed) as excinfo:
        InvoiceFactory(customer=customer, invoice_date=date(2026, 1, 5), **changes)
    assert (excinfo.value.code, excinfo.value.field) == (code, field)
    assert nothing_written(customer.ledger)


def test_float_amount_is_refused(db):
    customer = CustomerFactory()
    with pytest.raises(ValidationFailed):
        InvoiceFactory(customer=customer, amount=10.5)
    assert nothing_written(customer.ledger)


def test_customer_of_another_ledger_is_refused(db):
    customer = CustomerFactory()
    other_ledger = LedgerFactory()
    with pytest.raises(ValidationFailed) as excinfo:
        invoice_register(
            ledger=other_ledger,
            customer=customer,
            invoice_no="X-1",
            invoice_date=date(2026, 1, 5),
            amount=Decimal("10"),
        )
    assert excinfo.value.code == "customer_not_in_ledger"
    assert nothing_written(other_ledger)


def test_batch_is_all_or_nothing(db):
    ledger = LedgerFactory()
    customer = CustomerFactory(ledger=ledger)
    good = InvoiceInput(
        customer=customer, invoice_no="B-1", invoice_date=date(2026, 1, 5), amount=Decimal("10")
    )
    bad = InvoiceInput(
        customer=customer,
        invoice_no="B-2",
        invoice_date=date(2026, 1, 5),
        amount=Decimal("10"),
        currency="EUR",
    )
    with pytest.raises(ValidationFailed) as excinfo:
        invoices_register(ledger=ledger, invoices=[good, bad], actor="test")
    assert "B-2" in excinfo.value.message
    assert nothing_written(ledger)
    customer.refresh_from_db()
    assert customer.last_reference_serial == 0


def test_batch_with_repeated_invoice_no_is_refused(db):
    customer = CustomerFactory()
    item = InvoiceInput(
        customer=customer, invoice_no="R-1", invoice_date=date(2026, 1, 5), amount=Decimal("10")
    )
    with pytest.raises(ValidationFailed) as excinfo:
        invoices_register(ledger=customer.ledger, invoices=[item, item], actor="test")
    assert excinfo.value.code == "duplicate_invoice_no"
    assert nothing_written(customer.ledger)


def test_batch_registers_many_with_unique_references(db):
    ledger = LedgerFactory()
    customers = CustomerFactory.create_batch(3, ledger=ledger)
    items = [
        InvoiceInput(
            customer=customers[n % 3],
            invoice_no=f"M-{n}",
            invoice_date=date(2026, 1, 5),
            amount=Decimal("100.00") + n,
        )
        for n in range(30)
    ]
    invoices = invoices_register(ledger=ledger, invoices=items, actor="test", booking_date=date(2026, 1, 6))
    assert len({i.payment_ref for i in invoices}) == 30
    assert Invoice.objects.filter(ledger=ledger).count() == 30
    assert JournalTransaction.objects.filter(ledger=ledger, booking_date=date(2026, 1, 6)).count() == 30
    assert Posting.objects.filter(ledger=ledger).count() == 60
    assert sum(Posting.objects.filter(ledger=ledger).values_list("amount", flat=True)) == 0
    assert Customer.objects.get(pk=customers[0].pk).last_reference_serial == 10


def test_registration_records_who_and_when(db):
    user = UserFactory(username="kari")
    invoice = InvoiceFactory(actor=user, invoice_date=date(2026, 1, 5))
    event = InvoiceEvent.objects.get(invoice=invoice)
    assert (event.kind, event.from_status, event.to_status) == ("registered", "", "open")
    assert (event.actor, event.created_by_id) == ("kari", user.id)
    assert JournalTransaction.objects.get(invoice=invoice).created_by_id == user.id


def test_booking_date_defaults_to_the_ledgers_business_day(db, time_machine):
    # 23:30 UTC on 31 December is already 1 January in Oslo.
    time_machine.move_to("2026-12-31T23:30:00+00:00", tick=False)
    invoice = InvoiceFactory(invoice_date=date(2026, 12, 31))
    assert JournalTransaction.objects.get(invoice=invoice).booking_date == date(2027, 1, 1)
    assert invoice.due_date == date(2026, 12, 31) + timedelta(days=14)


def test_document_data_is_kept_for_the_renderer(db):
    customer = CustomerFactory()
    blocks = [{"table_type": "A7", "head": {"1": "Article"}, "rows": [{"1": "231", "7": "1000,00"}]}]
    invoice = invoices_register(
        ledger=customer.ledger,
        actor="test",
        invoices=[
            InvoiceInput(
                customer=customer,
                invoice_no="DOC-1",
                invoice_date=date(2026, 1, 5),
                amount=Decimal("1250.00"),
                amount_excl_vat=Decimal("1000.00"),
                vat_amount=Decimal("250.00"),
                with_distribution=False,
                distribution_type="Email",
                print_blocks=blocks,
                reference_text="IT support",
            )
        ],
    )[0]
    stored = Invoice.objects.get(pk=invoice.pk)
    assert stored.print_blocks == blocks
    assert (stored.amount_excl_vat, stored.vat_amount) == (Decimal("1000.00"), Decimal("250.00"))
    assert (stored.with_distribution, stored.distribution_type, stored.reference_text) == (
        False,
        "Email",
        "IT support",
    )
    assert invoice.print_blocks == blocks


def test_awkward_text_is_stored_as_given(db):
    # COPY's text format must carry tabs, newlines, carriage returns, backslashes and quotes.
    awkward = 'Tab\there, line\nbreak\r\\ back\\slash "quoted" \\N æøå'
    customer = CustomerFactory()
    blocks = [{"table_type": "A7", "head": {"1": awkward}, "rows": [{"1": "\\", "2": '"\t\n'}]}]
    invoice = invoices_register(
        ledger=customer.ledger,
        actor=awkward,
        invoices=[
            InvoiceInput(
                customer=customer,
                invoice_no='A\t1\\"',
                invoice_date=date(2026, 1, 5),
                amount=Decimal("100.00"),
                external_id=awkward,
                reference_text=awkward,
                distribution_type="Email\\",
                print_blocks=blocks,
            )
        ],
    )[0]
    stored = Invoice.objects.get(pk=invoice.pk)
    assert (stored.invoice_no, stored.external_id, stored.reference_text) == ('A\t1\\"', awkward, awkward)
    assert (stored.distribution_type, stored.print_blocks) == ("Email\\", blocks)
    assert (stored.amount_excl_vat, stored.vat_amount) == (None, None)
    txn = JournalTransaction.objects.get(invoice=invoice)
    assert (txn.description, txn.actor) == ('Invoice A\t1\\"', awkward)
    assert InvoiceEvent.objects.get(invoice=invoice).actor == awkward


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("external_id", "x" * 81, "field_too_long"),
        ("reference_text", "x" * 201, "field_too_long"),
        ("distribution_type", "x" * 21, "field_too_long"),
        ("currency", "NOKK", "field_too_long"),
        ("amount", Decimal("10000000000000000.00"), "amount_too_large"),
        ("amount_excl_vat", Decimal("10000000000000000.00"), "amount_too_large"),
        ("vat_amount", Decimal("-10000000000000000.00"), "amount_too_large"),
    ],
)
def test_every_field_too_long_for_its_column_is_refused_naming_it(db, field, value, code):
    """Whoever calls (CUSIN, API, 360): a value the column cannot hold is the caller's error, named, and
    nothing of the batch is written, the good invoice before it neither."""
    customer = CustomerFactory()
    good = InvoiceInput(customer=customer, invoice_no="A-1", invoice_date=date(2026, 3, 1), amount=Decimal("10.00"))
    bad = InvoiceInput(**{"customer": customer, "invoice_no": "A-2", "invoice_date": date(2026, 3, 1),
                          "amount": Decimal("10.00"), field: value})  # fmt: skip
    with pytest.raises(ValidationFailed) as refused:
        invoices_register(ledger=customer.ledger, invoices=[good, bad], actor="test")
    assert (refused.value.code, refused.value.field) == (code, field)
    assert "invoice A-2" in refused.value.message and field in refused.value.message
    assert nothing_written(customer.ledger)
