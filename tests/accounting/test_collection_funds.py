"""The collection client-funds account (seeds 000 section 7): payments for claims in collection are paid
into an account of its own, booked on its own account role, reported in the accounting files with the
rest, and moved to the client-funds account by the settlement's own transfer and Balance Report line."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import xmlschema
from django.db.models import Sum
from lxml import etree

from accounting.models import Settlement, SettlementAgreement, SettlementFrequency
from accounting.services import accounting_files_write, settlement_book
from distribution.models import DocumentKind
from distribution.render import document_context
from ledger.errors import FileRejected, ValidationFailed
from ledger.models import AccountRole, Payment, Posting
from ledger.outbox import company_dir
from ledger.selectors import ledger_for_account
from ledger.services.ledgers import ledger_create
from tests.accounting.helpers import csv_records
from tests.factories import CustomerFactory, DocumentFactory, InvoiceFactory
from tests.ledger.test_payments_import import (
    ACCOUNT,
    assert_verified,
    book,
    failed_checks,
    ocr_file,
    pay,
    stray_kid,
)

COLLECTION_ACCOUNT = "15030000010"
CLIENT_ACCOUNT = "98765432103"
PAY_DAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"


@pytest.fixture
def ledger(db):
    ledger, _ = ledger_create(
        company_no="4321", ledger_no="43211", country="NO", name="Inkasso Nord AS", client_name="Nordlys Energi AS",
        client_funds_account=ACCOUNT, collection_funds_account=COLLECTION_ACCOUNT,
    )  # fmt: skip
    SettlementAgreement.objects.create(
        ledger=ledger, frequency=SettlementFrequency.MONTHLY, bank_account=CLIENT_ACCOUNT
    )
    return ledger


def balance(ledger, role) -> Decimal:
    total = Posting.objects.filter(ledger=ledger, account__role=role).aggregate(s=Sum("amount"))["s"]
    return total or Decimal("0.00")


def test_a_payment_into_the_collection_account_is_booked_on_its_own_account(ledger):
    assert ledger.accounts.get(role=AccountRole.COLLECTION_FUNDS_BANK).number == "1921"
    customer = CustomerFactory(ledger=ledger)
    in_collection = InvoiceFactory(customer=customer, amount=Decimal("700.00"))
    ordinary = InvoiceFactory(customer=customer, amount=Decimal("300.00"))
    assert ledger_for_account(accounts=[COLLECTION_ACCOUNT]) == ledger

    first = book(ocr_file([pay(in_collection.payment_ref, "700.00", "000000101")], account=COLLECTION_ACCOUNT,
                          day=PAY_DAY), name="ocr-collection.txt")  # fmt: skip
    second = book(ocr_file([pay(ordinary.payment_ref, "300.00", "000000102")], day=PAY_DAY, number="0000002"),
                  name="ocr.txt")  # fmt: skip

    assert (first["status"], first["matched"], second["matched"]) == ("accepted", 1, 1)
    assert balance(ledger, AccountRole.COLLECTION_FUNDS_BANK) == Decimal("700.00")
    assert balance(ledger, AccountRole.CLIENT_FUNDS_BANK) == Decimal("300.00")
    assert_verified(ledger)

    # The day's accounting files carry the new account like any other.
    accounting_files_write(ledger=ledger, as_of=PAY_DAY)
    detail = company_dir(ledger.company_no, "outbox") / f"ACCOUNTINGDETAIL_{ledger.company_no}_20260302.csv"
    rows, _trailer = csv_records(detail)
    assert {r["BookAccount"]: Decimal(r["Amount"]) for r in rows if r["BookAccount"] in ("1920", "1921")} == {
        "1920": Decimal("300.00"),
        "1921": Decimal("700.00"),
    }


def test_the_settlement_moves_the_collection_money_by_its_own_transfer_and_line(ledger):
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), amount=Decimal("700.00"))
    book(ocr_file([pay(invoice.payment_ref, "700.00", "000000101"), pay(stray_kid(), "50.00", "000000102")],
                  account=COLLECTION_ACCOUNT, day=PAY_DAY))  # fmt: skip

    summary = settlement_book(ledger=ledger, as_of=date(2026, 4, 1))

    settlement = Settlement.objects.get(ledger=ledger)
    # All the collection account held moves (the unidentified 50.00 too: it stays client funds, on suspense).
    assert (settlement.payout, settlement.collection_transferred) == (Decimal("700.00"), Decimal("750.00"))
    assert balance(ledger, AccountRole.COLLECTION_FUNDS_BANK) == Decimal("0.00")
    assert balance(ledger, AccountRole.CLIENT_FUNDS_BANK) == Decimal("50.00")
    outbox = company_dir(ledger.company_no, "outbox")
    report = etree.parse(str(outbox / settlement.balance_report_file))
    assert report.findtext("PaymentSummary/TransferredFromCollectionAccount") == "750.00"
    assert report.findtext("PaymentSummary/Payout") == "700.00"

    xsd = xmlschema.XMLSchema(str(Path(__file__).resolve().parents[2] / "xsd" / "pain.001.001.03.xsd"))
    pain = outbox / settlement.payment_file
    xsd.validate(str(pain))
    document = xsd.to_dict(str(pain), decimal_type=Decimal)["CstmrCdtTrfInitn"]
    assert (document["GrpHdr"]["NbOfTxs"], document["GrpHdr"]["CtrlSum"]) == ("2", Decimal("1450.00"))
    transfers = [
        (block["DbtrAcct"]["Id"]["Othr"]["Id"], block["CdtTrfTxInf"][0]["CdtrAcct"]["Id"]["Othr"]["Id"],
         block["CtrlSum"])
        for block in document["PmtInf"]
    ]  # fmt: skip
    assert transfers == [
        (COLLECTION_ACCOUNT, ACCOUNT, Decimal("750.00")),  # first the collection money to client funds
        (ACCOUNT, CLIENT_ACCOUNT, Decimal("700.00")),  # then the client's payout
    ]
    assert summary["files"][1] == settlement.payment_file
    assert_verified(ledger)


def test_collection_letters_name_the_collection_account_and_the_others_the_client_funds_account(ledger):
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger))
    for kind, account in (
        (DocumentKind.PAYMENT_DEMAND, COLLECTION_ACCOUNT),
        (DocumentKind.LEGAL_NOTICE, COLLECTION_ACCOUNT),
        (DocumentKind.REMINDER, ACCOUNT),
        (DocumentKind.INVOICE, ACCOUNT),
    ):
        document = DocumentFactory(customer=invoice.customer, invoice=invoice, kind=kind, status="queued",
                                   archive_name="", checksum="", distributed_on=None)  # fmt: skip
        assert document_context(document)["account"] == account, kind


def test_the_collection_account_must_be_an_account_of_its_own(db):
    with pytest.raises(ValidationFailed) as same:
        ledger_create(company_no="4322", ledger_no="43221", country="NO", name="X",
                      client_funds_account=ACCOUNT, collection_funds_account="1503.00.00002")  # fmt: skip
    assert (same.value.code, same.value.field) == ("same_account", "collection_funds_account")
    with pytest.raises(FileRejected):
        ledger_for_account(accounts=[COLLECTION_ACCOUNT])


def test_verify_ledger_names_a_payment_booked_on_the_other_client_funds_account(db):
    ledger, _ = ledger_create(company_no="4323", ledger_no="43231", country="NO", name="Y",
                              client_funds_account=ACCOUNT)  # fmt: skip
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger))
    book(ocr_file([pay(invoice.payment_ref, "10.00", "000000101")], account=COLLECTION_ACCOUNT, day=PAY_DAY),
         company_no=ledger.company_no)  # fmt: skip
    assert Payment.objects.get(ledger=ledger).receiving_account == COLLECTION_ACCOUNT
    assert_verified(ledger)  # no collection account yet: the money is the client-funds account's
    ledger_create(company_no="4323", ledger_no="43231", country="NO", name="Y",
                  collection_funds_account=COLLECTION_ACCOUNT)  # fmt: skip
    ledger.refresh_from_db()
    [problem] = [
        p for p in failed_checks(ledger)["bank_in_equals_bank_files"]["discrepancies"] if "problem" in p
    ]
    assert (problem["booked_on"], problem["receiving_account"]) == ("client_funds_bank", COLLECTION_ACCOUNT)


def test_a_claim_in_collection_is_paid_to_the_collection_account(ledger):
    from claims.collection_stop import pay_to_account

    assert pay_to_account(ledger=ledger, level="payment_demand") == COLLECTION_ACCOUNT
    assert pay_to_account(ledger=ledger, level="surveillance") == COLLECTION_ACCOUNT
    assert pay_to_account(ledger=ledger, level="reminder") == ACCOUNT
    ledger.collection_funds_account = ""
    assert pay_to_account(ledger=ledger, level="payment_demand") == ACCOUNT


def test_money_in_on_the_collection_account_counts_as_payments_received_on_the_dashboard(ledger):
    from accounting.dashboard import dashboard_period, payments_received

    customer = CustomerFactory(ledger=ledger)
    in_collection = InvoiceFactory(customer=customer, amount=Decimal("700.00"))
    ordinary = InvoiceFactory(customer=customer, amount=Decimal("300.00"))
    book(ocr_file([pay(in_collection.payment_ref, "700.00", "000000101")], account=COLLECTION_ACCOUNT,
                  day=PAY_DAY), name="ocr-collection.txt")  # fmt: skip
    book(ocr_file([pay(ordinary.payment_ref, "300.00", "000000102")], day=PAY_DAY, number="0000002"))
    period = dashboard_period(ledger=ledger, months=1, end_month=date(2026, 3, 1))
    assert [(m.count, m.amount) for m in payments_received(ledger=ledger, period=period)] == [
        (2, Decimal("1000.00"))
    ]
    assert_verified(ledger)  # the summaries equal the journal
