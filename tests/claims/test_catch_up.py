"""Catching up missed business days: informational steps overtaken by a due step are skipped with their
reason; steps with a fee or a deadline are never skipped, go out on the day of the run with their full
deadline from that day, and book their fee and interest once, dated that day."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from businessday.daily import business_day_run
from claims.models import Claim, ClaimEvent, ClaimEventKind
from claims.services.escalation import claims_escalate
from claims.services.process import claim_settings_update
from ledger.models import JournalTransaction, LegalEntity
from tests.claims.conftest import assert_verified, run_days, simple_interest, steps_taken
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory

pytestmark = pytest.mark.django_db

DAY0 = date(2025, 1, 1)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def skipped(invoice) -> list[tuple[str, str]]:
    return [
        (e.step_kind, e.reason)
        for e in ClaimEvent.objects.filter(invoice=invoice, kind=ClaimEventKind.SKIPPED).order_by("id")
    ]


def norwegian_claim(amount="1000.00", **customer):
    ledger = LedgerFactory(country="NO")
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger, **customer), invoice_date=DAY0,
                             amount=Decimal(amount))  # fmt: skip
    return ledger, invoice


def test_after_a_17_day_gap_the_overtaken_sms_is_skipped_and_the_collection_notice_goes_out_today():
    ledger, invoice = norwegian_claim()
    run_days(ledger, day(0), day(15))  # then nothing from day 16 to day 32: 17 days

    summary = business_day_run(as_of=day(33), parts=["claims"])  # what `run_daily --date` runs

    assert summary["ok"] is True
    assert [(kind, on, fee) for kind, on, fee, _ in steps_taken(invoice)] == [
        ("collection_notice", day(33), Decimal("35.00")),
    ]
    assert skipped(invoice) == [
        ("sms_reminder", "overtaken: due on 2025-01-18, when the run did not come, and the next step "
                         "(collection_notice) is due as well"),
    ]  # fmt: skip
    claim = Claim.objects.get(invoice=invoice)
    # The letter's deadline counts from the day it went out, not from the day it was due.
    assert (claim.level, claim.deadline) == ("collection_notice", day(33 + 14))
    # Its fee and the interest through today are booked once, dated today.
    booked = JournalTransaction.objects.filter(invoice=invoice, kind__in=["fee", "interest"])
    assert sorted((t.kind, t.booking_date) for t in booked) == [("fee", day(33)), ("interest", day(33))]
    assert steps_taken(invoice)[0][3] == simple_interest("1000", "12.50", 33 - 14)

    again = claims_escalate(ledger=ledger, as_of=day(33))  # the same day again changes nothing
    assert again["steps_taken"] == 0 and len(steps_taken(invoice)) == 1

    run_days(ledger, day(34), day(52))
    assert [(kind, on) for kind, on, _, _ in steps_taken(invoice)] == [
        ("collection_notice", day(33)),
        ("payment_demand", day(51)),
    ]
    assert_verified(ledger)


def test_the_gap_and_the_daily_runs_end_at_the_same_level_where_the_law_permits():
    """Day by day the claim got the SMS on day 17 and the notice on day 32; after the gap it stands at the
    same level on day 33 (the notice a day later: the law wants each letter sent and its deadline kept)."""
    daily_ledger, daily = norwegian_claim()
    gap_ledger, gap = norwegian_claim()
    run_days(daily_ledger, day(0), day(33))
    run_days(gap_ledger, day(0), day(15))
    claims_escalate(ledger=gap_ledger, as_of=day(33))

    levels = [Claim.objects.get(invoice=i).level for i in (daily, gap)]
    assert levels == ["collection_notice", "collection_notice"]
    fees = [sum(fee for _, _, fee, _ in steps_taken(i)) for i in (daily, gap)]
    assert fees == [Decimal("35.00"), Decimal("35.00")]


def test_a_long_gap_skips_every_overtaken_call_and_sms_and_takes_the_heavy_fee():
    ledger, invoice = norwegian_claim()
    run_days(ledger, day(0), day(50))  # payment demand on day 50, deadline day 64
    assert [kind for kind, *_ in steps_taken(invoice)][-1] == "payment_demand"

    claims_escalate(ledger=ledger, as_of=day(100))

    assert [kind for kind, _ in skipped(invoice)] == ["call_task", "sms_reminder", "call_task"]
    assert [reason.split(",")[0] for _, reason in skipped(invoice)] == [
        "overtaken: due on 2025-02-24",  # day 54
        "overtaken: due on 2025-02-27",  # day 57: dated from the skipped call's day, as the daily runs would
        "overtaken: due on 2025-03-05",  # day 63
    ]
    assert [(kind, on, fee) for kind, on, fee, _ in steps_taken(invoice)][-1] == (
        "heavy_fee", day(100), Decimal("245.00")
    )
    # Only one step a day: the call after the heavy fee waits for its own day.
    assert Claim.objects.get(invoice=invoice).next_on == day(102)
    assert_verified(ledger)


def test_an_sms_is_sent_late_when_nothing_else_is_due():
    ledger, invoice = norwegian_claim()
    run_days(ledger, day(0), day(15))
    claims_escalate(ledger=ledger, as_of=day(20))
    assert [(kind, on) for kind, on, _, _ in steps_taken(invoice)] == [("sms_reminder", day(20))]
    assert skipped(invoice) == []


def test_a_business_gets_the_late_fee_first_and_the_notice_next_without_the_overtaken_sms():
    ledger, invoice = norwegian_claim("20000.00", legal_entity=LegalEntity.BUSINESS, national_id="")
    claim_settings_update(ledger=ledger, business_late_fee=True)
    run_days(ledger, day(0), day(14))

    run_days(ledger, day(33), day(34))

    assert [(kind, on, fee) for kind, on, fee, _ in steps_taken(invoice)] == [
        ("late_fee", day(33), Decimal("470.00")),
        ("collection_notice", day(34), Decimal("0")),  # replaced by the late fee
    ]
    assert [kind for kind, _ in skipped(invoice)] == ["sms_reminder"]
    assert_verified(ledger)


def test_sweden_never_skips_the_reminder_or_the_collection_notice():
    ledger = LedgerFactory(country="SE")
    claim_settings_update(ledger=ledger, reminder_fee_agreed=True)
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger, postal_code="11122", city="Stockholm"),
                             invoice_date=DAY0, amount=Decimal("1000.00"))  # fmt: skip
    due = invoice.due_date
    run_days(ledger, day(0), due)

    claims_escalate(ledger=ledger, as_of=due + timedelta(days=30))  # reminder due +8, notice would be +23
    run_days(ledger, due + timedelta(days=31), due + timedelta(days=45))

    taken = [(kind, on, fee) for kind, on, fee, _ in steps_taken(invoice)]
    assert taken == [
        ("reminder", due + timedelta(days=30), Decimal("60.00")),
        # The reminder's 10 days, counted from the day it went out, then 5 more.
        ("collection_notice", due + timedelta(days=45), Decimal("180.00")),
    ]
    assert skipped(invoice) == []
    assert_verified(ledger)


def test_denmark_sends_each_reminder_with_its_own_ten_days():
    ledger = LedgerFactory(country="DK")
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger, postal_code="1050", city="København"),
                             invoice_date=DAY0, amount=Decimal("1000.00"))  # fmt: skip
    due = invoice.due_date
    run_days(ledger, day(0), due)

    run_days(ledger, due + timedelta(days=40), due + timedelta(days=60))

    taken = [(kind, on, fee) for kind, on, fee, _ in steps_taken(invoice)]
    assert taken == [
        ("reminder", due + timedelta(days=40), Decimal("100.00")),
        ("reminder", due + timedelta(days=50), Decimal("100.00")),
        ("reminder", due + timedelta(days=60), Decimal("100.00")),
    ]
    assert skipped(invoice) == []
    assert_verified(ledger)
