"""The dashboard's summaries of the journal (ledger/sql/journal_months.sql, ledger/summaries.py): kept by
the database for every writer, merged by the business day, rebuilt from the journal, checked by
verify_ledger."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from accounting.dashboard import balances, dashboard_period, invoices_created, paid_shares, payments_received
from businessday.daily import business_day_run
from claims.services.escalation import claims_escalate
from cusin.generate import CustomerSpec, InvoiceSpec, write_cusin
from cusin.services import cusin_import
from ledger.models import (
    Account,
    AccountRole,
    InvoiceEventKind,
    JournalMonth,
    JournalTransaction,
    PaidMonth,
    Posting,
    TransactionKind,
)
from ledger.summaries import ledger_summaries_compact, ledger_summaries_problems, ledger_summaries_rebuild
from ledger.verify import ledger_verify
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory
from tests.helpers import book_costs, triggers_off
from tests.ledger.test_payments_import import book, ocr_file, pay

pytestmark = pytest.mark.django_db

TODAY = date(2026, 4, 15)
D = Decimal


@pytest.fixture(autouse=True)
def today(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    with time_machine.travel(TODAY):
        yield


@pytest.fixture
def ledger():
    return LedgerFactory(
        company_no="7777", ledger_no="54321", country="NO", client_funds_account="15030000002"
    )


def import_cusin(tmp_path, *, invoices: int, invoice_date: date) -> dict:
    """A CUSIN file of `invoices` invoices (NOK 100 + 25 VAT each, due 14 days later), imported by the
    bulk (COPY) path and booked on the invoice date."""
    customers = [
        CustomerSpec(
            customer_no=str(5000 + n), name=f"Customer {n}",
            items=[InvoiceSpec(invoice_no=f"C{n}", invoice_date=invoice_date, amount_excl_vat=D("100.00"),
                               vat_amount=D("25.00"), currency="NOK")],
        )
        for n in range(invoices)
    ]  # fmt: skip
    path = write_cusin(tmp_path / "CUSIN_7777_20260115083000_1.xml", company_no="7777", customers=customers)
    return cusin_import(path=path, booking_date=invoice_date)


def kept(ledger) -> dict:
    """The ledger's JournalMonth sums by (month, kind, overdue_from)."""
    sums: dict = {}
    for row in JournalMonth.objects.filter(ledger=ledger):
        key = (row.month, row.kind, row.overdue_from)
        prior = sums.get(key, (D(0), D(0), 0, D(0), 0))
        sums[key] = (prior[0] + row.receivable, prior[1] + row.capital, prior[2] + row.capital_postings,
                     prior[3] + row.funds_in, prior[4] + row.funds_in_postings)  # fmt: skip
    return sums


def test_every_writer_keeps_the_summaries(ledger, tmp_path):
    """The ORM registration, the CUSIN bulk import and the payments import (COPY), a fee booking: the
    kept rows equal the journal summed, each key as computed by hand."""
    receipt = import_cusin(tmp_path, invoices=3, invoice_date=date(2026, 1, 5))
    assert receipt["status"] == "accepted", receipt
    customer = CustomerFactory(ledger=ledger, customer_no="1001")
    single = InvoiceFactory(customer=customer, invoice_no="S1", invoice_date=date(2026, 2, 2),
                            booking_date=date(2026, 2, 2), amount=D("400.00"))  # fmt: skip
    book(ocr_file([pay(single.payment_ref, "150.00", "000000001")], day=date(2026, 2, 20), number="0000001"))
    book_costs(single, fee=D("35.00"), day=date(2026, 3, 1))

    assert ledger_summaries_problems(ledger=ledger) == []
    sums = kept(ledger)
    # the three CUSIN invoices (NOK 125 each, due Jan 19) and S1 (due Feb 16)
    assert sums[(date(2026, 1, 1), "invoice", date(2026, 1, 20))] == (D("375.00"), D("375.00"), 3, D(0), 0)
    assert sums[(date(2026, 2, 1), "invoice", date(2026, 2, 17))] == (D("400.00"), D("400.00"), 1, D(0), 0)
    # the payment: 150 off S1's capital, and 150 in on the client-funds account
    assert sums[(date(2026, 2, 1), "payment", date(2026, 2, 17))] == (D("-150.00"), D("-150.00"), 1, D(0), 0)
    assert sums[(date(2026, 2, 1), "payment", None)] == (D(0), D(0), 0, D("150.00"), 1)
    assert sums[(date(2026, 3, 1), "fee", date(2026, 2, 17))] == (D("35.00"), D(0), 0, D(0), 0)
    assert all(check["ok"] for check in ledger_verify(ledger=ledger))


def test_a_refused_booking_adds_no_summary_rows(ledger):
    """The trigger has written its rows when the balance check refuses the transaction: they go with it."""
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), booking_date=date(2026, 3, 2))
    rows = JournalMonth.objects.filter(ledger=ledger).count()
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        txn = JournalTransaction.objects.create(
            ledger=ledger,
            booking_date=date(2026, 3, 3),
            kind=TransactionKind.FEE,
            actor="test",
            invoice=invoice,
        )
        Posting.objects.bulk_create([
            Posting(transaction=txn, ledger=ledger, invoice=invoice, component="fee", amount=D("35.00"),
                    currency="NOK", account=Account.objects.get(ledger=ledger, role=AccountRole.RECEIVABLE_FEE)),
            Posting(transaction=txn, ledger=ledger, invoice=invoice, amount=D("-30.00"), currency="NOK",
                    account=Account.objects.get(ledger=ledger, role=AccountRole.FEE_INCOME)),
        ])  # fmt: skip
        assert JournalMonth.objects.filter(ledger=ledger).count() == rows + 1  # the trigger's row, for now
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred balance check, now
    assert JournalMonth.objects.filter(ledger=ledger).count() == rows
    assert ledger_summaries_problems(ledger=ledger) == []


def test_paid_invoices_are_counted_by_the_stage_reached_when_paid(ledger):
    customer = CustomerFactory(ledger=ledger, customer_no="1002")
    early, noticed = (
        InvoiceFactory(customer=customer, invoice_no=no, invoice_date=date(2026, 1, 5), booking_date=date(2026, 1, 5))
        for no in ("E", "N")
    )  # fmt: skip
    book(ocr_file([pay(early.payment_ref, "1000.00", "000000011")], day=date(2026, 1, 12), number="0000011"))
    claims_escalate(ledger=ledger, as_of=date(2026, 1, 22))  # the reminder (day 17)
    claims_escalate(ledger=ledger, as_of=date(2026, 2, 6))  # the collection notice (day 32)
    book(
        ocr_file([pay(noticed.payment_ref, "1100.00", "000000012")], day=date(2026, 2, 10), number="0000012")
    )
    rows = {(r.month, r.stage): r.invoices for r in PaidMonth.objects.filter(ledger=ledger)}
    assert rows == {(date(2026, 1, 1), "by_due_date"): 1, (date(2026, 2, 1), "after_collection_notice"): 1}
    assert ledger_summaries_problems(ledger=ledger) == []


def test_the_stage_of_every_claim_step_kind():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT kind FROM unnest(%s::text[]) kind WHERE ledger_claim_stage_rank(kind) > 0",
            [[k.value for k in InvoiceEventKind]],
        )
        staged = {kind for (kind,) in cursor.fetchall()}
    assert staged == {
        "reminder_sent", "late_fee_charged", "collection_notice_sent", "moved_to_collection", "call_task_created",
        "heavy_fee_charged", "legal_notice_sent", "legal_action_taken", "moved_to_surveillance",
        "handed_to_foreign_partner",
    }  # fmt: skip


def test_the_business_day_merges_the_rows_and_the_figures_stay(ledger):
    customer = CustomerFactory(ledger=ledger, customer_no="1003")
    for n in range(4):  # one registration each: four rows of the same key
        InvoiceFactory(customer=customer, invoice_no=f"M{n}", invoice_date=date(2026, 3, 2),
                       booking_date=date(2026, 3, 2), amount=D("250.00"))  # fmt: skip
    period = dashboard_period(ledger=ledger, months=2)
    before = (balances(ledger=ledger, period=period), invoices_created(ledger=ledger, period=period))
    assert JournalMonth.objects.filter(ledger=ledger, kind="invoice").count() == 4

    summary = business_day_run(as_of=TODAY, company_nos=["7777"], parts=["summaries"])

    assert summary["ok"], summary
    assert summary["ledgers"][0]["summaries"]["journal_months"] == [4, 1]
    assert JournalMonth.objects.filter(ledger=ledger, kind="invoice").count() == 1
    assert (balances(ledger=ledger, period=period), invoices_created(ledger=ledger, period=period)) == before
    assert before[1][0].count == 4 and before[0][0].open == D("1000.00")
    assert ledger_summaries_compact(ledger=ledger)["journal_months"] == [1, 1]  # again: nothing to merge


def test_verify_finds_a_summary_that_differs_and_the_rebuild_repairs_it(ledger):
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), booking_date=date(2026, 3, 2))
    book_costs(invoice, fee=D("35.00"), day=date(2026, 3, 20))
    JournalMonth.objects.filter(ledger=ledger, kind="fee").delete()  # as a load without triggers leaves it
    failed = {c["check"]: c for c in ledger_verify(ledger=ledger) if not c["ok"]}
    assert list(failed) == ["dashboard_summaries_equal_journal"]
    [problem] = failed["dashboard_summaries_equal_journal"]["discrepancies"]
    assert (problem["month"], problem["kind"], problem["kept"]) == ("2026-03-01", "fee", None)

    ledger_summaries_rebuild(ledger=ledger)

    assert ledger_summaries_problems(ledger=ledger) == []
    assert all(c["ok"] for c in ledger_verify(ledger=ledger))


def test_what_is_booked_after_the_last_point_is_not_counted_at_it(ledger):
    """A business day ahead of the calendar: an invoice and a payment booked on Apr 20 are in April's
    summary rows, but the dashboard measures April on the 15th."""
    customer = CustomerFactory(ledger=ledger, customer_no="1004")
    now = InvoiceFactory(customer=customer, invoice_no="NOW", invoice_date=date(2026, 4, 1),
                         booking_date=date(2026, 4, 1), amount=D("300.00"))  # fmt: skip
    InvoiceFactory(customer=customer, invoice_no="AHEAD", invoice_date=date(2026, 4, 20),
                   booking_date=date(2026, 4, 20), amount=D("700.00"))  # fmt: skip
    book(ocr_file([pay(now.payment_ref, "300.00", "000000021")], day=date(2026, 4, 20), number="0000021"))
    period = dashboard_period(ledger=ledger, months=1)
    assert balances(ledger=ledger, period=period)[-1].open == D("300.00")  # NOW, still unpaid on the 15th
    assert [(m.count, m.amount) for m in invoices_created(ledger=ledger, period=period)] == [(1, D("300.00"))]
    assert [(m.count, m.amount) for m in payments_received(ledger=ledger, period=period)] == [(0, D(0))]
    assert paid_shares(ledger=ledger, period=period)[0].total == 0
    with time_machine.travel(date(2026, 4, 30)):
        later = dashboard_period(ledger=ledger, months=1)
        assert balances(ledger=ledger, period=later)[-1].open == D("700.00")
        assert paid_shares(ledger=ledger, period=later)[0].total == 1


def test_verify_names_the_ledger_month_and_amounts_of_a_row_edited_by_hand(ledger):
    InvoiceFactory(customer=CustomerFactory(ledger=ledger), booking_date=date(2026, 3, 2), amount=D("400.00"))
    row = JournalMonth.objects.filter(ledger=ledger, kind="invoice").first()
    JournalMonth.objects.filter(pk=row.pk).update(receivable=row.receivable + D("10.00"))

    [problem] = {c["check"]: c for c in ledger_verify(ledger=ledger)}["dashboard_summaries_equal_journal"][
        "discrepancies"
    ]
    assert (problem["ledger"], problem["month"], problem["kind"]) == ("7777", "2026-03-01", "invoice")
    assert D(str(problem["kept"]["receivable"])) - D(str(problem["journal"]["receivable"])) == D("10.00")


def test_verify_finds_a_posting_booked_without_its_summary(ledger):
    """Triggers off (as a restore or a bulk load with session_replication_role = replica leaves it): the
    fee is in the journal, not in the summaries, and verify says which month and how much."""
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), booking_date=date(2026, 3, 2))
    with triggers_off():  # as a restore or a bulk load leaves it
        book_costs(invoice, fee=D("35.00"), day=date(2026, 3, 20))

    [problem] = [p for p in ledger_summaries_problems(ledger=ledger) if p["summary"] == "journal_months"]
    assert (problem["ledger"], problem["month"], problem["kind"], problem["kept"]) == (
        "7777",
        "2026-03-01",
        "fee",
        None,
    )
    assert D(str(problem["journal"]["receivable"])) == D("35.00")
    assert not {c["check"]: c for c in ledger_verify(ledger=ledger)}["dashboard_summaries_equal_journal"][
        "ok"
    ]
