"""The invoices' open-amount versions (ledger/sql/open_versions.sql): kept by the database for every
writer of postings, read by the reports as of a date, rebuilt from the journal, checked by verify_ledger."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from accounting.reports.receivables import aging, ledger_report, open_as_of
from ledger.models import OpenVersion
from ledger.summaries import (
    ledger_open_versions_problems,
    ledger_summaries_problems,
    ledger_summaries_rebuild,
)
from ledger.verify import ledger_verify
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory
from tests.helpers import book_costs, triggers_off
from tests.ledger.test_commands import run as run_command
from tests.ledger.test_payments_import import book, ocr_file, pay

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def today(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    with time_machine.travel(date(2026, 4, 15)):
        yield


@pytest.fixture
def ledger():
    return LedgerFactory(
        company_no="7777", ledger_no="54321", country="NO", client_funds_account="15030000002"
    )


@pytest.fixture
def invoice(ledger):
    customer = CustomerFactory(ledger=ledger, customer_no="1001")
    return InvoiceFactory(customer=customer, invoice_no="V1", invoice_date=date(2026, 3, 2),
                          booking_date=date(2026, 3, 2), due_date=date(2026, 3, 16), amount=D("1000.00"))  # fmt: skip


def versions(invoice) -> list[tuple]:
    return list(
        OpenVersion.objects.filter(invoice=invoice)
        .order_by("valid_from")
        .values_list("valid_from", "valid_to", "capital", "fees", "paid", "open")
    )


def test_a_registration_opens_a_version_and_each_later_day_closes_it(invoice):
    assert versions(invoice) == [(date(2026, 3, 2), None, D("1000.00"), D(0), D(0), D("1000.00"))]

    book_costs(invoice, fee=D("35.00"), day=date(2026, 3, 20))
    book(ocr_file([pay(invoice.payment_ref, "400.00", "000000011")], day=date(2026, 3, 25), number="0000011"))

    assert versions(invoice) == [
        (date(2026, 3, 2), date(2026, 3, 20), D("1000.00"), D(0), D(0), D("1000.00")),
        (date(2026, 3, 20), date(2026, 3, 25), D("1000.00"), D("35.00"), D(0), D("1035.00")),
        (date(2026, 3, 25), None, D("600.00"), D("35.00"), D("400.00"), D("635.00")),
    ]  # before the collection stage a payment covers the capital first


def test_a_second_booking_on_the_same_day_changes_that_days_version(invoice):
    book_costs(invoice, fee=D("35.00"), day=date(2026, 3, 20))
    book_costs(invoice, fee=D("10.00"), day=date(2026, 3, 20))

    assert versions(invoice)[1:] == [(date(2026, 3, 20), None, D("1000.00"), D("45.00"), D(0), D("1045.00"))]


def test_a_booking_back_in_time_splits_the_version_it_falls_in_and_adds_to_the_later_ones(invoice):
    book_costs(invoice, fee=D("35.00"), day=date(2026, 3, 20))
    book_costs(invoice, interest=D("5.00"), fee=D("10.00"), day=date(2026, 3, 10))

    assert versions(invoice) == [
        (date(2026, 3, 2), date(2026, 3, 10), D("1000.00"), D(0), D(0), D("1000.00")),
        (date(2026, 3, 10), date(2026, 3, 20), D("1000.00"), D("10.00"), D(0), D("1015.00")),
        (date(2026, 3, 20), None, D("1000.00"), D("45.00"), D(0), D("1050.00")),
    ]
    assert ledger_open_versions_problems(ledger=invoice.ledger) == []


def test_the_reports_read_what_was_open_on_the_day(ledger, invoice):
    book_costs(invoice, fee=D("35.00"), day=date(2026, 3, 20))
    book(ocr_file([pay(invoice.payment_ref, "1035.00", "000000012")], day=date(2026, 4, 1), number="0000012"))

    def open_on(day):
        return [(row[0], row[-1]) for row in ledger_report(ledger=ledger, as_of=day).rows]

    assert open_on(date(2026, 3, 1)) == []
    assert open_on(date(2026, 3, 19)) == [("V1", D("1000.00"))]
    assert open_on(date(2026, 3, 31)) == [("V1", D("1035.00"))]
    assert open_on(date(2026, 4, 1)) == []  # paid in full that day
    [row] = aging(ledger=ledger, as_of=date(2026, 3, 31)).rows
    assert row[0] == "1001" and row[3] == D("1035.00")  # 15 days overdue: the 1-30 bucket


def open_amounts_on(ledger, day) -> list[D]:
    sql, params = open_as_of(ledger.pk, day)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT open FROM ({sql}) o ORDER BY open", params)
        return [row[0] for row in cursor.fetchall()]


def test_the_items_open_on_a_day_hold_from_their_first_day_up_to_not_including_their_last(ledger, invoice):
    """A version [3-20, 4-01) holds on 3-20 and on 3-31, not on 4-01, whether the indexes or the table
    answer."""
    book_costs(invoice, fee=D("35.00"), day=date(2026, 3, 20))
    book(ocr_file([pay(invoice.payment_ref, "1035.00", "000000012")], day=date(2026, 4, 1), number="0000012"))
    expected = {date(2026, 3, 1): [], date(2026, 3, 2): [D("1000.00")], date(2026, 3, 19): [D("1000.00")],
                date(2026, 3, 20): [D("1035.00")], date(2026, 3, 31): [D("1035.00")], date(2026, 4, 1): []}  # fmt: skip
    for seqscan in ("off", "on"):
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL enable_seqscan = {seqscan}")
        assert {day: open_amounts_on(ledger, day) for day in expected} == expected


def test_verify_names_the_invoice_and_day_of_a_version_edited_by_hand(ledger, invoice):
    book_costs(invoice, fee=D("35.00"), day=date(2026, 3, 20))
    OpenVersion.objects.filter(invoice=invoice, valid_from=date(2026, 3, 20)).update(
        fees=D("45.00"), open=D("1045.00")
    )

    [problem] = {c["check"]: c for c in ledger_verify(ledger=ledger)}["open_versions_equal_journal"][
        "discrepancies"
    ]

    assert (problem["ledger"], problem["invoice_no"], problem["valid_from"]) == ("7777", "V1", "2026-03-20")
    assert (problem["kept"]["fees"], problem["journal"]["fees"]) == ("45.00", "35.00")


def test_verify_finds_a_posting_booked_without_its_version_and_the_rebuild_repairs_it(ledger, invoice):
    with triggers_off():  # as a restore or a bulk load leaves it
        book_costs(invoice, fee=D("35.00"), day=date(2026, 3, 20))

    problems = ledger_open_versions_problems(ledger=ledger)
    same = {"customer_id": str(invoice.customer_id), "due_date": "2026-03-16", "capital": "1000.00",
            "interest": "0.00", "paid": "0.00"}  # fmt: skip
    assert [(p["valid_from"], p["kept"] and p["kept"]["valid_to"], p["journal"]) for p in problems] == [
        ("2026-03-02", None, {"valid_to": "2026-03-20", **same, "fees": "0.00", "open": "1000.00"}),
        ("2026-03-20", None, {"valid_to": None, **same, "fees": "35.00", "open": "1035.00"}),
    ]
    assert problems[1]["kept"] is None

    ledger_summaries_rebuild(ledger=ledger)

    assert ledger_open_versions_problems(ledger=ledger) == []
    assert all(c["ok"] for c in ledger_verify(ledger=ledger))


@pytest.mark.parametrize(
    "change",
    [
        {"open": D("999.00")},  # no longer capital + fees + interest
        {"valid_to": date(2026, 3, 2)},  # an empty range
    ],
)
def test_the_database_refuses_a_version_that_breaks_its_rules(invoice, change):
    with pytest.raises(IntegrityError), transaction.atomic():
        OpenVersion.objects.filter(invoice=invoice).update(**change)


def test_one_version_per_invoice_and_day(invoice):
    [version] = OpenVersion.objects.filter(invoice=invoice)
    with pytest.raises(IntegrityError), transaction.atomic():
        OpenVersion.objects.create(ledger_id=version.ledger_id, invoice=invoice, valid_from=version.valid_from,
                                   capital=0, fees=0, interest=0, paid=0, open=0)  # fmt: skip


def test_the_rebuild_command_repairs_every_read_model_of_a_ledger(ledger, invoice):
    with triggers_off():  # as a restore or a bulk load leaves it
        book_costs(invoice, fee=D("35.00"), day=date(2026, 3, 20))
    assert ledger_open_versions_problems(ledger=ledger) and ledger_summaries_problems(ledger=ledger)

    code, out = run_command("rebuild_read_models", "--ledger", "7777")

    assert code == 0 and out["ok"] and [entry["ledger"] for entry in out["ledgers"]] == ["7777"]
    assert versions(invoice)[-1] == (date(2026, 3, 20), None, D("1000.00"), D("35.00"), D(0), D("1035.00"))
    assert all(c["ok"] for c in ledger_verify(ledger=ledger))
    code, out = run_command("rebuild_read_models", "--ledger", "424242")
    assert (code, out["error"]["code"]) == (1, "ledger_not_found")
