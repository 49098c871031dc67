from datetime import date, timedelta
from decimal import Decimal

import pytest

from claims.interest import HUNDRED
from claims.models import ClaimEvent, ClaimEventKind
from claims.services.escalation import claims_escalate
from ledger.money import to_money
from ledger.verify import ledger_verify


def run_days(ledger, start: date, end: date) -> list[dict]:
    """Run the ledger's claim process for every day from start to end, as the daily run does."""
    summaries = []
    day = start
    while day <= end:
        summaries.append(claims_escalate(ledger=ledger, as_of=day))
        day += timedelta(days=1)
    return summaries


def steps_taken(invoice) -> list[tuple[str, date, Decimal, Decimal]]:
    return [
        (e.step_kind, e.booking_date, e.fee, e.interest)
        for e in ClaimEvent.objects.filter(invoice=invoice, kind=ClaimEventKind.STEP).order_by(
            "booking_date", "id"
        )
    ]


def simple_interest(capital: str, rate: str, days: int) -> Decimal:
    """The worked-example formula: capital x rate% x days / 365, rounded to the minor unit."""
    return to_money(Decimal(capital) * Decimal(rate) / HUNDRED * days / Decimal(365))


def assert_verified(ledger):
    failed = [check for check in ledger_verify(ledger=ledger) if not check["ok"]]
    assert failed == []


@pytest.fixture
def day0():
    return date(2025, 1, 1)
