"""Statutory figures as of a date: one query per run, then lookups in memory."""

import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from claims.models import FigureKind, StatutoryFigure
from ledger.errors import ValidationFailed


@dataclass(frozen=True)
class Figure:
    kind: str
    valid_from: date
    valid_to: date | None
    claim_above: Decimal | None
    claim_up_to: Decimal | None
    value: Decimal

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def covers_claim(self, amount: Decimal) -> bool:
        return (self.claim_above is None or amount > self.claim_above) and (
            self.claim_up_to is None or amount <= self.claim_up_to
        )


@dataclass(frozen=True)
class RatePeriod:
    start: date
    end: date | None  # inclusive; None = open-ended
    rate: Decimal  # % per year


# Staff change a figure a few times a year; a read may show the old one for this long.
READ_CACHE_SECONDS = 60
_READ_CACHE: dict[str, tuple[float, "Figures"]] = {}


class Figures:
    """The figures of one country."""

    def __init__(self, country: str, rows: list[Figure]):
        self.country = country
        self.rows = rows

    @classmethod
    def cached(cls, country: str) -> "Figures":
        """The figures as loaded at most READ_CACHE_SECONDS ago in this process: for reads (the API, the
        UI) that ask for them on every request. The daily run always loads them fresh."""
        now = time.monotonic()
        hit = _READ_CACHE.get(country)
        if hit is None or now - hit[0] > READ_CACHE_SECONDS:
            hit = _READ_CACHE[country] = (now, cls.load(country))
        return hit[1]

    @classmethod
    def load(cls, country: str) -> "Figures":
        rows = [
            Figure(f.kind, f.valid_from, f.valid_to, f.claim_above, f.claim_up_to, f.value)
            for f in StatutoryFigure.objects.filter(country=country).order_by("valid_from")
        ]
        return cls(country, rows)

    def get(self, kind: FigureKind, on: date, claim_amount: Decimal | None = None) -> Decimal | None:
        """The figure valid on a day (for a claim of that size, for tables), or None if there is none."""
        for row in self.rows:
            if (
                row.kind == kind
                and row.covers(on)
                and (claim_amount is None or row.covers_claim(claim_amount))
            ):
                return row.value
        return None

    def require(self, kind: FigureKind, on: date, claim_amount: Decimal | None = None) -> Decimal:
        value = self.get(kind, on, claim_amount)
        if value is None:
            raise ValidationFailed(
                f"no statutory figure {kind.value} for {self.country} on {on.isoformat()}"
                + (f" and a claim of {claim_amount}" if claim_amount is not None else "")
                + ": add it under Claims > Statutory figures",
                code="figure_missing",
            )
        return value

    def rate_periods(self, start: date, end: date) -> list[RatePeriod]:
        """The interest rate periods covering start..end (inclusive); a day without a rate is an error."""
        periods = [
            RatePeriod(r.valid_from, r.valid_to, r.value)
            for r in self.rows
            if r.kind == FigureKind.LATE_INTEREST_RATE
            and r.valid_from <= end
            and (r.valid_to is None or r.valid_to >= start)
        ]
        periods.sort(key=lambda p: p.start)
        day = start
        for period in periods:
            if period.start > day:
                break
            day = period.end if period.end is not None else end
            if day >= end:
                return periods
            day = date.fromordinal(day.toordinal() + 1)
        if start <= end:
            self.require(FigureKind.LATE_INTEREST_RATE, day)  # raises figure_missing for the first gap
        return periods
