"""The day's accounting files: Accounting Detail (XML + CSV), SIE4, Bill and Customer Journals, written
atomically to the outbox, valid against their schemas, never rewritten, and all or nothing."""

import hashlib
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from accounting.models import AccountingFile
from accounting.services import accounting_files_write
from ledger.errors import LedgerError
from ledger.models import (
    AccountRole,
    CustomerEvent,
    InvoiceEvent,
    Payment,
    PendingOutboxFile,
    TransactionKind,
)
from ledger.outbox import company_dir
from ledger.payments.reversal import payment_reverse
from ledger.services import outbox_files
from ledger.services.journal import Line, journal_book
from tests.accounting.helpers import csv_records, parse_sie4, valid_xml
from tests.factories import CustomerFactory, InvoiceFactory
from tests.helpers import book_costs
from tests.ledger.test_payments_import import book, ledger_with_account, ocr_file, pay, run

DAY = date(2026, 3, 2)


@pytest.fixture
def day(db):
    """Invoices A (1000.00, fee 35.00) and B (500.00) registered on DAY; A paid in full (1035.00) and B
    in part (200.00) the same day by OCR Giro."""
    ledger = ledger_with_account(name="Tromsø Kraft AS", client_name="Tromsø Kraft AS")
    customer = CustomerFactory(ledger=ledger, customer_no="1001", name="Kari Nordmann")
    a = InvoiceFactory(customer=customer, invoice_no="A-1", amount=Decimal("1000.00"), booking_date=DAY)
    b = InvoiceFactory(customer=customer, invoice_no="B-1", amount=Decimal("500.00"), booking_date=DAY)
    book_costs(a, fee=Decimal("35.00"), day=DAY)
    book(ocr_file([pay(a.payment_ref, "1035.00", "000000101"), pay(b.payment_ref, "200.00", "000000102")]))
    return ledger, a, b


def outbox_names(ledger) -> list[str]:
    return sorted(p.name for p in company_dir(ledger.company_no, "outbox").iterdir())


def test_the_day_gives_five_files_with_worked_amounts(day):
    ledger, a, b = day
    result = accounting_files_write(ledger=ledger, as_of=DAY)

    company = ledger.company_no
    assert sorted(result["written"]) == [
        f"ACCOUNTINGDETAIL_{company}_20260302.csv",
        f"ACCOUNTINGDETAIL_{company}_20260302.xml",
        f"BILLJOURNAL_{company}_20260302.xml",
        f"SIE4_{company}_20260302.si",
    ]
    assert outbox_names(ledger) == sorted(result["written"])  # no temporary file left behind

    outbox = company_dir(company, "outbox")
    detail = valid_xml(outbox / f"ACCOUNTINGDETAIL_{company}_20260302.xml", "accounting-detail-1.0.xsd")
    transactions = detail["Transactions"]["Transaction"]
    assert [t["AccountingAction"] for t in transactions] == [
        "invoice",
        "invoice",
        "fee",
        "payment",
        "payment",
    ]
    for t in transactions:
        assert sum(p["Amount"] for p in t["Posting"]) == 0
    assert detail["ControlTotals"] == {
        "NoOfTransactions": 5,
        "NoOfPostings": 11,
        "TotalDebit": Decimal("2770.00"),
        "TotalCredit": Decimal("-2770.00"),
        "Balance": "0.00",
    }
    payment_a = transactions[3]["Posting"]
    assert [(p["BookAccount"], p.get("Component"), p["Amount"]) for p in payment_a] == [
        ("1920", None, Decimal("1035.00")),
        ("1500", "capital", Decimal("-1000.00")),
        ("1501", "fee", Decimal("-35.00")),
    ]
    assert payment_a[1]["InvoiceNo"] == "A-1" and payment_a[1]["CustomerNo"] == "1001"
    assert payment_a[1]["PaymentRef"] == a.payment_ref
    assert payment_a[0]["BankArchiveRef"].startswith("000000101")
    assert payment_a[0]["ValueDate"] == "2026-03-02"

    records, trailer = csv_records(outbox / f"ACCOUNTINGDETAIL_{company}_20260302.csv")
    xml_rows = [
        (str(t["TransactionId"]), p["BookAccount"], f"{p['Amount']:.2f}")
        for t in transactions
        for p in t["Posting"]
    ]
    assert [(r["TransactionId"], r["BookAccount"], r["Amount"]) for r in records] == xml_rows
    assert trailer == ["T", "5", "11", "2770.00", "-2770.00", "0.00"]


def test_sie4_is_cp437_one_balanced_voucher_with_every_account_declared(day):
    ledger, _, _ = day
    accounting_files_write(ledger=ledger, as_of=DAY)
    data = (company_dir(ledger.company_no, "outbox") / f"SIE4_{ledger.company_no}_20260302.si").read_bytes()

    sie = parse_sie4(data)
    assert sie["labels"]["#FLAGGA"] == "0"
    assert sie["labels"]["#FORMAT"] == "PC8"
    assert sie["labels"]["#SIETYP"] == "4"
    assert sie["labels"]["#GEN"] == "20260302"
    assert sie["labels"]["#PROGRAM"].startswith('"Ledger Service back office"')
    assert sie["labels"]["#FNAMN"] == '"Tromsö Kraft AS"'  # CP437 has no ø: written as ö
    assert "#ORGNR" in sie["labels"]
    [voucher] = sie["vouchers"]
    assert voucher["head"].split(" ")[2] == "20260302"
    assert voucher["trans"] == [
        ("1500", Decimal("300.00")),
        ("1920", Decimal("1235.00")),
        ("3000", Decimal("-1500.00")),
        ("3900", Decimal("-35.00")),
    ]
    assert sum(amount for _, amount in voucher["trans"]) == 0
    assert {number for number, _ in voucher["trans"]} <= set(sie["accounts"])
    assert sie["accounts"]["1501"] == "Kundefordringer, gebyrer"  # used today, nets to zero
    assert b"\x94" in data  # ö in CP437
    data.decode("cp437").encode("cp437")  # nothing outside the code page


def test_running_the_day_again_writes_nothing_and_a_late_booking_writes_a_correction(day):
    ledger, a, _ = day
    first = accounting_files_write(ledger=ledger, as_of=DAY)
    outbox = company_dir(ledger.company_no, "outbox")
    before = {name: (outbox / name).read_bytes() for name in first["written"]}

    again = accounting_files_write(ledger=ledger, as_of=DAY)
    assert again["written"] == []
    assert sorted(again["unchanged"]) == sorted(first["written"])
    assert AccountingFile.objects.filter(ledger=ledger).count() == 4

    # Interest booked later with that day's booking date: the day's files are written again in full
    # under the next sequence number; the first ones stay as they were.
    book_costs(a, interest=Decimal("12.50"), day=DAY)
    correction = accounting_files_write(ledger=ledger, as_of=DAY)
    company = ledger.company_no
    assert sorted(correction["written"]) == [
        f"ACCOUNTINGDETAIL_{company}_20260302_2.csv",
        f"ACCOUNTINGDETAIL_{company}_20260302_2.xml",
        f"SIE4_{company}_20260302_2.si",
    ]
    assert correction["unchanged"] == [f"BILLJOURNAL_{company}_20260302.xml"]
    assert {name: (outbox / name).read_bytes() for name in first["written"]} == before
    detail = valid_xml(outbox / f"ACCOUNTINGDETAIL_{company}_20260302_2.xml", "accounting-detail-1.0.xsd")
    assert detail["ControlTotals"]["NoOfTransactions"] == 6


def test_a_failure_writes_nothing(day, monkeypatch):
    ledger, _, _ = day
    real_write = outbox_files.write_atomic
    calls = []

    def failing_write(path, content):
        calls.append(path.name)
        if len(calls) == 3:
            raise OSError("disk full")
        return real_write(path, content)

    monkeypatch.setattr(outbox_files, "write_atomic", failing_write)
    with pytest.raises(LedgerError) as error:
        accounting_files_write(ledger=ledger, as_of=DAY)
    assert error.value.code == "outbox_write_failed"
    assert len(calls) == 3
    assert outbox_names(ledger) == []
    assert not AccountingFile.objects.filter(ledger=ledger).exists()

    monkeypatch.setattr(outbox_files, "write_atomic", real_write)
    assert len(accounting_files_write(ledger=ledger, as_of=DAY)["written"]) == 4


def test_a_file_already_in_the_outbox_is_never_overwritten(day):
    ledger, _, _ = day
    stranger = company_dir(ledger.company_no, "outbox") / f"SIE4_{ledger.company_no}_20260302.si"
    stranger.write_bytes(b"someone else's")
    with pytest.raises(LedgerError) as error:
        accounting_files_write(ledger=ledger, as_of=DAY)
    assert error.value.code == "outbox_file_exists"
    assert stranger.read_bytes() == b"someone else's"
    assert outbox_names(ledger) == [stranger.name]
    assert not AccountingFile.objects.filter(ledger=ledger).exists()


def test_a_day_without_bookings_or_events_writes_nothing(day):
    ledger, _, _ = day
    assert accounting_files_write(ledger=ledger, as_of=date(2026, 3, 3)) == {
        "ok": True,
        "ledger": ledger.company_no,
        "date": "2026-03-03",
        "written": [],
        "unchanged": [],
    }


def test_a_reversal_is_named_after_what_it_reverses(day):
    ledger, _, b = day
    payment = Payment.objects.get(ledger=ledger, invoice=b)
    payment_reverse(
        payment=payment, actor="kari", reason="Booked twice by the bank", booking_date=date(2026, 3, 4)
    )
    accounting_files_write(ledger=ledger, as_of=date(2026, 3, 4))
    path = company_dir(ledger.company_no, "outbox") / f"ACCOUNTINGDETAIL_{ledger.company_no}_20260304.xml"
    [reversal] = valid_xml(path, "accounting-detail-1.0.xsd")["Transactions"]["Transaction"]
    assert reversal["AccountingAction"] == "payment_reversal"
    assert reversal["Reverses"] > 0
    assert {p["BookAccount"]: p["Amount"] for p in reversal["Posting"]} == {
        "1920": Decimal("-200.00"),
        "1500": Decimal("200.00"),
    }


def test_bill_journal_reports_every_event_kind_even_ones_the_code_does_not_know(day):
    ledger, _, b = day
    later = date(2026, 3, 20)
    # Claim steps arrive with the claims app; the journal must carry them without a code change.
    for kind in ("reminder_sent", "collection_notice_sent", "moved_to_collection"):
        InvoiceEvent.objects.create(
            ledger=ledger,
            invoice=b,
            kind=kind,
            from_status="open",
            to_status="open",
            booking_date=later,
            reason="",
            actor="claims",
        )
    InvoiceEvent.objects.create(
        ledger=ledger,
        invoice=b,
        kind="respite_set",
        from_status="open",
        to_status="respite",
        booking_date=later,
        reason="Customer asked for time",
        actor="kari",
    )
    accounting_files_write(ledger=ledger, as_of=later)
    path = company_dir(ledger.company_no, "outbox") / f"BILLJOURNAL_{ledger.company_no}_20260320.xml"
    journal = valid_xml(path, "bill-journal-1.0.xsd")
    assert journal["NoOfEvents"] == 4
    assert [(e["Kind"], e["Description"]) for e in journal["Event"]] == [
        ("reminder_sent", "Reminder sent"),
        ("collection_notice_sent", "Collection notice sent"),
        ("moved_to_collection", "Moved to collection: payment demand sent"),
        ("respite_set", "Respite set"),  # a known kind keeps its label
    ]
    respite = journal["Event"][3]
    assert (respite["InvoiceNo"], respite["CustomerNo"], respite["PaymentRef"]) == (
        "B-1",
        "1001",
        b.payment_ref,
    )
    assert (respite["FromStatus"], respite["ToStatus"], respite["Reason"]) == (
        "open",
        "respite",
        "Customer asked for time",
    )


def test_bill_journal_of_the_day_lists_registrations_and_payments(day):
    ledger, _, _ = day
    accounting_files_write(ledger=ledger, as_of=DAY)
    path = company_dir(ledger.company_no, "outbox") / f"BILLJOURNAL_{ledger.company_no}_20260302.xml"
    journal = valid_xml(path, "bill-journal-1.0.xsd")
    expected = list(
        InvoiceEvent.objects.filter(ledger=ledger, booking_date=DAY)
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert [e["Kind"] for e in journal["Event"]] == expected
    assert expected.count("registered") == 2 and "partially_paid" in expected


def test_customer_journal_lists_each_change_with_old_and_new_value(day):
    ledger, _, _ = day
    customer = CustomerFactory(ledger=ledger, customer_no="2002")
    later = date(2026, 3, 21)
    CustomerEvent.objects.create(
        ledger=ledger,
        customer=customer,
        kind="legal_address_changed",
        booking_date=later,
        old_value={"address_line1": "Storgata 1", "city": "Oslo"},
        new_value={"address_line1": "Strandveien 9", "city": "Tromsø"},
        actor="cusin",
        created_at=datetime(2026, 3, 21, 9, tzinfo=ZoneInfo("UTC")),
    )
    CustomerEvent.objects.create(
        ledger=ledger,
        customer=customer,
        kind="consent_activated",
        booking_date=later,
        new_value={"kind": "avtalegiro_no", "notify_payer": True},
        actor="bank",
    )
    accounting_files_write(ledger=ledger, as_of=later)
    path = company_dir(ledger.company_no, "outbox") / f"CUSTOMERJOURNAL_{ledger.company_no}_20260321.xml"
    journal = valid_xml(path, "customer-journal-1.0.xsd")
    address, consent = journal["Event"]
    assert (address["Kind"], address["Description"], address["CustomerNo"]) == (
        "legal_address_changed",
        "New legal address",
        "2002",
    )
    assert [(c["@Field"], c["Old"], c["New"]) for c in address["Change"]] == [
        ("address_line1", "Storgata 1", "Strandveien 9"),
        ("city", "Oslo", "Tromsø"),
    ]
    assert [(c["@Field"], c.get("Old"), c["New"]) for c in consent["Change"]] == [
        ("kind", None, "avtalegiro_no"),
        ("notify_payer", None, "true"),
    ]


def test_a_transaction_that_does_not_balance_is_refused_before_anything_is_written(day):
    from accounting import daily
    from accounting.selectors import day_postings

    ledger, _, _ = day
    rows = day_postings(ledger=ledger, booking_date=DAY)
    with pytest.raises(LedgerError) as error:
        daily.control_totals(rows[:-1])
    assert error.value.code == "unbalanced_transaction"


def test_export_accounting_command(day):
    ledger, _, _ = day
    code, out = run("export_accounting", "--date", "2026-03-02", "--ledger", ledger.company_no)
    assert code == 0 and out["written"] == 4
    assert out["ledgers"][0]["ledger"] == ledger.company_no

    code, out = run("export_accounting", "--date", "2026-03-02")
    assert code == 0 and out["written"] == 0

    code, out = run("export_accounting", "--date", "2026-02-30")
    assert code == 1 and out["error"]["code"] == "usage"
    code, out = run("export_accounting", "--date", "2026-03-02", "--ledger", "424242")
    assert code == 1 and out["error"]["code"] == "ledger_not_found"


def test_settlement_booking_appears_as_its_own_action(day):
    ledger, _, _ = day
    journal_book(
        ledger=ledger,
        kind=TransactionKind.SETTLEMENT,
        booking_date=date(2026, 3, 5),
        actor="test",
        lines=[
            Line(role=AccountRole.PAYABLE_TO_CLIENT, amount=Decimal("10.00")),
            Line(role=AccountRole.CLIENT_FUNDS_BANK, amount=Decimal("-10.00")),
        ],
    )
    accounting_files_write(ledger=ledger, as_of=date(2026, 3, 5))
    path = company_dir(ledger.company_no, "outbox") / f"SIE4_{ledger.company_no}_20260305.si"
    sie = parse_sie4(path.read_bytes())
    assert sie["accounts"]["2930"] == "Skyldig oppdragsgiver, oppgjör"


def test_two_workers_write_the_day_once(transactional_db, monkeypatch):
    from tests.helpers import run_two_workers

    ledger = ledger_with_account()
    invoice = InvoiceFactory(
        customer=CustomerFactory(ledger=ledger), amount=Decimal("250.00"), booking_date=DAY
    )
    book(ocr_file([pay(invoice.payment_ref, "250.00", "000000301")]))

    results, errors = run_two_workers(
        outbox_files, lambda: accounting_files_write(ledger=ledger, as_of=DAY), monkeypatch
    )
    assert errors == []
    assert len(results["first"]["written"]) == 4
    assert results["second"]["written"] == [] and len(results["second"]["unchanged"]) == 4
    assert AccountingFile.objects.filter(ledger=ledger).count() == 4


def test_markup_and_control_characters_in_the_data_cannot_break_the_xml(db):
    ledger = ledger_with_account()
    customer = CustomerFactory(ledger=ledger, customer_no="1001")
    invoice = InvoiceFactory(customer=customer, invoice_no="A&B</InvoiceNo>\x07", booking_date=DAY)
    InvoiceEvent.objects.filter(invoice=invoice).update(reason="Kari & Ola <ok>\x01")
    accounting_files_write(ledger=ledger, as_of=DAY)
    outbox = company_dir(ledger.company_no, "outbox")
    detail = valid_xml(
        outbox / f"ACCOUNTINGDETAIL_{ledger.company_no}_20260302.xml", "accounting-detail-1.0.xsd"
    )
    posting = detail["Transactions"]["Transaction"][0]["Posting"][0]
    assert posting["InvoiceNo"] == "A&B</InvoiceNo>"
    journal = valid_xml(outbox / f"BILLJOURNAL_{ledger.company_no}_20260302.xml", "bill-journal-1.0.xsd")
    assert journal["Event"][0]["Reason"] == "Kari & Ola <ok>"


# --- A worker killed in the middle (docs/reliability.md) --------------------------------------------


def test_files_a_killed_run_committed_but_never_published_are_published_by_the_next_run(day):
    ledger, *_ = day
    accounting_files_write(ledger=ledger, as_of=DAY)
    outbox = company_dir(ledger.company_no, "outbox")
    written = {p.name: p.read_bytes() for p in outbox.iterdir()}
    for name in written:  # the state a worker killed between its commit and the renames leaves
        (outbox / name).rename(outbox / f".{name}.pending")
        PendingOutboxFile.objects.create(ledger=ledger, path=str(outbox / name))

    again = accounting_files_write(ledger=ledger, as_of=DAY)

    assert again["written"] == [] and sorted(again["unchanged"]) == sorted(written)  # nothing booked twice
    assert {p.name: p.read_bytes() for p in outbox.iterdir()} == written  # published, whole, no hidden file
    assert not PendingOutboxFile.objects.exists()
    assert AccountingFile.objects.filter(ledger=ledger).count() == len(written)


def test_a_hidden_file_of_a_run_killed_before_its_commit_is_written_again_whole(day):
    ledger, *_ = day
    outbox = company_dir(ledger.company_no, "outbox")
    name = f"ACCOUNTINGDETAIL_{ledger.company_no}_20260302.csv"
    stale = outbox / f".{name}.pending"
    stale.write_bytes(b"half a fi")  # its records were rolled back: nothing refers to it

    result = accounting_files_write(ledger=ledger, as_of=DAY)

    assert name in result["written"]
    assert not any(p.name.startswith(".") for p in outbox.iterdir())
    record = AccountingFile.objects.get(ledger=ledger, file_name=name)
    assert hashlib.sha256((outbox / record.file_name).read_bytes()).hexdigest() == record.digest
