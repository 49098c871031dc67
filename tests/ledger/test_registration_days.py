"""The registrations per day (ledger.models.RegistrationDay, ledger/sql/registration_days.sql): written by
the registration itself, by the trigger for any other writer of `registered` events, merged by the
business day, read by the created-invoices report, checked by verify_ledger and rebuilt from the events."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from accounting.reports.invoices import created_invoices
from businessday.daily import business_day_run
from ledger.errors import ValidationFailed
from ledger.models import InvoiceEvent, InvoiceEventKind, RegistrationDay
from ledger.services.registration import InvoiceInput, invoices_register
from ledger.summaries import ledger_summaries_problems, ledger_summaries_rebuild
from ledger.verify import ledger_verify
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory
from tests.helpers import triggers_off

pytestmark = pytest.mark.django_db

D = Decimal
DAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(date(2026, 4, 15)):
        yield


@pytest.fixture
def ledger():
    return LedgerFactory(company_no="7778", ledger_no="54322", country="NO", client_funds_account="15030000002")


def kept(ledger) -> list[tuple]:
    return sorted(RegistrationDay.objects.filter(ledger=ledger).values_list("booking_date", "actor", "invoices", "amount"))


def test_each_registration_writes_its_day_and_the_report_reads_them(ledger):
    customer = CustomerFactory(ledger=ledger)
    for n in range(3):
        InvoiceFactory(customer=customer, invoice_no=f"R{n}", booking_date=DAY, amount=D("100.50"))
    invoices_register(
        ledger=ledger, actor="cusin", booking_date=date(2026, 3, 3),
        invoices=[InvoiceInput(customer=customer, invoice_no=f"B{n}", invoice_date=DAY, amount=D("10.00"))
                  for n in range(4)],
    )  # fmt: skip

    assert kept(ledger) == [(DAY, "test", 1, D("100.50"))] * 3 + [(date(2026, 3, 3), "cusin", 4, D("40.00"))]
    report = created_invoices(ledger=ledger, start=DAY, end=date(2026, 3, 31))
    assert report.rows == [(DAY, "test", 3, D("301.50")), (date(2026, 3, 3), "cusin", 4, D("40.00"))]
    assert created_invoices(ledger=ledger, start=date(2026, 3, 3), end=date(2026, 3, 3)).rows == [
        (date(2026, 3, 3), "cusin", 4, D("40.00"))
    ]
    assert ledger_summaries_problems(ledger=ledger) == []


def test_the_business_day_merges_them_into_one_row_per_day_and_actor(ledger):
    customer = CustomerFactory(ledger=ledger)
    for n in range(3):
        InvoiceFactory(customer=customer, invoice_no=f"R{n}", booking_date=DAY, amount=D("100.00"))
    before = created_invoices(ledger=ledger, start=DAY, end=DAY).rows

    summary = business_day_run(as_of=date(2026, 4, 15), company_nos=["7778"], parts=["summaries"])

    assert summary["ok"], summary
    assert summary["ledgers"][0]["summaries"]["registration_days"] == [3, 1]
    assert kept(ledger) == [(DAY, "test", 3, D("300.00"))]
    assert created_invoices(ledger=ledger, start=DAY, end=DAY).rows == before


def test_another_writer_of_registered_events_is_counted_by_the_trigger(ledger):
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), booking_date=DAY, amount=D("70.00"))
    InvoiceEvent.objects.create(
        ledger=ledger, invoice_id=invoice.id, kind=InvoiceEventKind.REGISTERED, booking_date=date(2026, 3, 9),
        actor="import-script",
    )  # fmt: skip
    assert (date(2026, 3, 9), "import-script", 1, D("70.00")) in kept(ledger)
    assert ledger_summaries_problems(ledger=ledger) == []


def test_a_refused_registration_writes_no_day(ledger):
    customer = CustomerFactory(ledger=ledger)
    InvoiceFactory(customer=customer, invoice_no="SAME", booking_date=DAY)
    with pytest.raises(ValidationFailed):
        invoices_register(
            ledger=ledger, actor="cusin", booking_date=DAY,
            invoices=[InvoiceInput(customer=customer, invoice_no="NEW", invoice_date=DAY, amount=D("5.00")),
                      InvoiceInput(customer=customer, invoice_no="SAME", invoice_date=DAY, amount=D("5.00"))],
        )  # fmt: skip
    assert kept(ledger) == [(DAY, "test", 1, D("1000.00"))]


def test_verify_names_a_day_edited_by_hand_and_the_rebuild_repairs_it(ledger):
    InvoiceFactory(customer=CustomerFactory(ledger=ledger), booking_date=DAY, amount=D("400.00"))
    RegistrationDay.objects.filter(ledger=ledger).update(amount=D("410.00"))

    failed = {c["check"]: c for c in ledger_verify(ledger=ledger) if not c["ok"]}
    assert list(failed) == ["dashboard_summaries_equal_journal"]
    [problem] = failed["dashboard_summaries_equal_journal"]["discrepancies"]
    assert problem == {
        "summary": "registration_days", "ledger": "7778", "booking_date": "2026-03-02", "actor": "test",
        "kept": {"invoices": 1, "amount": "410.00"}, "events": {"invoices": 1, "amount": "400.00"},
    }  # fmt: skip

    ledger_summaries_rebuild(ledger=ledger)

    assert kept(ledger) == [(DAY, "test", 1, D("400.00"))]
    assert all(c["ok"] for c in ledger_verify(ledger=ledger))


def test_verify_finds_a_registration_written_without_its_day(ledger):
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), booking_date=DAY, amount=D("70.00"))
    with triggers_off():  # as a restore or a bulk load leaves it
        InvoiceEvent.objects.create(
            ledger=ledger, invoice_id=invoice.id, kind=InvoiceEventKind.REGISTERED, booking_date=DAY, actor="test"
        )
    [problem] = ledger_summaries_problems(ledger=ledger)
    assert (problem["booking_date"], problem["kept"], problem["events"]) == (
        "2026-03-02", {"invoices": 1, "amount": "70.00"}, {"invoices": 2, "amount": "140.00"},
    )  # fmt: skip
