"""Settlement to the client: the Balance Report's payout equals the accounting files of its period, the
booking moves the client's share through payable-to-client to the client's bank account (pain.001), the
OCR settlement file lists the payments, and a period is settled once, all or nothing.

Past 500 lines: one March of money (the `march` fixture) is what every test here settles; the document
fees' tests (test_settlement_book_document_fees.py) already live apart and reuse it."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction
from pypdf import PdfReader

from accounting.models import (
    PriceItem,
    PriceItemKind,
    PriceList,
    Settlement,
    SettlementAgreement,
    SettlementFrequency,
    SettlementItem,
)
from accounting.services import accounting_files_write, settlement_book
from accounting.settlement import natural_period_start, period_end_before
from ledger.errors import LedgerError
from ledger.models import (
    AccountRole,
    InvoiceEvent,
    JournalTransaction,
    Payment,
    PendingOutboxFile,
    Posting,
    TransactionKind,
)
from ledger.outbox import company_dir
from ledger.payments.bankfiles import parse_bank_file
from ledger.payments.reversal import payment_reverse
from ledger.services import outbox_files
from tests.accounting.helpers import csv_records, valid_xml
from tests.factories import CustomerFactory, InvoiceFactory
from tests.helpers import book_costs
from tests.ledger.test_payments_import import (
    assert_verified,
    book,
    ledger_with_account,
    ocr_file,
    pay,
    run,
    stray_kid,
)

CLIENT_ACCOUNT = "98765432103"
MARCH = [date(2026, 3, d) for d in range(1, 32)]
SETTLE_DAY = date(2026, 4, 1)


@pytest.fixture
def march(db):
    """Monthly settlement, our fees deducted, claim fees ours, interest the client's. In March:
    A 1000.00 (+ fee 35.00, interest 12.50) paid 1047.50 and B 500.00 paid 200.00 on 2 March; C 300.00
    paid on 10 March with an unidentified 99.90 (suspense: not the client's); a reminder on B on 15 March.
    Prices: 2.50 per invoice, 1.00 per payment, 5.00 per reminder."""
    ledger = ledger_with_account(name="Inkasso Nord AS", client_name="Nordlys Energi AS")
    SettlementAgreement.objects.create(
        ledger=ledger, frequency=SettlementFrequency.MONTHLY, bank_account=CLIENT_ACCOUNT, ocr_report=True
    )
    prices = PriceList.objects.create(client=ledger.client, valid_from=date(2026, 1, 1), currency="NOK")
    PriceItem.objects.create(
        price_list=prices, kind=PriceItemKind.INVOICE_REGISTERED, unit_price=Decimal("2.50")
    )
    PriceItem.objects.create(price_list=prices, kind=PriceItemKind.PAYMENT, unit_price=Decimal("1.00"))
    PriceItem.objects.create(
        price_list=prices,
        kind=PriceItemKind.INVOICE_EVENT,
        event_kind="reminder_sent",
        unit_price=Decimal("5.00"),
    )
    customer = CustomerFactory(ledger=ledger, customer_no="1001", name="Kari Nordmann")
    registered = date(2026, 3, 1)
    a = InvoiceFactory(
        customer=customer, invoice_no="A-1", amount=Decimal("1000.00"), booking_date=registered
    )
    b = InvoiceFactory(customer=customer, invoice_no="B-1", amount=Decimal("500.00"), booking_date=registered)
    c = InvoiceFactory(customer=customer, invoice_no="C-1", amount=Decimal("300.00"), booking_date=registered)
    book_costs(a, fee=Decimal("35.00"), interest=Decimal("12.50"), day=registered)
    book(
        ocr_file([pay(a.payment_ref, "1047.50", "000000101"), pay(b.payment_ref, "200.00", "000000102")]),
        name="a.txt",
    )
    book(
        ocr_file(
            [pay(c.payment_ref, "300.00", "000000103"), pay(stray_kid(7), "99.90", "000000104")],
            day=date(2026, 3, 10),
            number="0000002",
        ),
        name="b.txt",
    )
    InvoiceEvent.objects.create(
        ledger=ledger,
        invoice=b,
        kind="reminder_sent",
        from_status="open",
        to_status="open",
        booking_date=date(2026, 3, 15),
        actor="claims",
    )
    return ledger, a, b, c


def outbox(ledger) -> Path:
    return company_dir(ledger.company_no, "outbox")


def role_amounts(txn) -> list[tuple[str, Decimal]]:
    return [
        (p.account.role, p.amount)
        for p in Posting.objects.filter(transaction=txn).select_related("account").order_by("id")
    ]


def test_march_is_settled_with_worked_amounts(march):
    ledger, a, b, c = march
    result = settlement_book(ledger=ledger, as_of=SETTLE_DAY, actor="ops")
    assert result["settled"] is True
    settlement = Settlement.objects.get(ledger=ledger)
    assert (settlement.period_start, settlement.period_end, settlement.booking_date) == (
        date(2026, 3, 1),
        date(2026, 3, 31),
        SETTLE_DAY,
    )
    assert settlement.collected_capital == Decimal("1500.00")
    assert settlement.collected_fees == Decimal("35.00") == settlement.retained_fees  # no cure no pay
    assert settlement.collected_interest == Decimal("12.50") and settlement.retained_interest == 0
    assert settlement.client_share == Decimal("1512.50")
    assert settlement.service_fees == Decimal("16.50")  # 3 x 2.50 + 4 x 1.00 + 1 x 5.00
    assert settlement.payout == Decimal("1496.00")
    assert settlement.carried_forward == 0

    assert role_amounts(settlement.transaction) == [
        (AccountRole.INVOICE_CLEARING, Decimal("1500.00")),
        (AccountRole.INTEREST_INCOME, Decimal("12.50")),
        (AccountRole.PAYABLE_TO_CLIENT, Decimal("-1512.50")),
        (AccountRole.PAYABLE_TO_CLIENT, Decimal("16.50")),
        (AccountRole.FEE_INCOME, Decimal("-16.50")),
        (AccountRole.PAYABLE_TO_CLIENT, Decimal("1496.00")),
        (AccountRole.CLIENT_FUNDS_BANK, Decimal("-1496.00")),
    ]
    assert settlement.transaction.kind == TransactionKind.SETTLEMENT
    payable = Posting.objects.filter(ledger=ledger, account__role=AccountRole.PAYABLE_TO_CLIENT)
    assert sum(p.amount for p in payable) == 0
    assert_verified(ledger)

    report = valid_xml(outbox(ledger) / settlement.balance_report_file, "balance-report-1.0.xsd")
    assert report["PaymentSummary"]["Payout"] == Decimal("1496.00")
    assert report["PaymentSummary"]["ServiceFeesDeducted"] == Decimal("16.50")
    assert report["PaymentSummary"]["ServiceFeesInvoiced"] == Decimal("0.00")
    assert [
        (r["BookDate"], r["Capital"], r["Interest"], r["Fees"], r["ClientAmount"])
        for r in report["ClientAssetDisbursement"]["Record"]
    ] == [
        ("2026-03-02", Decimal("1200.00"), Decimal("12.50"), Decimal("35.00"), Decimal("1212.50")),
        ("2026-03-10", Decimal("300.00"), Decimal("0.00"), Decimal("0.00"), Decimal("300.00")),
    ]
    assert [
        (s["InvoiceNo"], s["Capital"], s["Interest"], s["Fees"])
        for s in report["SalesSpecification"]["Invoice"]
    ] == [
        ("A-1", Decimal("1000.00"), Decimal("12.50"), Decimal("35.00")),
        ("B-1", Decimal("200.00"), Decimal("0.00"), Decimal("0.00")),
        ("C-1", Decimal("300.00"), Decimal("0.00"), Decimal("0.00")),
    ]
    fees = report["FeeSpecification"]
    assert fees["@Deducted"] is True and fees["Total"] == Decimal("16.50")
    assert [(f["Item"], f.get("EventKind"), f["Count"], f["Amount"]) for f in fees["Fee"]] == [
        ("invoice_event", "reminder_sent", 1, Decimal("5.00")),
        ("invoice_registered", None, 3, Decimal("7.50")),
        ("payment", None, 4, Decimal("4.00")),
    ]

    pdf = outbox(ledger) / settlement.balance_report_file.replace(".xml", ".pdf")
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Balance Report" in text and "1496.00" in text and "Nordlys Energi AS" in text and "C-1" in text


def test_the_payout_equals_the_accounting_files_of_the_period(march):
    """Read back the daily Accounting Detail CSVs of March: what they place on the client's claims per
    day is the Balance Report's records, and those less the fees are the payout; the Accounting Detail of
    the settlement day shows the payout leaving the client-funds account."""
    ledger, *_ = march
    for day in MARCH:
        accounting_files_write(ledger=ledger, as_of=day)
    settlement_book(ledger=ledger, as_of=SETTLE_DAY)
    accounting_files_write(ledger=ledger, as_of=SETTLE_DAY)
    settlement = Settlement.objects.get(ledger=ledger)
    report = valid_xml(outbox(ledger) / settlement.balance_report_file, "balance-report-1.0.xsd")

    receivables = {"1500": "Capital", "1501": "Fees", "1502": "Interest"}
    from_files: dict[str, dict[str, Decimal]] = {}
    for path in sorted(outbox(ledger).glob("ACCOUNTINGDETAIL_*_202603??.csv")):
        records, _ = csv_records(path)
        for r in records:
            if r["BookAccount"] in receivables and r["AccountingAction"] in ("payment", "allocation"):
                day = from_files.setdefault(
                    r["BookDate"], {"Capital": Decimal(0), "Fees": Decimal(0), "Interest": Decimal(0)}
                )
                day[receivables[r["BookAccount"]]] -= Decimal(r["Amount"])
    records = report["ClientAssetDisbursement"]["Record"]
    assert {r["BookDate"]: {k: r[k] for k in ("Capital", "Fees", "Interest")} for r in records} == from_files
    # Fees are ours by agreement: the client's amount is capital and interest.
    client_total = sum(d["Capital"] + d["Interest"] for d in from_files.values())
    summary = report["PaymentSummary"]
    assert client_total == summary["ClientShare"]
    assert client_total - summary["ServiceFeesDeducted"] == summary["Payout"]

    settle_rows, _ = csv_records(outbox(ledger) / f"ACCOUNTINGDETAIL_{ledger.company_no}_20260401.csv")
    bank = [r for r in settle_rows if r["BookAccount"] == "1920"]
    assert [(r["AccountingAction"], Decimal(r["Amount"])) for r in bank] == [
        ("settlement", -summary["Payout"])
    ]
    payable = [Decimal(r["Amount"]) for r in settle_rows if r["BookAccount"] == "2930"]
    assert sum(payable) == 0


def test_pain001_pays_the_client_and_the_ocr_file_lists_the_payments(march):
    import xmlschema

    ledger, a, b, c = march
    settlement_book(ledger=ledger, as_of=SETTLE_DAY)
    settlement = Settlement.objects.get(ledger=ledger)
    assert settlement.payment_file == f"SETTLE-{ledger.company_no}-20260331-{settlement.id}.xml"
    pain = outbox(ledger) / settlement.payment_file
    xsd = xmlschema.XMLSchema(str(Path(__file__).resolve().parents[2] / "xsd" / "pain.001.001.03.xsd"))
    xsd.validate(str(pain))
    document = xsd.to_dict(str(pain), decimal_type=Decimal)["CstmrCdtTrfInitn"]
    assert document["GrpHdr"]["CtrlSum"] == Decimal("1496.00")
    [transfer] = document["PmtInf"][0]["CdtTrfTxInf"]
    assert transfer["Amt"]["InstdAmt"]["$"] == Decimal("1496.00")
    assert transfer["CdtrAcct"]["Id"]["Othr"]["Id"] == CLIENT_ACCOUNT
    assert transfer["Cdtr"]["Nm"] == "Nordlys Energi AS"
    assert document["PmtInf"][0]["DbtrAcct"]["Id"]["Othr"]["Id"] == ledger.client_funds_account
    assert document["PmtInf"][0]["ReqdExctnDt"] == "2026-04-01"

    ocr = parse_bank_file((outbox(ledger) / settlement.ocr_file).read_bytes())
    assert ocr.format == "ocr_giro"
    assert [(p.reference, p.amount) for p in ocr.payments] == [
        (a.payment_ref, Decimal("1012.50")),  # capital and interest; the fee is ours
        (b.payment_ref, Decimal("200.00")),
        (c.payment_ref, Decimal("300.00")),
    ]
    assert {p.receiving_account for p in ocr.payments} == {CLIENT_ACCOUNT}


def test_a_period_is_settled_once(march):
    ledger, *_ = march
    settlement_book(ledger=ledger, as_of=SETTLE_DAY)
    files = sorted(p.name for p in outbox(ledger).iterdir())
    for later in (SETTLE_DAY, date(2026, 4, 15), date(2026, 4, 30)):
        again = settlement_book(ledger=ledger, as_of=later)
        assert again["settled"] is False and again["period_end"] == "2026-03-31"
    assert sorted(p.name for p in outbox(ledger).iterdir()) == files
    assert Settlement.objects.filter(ledger=ledger).count() == 1
    assert JournalTransaction.objects.filter(ledger=ledger, kind=TransactionKind.SETTLEMENT).count() == 1


def test_a_reversal_after_the_settlement_is_carried_forward(march):
    ledger, _, _, c = march
    settlement_book(ledger=ledger, as_of=SETTLE_DAY)
    payment = Payment.objects.get(ledger=ledger, invoice=c)
    payment_reverse(
        payment=payment, actor="kari", reason="Returned by the bank", booking_date=date(2026, 4, 7)
    )

    april = settlement_book(ledger=ledger, as_of=date(2026, 5, 1))
    settlement = Settlement.objects.get(pk=april["settlement"])
    assert (settlement.period_start, settlement.period_end) == (date(2026, 4, 1), date(2026, 4, 30))
    assert settlement.collected_capital == Decimal("-300.00")
    assert settlement.service_fees == 0
    assert settlement.payout == 0 and settlement.carried_forward == Decimal("-300.00")
    assert settlement.payment_file == ""  # nothing to pay
    assert role_amounts(settlement.transaction) == [
        (AccountRole.INVOICE_CLEARING, Decimal("-300.00")),
        (AccountRole.PAYABLE_TO_CLIENT, Decimal("300.00")),
    ]
    # C is paid again in May: first the 300.00 the client already had is recovered.
    book(
        ocr_file([pay(c.payment_ref, "300.00", "000000105")], day=date(2026, 5, 5), number="0000003"),
        name="c.txt",
    )
    may = Settlement.objects.get(pk=settlement_book(ledger=ledger, as_of=date(2026, 6, 1))["settlement"])
    assert may.brought_forward == Decimal("-300.00")
    assert may.client_share == Decimal("300.00")
    assert may.service_fees == Decimal("1.00")
    assert may.payout == 0 and may.carried_forward == Decimal("-1.00")


def test_fees_invoiced_separately_are_not_deducted(march):
    ledger, *_ = march
    SettlementAgreement.objects.filter(ledger=ledger).update(fees_deducted=False, claim_fees_ours=False)
    settlement_book(ledger=ledger, as_of=SETTLE_DAY)
    settlement = Settlement.objects.get(ledger=ledger)
    assert settlement.client_share == Decimal("1547.50")  # the 35.00 fee is the client's now
    assert settlement.payout == Decimal("1547.50")
    report = valid_xml(outbox(ledger) / settlement.balance_report_file, "balance-report-1.0.xsd")
    assert report["PaymentSummary"]["ServiceFeesInvoiced"] == Decimal("16.50")
    assert report["FeeSpecification"]["@Deducted"] is False
    assert (AccountRole.FEE_INCOME, Decimal("35.00")) in role_amounts(settlement.transaction)


def test_a_failure_books_and_writes_nothing(march):
    ledger, *_ = march
    SettlementAgreement.objects.filter(ledger=ledger).update(bank_account="not an account!")
    with pytest.raises(LedgerError) as error:
        settlement_book(ledger=ledger, as_of=SETTLE_DAY)
    assert error.value.code == "invalid_bank_account"
    assert not Settlement.objects.filter(ledger=ledger).exists()
    assert not SettlementItem.objects.exists()
    assert not JournalTransaction.objects.filter(ledger=ledger, kind=TransactionKind.SETTLEMENT).exists()
    assert list(outbox(ledger).iterdir()) == []

    SettlementAgreement.objects.filter(ledger=ledger).update(bank_account=CLIENT_ACCOUNT)
    assert settlement_book(ledger=ledger, as_of=SETTLE_DAY)["payout"] == Decimal("1496.00")


def test_without_an_agreement_there_is_no_settlement(db):
    ledger = ledger_with_account()
    with pytest.raises(LedgerError) as error:
        settlement_book(ledger=ledger, as_of=SETTLE_DAY)
    assert error.value.code == "settlement_agreement_missing"


def test_a_price_list_in_another_currency_is_refused(march):
    ledger, *_ = march
    PriceList.objects.create(client=ledger.client, valid_from=date(2026, 3, 15), currency="SEK")
    with pytest.raises(LedgerError) as error:
        settlement_book(ledger=ledger, as_of=SETTLE_DAY)
    assert error.value.code == "price_list_currency_mismatch"
    assert not Settlement.objects.exists()


def test_a_transaction_is_settled_at_most_once_by_the_database(march):
    ledger, *_ = march
    settlement_book(ledger=ledger, as_of=SETTLE_DAY)
    item = SettlementItem.objects.first()
    other = Settlement.objects.get(ledger=ledger)
    with pytest.raises(IntegrityError), transaction.atomic():
        SettlementItem.objects.create(
            settlement=other,
            transaction_id=item.transaction_id,
            booking_date=item.booking_date,
            capital=Decimal("1.00"),
            fees=0,
            interest=0,
        )


def test_the_database_refuses_a_summary_that_does_not_add_up(march):
    ledger, *_ = march
    values = dict(
        ledger=ledger,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31),
        booking_date=date(2026, 2, 1),
        currency="NOK",
        collected_capital=Decimal("100.00"),
        collected_interest=0,
        collected_fees=0,
        retained_fees=0,
        retained_interest=0,
        client_share=Decimal("90.00"),
        brought_forward=0,
        service_fees=0,
        fees_deducted=True,
        payout=Decimal("90.00"),
        carried_forward=0,
        actor="test",
        balance_report_file="x.xml",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Settlement.objects.create(**values)
    with pytest.raises(IntegrityError), transaction.atomic():
        Settlement.objects.create(**{**values, "client_share": Decimal("100.00"), "payout": Decimal("-1.00")})
    with pytest.raises(IntegrityError), transaction.atomic():  # 100.00 in, nothing deducted, 80.00 paid
        Settlement.objects.create(**{**values, "client_share": Decimal("100.00"), "payout": Decimal("80.00")})
    with pytest.raises(IntegrityError), transaction.atomic():  # paid and carried forward at once
        Settlement.objects.create(
            **{
                **values,
                "client_share": Decimal("100.00"),
                "payout": Decimal("110.00"),
                "carried_forward": Decimal("-10.00"),
            }
        )
    Settlement.objects.create(**{**values, "client_share": Decimal("100.00"), "payout": Decimal("100.00")})
    with pytest.raises(IntegrityError), transaction.atomic():
        PriceItem.objects.create(
            price_list=PriceList.objects.first(),
            kind=PriceItemKind.PAYMENT,
            event_kind="reminder_sent",
            unit_price=Decimal("1.00"),
        )


@pytest.mark.parametrize(
    ("frequency", "as_of", "end", "start"),
    [
        (SettlementFrequency.DAILY, date(2026, 3, 3), date(2026, 3, 2), date(2026, 3, 2)),
        (SettlementFrequency.WEEKLY, date(2026, 3, 9), date(2026, 3, 8), date(2026, 3, 2)),  # Monday
        (SettlementFrequency.WEEKLY, date(2026, 3, 12), date(2026, 3, 8), date(2026, 3, 2)),
        (SettlementFrequency.MONTHLY, date(2026, 3, 1), date(2026, 2, 28), date(2026, 2, 1)),
        (SettlementFrequency.MONTHLY, date(2026, 3, 20), date(2026, 2, 28), date(2026, 2, 1)),
    ],
)
def test_settlement_periods(frequency, as_of, end, start):
    assert period_end_before(frequency, as_of) == end
    assert natural_period_start(frequency, end) == start


def test_book_settlements_command(march):
    ledger, *_ = march
    code, out = run("book_settlements", "--date", "2026-04-01")
    assert code == 0
    [result] = out["settlements"]
    assert result["settled"] is True and result["payout"] == "1496.00"
    code, out = run("book_settlements", "--date", "2026-04-01", "--ledger", ledger.company_no)
    assert code == 0 and out["settlements"][0]["settled"] is False


def test_two_workers_settle_a_period_once(transactional_db, monkeypatch):
    from tests.helpers import run_two_workers

    ledger = ledger_with_account()
    SettlementAgreement.objects.create(
        ledger=ledger, frequency=SettlementFrequency.DAILY, bank_account=CLIENT_ACCOUNT
    )
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), amount=Decimal("250.00"))
    book(ocr_file([pay(invoice.payment_ref, "250.00", "000000201")]))

    results, errors = run_two_workers(
        outbox_files, lambda: settlement_book(ledger=ledger, as_of=date(2026, 3, 3)), monkeypatch
    )
    assert errors == []
    assert results["first"]["settled"] is True and results["first"]["payout"] == Decimal("250.00")
    assert (
        results["second"]["settled"] is False
        and results["second"]["settlement"] == results["first"]["settlement"]
    )
    assert Settlement.objects.count() == 1 and SettlementItem.objects.count() == 1
    assert JournalTransaction.objects.filter(ledger=ledger, kind=TransactionKind.SETTLEMENT).count() == 1


def test_book_settlements_reports_a_failing_ledger_and_settles_the_others(march):
    ledger, *_ = march
    other = ledger_with_account(account="15030000010")
    SettlementAgreement.objects.create(
        ledger=other, frequency=SettlementFrequency.DAILY, bank_account="bad account!"
    )
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=other), amount=Decimal("10.00"))
    book(
        ocr_file([pay(invoice.payment_ref, "10.00", "000000501")], account="15030000010", number="0000009"),
        name="o.txt",
    )

    code, out = run("book_settlements", "--date", "2026-04-01")
    assert code == 1 and out["ok"] is False
    by_ledger = {r["ledger"]: r for r in out["settlements"]}
    assert by_ledger[ledger.company_no]["settled"] is True
    assert by_ledger[other.company_no]["error"]["code"] == "invalid_bank_account"
    assert not Settlement.objects.filter(ledger=other).exists()


def test_files_fetched_and_removed_by_the_client_do_not_break_a_later_run(march):
    ledger, *_ = march
    first = settlement_book(ledger=ledger, as_of=SETTLE_DAY)
    assert Settlement.objects.get(ledger=ledger).balance_report_pdf == first["pdf"]
    for path in outbox(ledger).iterdir():
        path.unlink()
    again = settlement_book(ledger=ledger, as_of=SETTLE_DAY)
    assert again["settled"] is False and again["pdf"] == first["pdf"]
    assert list(outbox(ledger).iterdir()) == []


def test_a_pdf_whose_xml_is_gone_is_a_coded_error(march):
    from accounting.services import balance_report_pdf_write

    ledger, *_ = march
    settlement_book(ledger=ledger, as_of=SETTLE_DAY)
    settlement = Settlement.objects.get(ledger=ledger)
    Settlement.objects.filter(pk=settlement.pk).update(balance_report_pdf="")
    settlement.refresh_from_db()
    for path in outbox(ledger).iterdir():
        path.unlink()
    with pytest.raises(LedgerError) as error:
        balance_report_pdf_write(settlement=settlement)
    assert error.value.code == "balance_report_missing"


def test_a_settlement_whose_worker_died_before_publishing_its_payment_file_is_published_not_paid_again(march):
    """The state a worker killed between the settlement's commit and the renames leaves: the next run
    puts the committed files under their real names and settles nothing again (one payment to the
    client, never two)."""
    ledger, *_ = march
    first = settlement_book(ledger=ledger, as_of=SETTLE_DAY)
    record = Settlement.objects.get(ledger=ledger)
    for name in (record.balance_report_file, record.payment_file):
        (outbox(ledger) / name).rename(outbox(ledger) / f".{name}.pending")
        PendingOutboxFile.objects.create(ledger=ledger, path=str(outbox(ledger) / name))

    again = settlement_book(ledger=ledger, as_of=SETTLE_DAY)

    assert again["settled"] is False and first["settled"] is True
    names = sorted(p.name for p in outbox(ledger).iterdir())
    assert record.payment_file in names and record.balance_report_file in names
    assert not [n for n in names if n.startswith(".")] and not PendingOutboxFile.objects.exists()
    assert Settlement.objects.filter(ledger=ledger).count() == 1
    assert JournalTransaction.objects.filter(ledger=ledger, kind=TransactionKind.SETTLEMENT).count() == 1
