"""When a step is due, and whether it is for this claim."""

from datetime import date, timedelta

from claims.models import (
    Anchor,
    Audience,
    ClaimSettings,
    ClaimStep,
    FeeRule,
    StepKind,
)

# --- Scheduling ----------------------------------------------------------------------------------


def step_date(step: ClaimStep, *, deadline: date, last_step_on: date | None) -> date:
    """The day a step is due: its offset after the current deadline or after the previous step."""
    base = deadline if step.anchor == Anchor.DEADLINE or last_step_on is None else last_step_on
    return base + timedelta(days=step.offset_days)


def _step_applies(step: ClaimStep, *, business: bool, foreign: bool, settings: ClaimSettings) -> bool:
    if step.kind == StepKind.LATE_FEE and not settings.business_late_fee:
        return False
    return {
        Audience.ALL: True,
        Audience.CONSUMER: not business,
        Audience.BUSINESS: business,
        Audience.DOMESTIC: not foreign,
        Audience.FOREIGN: foreign,
    }[step.audience]


def _informational(step: ClaimStep) -> bool:
    """A step that only tells (a friendly SMS, a call task): no fee, no deadline, the timeline goes on."""
    return (
        step.kind in (StepKind.SMS_REMINDER, StepKind.CALL_TASK)
        and step.fee_rule == FeeRule.NONE
        and not step.deadline_days
        and not step.stops_timeline
    )
