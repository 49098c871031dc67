"""Late-payment interest: per day on the overdue capital, at the rate of each day's period.

Interest runs from the day after the due date through the payment date (a claim due 14 January and paid
24 January carries 10 days). The capital of a day is the capital booked before that day, so a payment
stops interest from the day after it. Rates are % per year on an actual/365 day count. The result is
exact; callers round the running total once (ledger/money.to_money) and book the difference from what
was booked before, so rounding never drifts.
"""

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from claims.figures import RatePeriod

DAYS_PER_YEAR = Decimal(365)
HUNDRED = Decimal(100)


def _rate_on(day: date, rates: Sequence[RatePeriod]) -> Decimal:
    for period in rates:
        if period.start <= day and (period.end is None or day <= period.end):
            return period.rate
    raise LookupError(f"no interest rate on {day.isoformat()}")


def interest_accrued(
    *,
    due_date: date,
    through: date,
    capital_changes: Sequence[tuple[date, Decimal]],
    rates: Sequence[RatePeriod],
) -> Decimal:
    """Interest accrued from the day after `due_date` through `through`, unrounded.

    capital_changes: (booking date, signed amount) of every capital posting of the claim.
    """
    first = due_date + timedelta(days=1)
    end = through + timedelta(days=1)  # exclusive
    if end <= first:
        return Decimal(0)
    breaks = {first, end}
    breaks.update(b + timedelta(days=1) for b, _ in capital_changes if first < b + timedelta(days=1) < end)
    for period in rates:
        if first < period.start < end:
            breaks.add(period.start)
        if period.end is not None and first < period.end + timedelta(days=1) < end:
            breaks.add(period.end + timedelta(days=1))
    points = sorted(breaks)
    total = Decimal(0)
    for start, stop in zip(points, points[1:], strict=False):
        capital = sum((amount for booked, amount in capital_changes if booked < start), Decimal(0))
        if capital <= 0:
            continue
        total += capital * _rate_on(start, rates) * (stop - start).days / HUNDRED / DAYS_PER_YEAR
    return total
