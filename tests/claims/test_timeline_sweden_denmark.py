"""The Swedish and Danish default processes, day by day, with their statutory fees and interest."""

from datetime import date
from decimal import Decimal

import pytest

from claims.interest import HUNDRED
from claims.models import Claim, ClaimEvent, ClaimEventKind, ClaimStatus
from claims.services.escalation import claims_escalate
from claims.services.process import claim_process_set, claim_settings_update
from ledger.errors import ValidationFailed
from ledger.models import JournalTransaction, LegalEntity
from ledger.money import to_money
from tests.claims.conftest import assert_verified, run_days, steps_taken
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory

pytestmark = pytest.mark.django_db


def swedish_interest(capital: str, days_at_11: int, days_at_10: int) -> Decimal:
    """Reference rate + 8 pp: 11 % in H1 2025, 10 % from 1 July 2025."""
    c = Decimal(capital)
    return to_money(c * 11 / HUNDRED * days_at_11 / 365 + c * 10 / HUNDRED * days_at_10 / 365)


def test_swedish_consumer_claim_across_the_july_rate_change(db):
    ledger = LedgerFactory(country="SE")
    invoice = InvoiceFactory(
        customer=CustomerFactory(ledger=ledger), invoice_date=date(2025, 6, 1), amount=Decimal("2000.00")
    )
    assert invoice.due_date == date(2025, 6, 15)

    run_days(ledger, date(2025, 6, 1), date(2025, 11, 1))

    taken = steps_taken(invoice)
    assert [(kind, on, fee) for kind, on, fee, _ in taken] == [
        ("reminder", date(2025, 6, 23), Decimal("0")),  # SEK 60 only if agreed: not agreed here
        ("collection_notice", date(2025, 7, 8), Decimal("180.00")),
        ("legal_action", date(2025, 7, 28), Decimal("0")),
        ("surveillance", date(2025, 10, 26), Decimal("0")),
    ]
    interests = [interest for *_, interest in taken]
    assert interests[0] == swedish_interest("2000", 8, 0) == Decimal("4.82")
    # 16-30 June at 11 %, 1-8 July at 10 %: one claim, two rates.
    assert interests[0] + interests[1] == swedish_interest("2000", 15, 8) == Decimal("13.42")
    assert sum(interests) == swedish_interest("2000", 15, (date(2025, 10, 26) - date(2025, 6, 30)).days)
    assert Claim.objects.get(invoice=invoice).status == ClaimStatus.FINISHED
    assert_verified(ledger)


def test_swedish_reminder_fee_when_agreed_and_business_compensation(db):
    ledger = LedgerFactory(country="SE")
    claim_settings_update(ledger=ledger, reminder_fee_agreed=True, business_late_fee=True)
    consumer = InvoiceFactory(customer=CustomerFactory(ledger=ledger), invoice_date=date(2025, 6, 1))
    business = InvoiceFactory(
        customer=CustomerFactory(ledger=ledger, legal_entity=LegalEntity.BUSINESS, national_id=""),
        invoice_date=date(2025, 6, 1),
    )

    run_days(ledger, date(2025, 6, 1), date(2025, 7, 10))

    assert [(k, fee) for k, _, fee, _ in steps_taken(consumer)] == [
        ("reminder", Decimal("60.00")),
        ("collection_notice", Decimal("180.00")),
    ]
    # SEK 450 compensation the day after the due date replaces the reminder and collection fees.
    assert [(k, on, fee) for k, on, fee, _ in steps_taken(business)] == [
        ("late_fee", date(2025, 6, 16), Decimal("450.00")),
        ("reminder", date(2025, 6, 23), Decimal("0")),
        ("collection_notice", date(2025, 7, 8), Decimal("0")),
    ]
    assert_verified(ledger)


def test_danish_consumer_claim_three_reminders_ten_days_apart(db):
    ledger = LedgerFactory(country="DK")
    invoice = InvoiceFactory(
        customer=CustomerFactory(ledger=ledger), invoice_date=date(2025, 3, 1), amount=Decimal("1500.00")
    )

    run_days(ledger, date(2025, 3, 1), date(2025, 8, 10))

    taken = steps_taken(invoice)
    assert [(kind, on, fee) for kind, on, fee, _ in taken] == [
        ("reminder", date(2025, 3, 18), Decimal("100.00")),
        ("reminder", date(2025, 3, 28), Decimal("100.00")),
        ("reminder", date(2025, 4, 7), Decimal("100.00")),
        ("payment_demand", date(2025, 4, 21), Decimal("0")),
        ("legal_action", date(2025, 5, 5), Decimal("0")),
        ("surveillance", date(2025, 8, 3), Decimal("0")),
    ]
    # 10.60 % (provisional figure) from 16 March through 18 March: 3 days.
    assert taken[0][3] == to_money(Decimal("1500") * Decimal("10.60") / HUNDRED * 3 / 365)
    assert_verified(ledger)


def test_danish_rules_postpone_a_fee_too_soon_and_refuse_a_fourth(db):
    ledger = LedgerFactory(country="DK")
    reminder = {"kind": "reminder", "anchor": "previous_step", "offset_days": 5, "deadline_days": 10,
                "fee_rule": "reminder"}  # fmt: skip
    claim_process_set(
        ledger=ledger,
        steps=[{**reminder, "anchor": "deadline", "offset_days": 3}, reminder, reminder, reminder],
    )
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), invoice_date=date(2025, 3, 1))

    run_days(ledger, date(2025, 3, 1), date(2025, 4, 30))

    assert [(on, fee) for _, on, fee, _ in steps_taken(invoice)] == [
        (date(2025, 3, 18), Decimal("100.00")),
        (date(2025, 3, 28), Decimal("100.00")),  # due on the 23rd, postponed to 10 days after the last fee
        (date(2025, 4, 7), Decimal("100.00")),
        (date(2025, 4, 12), Decimal("0")),  # at most three reminder fees: no fee, so not held back
    ]
    postponed = ClaimEvent.objects.filter(invoice=invoice, kind=ClaimEventKind.POSTPONED).first()
    assert postponed.booking_date == date(2025, 3, 23) and "10 days after the last one" in postponed.reason


def test_a_fee_step_with_a_deadline_below_the_statutory_minimum_is_refused(db):
    ledger = LedgerFactory(country="NO")
    with pytest.raises(ValidationFailed) as error:
        claim_process_set(
            ledger=ledger,
            steps=[{"kind": "reminder", "offset_days": 14, "deadline_days": 7, "fee_rule": "reminder"}],
        )
    assert error.value.code == "deadline_too_short"
    assert error.value.field == "steps[1].deadline_days"


def test_a_missing_statutory_rate_stops_the_ledgers_day_and_writes_nothing(db):
    ledger = LedgerFactory(country="SE")
    # Overdue since December 2024: the Swedish rates loaded start on 1 January 2025.
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), invoice_date=date(2024, 11, 20))
    transactions = JournalTransaction.objects.filter(ledger=ledger).count()

    with pytest.raises(ValidationFailed) as error:
        claims_escalate(ledger=ledger, as_of=date(2025, 1, 20))

    assert error.value.code == "figure_missing"
    assert "late_interest_rate for SE on 2024-12-05" in error.value.message
    assert not Claim.objects.filter(invoice=invoice).exists()
    assert not ClaimEvent.objects.filter(invoice=invoice).exists()
    assert JournalTransaction.objects.filter(ledger=ledger).count() == transactions
