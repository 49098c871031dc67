"""CUSIN import: whole-file checks, record-level checks, booking, receipts, re-runs.

Past 500 lines: one service (cusin_import) and its file-writing helpers, which other tests import.
"""

import json
import shutil
import threading
import time
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from lxml import etree

from cusin import services as cusin_services
from cusin.generate import CreditSpec, CustomerSpec, InvoiceSpec, write_cusin
from cusin.models import CusinBatch, CusinFile
from cusin.services import cusin_import
from ledger import references
from ledger.models import (
    ConsentKind,
    Customer,
    CustomerConsent,
    CustomerEvent,
    Invoice,
    InvoiceStatus,
    JournalTransaction,
    Posting,
)
from ledger.outbox import company_dir
from ledger.selectors import invoice_balance
from ledger.verify import ledger_verify
from tests.factories import InvoiceFactory, LedgerFactory

DATA = Path(__file__).parent / "data"
XSD = Path(__file__).resolve().parents[2] / "xsd"
DAY = date(2026, 1, 15)


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    return settings.LEDGER_DATA_DIR


@pytest.fixture
def se_ledger(db):
    return LedgerFactory(company_no="9999", ledger_no="12345", country="SE")


@pytest.fixture
def no_ledger(db):
    return LedgerFactory(company_no="7777", ledger_no="54321", country="NO")


def copy_as(source: Path, tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copyfile(source, target)
    return target


def kid(customer_no: str, serial: int) -> str:
    return references.kid_generate(customer_no=customer_no, serial=serial)


def invoice(no, amount="1000.00", vat="250.00", **kw) -> InvoiceSpec:
    return InvoiceSpec(
        invoice_no=no,
        invoice_date=DAY,
        amount_excl_vat=Decimal(amount),
        vat_amount=Decimal(vat),
        currency=kw.pop("currency", "NOK"),
        **kw,
    )


def customer(no, *items, **kw) -> CustomerSpec:
    kw.setdefault("name", f"Customer {no}")
    kw.setdefault("street", "Storgata 1")
    kw.setdefault("zip_code", "0155")
    kw.setdefault("city", "Oslo")
    return CustomerSpec(customer_no=no, items=list(items), **kw)


def write(tmp_path, customers, *, serial=1, company_no="7777", **kw) -> Path:
    return write_cusin(
        tmp_path / f"CUSIN_{company_no}_20260115083000_{serial}.xml",
        company_no=company_no,
        customers=customers,
        **kw,
    )


def valid(xml_path: Path, xsd_name: str) -> bool:
    return etree.XMLSchema(etree.parse(str(XSD / xsd_name))).validate(etree.parse(str(xml_path)))


def assert_nothing_booked(ledger):
    assert not Invoice.objects.filter(ledger=ledger).exists()
    assert not Customer.objects.filter(ledger=ledger).exists()
    assert not JournalTransaction.objects.filter(ledger=ledger).exists()


# --- the documented example ----------------------------------------------------------------------


def test_seed_example_is_booked_with_receipt_in_the_outbox(se_ledger, tmp_path):
    path = copy_as(DATA / "seed_example_2_0.xml", tmp_path, "CUSIN_9999_20171207145455_1.xml")
    receipt = cusin_import(path=path, booking_date=DAY)

    assert receipt["status"] == "accepted"
    assert (receipt["customers"], receipt["invoices"], receipt["failed_invoices"]) == (1, 1, 0)
    assert receipt["total_invoice_amount"] == "1250.00"
    assert receipt["distribution_date"] == "AsSoonAsPossible"
    inv = Invoice.objects.get(ledger=se_ledger, invoice_no="3210")
    assert (inv.amount, inv.amount_excl_vat, inv.vat_amount) == (
        Decimal("1250.00"),
        Decimal("1000.00"),
        Decimal("250.00"),
    )
    assert inv.due_date == date(2017, 12, 21)  # no DueDate: the ledger's 14 days
    assert inv.payment_ref.startswith("512345") and len(inv.payment_ref) == 14
    assert inv.print_blocks[0]["table_type"] == "A7"
    assert inv.print_blocks[0]["head"]["7"] == "Amount"
    assert inv.print_blocks[0]["rows"][0]["2"] == "Monthly fee"
    assert inv.distribution_type == "PostalService"
    cust = inv.customer
    assert (cust.customer_no, cust.name, cust.national_id, cust.city) == (
        "1",
        "Firstname Lastname",
        "400513-0564",
        "Big city",
    )
    assert cust.billing_address["street"] == "Another street 10"
    assert CustomerConsent.objects.get(customer=cust).kind == ConsentKind.AUTOGIRO_SE
    assert invoice_balance(inv).capital == Decimal("1250.00")
    assert all(check["ok"] for check in ledger_verify(ledger=se_ledger))

    outbox = company_dir("9999", "outbox")
    receipt_file = outbox / "CUSIN_9999_20171207145455_1_receipt.xml"
    assert valid(receipt_file, "cusin-receipt-1.0.xsd")
    assert etree.parse(str(receipt_file)).findtext("Status") == "Accepted"
    assert not (outbox / "CUSIN_9999_20171207145455_1_errorlog.xml").exists()


def test_the_same_file_again_books_nothing_and_gives_the_same_receipt(se_ledger, tmp_path):
    path = copy_as(DATA / "seed_example_2_0.xml", tmp_path, "CUSIN_9999_20171207145455_1.xml")
    first = cusin_import(path=path, booking_date=DAY)
    transactions = JournalTransaction.objects.count()
    second = cusin_import(path=path, booking_date=DAY)
    assert second == first
    assert JournalTransaction.objects.count() == transactions
    assert CusinFile.objects.count() == 1


def test_features_file_books_credits_rules_and_reports_record_errors(se_ledger, tmp_path):
    cusin_import(
        path=copy_as(DATA / "seed_example_2_0.xml", tmp_path, "CUSIN_9999_20171207145455_1.xml"),
        booking_date=DAY,
    )
    receipt = cusin_import(
        path=copy_as(DATA / "features_2_0.xml", tmp_path, "CUSIN_9999_20260115083000_2.xml"), booking_date=DAY
    )

    assert receipt["status"] == "partially_accepted"
    assert (receipt["credits"], receipt["failed_credits"]) == (2, 0)
    assert [e["code"] for e in receipt["errors"]] == [
        "MissingMandatoryField"
    ]  # new customer 1004 without Name
    assert (
        Invoice.objects.get(ledger=se_ledger, invoice_no="3210").status == InvoiceStatus.CLOSED
    )  # whole credit
    anna = Customer.objects.get(ledger=se_ledger, customer_no="1001")
    assert anna.protected_identity is True
    consents = dict(CustomerConsent.objects.filter(customer=anna).values_list("kind", "active"))
    assert consents == {ConsentKind.AUTOGIRO_SE: True}  # UseEInvoiceB2CSE 0 on a consent never given: nothing
    bygg = Customer.objects.get(ledger=se_ledger, customer_no="1002")
    assert (bygg.legal_entity, bygg.edi_van) == ("business", bygg.edi_van)
    assert bygg.edi_buyer_id
    without = Invoice.objects.get(
        ledger=se_ledger, invoice_no__in=[i.invoice_no for i in bygg.invoices.all()], with_distribution=False
    )
    assert invoice_balance(without).capital < without.amount  # the partial credit
    assert all(check["ok"] for check in ledger_verify(ledger=se_ledger))

    errorlog = company_dir("9999", "outbox") / "CUSIN_9999_20260115083000_2_errorlog.xml"
    assert valid(errorlog, "cusin-errorlog-1.0.xsd")
    error = etree.parse(str(errorlog)).find("Error")
    assert (error.findtext("Code"), error.findtext("CustomerNo")) == ("MissingMandatoryField", "1004")
    assert int(error.findtext("Line")) > 1


# --- whole-file rejections -----------------------------------------------------------------------


def test_unknown_company_no_is_rejected_whole(no_ledger, tmp_path):
    path = write(tmp_path, [customer("1", invoice("A1"))], company_no="4242")
    receipt = cusin_import(path=path)
    assert receipt["status"] == "rejected"
    assert receipt["errors"][0]["code"] == "UnknownCompanyNo"
    assert valid(
        company_dir("4242", "outbox") / "CUSIN_4242_20260115083000_1_errorlog.xml", "cusin-errorlog-1.0.xsd"
    )


@pytest.mark.parametrize(
    "name",
    [
        "invoices.xml",
        "CUSIN_7777_2026011508_1.xml",
        "CUSIN_7777_20260115083000_1.txt",
        "CUSIN_7777_20260115083000_x.xml",
    ],
)
def test_file_name_must_follow_the_convention(no_ledger, tmp_path, name):
    path = write(tmp_path, [customer("1", invoice("A1"))])
    receipt = cusin_import(path=path.rename(tmp_path / name))
    assert (receipt["status"], receipt["errors"][0]["code"]) == ("rejected", "InvalidFileName")
    assert_nothing_booked(no_ledger)


def test_company_no_in_name_and_header_must_agree(no_ledger, tmp_path):
    path = write(tmp_path, [customer("1", invoice("A1"))], company_no="7777")
    receipt = cusin_import(path=path.rename(tmp_path / "CUSIN_9999_20260115083000_1.xml"))
    assert receipt["errors"][0]["code"] == "InvalidFileName"
    assert "9999" in receipt["errors"][0]["message"] and "7777" in receipt["errors"][0]["message"]


def test_duplicate_content_under_another_name_is_rejected(no_ledger, tmp_path):
    path = write(tmp_path, [customer("1", invoice("A1"))])
    cusin_import(path=path, booking_date=DAY)
    copy = copy_as(path, tmp_path, "CUSIN_7777_20260116083000_2.xml")
    receipt = cusin_import(path=copy)
    assert (receipt["status"], receipt["errors"][0]["code"]) == ("rejected", "DuplicateFile")
    assert Invoice.objects.filter(ledger=no_ledger).count() == 1


def test_a_serial_is_never_reused(no_ledger, tmp_path):
    cusin_import(path=write(tmp_path, [customer("1", invoice("A1"))], serial=5), booking_date=DAY)
    other = tmp_path / "other"
    other.mkdir()
    receipt = cusin_import(path=write(other, [customer("2", invoice("B1"))], serial=5))
    assert (receipt["status"], receipt["errors"][0]["code"]) == ("rejected", "SerialReused")
    assert not Invoice.objects.filter(invoice_no="B1").exists()


def test_a_rejected_file_may_be_sent_again_with_its_serial(no_ledger, tmp_path):
    bad = tmp_path / "CUSIN_7777_20260115083000_3.xml"
    bad.write_text("<CUSIN Version='2.0'><broken>")
    assert cusin_import(path=bad)["status"] == "rejected"
    fixed = write(tmp_path, [customer("1", invoice("A1"))], serial=3)
    assert cusin_import(path=fixed, booking_date=DAY)["status"] == "accepted"


def test_a_file_found_invalid_while_it_books_books_nothing(no_ledger, tmp_path, monkeypatch):
    """The validation pass runs alongside the booking: the batches booked before it has passed the
    whole file are held in one transaction, so an error at the file's end still books nothing."""
    customers = [customer(str(n), invoice(f"V-{n}")) for n in range(1, 10)]
    path = write(tmp_path, customers)
    path.write_text(
        path.read_text().replace("<InvoiceNo>V-9</InvoiceNo>", "<InvoiceNo>V-9</InvoiceNo><Bogus/>")
    )
    real_validate, booked = cusin_services._validate, threading.Event()

    def validate_after_some_batches(*args):
        assert booked.wait(timeout=30)  # the first batches are booked (held) before the verdict
        return real_validate(*args)

    real_book_batch = cusin_services._book_batch

    def book_batch(**kwargs):
        real_book_batch(**kwargs)
        if kwargs["batch_no"] == 2:
            booked.set()

    monkeypatch.setattr(cusin_services, "_validate", validate_after_some_batches)
    monkeypatch.setattr(cusin_services, "_book_batch", book_batch)
    receipt = cusin_import(path=path, booking_date=DAY, batch_size=2)
    assert (receipt["status"], receipt["errors"][0]["code"]) == ("rejected", "SchemaViolation")
    assert_nothing_booked(no_ledger)
    assert not CusinBatch.objects.exists()


def test_the_held_batches_stay_within_64_subtransactions_while_the_validation_runs(no_ledger, tmp_path, monkeypatch):
    """Past 64 subtransactions in one transaction PostgreSQL's snapshots of every other session overflow to
    pg_subtrans: the batches held until the validation's verdict stop short of that, and the rest wait
    for it, then commit one by one. The validation here takes its time (it waits until the booking
    stands still), as on a large file."""
    from django.db import connection

    customers = [customer(str(n), invoice(f"S-{n}")) for n in range(1, 301)]
    path = write(tmp_path, customers)
    real_validate, real_book_batch = cusin_services._validate, cusin_services._book_batch
    last_batch, held = [0.0], []

    def slow_validate(*args):
        while not last_batch[0] or time.monotonic() - last_batch[0] < 1.0:  # until the booking waits
            time.sleep(0.05)
        return real_validate(*args)

    def book_batch(**kwargs):
        # Held batches run inside the held block (here a savepoint of the test's transaction); the rest
        # in none. savepoint_state counts the savepoints made, each a subtransaction.
        if connection.savepoint_ids:
            held.append(connection.savepoint_state)
        real_book_batch(**kwargs)
        if connection.savepoint_ids:
            held.append(connection.savepoint_state)
        last_batch[0] = time.monotonic()

    monkeypatch.setattr(cusin_services, "_validate", slow_validate)
    monkeypatch.setattr(cusin_services, "_book_batch", book_batch)
    receipt = cusin_import(path=path, booking_date=DAY, batch_size=2)

    assert receipt["status"] == "accepted" and receipt["invoices"] == 300
    assert Invoice.objects.filter(ledger=no_ledger).count() == 300
    subtransactions = max(held) - min(held)  # made by the held batches, in one transaction
    assert len(held) > 10 and subtransactions <= 64, held
    assert CusinBatch.objects.filter(file__file_name=path.name).count() == 150  # the rest committed after
    assert all(check["ok"] for check in ledger_verify(ledger=no_ledger))


def test_schema_violation_rejects_whole_file_with_line(no_ledger, tmp_path):
    path = write(tmp_path, [customer("1", invoice("A1")), customer("2", invoice("A2"))])
    text = path.read_text().replace("<InvoiceNo>A2</InvoiceNo>", "<InvoiceNo>A2</InvoiceNo><Bogus/>")
    path.write_text(text)
    receipt = cusin_import(path=path)
    error = receipt["errors"][0]
    assert (receipt["status"], receipt["passed_xsd_validation"], error["code"]) == (
        "rejected",
        False,
        "SchemaViolation",
    )
    assert "Bogus" in error["message"]
    assert error["line"] == next(n for n, line in enumerate(text.splitlines(), 1) if "Bogus" in line)
    assert_nothing_booked(no_ledger)


def test_malformed_xml_is_rejected_with_line(no_ledger, tmp_path):
    path = write(tmp_path, [customer("1", invoice("A1"))])
    path.write_text(path.read_text().replace("</Invoices>", "</Invoice>"))
    receipt = cusin_import(path=path)
    assert receipt["errors"][0]["code"] == "MalformedXml"
    assert receipt["errors"][0]["line"] > 1
    assert_nothing_booked(no_ledger)


def test_unsupported_version_is_rejected(no_ledger, tmp_path):
    path = write(tmp_path, [customer("1", invoice("A1"))], version="3.0")
    receipt = cusin_import(path=path)
    assert receipt["errors"][0]["code"] == "SchemaViolation"
    assert "3.0" in receipt["errors"][0]["message"]


XXE = """<?xml version="1.0"?>
<!DOCTYPE CUSIN [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<CUSIN Version="2.0" CreatedDateTime="2026-01-15T08:30:00" CompanyName="&xxe;" CompanyNo="7777">
<DistributionDate><AsSoonAsPossible/></DistributionDate><CUSINInfo><CustomerNo>1</CustomerNo></CUSINInfo></CUSIN>
"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<CUSIN Version="2.0" CreatedDateTime="2026-01-15T08:30:00" CompanyName="&lol3;" CompanyNo="7777">
<DistributionDate><AsSoonAsPossible/></DistributionDate></CUSIN>
"""

UNDECLARED_ENTITY = """<?xml version="1.0"?>
<CUSIN Version="2.0" CreatedDateTime="2026-01-15T08:30:00" CompanyName="&xxe;" CompanyNo="7777">
<DistributionDate><AsSoonAsPossible/></DistributionDate></CUSIN>
"""


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (XXE, "ForbiddenXmlConstruct"),
        (BILLION_LAUGHS, "ForbiddenXmlConstruct"),
        (UNDECLARED_ENTITY, "MalformedXml"),  # no declaration, so nothing to expand: just not well-formed
    ],
)
def test_hostile_xml_is_rejected_and_nothing_booked(no_ledger, tmp_path, content, code):
    path = tmp_path / "CUSIN_7777_20260115083000_1.xml"
    path.write_text(content)
    receipt = cusin_import(path=path)
    assert (receipt["status"], receipt["errors"][0]["code"]) == ("rejected", code)
    assert "passwd" not in json.dumps(receipt)
    assert_nothing_booked(no_ledger)
    assert CusinFile.objects.filter(status="rejected").count() in (0, 1)


def test_file_over_the_size_limit_is_rejected(no_ledger, tmp_path, settings):
    path = write(tmp_path, [customer("1", invoice("A1"))])
    settings.CUSIN_MAX_FILE_BYTES = path.stat().st_size - 1
    receipt = cusin_import(path=path)
    assert receipt["errors"][0]["code"] == "FileTooLarge"
    assert_nothing_booked(no_ledger)


def test_more_invoices_than_allowed_is_rejected(no_ledger, tmp_path, settings):
    settings.CUSIN_MAX_INVOICES = 2
    path = write(tmp_path, [customer("1", invoice("A1"), invoice("A2"), invoice("A3"))])
    receipt = cusin_import(path=path)
    assert receipt["errors"][0]["code"] == "TooManyInvoices"
    assert_nothing_booked(no_ledger)
    assert CusinFile.objects.get().status == "rejected"


# --- record-level failures -----------------------------------------------------------------------


def test_bad_records_fail_alone_and_the_rest_is_booked(no_ledger, tmp_path):
    InvoiceFactory(customer__ledger=no_ledger, invoice_no="OLD-1", payment_ref=kid("9000", 1))
    customers = [
        customer("1", invoice("OK-1"), invoice("OK-2", payment_ref=kid("1", 7))),
        customer("2", invoice("BADID-1"), reg_no="01010112345", reg_no_country="NO"),  # invalid fødselsnummer
        customer("3", invoice("OLD-1")),  # DuplicateBillNo against the ledger
        customer("4", invoice("OK-1")),  # DuplicateBillNo within the file
        customer("5", invoice("REF-1", payment_ref="123456700013")),  # wrong check digit
        customer("6", invoice("REF-2", payment_ref=kid("9000", 1))),  # reference already used
        customer("7", invoice("SUM-1", total_amount=Decimal("999.00"))),  # amounts don't add up
        customer("8", invoice("CUR-1", currency="SEK")),
        customer("9", invoice("NEW-1"), name=None, with_customer_info=False),  # new customer, no CustomerInfo
        customer("10", invoice("DUE-1", due_date=date(2026, 1, 1))),
        customer("11", invoice("GOOD-3"), reg_no="923609016", reg_no_country="NO", legal_entity="Business"),
    ]
    receipt = cusin_import(path=write(tmp_path, customers), booking_date=DAY)

    assert receipt["status"] == "partially_accepted"
    codes = {(e["customer_no"], e["invoice_no"]): e["code"] for e in receipt["errors"]}
    assert codes == {
        ("2", ""): "InvalidRegNo",
        ("3", "OLD-1"): "DuplicateBillNo",
        ("4", "OK-1"): "DuplicateBillNo",
        ("5", "REF-1"): "InvalidPaymentRefNo",
        ("6", "REF-2"): "PaymentRefNoInUse",
        ("7", "SUM-1"): "AmountMismatch",
        ("8", "CUR-1"): "CurrencyMismatch",
        ("9", ""): "MissingMandatoryField",
        ("10", "DUE-1"): "InvalidDueDate",
    }
    assert all(e["line"] and e["message"] for e in receipt["errors"])
    assert (receipt["customers"], receipt["failed_customers"]) == (11, 2)
    assert (receipt["invoices"], receipt["failed_invoices"]) == (12, 9)
    assert receipt["total_invoice_amount"] == "3750.00"
    booked = set(Invoice.objects.filter(ledger=no_ledger).values_list("invoice_no", flat=True))
    assert booked == {"OLD-1", "OK-1", "OK-2", "GOOD-3"}
    assert Invoice.objects.get(invoice_no="OK-2").payment_ref == kid("1", 7)
    assert not Customer.objects.filter(ledger=no_ledger, customer_no__in=["2", "9"]).exists()
    assert all(check["ok"] for check in ledger_verify(ledger=no_ledger))


def test_an_address_with_an_unknown_country_or_a_malformed_postcode_fails_its_record(no_ledger, tmp_path):
    customers = [
        customer("1", invoice("OK-1")),
        customer("2", invoice("ADR-1"), country="XX"),
        customer("3", invoice("ADR-2"), zip_code="ABCDE"),
        customer("4", invoice("ADR-3"), country="SE", zip_code="123 45"),
    ]
    receipt = cusin_import(path=write(tmp_path, customers), booking_date=DAY)
    errors = {e["customer_no"]: e for e in receipt["errors"]}
    assert {no: e["code"] for no, e in errors.items()} == {"2": "InvalidAddress", "3": "InvalidAddress"}
    assert "country 'XX' is not an ISO 3166 country code" in errors["2"]["message"]
    assert "postcode 'ABCDE' is not a Norway postcode (4 digits)" in errors["3"]["message"]
    assert set(Invoice.objects.filter(ledger=no_ledger).values_list("invoice_no", flat=True)) == {"OK-1", "ADR-3"}
    assert Customer.objects.get(ledger=no_ledger, customer_no="4").postal_code == "12345"


def test_credit_instructions_credit_named_invoices(no_ledger, tmp_path):
    customers = [
        customer(
            "1",
            invoice("I-1"),
            invoice("I-2"),
            CreditSpec(
                credited_invoice_no="I-1",
                amount_excl_vat=Decimal("200.00"),
                vat_amount=Decimal("50.00"),
                currency="NOK",
                credit_note_no="CN-1",
                cause="Complaint",
                reason="Damaged",
            ),
            CreditSpec(credited_invoice_no="I-2"),
            CreditSpec(credited_invoice_no="NOPE"),
            CreditSpec(
                credited_invoice_no="I-1",
                amount_excl_vat=Decimal("5000.00"),
                vat_amount=Decimal("0"),
                currency="NOK",
            ),
        )
    ]
    receipt = cusin_import(path=write(tmp_path, customers), booking_date=DAY)
    assert (receipt["credits"], receipt["failed_credits"]) == (4, 2)
    assert [e["code"] for e in receipt["errors"]] == ["UnknownInvoice", "CreditExceedsOpen"]
    first = Invoice.objects.get(invoice_no="I-1")
    assert invoice_balance(first).capital == Decimal("1000.00")
    event = first.events.get(kind="credited")
    assert "CN-1" in event.reason and "Damaged" in event.reason
    assert JournalTransaction.objects.get(invoice=first, kind="credit").cause == "Complaint"
    assert Invoice.objects.get(invoice_no="I-2").status == InvoiceStatus.CLOSED


def test_a_second_file_updates_customers_and_records_events(no_ledger, tmp_path):
    cusin_import(
        path=write(tmp_path, [customer("1", invoice("A1"), payment_rules={"UseBKAGNO": True})]),
        booking_date=DAY,
    )
    later = tmp_path / "later"
    later.mkdir()
    update = customer(
        "1", invoice("A2"), street="Kirkegata 7", payment_rules={"UseBKAGNO": False}, email="kari@example.no"
    )
    cusin_import(path=write(later, [update], serial=2), booking_date=date(2026, 2, 1))

    cust = Customer.objects.get(ledger=no_ledger, customer_no="1")
    assert (cust.address_line1, cust.email) == ("Kirkegata 7", "kari@example.no")
    assert list(CustomerEvent.objects.filter(customer=cust).values_list("kind", flat=True)) == [
        "created",
        "consent_activated",
        "legal_address_changed",
        "consent_cancelled",
    ]
    moved = CustomerEvent.objects.get(customer=cust, kind="legal_address_changed")
    assert (moved.booking_date, moved.reason) == (date(2026, 2, 1), "CUSIN_7777_20260115083000_2.xml")


def test_invoices_only_for_an_existing_customer_keep_its_data(no_ledger, tmp_path):
    cusin_import(
        path=write(tmp_path, [customer("1", invoice("A1"), email="kari@example.no")]), booking_date=DAY
    )
    later = tmp_path / "later"
    later.mkdir()
    cusin_import(
        path=write(
            later, [CustomerSpec(customer_no="1", with_customer_info=False, items=[invoice("A2")])], serial=2
        ),
        booking_date=DAY,
    )
    cust = Customer.objects.get(ledger=no_ledger, customer_no="1")
    assert cust.email == "kari@example.no"
    assert cust.invoices.count() == 2


def test_a_crash_mid_file_can_be_rerun_and_books_only_the_rest(no_ledger, tmp_path, monkeypatch):
    customers = [customer(str(n), invoice(f"C-{n}")) for n in range(1, 8)]
    customers.append(customer("1", invoice("C-dup")))  # a record error in the last batch
    path = write(tmp_path, customers)
    real_book_batch, real_validate = cusin_services._book_batch, cusin_services._validate
    validated = threading.Event()

    def validate(*args):  # the validation pass runs alongside; let it finish during the first batch
        index = real_validate(*args)
        validated.set()
        return index

    def crash_on_third(**kwargs):
        if kwargs["batch_no"] == 1:
            assert validated.wait(timeout=30)
        if kwargs["batch_no"] == 3:
            raise RuntimeError("worker killed")
        return real_book_batch(**kwargs)

    monkeypatch.setattr(cusin_services, "_validate", validate)

    monkeypatch.setattr(cusin_services, "_book_batch", crash_on_third)
    with pytest.raises(RuntimeError):
        cusin_import(path=path, booking_date=DAY, batch_size=3)
    assert Invoice.objects.filter(ledger=no_ledger).count() == 6  # batches 1 and 2 were committed
    # (batch 1 once the validation pass had passed the file, batch 2 on its own)
    assert CusinFile.objects.get().status == "processing"

    monkeypatch.setattr(cusin_services, "_book_batch", real_book_batch)
    receipt = cusin_import(path=path, booking_date=DAY, batch_size=3)
    assert receipt["status"] == "partially_accepted"
    assert (receipt["customers"], receipt["invoices"], receipt["failed_customers"]) == (8, 8, 1)
    assert [e["code"] for e in receipt["errors"]] == ["DuplicateCustomerNo"]
    assert Invoice.objects.filter(ledger=no_ledger).count() == 7
    assert CusinBatch.objects.count() == 3
    assert cusin_import(path=path, booking_date=DAY, batch_size=3) == receipt
    assert Posting.objects.filter(ledger=no_ledger).count() == 14
    assert all(check["ok"] for check in ledger_verify(ledger=no_ledger))


# --- the command ---------------------------------------------------------------------------------


def run_command(path):
    out = StringIO()
    try:
        call_command("import_cusin", str(path), "--date", "2026-01-15", stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())


def test_command_prints_receipt_and_exits_zero_when_partially_accepted(no_ledger, tmp_path):
    path = write(tmp_path, [customer("1", invoice("A1")), customer("2", invoice("A1"))])
    code, receipt = run_command(path)
    assert code == 0
    assert receipt["status"] == "partially_accepted"
    assert set(receipt) >= {
        "file",
        "status",
        "passed_xsd_validation",
        "distribution_date",
        "customers",
        "invoices",
        "failed_customers",
        "failed_invoices",
        "total_invoice_amount",
        "errors",
    }
    assert set(receipt["errors"][0]) == {"code", "customer_no", "invoice_no", "line", "message"}


def test_command_exits_one_when_rejected(no_ledger, tmp_path):
    path = tmp_path / "CUSIN_7777_20260115083000_1.xml"
    path.write_text("not xml at all")
    code, receipt = run_command(path)
    assert (code, receipt["status"]) == (1, "rejected")


def test_command_reports_a_missing_file(db, tmp_path):
    code, out = run_command(tmp_path / "CUSIN_7777_20260115083000_1.xml")
    assert code == 1
    assert out["error"]["code"] == "usage"
    assert "no such file" in out["error"]["message"]


def test_every_rejected_file_is_kept_on_record(no_ledger, tmp_path):
    path = write(tmp_path, [customer("1", invoice("A1"))], company_no="4242")
    cusin_import(path=path)
    row = CusinFile.objects.get()
    assert (row.status, row.company_no, row.ledger, row.serial) == ("rejected", "4242", None, 1)
    assert row.receipt["errors"][0]["code"] == "UnknownCompanyNo"


def test_duplicate_column_number_fails_that_invoice(no_ledger, tmp_path):
    rows = [("1", "Service", "1", "100,00", "100,00")]
    path = write(tmp_path, [customer("1", invoice("P-1", order_rows=rows), invoice("P-2", order_rows=rows))])
    text = path.read_text()
    first_row = text.index("<Row>")
    broken = text[:first_row] + text[first_row:].replace('ColumnNo="2"', 'ColumnNo="1"', 1)
    path.write_text(broken)
    receipt = cusin_import(path=path, booking_date=DAY)
    assert [(e["code"], e["invoice_no"]) for e in receipt["errors"]] == [("InvalidPrintBlock", "P-1")]
    assert list(Invoice.objects.filter(ledger=no_ledger).values_list("invoice_no", flat=True)) == ["P-2"]
