"""Statutory figures are dated data the database keeps consistent; interest is exact per day and period."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from claims.figures import Figures, RatePeriod
from claims.interest import interest_accrued
from claims.models import FigureKind, StatutoryFigure
from ledger.errors import ValidationFailed
from ledger.money import to_money

pytestmark = pytest.mark.django_db


def test_the_migration_loads_the_statutory_figures(db):
    norway = Figures.load("NO")
    assert norway.require(FigureKind.LATE_INTEREST_RATE, date(2025, 3, 1)) == Decimal("12.50")
    assert norway.require(FigureKind.REMINDER_FEE, date(2025, 3, 1)) == Decimal("35.00")
    table = {
        amount: norway.require(FigureKind.COLLECTION_FEE_LIGHT, date(2025, 3, 1), Decimal(amount))
        for amount in ("1", "500", "500.01", "1000", "2500", "10000", "50000", "250000", "250000.01")
    }
    assert table == {
        "1": Decimal("175"), "500": Decimal("175"), "500.01": Decimal("245"), "1000": Decimal("245"),
        "2500": Decimal("280"), "10000": Decimal("560"), "50000": Decimal("1120"), "250000": Decimal("2520"),
        "250000.01": Decimal("5040"),
    }  # fmt: skip
    sweden = Figures.load("SE")
    assert [
        sweden.require(FigureKind.LATE_INTEREST_RATE, d) for d in (date(2025, 6, 30), date(2025, 7, 1))
    ] == [
        Decimal("11.00"),
        Decimal("10.00"),
    ]
    assert sweden.require(FigureKind.BUSINESS_COMPENSATION, date(2025, 7, 1)) == Decimal("450.00")
    assert Figures.load("DK").require(FigureKind.MAX_REMINDER_FEES, date(2025, 7, 1)) == 3


def test_overlapping_periods_of_one_figure_are_refused(db):
    with pytest.raises(IntegrityError, match="figure_periods_do_not_overlap"), transaction.atomic():
        StatutoryFigure.objects.create(
            country="NO", kind=FigureKind.REMINDER_FEE, valid_from=date(2025, 6, 1), value=Decimal("40")
        )
    # Closing the open period first makes room for the new figure.
    StatutoryFigure.objects.filter(country="NO", kind=FigureKind.REMINDER_FEE).update(
        valid_to=date(2025, 12, 31)
    )
    StatutoryFigure.objects.create(
        country="NO", kind=FigureKind.REMINDER_FEE, valid_from=date(2026, 1, 1), value=Decimal("40")
    )
    assert Figures.load("NO").require(FigureKind.REMINDER_FEE, date(2026, 1, 1)) == Decimal("40")


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"valid_from": date(2030, 2, 1), "valid_to": date(2030, 1, 1)}, "figure_period_ordered"),
        ({"valid_from": date(2030, 1, 1), "value": Decimal("-1")}, "figure_value_not_negative"),
        (
            {"valid_from": date(2030, 1, 1), "claim_above": Decimal("10"), "claim_up_to": Decimal("5")},
            "figure_band_ordered",
        ),
    ],
)
def test_figure_checks(db, fields, constraint):
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        StatutoryFigure.objects.create(
            **{"country": "FI", "kind": FigureKind.REMINDER_FEE, "value": 5, **fields}
        )


def test_a_day_without_a_rate_is_a_clear_error(db):
    with pytest.raises(ValidationFailed) as error:
        Figures.load("SE").rate_periods(date(2024, 12, 20), date(2025, 1, 10))
    assert error.value.code == "figure_missing"
    assert "SE on 2024-12-20" in error.value.message


RATES_2025 = [
    RatePeriod(date(2025, 1, 1), date(2025, 6, 30), Decimal("11.00")),
    RatePeriod(date(2025, 7, 1), None, Decimal("10.00")),
]


def test_interest_runs_from_the_day_after_due_through_the_payment_day():
    # Due 14 January, 10 000 at 11 %: 10 days through 24 January = 30.136986... -> 30.14
    exact = interest_accrued(
        due_date=date(2025, 1, 14),
        through=date(2025, 1, 24),
        capital_changes=[(date(2025, 1, 1), Decimal("10000"))],
        rates=RATES_2025,
    )
    assert to_money(exact) == Decimal("30.14")
    assert interest_accrued(
        due_date=date(2025, 1, 14),
        through=date(2025, 1, 14),
        capital_changes=[(date(2025, 1, 1), 1)],
        rates=RATES_2025,
    ) == Decimal(0)


def test_interest_across_the_july_rate_change_and_a_partial_payment():
    # 5 000 due 20 June; 2 000 paid on 10 July. 21-30 June: 10 days of 5 000 at 11 % = 15.068493;
    # 1-10 July: 10 days of 5 000 at 10 % = 13.698630; 11-20 July: 10 days of 3 000 at 10 % = 8.219178.
    exact = interest_accrued(
        due_date=date(2025, 6, 20),
        through=date(2025, 7, 20),
        capital_changes=[(date(2025, 6, 1), Decimal("5000")), (date(2025, 7, 10), Decimal("-2000"))],
        rates=RATES_2025,
    )
    assert to_money(exact) == Decimal("36.99")  # 15.07 + 13.70 + 8.22 would round to 36.99 as well


def test_no_interest_once_the_capital_is_paid():
    exact = interest_accrued(
        due_date=date(2025, 3, 1),
        through=date(2025, 5, 1),
        capital_changes=[(date(2025, 2, 1), Decimal("800")), (date(2025, 3, 5), Decimal("-800"))],
        rates=RATES_2025,
    )
    assert to_money(exact) == to_money(Decimal("800") * Decimal("0.11") * 4 / 365)
