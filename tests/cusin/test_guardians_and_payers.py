"""CUSIN 2.1 GuardianCustomerNo and PayerCustomerNo: a minor's guardian and an invoice's other payer,
customers of the ledger or earlier in the file; an unknown one is the record's error (UnknownGuardian,
UnknownPayer) and the rest of the file books as ever."""

from datetime import date

import pytest

from cusin.services import cusin_import
from ledger.models import Customer, Invoice
from tests.cusin.test_import_cusin import customer, invoice, valid, write
from tests.factories import CustomerFactory, LedgerFactory

DAY = date(2026, 1, 15)
CHILD_ID = "01031550056"  # born 1 March 2015
PARENT_ID = "15108695088"


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def ledger(db):
    return LedgerFactory(company_no="7777", country="NO")


def test_a_guardian_and_a_payer_earlier_in_the_file_or_in_the_ledger_are_kept(ledger, tmp_path):
    CustomerFactory(ledger=ledger, customer_no="900", name="Kommunen")
    path = write(tmp_path, [
        customer("1", reg_no=PARENT_ID),
        customer("2", invoice("A-1"), reg_no=CHILD_ID, guardian_customer_no="1"),
        customer("3", invoice("A-2", payer_customer_no="900"), reg_no=PARENT_ID),
    ], version="2.1")  # fmt: skip
    assert valid(path, "cusin-2.1.xsd")

    receipt = cusin_import(path=path, booking_date=DAY)

    assert (receipt["status"], receipt["invoices"], receipt["errors"]) == ("accepted", 2, [])
    child = Customer.objects.get(ledger=ledger, customer_no="2")
    assert (child.guardian.customer_no, child.birth_date) == ("1", date(2015, 3, 1))
    assert Invoice.objects.get(ledger=ledger, invoice_no="A-2").payer.customer_no == "900"
    assert Invoice.objects.get(ledger=ledger, invoice_no="A-1").payer is None


def test_an_unknown_guardian_or_payer_is_the_records_error(ledger, tmp_path):
    path = write(tmp_path, [
        customer("2", invoice("B-1"), reg_no=CHILD_ID, guardian_customer_no="5"),  # 5 comes later
        customer("5", invoice("B-2", payer_customer_no="404"), invoice("B-3"), reg_no=PARENT_ID),
        customer("6", invoice("B-4", payer_customer_no="6")),
    ], version="2.1")  # fmt: skip

    receipt = cusin_import(path=path, booking_date=DAY)

    assert [(e["code"], e.get("customer_no"), e.get("invoice_no") or None) for e in receipt["errors"]] == [
        ("UnknownGuardian", "2", None),
        ("UnknownPayer", "5", "B-2"),
        ("UnknownPayer", "6", "B-4"),
    ]
    assert (
        "GuardianCustomerNo 5 is no customer of ledger 7777 nor one earlier in this file"
        in receipt["errors"][0]["message"]
    )
    assert not Customer.objects.filter(ledger=ledger, customer_no="2").exists()
    assert sorted(Invoice.objects.filter(ledger=ledger).values_list("invoice_no", flat=True)) == ["B-3"]


def test_a_guardian_whose_own_record_was_refused_refuses_the_ward(ledger, tmp_path):
    path = write(tmp_path, [
        customer("1", reg_no="12345678901"),  # an invalid fødselsnummer: refused
        customer("2", invoice("C-1"), reg_no=CHILD_ID, guardian_customer_no="1"),
        customer("3", invoice("C-2", payer_customer_no="1"), reg_no=PARENT_ID),
    ], version="2.1")  # fmt: skip

    receipt = cusin_import(path=path, booking_date=DAY)

    assert [(e["code"], e.get("customer_no")) for e in receipt["errors"]] == [
        ("InvalidRegNo", "1"),
        ("UnknownGuardian", "2"),
        ("UnknownPayer", "3"),
    ]
    assert not Invoice.objects.filter(ledger=ledger).exists()
    assert list(Customer.objects.filter(ledger=ledger).values_list("customer_no", flat=True)) == ["3"]
