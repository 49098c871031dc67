"""Minors and other payers (seeds 001 section 2.2): a debtor under 16 is never chased in their own name,
and an invoice naming another payer sends its documents and its claim process to them."""

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction

from claims.models import Claim, ClaimEvent, ClaimEventKind, ClaimStatus
from distribution.models import Document, DocumentKind
from distribution.services.queueing import DocumentRequest, documents_queue, invoice_documents_queue
from ledger.addressees import minor_born_after
from ledger.errors import ValidationFailed
from ledger.models import Customer, CustomerEvent, Invoice
from ledger.services.customers import customer_upsert
from ledger.verify import ledger_verify
from tests.claims.conftest import assert_verified, run_days
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory

pytestmark = pytest.mark.django_db

DAY0 = date(2025, 1, 1)
CHILD_ID = "01031550056"  # fødselsnummer of a child born 1 March 2015: 9 on DAY0, 16 on 1 March 2031
ADULT_ID = "15108695088"  # born 15 October 1986


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"


@pytest.fixture
def ledger():
    return LedgerFactory(country="NO")


def person(ledger, customer_no, national_id, **fields):
    return customer_upsert(
        ledger=ledger, customer_no=customer_no, name=f"Person {customer_no}", national_id=national_id,
        address_line1="Storgata 1", postal_code="0155", city="Oslo", **fields,
    )  # fmt: skip


def claim_documents(invoice) -> list[tuple[str, str]]:
    return list(
        Document.objects.filter(invoice=invoice)
        .exclude(kind=DocumentKind.INVOICE)
        .order_by("id")
        .values_list("kind", "customer__customer_no")
    )


def test_the_birth_date_comes_from_the_national_id_and_a_minor_is_under_16(ledger):
    child = person(ledger, "101", CHILD_ID)
    assert child.birth_date == date(2015, 3, 1)
    assert person(ledger, "501", ADULT_ID).birth_date == date(1986, 10, 15)
    business = customer_upsert(ledger=ledger, customer_no="601", name="Firma AS", national_id="923609016")
    assert business.birth_date is None
    assert minor_born_after(date(2031, 3, 1)) == date(2015, 3, 1)  # 16 on their birthday: no longer a minor
    assert minor_born_after(date(2028, 2, 29)) == date(2012, 2, 29)


def test_a_minor_without_a_guardian_is_held_then_chased_through_the_guardian_given_later(ledger):
    child = person(ledger, "101", CHILD_ID)
    invoice = InvoiceFactory(customer=child, invoice_date=DAY0)
    assert invoice_documents_queue(ledger=ledger, as_of=DAY0) == 1  # the invoice itself: to the minor
    assert Document.objects.get(invoice=invoice).customer == child

    summaries = run_days(ledger, day(0), day(40))
    claim = Claim.objects.get(invoice=invoice)
    assert claim.status == ClaimStatus.HELD
    assert sum(s["held_minors"] for s in summaries) == 1
    (held,) = ClaimEvent.objects.filter(claim=claim, kind=ClaimEventKind.HELD)
    assert "under 16 and no guardian or other payer" in held.reason
    assert claim_documents(invoice) == []  # nothing in the minor's own name

    guardian = person(ledger, "201", ADULT_ID)
    person(ledger, "101", CHILD_ID, guardian_customer_no="201")
    child.refresh_from_db()
    assert child.guardian == guardian
    event = CustomerEvent.objects.get(customer=child, kind="guardian_changed")
    assert (event.old_value, event.new_value) == ({"guardian": None}, {"guardian": "201"})

    summary = run_days(ledger, day(41), day(41))[0]
    claim.refresh_from_db()
    assert (summary["resumed"], claim.status) == (1, ClaimStatus.ACTIVE)
    resumed = ClaimEvent.objects.get(claim=claim, kind=ClaimEventKind.RESUMED)
    assert resumed.reason == "addressed to the guardian 201"
    documents = claim_documents(invoice)
    assert documents and {customer_no for _, customer_no in documents} == {"201"}
    assert_verified(ledger)


def test_a_guardian_given_in_advance_gets_the_invoice_and_every_reminder(ledger):
    guardian = person(ledger, "201", ADULT_ID, email="forelder@example.no")
    child = person(ledger, "101", CHILD_ID, guardian_customer_no="201")
    invoice = InvoiceFactory(customer=child, invoice_date=DAY0)
    invoice_documents_queue(ledger=ledger, as_of=DAY0)
    assert Document.objects.get(invoice=invoice, kind=DocumentKind.INVOICE).customer == guardian
    run_days(ledger, day(0), day(40))
    assert Claim.objects.get(invoice=invoice).status == ClaimStatus.ACTIVE
    kinds = claim_documents(invoice)
    assert len(kinds) >= 2 and {customer_no for _, customer_no in kinds} == {"201"}


def test_a_debtor_who_turns_16_is_addressed_in_their_own_name_again(ledger):
    child = person(ledger, "101", CHILD_ID)
    late = date(2031, 1, 1)  # 15 years and 10 months old
    invoice = InvoiceFactory(customer=child, invoice_date=late)
    run_days(ledger, late, late + timedelta(days=40))
    claim = Claim.objects.get(invoice=invoice)
    assert claim.status == ClaimStatus.HELD
    summary = run_days(ledger, date(2031, 3, 1), date(2031, 3, 1))[0]  # the 16th birthday
    claim.refresh_from_db()
    assert (summary["resumed"], claim.status) == (1, ClaimStatus.ACTIVE)
    assert (
        ClaimEvent.objects.get(claim=claim, kind=ClaimEventKind.RESUMED).reason == "the debtor is 16 or older"
    )
    assert {customer_no for _, customer_no in claim_documents(invoice)} == {"101"}


def test_another_payer_receives_the_invoice_and_the_claim_process(ledger):
    debtor = person(ledger, "401", ADULT_ID)
    payer = customer_upsert(ledger=ledger, customer_no="301", name="Kommunen", national_id="923609016",
                            address_line1="Rådhuset", postal_code="0037", city="Oslo")  # fmt: skip
    invoice = InvoiceFactory(customer=debtor, invoice_date=DAY0, payer=payer)
    invoice_documents_queue(ledger=ledger, as_of=DAY0)
    assert Document.objects.get(invoice=invoice, kind=DocumentKind.INVOICE).customer == payer
    run_days(ledger, day(0), day(40))
    assert {customer_no for _, customer_no in claim_documents(invoice)} == {"301"}
    assert_verified(ledger)


def test_a_claim_held_on_a_minor_resumes_when_the_invoice_gets_another_payer(ledger):
    child = person(ledger, "101", CHILD_ID)
    invoice = InvoiceFactory(customer=child, invoice_date=DAY0)
    run_days(ledger, day(0), day(40))
    payer = person(ledger, "301", ADULT_ID)
    Invoice.objects.filter(pk=invoice.pk).update(payer=payer)
    run_days(ledger, day(41), day(41))
    claim = Claim.objects.get(invoice=invoice)
    assert claim.status == ClaimStatus.ACTIVE
    assert (
        ClaimEvent.objects.get(claim=claim, kind=ClaimEventKind.RESUMED).reason
        == "addressed to the other payer 301"
    )


def test_a_held_claim_closes_when_its_invoice_is_paid_off(ledger):
    from ledger.services.invoice_changes import invoice_credit

    invoice = InvoiceFactory(customer=person(ledger, "101", CHILD_ID), invoice_date=DAY0)
    run_days(ledger, day(0), day(40))
    invoice_credit(invoice=invoice, actor="ops", booking_date=day(41))
    run_days(ledger, day(42), day(42))
    assert Claim.objects.get(invoice=invoice).status == ClaimStatus.CLOSED


def test_a_guardian_or_payer_must_be_a_customer_of_the_same_ledger(ledger):
    with pytest.raises(ValidationFailed) as unknown:
        person(ledger, "101", CHILD_ID, guardian_customer_no="NOPE")
    assert (unknown.value.code, unknown.value.field) == ("unknown_guardian", "guardian_customer_no")
    assert not Customer.objects.filter(ledger=ledger, customer_no="101").exists()
    with pytest.raises(ValidationFailed) as own:
        person(ledger, "101", CHILD_ID, guardian_customer_no="101")
    assert own.value.code == "guardian_is_customer"

    other = CustomerFactory(ledger=LedgerFactory())
    mine = person(ledger, "101", CHILD_ID)
    with pytest.raises(IntegrityError, match="customer_guardian_same_ledger"), transaction.atomic():
        Customer.objects.filter(pk=mine.pk).update(guardian=other)
    with pytest.raises(IntegrityError, match="customer_not_own_guardian"), transaction.atomic():
        Customer.objects.filter(pk=mine.pk).update(guardian=mine)
    invoice = InvoiceFactory(customer=mine)
    with pytest.raises(IntegrityError, match="invoice_payer_same_ledger"), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(payer=other)
    with pytest.raises(IntegrityError, match="invoice_payer_not_debtor"), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(payer=mine)


def test_documents_go_to_the_debtor_the_payer_or_the_guardian_and_nobody_else(ledger):
    guardian = person(ledger, "201", ADULT_ID)
    child = person(ledger, "101", CHILD_ID, guardian_customer_no="201")
    payer = CustomerFactory(ledger=ledger)
    stranger = CustomerFactory(ledger=ledger)
    invoice = InvoiceFactory(customer=child, payer=payer)

    def request(customer, key):
        return DocumentRequest(ledger_id=ledger.id, customer_id=customer.id, invoice_id=invoice.id,
                               kind=DocumentKind.REMINDER, booking_date=DAY0, source_key=key, facts={})  # fmt: skip

    assert documents_queue(requests=[request(c, f"k{c.id}") for c in (child, guardian, payer)]) == 3
    with pytest.raises(ValidationFailed) as refused:
        documents_queue(requests=[request(stranger, "stranger")])
    assert refused.value.code == "document_party_mismatch"


def test_verify_ledger_names_a_birth_date_its_national_id_does_not_give(ledger):
    child = person(ledger, "101", CHILD_ID)
    assert_verified(ledger)
    Customer.objects.filter(pk=child.pk).update(birth_date=date(2000, 1, 1))  # edited by hand: an adult now
    problems = {c["check"]: c for c in ledger_verify(ledger=ledger) if not c["ok"]}
    assert problems["birth_dates_equal_national_ids"]["discrepancies"] == [
        {"customer": "101", "birth_date": "2000-01-01", "from_national_id": "2015-03-01"}
    ]
