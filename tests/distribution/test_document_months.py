"""The dashboard's channel mix kept beside the documents (distribution/sql/document_months.sql): every
insert, status change and delete counted, merged by the business day, rebuilt, checked by verify_ledger."""

from datetime import date

import pytest
import time_machine

from accounting.dashboard import channel_mix, dashboard_period
from businessday.daily import business_day_run
from distribution.models import Document, DocumentMonth
from distribution.summaries import document_months_compact, document_months_problems, document_months_rebuild
from tests.factories import CustomerFactory, DocumentFactory, LedgerFactory
from tests.helpers import triggers_off
from tests.ledger.test_commands import run as run_command

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def today(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    with time_machine.travel(date(2026, 4, 15)):
        yield


@pytest.fixture
def customer():
    return CustomerFactory(ledger=LedgerFactory(company_no="7778", country="NO"), customer_no="2001")


def kept(ledger) -> dict:
    rows = DocumentMonth.objects.filter(ledger=ledger).values_list("month", "channel", "documents")
    counts: dict = {}
    for month, channel, documents in rows:
        counts[(month, channel)] = counts.get((month, channel), 0) + documents
    return {key: n for key, n in counts.items() if n}


def test_documents_are_counted_when_they_leave_and_no_longer_when_taken_back(customer):
    ledger = customer.ledger
    march, april = date(2026, 3, 1), date(2026, 4, 1)
    DocumentFactory(customer=customer, booking_date=date(2026, 3, 9), channel="email")
    DocumentFactory(
        customer=customer, booking_date=date(2026, 3, 10), channel="paper", status="awaiting_print"
    )
    queued = DocumentFactory(customer=customer, booking_date=date(2026, 4, 2), channel="email", status="queued",
                             archive_name="", checksum="")  # fmt: skip
    assert kept(ledger) == {(march, "email"): 1, (march, "paper"): 1}

    Document.objects.filter(pk=queued.pk).update(
        status="sent", archive_name="archive/q.pdf", checksum="0" * 64, distributed_on=date(2026, 4, 2)
    )
    Document.objects.filter(channel="paper").update(status="sent")  # still counted: one kind of distributed
    Document.objects.filter(booking_date=date(2026, 3, 9)).update(attempts=2)  # nothing counted changes
    assert kept(ledger) == {(march, "email"): 1, (march, "paper"): 1, (april, "email"): 1}

    Document.objects.filter(pk=queued.pk).update(channel="sms")
    Document.objects.filter(booking_date=date(2026, 3, 9)).delete()
    assert kept(ledger) == {(march, "paper"): 1, (april, "sms"): 1}
    assert document_months_problems(ledger=ledger) == []
    mix = channel_mix(ledger=ledger, period=dashboard_period(ledger=ledger, months=2))
    assert [(m.month, m.counts) for m in mix] == [
        (march, {"paper": 1, "sms": 0}),
        (april, {"paper": 0, "sms": 1}),
    ]  # the channels seen in the period


def test_the_business_day_merges_the_rows_and_the_mix_stays(customer):
    ledger = customer.ledger
    for n in range(3):
        DocumentFactory(customer=customer, booking_date=date(2026, 3, 2 + n), channel="email")
    period = dashboard_period(ledger=ledger, months=2)
    before = channel_mix(ledger=ledger, period=period)

    summary = business_day_run(as_of=date(2026, 4, 15), company_nos=["7778"], parts=["summaries"])

    assert summary["ok"], summary
    assert summary["ledgers"][0]["summaries"]["document_months"] == [3, 1]
    assert channel_mix(ledger=ledger, period=period) == before and before[0].total == 3
    assert document_months_compact(ledger=ledger) == [1, 1]


def test_verify_names_the_month_and_channel_of_a_count_that_differs_and_the_rebuild_repairs_it(customer):
    ledger = customer.ledger
    DocumentFactory(customer=customer, booking_date=date(2026, 3, 9), channel="kivra")
    with triggers_off():  # as a restore or a bulk load leaves it
        DocumentFactory(customer=customer, booking_date=date(2026, 3, 10), channel="kivra")

    code, out = run_command("verify_ledger", "--ledger", "7778")

    assert code == 1
    [check] = [c for c in out["checks"] if not c["ok"]]
    assert check["check"] == "document_months_equal_documents"
    assert check["discrepancies"] == [
        {"summary": "document_months", "ledger": "7778", "month": "2026-03-01", "channel": "kivra", "kept": 1,
         "documents": 2}
    ]  # fmt: skip
    document_months_rebuild(ledger=ledger)
    assert run_command("verify_ledger", "--ledger", "7778")[0] == 0
