"""The business day's Celery task (the beat schedule is in payex_ledger/settings.py)."""

import zoneinfo
from datetime import date

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from businessday.daily import business_day_run, business_day_work
from businessday.models import DayPlan


# The name beat and messages already queued know it by (it ran in the claims app before).
@shared_task(name="claims.run_daily")
def run_daily(as_of: str | None = None) -> dict:
    """The business day for every ledger; without a date, today in the service's time zone."""
    day = (
        date.fromisoformat(as_of)
        if as_of
        else timezone.localdate(timezone=zoneinfo.ZoneInfo(settings.BUSINESS_TIME_ZONE))
    )
    return business_day_run(as_of=day, workers=settings.BUSINESS_DAY_WORKERS)


@shared_task(name="businessday.work")
def work_business_day(plan_id: int) -> int:
    """One more worker on a planned business day: claims its ledgers' chunks until none is left."""
    return business_day_work(plan=DayPlan.objects.get(pk=plan_id))
