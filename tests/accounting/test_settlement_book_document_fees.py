"""Settlement to the client: our price per document and channel. A distributed document is charged once,
by the most specific price item that matches it (kind and channel, then kind, then channel, then any);
failed, cancelled and not yet distributed documents are not charged."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from pypdf import PdfReader

from accounting.models import PriceItem, PriceItemKind, PriceList, Settlement, SettlementAgreement
from accounting.services import settlement_book
from accounting.settlement import distributed_documents
from distribution.models import Document
from ledger.errors import LedgerError
from ledger.models import AccountRole, JournalTransaction, TransactionKind
from tests.accounting import test_settlement_book as settlement_tests
from tests.accounting.helpers import valid_xml
from tests.accounting.test_settlement_book import CLIENT_ACCOUNT, SETTLE_DAY, outbox, role_amounts
from tests.factories import CustomerFactory, DocumentFactory, LedgerFactory, UserFactory
from tests.helpers import sign_in

IN_MARCH = date(2026, 3, 20)
march = settlement_tests.march  # the fixture: the ledger and the money of March


def document_price(prices, price, *, kind="", channel=""):
    return PriceItem.objects.create(
        price_list=prices,
        kind=PriceItemKind.DOCUMENT,
        document_kind=kind,
        channel=channel,
        unit_price=Decimal(price),
    )


@pytest.fixture
def documents(march):
    """March (16.50 of fees before: see test_settlement_book) with these document prices: reminder by
    e-mail 2.00, collection notice on paper 12.00, reminder by any channel 4.00, anything on paper 9.00,
    anything else 1.50. Distributed in March: 3 reminders by e-mail (6.00), 2 collection notices on paper,
    one still waiting for the print batch (24.00), a reminder on paper that came back (4.00: its kind
    beats the paper price), a legal notice on paper (9.00), an SMS reminder and an archive-only invoice
    (2 x 1.50): 46.00. Not charged: a failed, a cancelled, a queued and a retrying reminder, a reminder
    of 1 April, and a reminder of another client's ledger."""
    ledger, *_ = march
    prices = PriceList.objects.get(client=ledger.client)
    document_price(prices, "2.00", kind="reminder", channel="email")
    document_price(prices, "12.00", kind="collection_notice", channel="paper")
    document_price(prices, "4.00", kind="reminder")
    document_price(prices, "9.00", channel="paper")
    document_price(prices, "1.50")
    customer = CustomerFactory(ledger=ledger, customer_no="2001")

    def document(**fields):
        return DocumentFactory(customer=customer, booking_date=IN_MARCH, **fields)

    for _ in range(3):
        document(kind="reminder", channel="email")
    document(kind="collection_notice", channel="paper")
    document(kind="collection_notice", channel="paper", status="awaiting_print")
    document(kind="reminder", channel="paper", status="returned")
    document(kind="legal_notice", channel="paper")
    document(kind="sms_reminder", channel="sms")
    document(kind="invoice", channel="archive_only", status="archived")

    document(kind="reminder", channel="email", status="failed", archive_name="", checksum="")
    document(kind="collection_notice", channel="paper", status="cancelled")
    document(kind="reminder", channel="", status="queued", archive_name="", checksum="")
    document(kind="reminder", channel="email", status="retry", archive_name="", checksum="")
    DocumentFactory(customer=customer, booking_date=SETTLE_DAY, kind="reminder", channel="email")
    DocumentFactory(customer=CustomerFactory(ledger=LedgerFactory()), booking_date=IN_MARCH)
    return ledger


FEES_BEFORE = Decimal("16.50")
DOCUMENT_FEES = Decimal("46.00")


def test_documents_are_counted_with_one_group_by(documents, django_assert_num_queries):
    with django_assert_num_queries(1):
        counts = distributed_documents(documents, date(2026, 3, 1), date(2026, 3, 31))
    assert counts == {
        ("reminder", "email"): 3,
        ("collection_notice", "paper"): 2,
        ("reminder", "paper"): 1,
        ("legal_notice", "paper"): 1,
        ("sms_reminder", "sms"): 1,
        ("invoice", "archive_only"): 1,
    }


def test_documents_are_charged_by_the_most_specific_price(documents):
    ledger = documents
    settlement_book(ledger=ledger, as_of=SETTLE_DAY)
    settlement = Settlement.objects.get(ledger=ledger)
    assert settlement.service_fees == FEES_BEFORE + DOCUMENT_FEES == Decimal("62.50")
    assert settlement.client_share == Decimal("1512.50")
    assert settlement.payout == Decimal("1450.00")  # 1512.50 - 62.50
    assert (AccountRole.FEE_INCOME, Decimal("-62.50")) in role_amounts(settlement.transaction)

    report = valid_xml(outbox(ledger) / settlement.balance_report_file, "balance-report-1.0.xsd")
    fees = report["FeeSpecification"]
    assert fees["Total"] == Decimal("62.50")
    assert report["PaymentSummary"]["ServiceFeesDeducted"] == Decimal("62.50")
    assert [
        (f["Item"], f.get("DocumentKind"), f.get("Channel"), f["Description"], f["Count"], f["Amount"])
        for f in fees["Fee"]
        if f["Item"] == "document"
    ] == [
        ("document", None, None, "Documents (any channel)", 2, Decimal("3.00")),
        ("document", None, "paper", "Documents by Paper", 1, Decimal("9.00")),
        ("document", "collection_notice", "paper", "Collection notice by Paper", 2, Decimal("24.00")),
        ("document", "reminder", None, "Reminder (any channel)", 1, Decimal("4.00")),
        ("document", "reminder", "email", "Reminder by E-mail", 3, Decimal("6.00")),
    ]
    assert [f["Item"] for f in fees["Fee"][5:]] == ["invoice_event", "invoice_registered", "payment"]

    pdf = outbox(ledger) / settlement.balance_report_file.replace(".xml", ".pdf")
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Collection notice by Paper" in text and "24.00" in text and "62.50" in text


def test_a_failed_document_is_not_charged(documents):
    """The failed e-mail reminder is not in the 62.50 of the period; sent, it costs 2.00 more."""
    ledger = documents
    failed = Document.objects.get(ledger=ledger, status="failed")
    Document.objects.filter(pk=failed.pk).update(
        status="sent", archive_name="archive/x.pdf", checksum="0" * 64, distributed_on=IN_MARCH
    )
    settlement_book(ledger=ledger, as_of=SETTLE_DAY)
    assert Settlement.objects.get(ledger=ledger).service_fees == Decimal("64.50")


def test_fees_invoiced_separately_include_the_documents(documents):
    ledger = documents
    SettlementAgreement.objects.filter(ledger=ledger).update(fees_deducted=False)
    settlement_book(ledger=ledger, as_of=SETTLE_DAY)
    settlement = Settlement.objects.get(ledger=ledger)
    assert settlement.service_fees == Decimal("62.50") and settlement.payout == Decimal("1512.50")
    report = valid_xml(outbox(ledger) / settlement.balance_report_file, "balance-report-1.0.xsd")
    assert report["PaymentSummary"]["ServiceFeesInvoiced"] == Decimal("62.50")
    assert report["PaymentSummary"]["ServiceFeesDeducted"] == Decimal("0.00")
    assert not any(role == AccountRole.FEE_INCOME for role, _ in role_amounts(settlement.transaction))


def test_a_settled_period_is_not_charged_again(documents):
    """Settling again, also after more documents of the period went out, changes nothing: the period's
    fees were fixed when it was settled."""
    ledger = documents
    settlement_book(ledger=ledger, as_of=SETTLE_DAY)
    files = {p.name: p.read_bytes() for p in outbox(ledger).iterdir()}
    Document.objects.filter(ledger=ledger, status="retry").update(
        status="sent", archive_name="archive/y.pdf", checksum="0" * 64, distributed_on=IN_MARCH
    )
    DocumentFactory(customer=CustomerFactory(ledger=ledger, customer_no="2002"), booking_date=IN_MARCH)
    for later in (SETTLE_DAY, date(2026, 4, 15)):
        assert settlement_book(ledger=ledger, as_of=later)["settled"] is False
    assert {p.name: p.read_bytes() for p in outbox(ledger).iterdir()} == files
    settlement = Settlement.objects.get(ledger=ledger)
    assert settlement.service_fees == Decimal("62.50")
    assert JournalTransaction.objects.filter(ledger=ledger, kind=TransactionKind.SETTLEMENT).count() == 1


def test_a_document_still_pending_when_its_period_closes_is_charged_in_the_next(documents):
    """The reminder of 20 March still retrying when March is settled goes out on 2 April: March does not
    charge it, April does, once."""
    ledger = documents
    settlement_book(ledger=ledger, as_of=SETTLE_DAY)
    assert Settlement.objects.get(ledger=ledger).service_fees == Decimal("62.50")
    pending = Document.objects.get(ledger=ledger, status="retry")
    # as the distribution run of 2 April records it (tests/distribution/test_documents_distribute.py)
    Document.objects.filter(pk=pending.pk).update(status="sent", archive_name="archive/late.pdf",
                                                  checksum="1" * 64, distributed_on=date(2026, 4, 2))  # fmt: skip
    pending.refresh_from_db()
    assert (pending.booking_date, pending.distributed_on) == (IN_MARCH, date(2026, 4, 2))
    assert distributed_documents(ledger, date(2026, 3, 1), date(2026, 3, 31))[("reminder", "email")] == 3
    april = distributed_documents(ledger, date(2026, 4, 1), date(2026, 4, 30))
    assert april[("reminder", "email")] == 2  # the late one and the reminder of 1 April


def test_a_failure_charges_and_writes_nothing(documents):
    ledger = documents
    SettlementAgreement.objects.filter(ledger=ledger).update(bank_account="not an account!")
    with pytest.raises(LedgerError) as error:
        settlement_book(ledger=ledger, as_of=SETTLE_DAY)
    assert error.value.code == "invalid_bank_account"
    assert not Settlement.objects.filter(ledger=ledger).exists()
    assert not JournalTransaction.objects.filter(ledger=ledger, kind=TransactionKind.SETTLEMENT).exists()
    assert list(outbox(ledger).iterdir()) == []

    SettlementAgreement.objects.filter(ledger=ledger).update(bank_account=CLIENT_ACCOUNT)
    result = settlement_book(ledger=ledger, as_of=SETTLE_DAY)
    assert result["service_fees"] == Decimal("62.50") and result["payout"] == Decimal("1450.00")


def test_without_document_prices_documents_cost_nothing(documents):
    ledger = documents
    PriceItem.objects.filter(kind=PriceItemKind.DOCUMENT).delete()
    settlement_book(ledger=ledger, as_of=SETTLE_DAY)
    assert Settlement.objects.get(ledger=ledger).service_fees == FEES_BEFORE


def test_the_database_refuses_a_bad_document_price(march):
    ledger, *_ = march
    prices = PriceList.objects.get(client=ledger.client)
    document_price(prices, "2.00", kind="reminder", channel="email")
    bad = [
        dict(kind="document", document_kind="reminder", channel="email"),  # twice
        dict(kind="document", document_kind="letter"),  # no such document kind
        dict(kind="document", channel="fax"),  # no such channel
        dict(kind="document", event_kind="reminder_sent"),  # event kinds are for invoice events
        dict(kind="payment", channel="email"),  # a channel only on a document price
        dict(kind="invoice_registered", document_kind="reminder"),
        dict(kind="per_page"),  # no such price item kind
    ]
    for fields in bad:
        with pytest.raises(IntegrityError), transaction.atomic():
            PriceItem.objects.create(price_list=prices, unit_price=Decimal("1.00"), **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        document_price(prices, "-1.00", kind="reminder", channel="sms")
    # Each level of specificity is a price of its own, and so is another price list.
    document_price(prices, "3.00", kind="reminder")
    document_price(prices, "3.00", channel="email")
    document_price(prices, "3.00")
    later = PriceList.objects.create(client=ledger.client, valid_from=date(2026, 6, 1), currency="NOK")
    document_price(later, "2.50", kind="reminder", channel="email")
    assert PriceItem.objects.filter(kind=PriceItemKind.DOCUMENT).count() == 5


def test_a_document_price_is_edited_in_the_admin(march, client):
    ledger, *_ = march
    prices = PriceList.objects.get(client=ledger.client)
    staff = UserFactory(client=None, is_staff=True, is_superuser=True)
    sign_in(client, staff)
    url = f"/admin/accounting/pricelist/{prices.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert b'name="items-0-document_kind"' in page.content and b'name="items-0-channel"' in page.content

    items = list(prices.items.order_by("id"))
    form = {
        "client": ledger.client_id,
        "valid_from": "2026-01-01",
        "currency": "NOK",
        "note": "",
        "items-TOTAL_FORMS": len(items) + 1,
        "items-INITIAL_FORMS": len(items),
        "items-MIN_NUM_FORMS": 0,
        "items-MAX_NUM_FORMS": 1000,
    }
    for n, item in enumerate(items):
        form |= {
            f"items-{n}-id": item.id,
            f"items-{n}-price_list": prices.pk,
            f"items-{n}-kind": item.kind,
            f"items-{n}-event_kind": item.event_kind,
            f"items-{n}-document_kind": "",
            f"items-{n}-channel": "",
            f"items-{n}-unit_price": item.unit_price,
        }
    n = len(items)
    form |= {
        f"items-{n}-price_list": prices.pk,
        f"items-{n}-kind": "document",
        f"items-{n}-event_kind": "",
        f"items-{n}-document_kind": "collection_notice",
        f"items-{n}-channel": "paper",
        f"items-{n}-unit_price": "12.00",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    item = prices.items.get(kind=PriceItemKind.DOCUMENT)
    assert (item.document_kind, item.channel, item.unit_price) == (
        "collection_notice",
        "paper",
        Decimal("12.00"),
    )
