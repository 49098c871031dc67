"""A ledger's claim process: the statutory figures, the country defaults, the steps (checked against
the law's figures) and the claim settings."""

import functools
import json
from datetime import date
from pathlib import Path

from django.db import transaction

from claims.figures import Figures
from claims.models import (
    Anchor,
    Audience,
    ClaimSettings,
    ClaimStep,
    FeeRule,
    FigureKind,
    StatutoryFigure,
    StepKind,
    UnpaidCostsRule,
)
from claims.services.common import DEFAULT_PROCESSES, REMINDER_FEE_RULES
from ledger.errors import ValidationFailed
from ledger.models import (
    Ledger,
    User,
)
from ledger.money import to_money

# --- The process ---------------------------------------------------------------------------------


STATUTORY_FIGURES = Path(__file__).resolve().parent.parent / "data" / "figures.json"


def statutory_figures_install() -> int:
    """Load the shipped statutory figures (claims/data/figures.json) into an empty table, as migration
    claims/0002 does; a table that has figures is left as the staff keep it. Returns rows added."""
    if StatutoryFigure.objects.exists():
        return 0
    rows = json.loads(STATUTORY_FIGURES.read_text(encoding="utf-8"))["figures"]
    return len(StatutoryFigure.objects.bulk_create(StatutoryFigure(**row) for row in rows))


@functools.cache
def _default_processes() -> dict:
    return json.loads(DEFAULT_PROCESSES.read_text(encoding="utf-8"))


def default_process(country: str) -> list[dict]:
    return [dict(step) for step in _default_processes().get(country, [])]


def step_check(step: ClaimStep, figures: Figures, on: date) -> None:
    """A step's own rules: a fixed fee has an amount, a letter with a fee gives the statutory deadline."""
    position = step.position
    if step.fixed_fee is not None:
        step.fixed_fee = to_money(step.fixed_fee)
    step.min_open_amount = to_money(step.min_open_amount or 0)
    if step.fee_rule == FeeRule.FIXED and not (step.fixed_fee and step.fixed_fee > 0):
        raise ValidationFailed(
            f"step {position}: a fixed fee needs fixed_fee > 0",
            code="invalid_step",
            field=f"steps[{position}].fixed_fee",
        )
    min_deadline = figures.get(FigureKind.MIN_DEADLINE_DAYS, on)
    charges_letter_fee = step.fee_rule in REMINDER_FEE_RULES | {FeeRule.COLLECTION_LIGHT}
    if charges_letter_fee and min_deadline is not None and step.deadline_days < min_deadline:
        raise ValidationFailed(
            f"step {position} ({step.kind}) charges a fee, so its deadline must be at least "
            f"{int(min_deadline)} days in {figures.country}, not {step.deadline_days}",
            code="deadline_too_short",
            field=f"steps[{position}].deadline_days",
        )


def _validate_steps(ledger: Ledger, steps: list[dict], figures: Figures, on: date) -> list[ClaimStep]:
    built = []
    for position, spec in enumerate(steps, start=1):
        try:
            step = ClaimStep(ledger=ledger, position=position, **spec)
        except TypeError as exc:
            raise ValidationFailed(
                f"step {position}: {exc}", code="invalid_step", field=f"steps[{position}]"
            ) from exc
        for name, choices in (
            ("kind", StepKind),
            ("anchor", Anchor),
            ("fee_rule", FeeRule),
            ("audience", Audience),
        ):
            if getattr(step, name) not in choices.values:
                raise ValidationFailed(
                    f"step {position}: {name} {getattr(step, name)!r} is not one of {', '.join(choices.values)}",
                    code="invalid_step",
                    field=f"steps[{position}].{name}",
                )
        step_check(step, figures, on)
        built.append(step)
    return built


def claim_process_set(
    *, ledger: Ledger, steps: list[dict], actor: User | str | None = None
) -> list[ClaimStep]:
    """Replace a ledger's claim process with `steps` (in order). Claims keep their position number."""
    figures = Figures.load(ledger.country)
    built = _validate_steps(ledger, steps, figures, ledger.today())
    with transaction.atomic():
        ClaimStep.objects.filter(ledger=ledger).delete()
        ClaimStep.objects.bulk_create(built)
        ClaimSettings.objects.get_or_create(ledger=ledger)
    return built


def claim_process_install(*, ledger: Ledger) -> list[ClaimStep]:
    """The ledger's steps; a ledger without any gets its country's default process."""
    steps = list(ClaimStep.objects.filter(ledger=ledger).order_by("position"))
    if steps:
        return steps
    return claim_process_set(ledger=ledger, steps=default_process(ledger.country))


def claim_settings_update(*, ledger: Ledger, **changes) -> ClaimSettings:
    allowed = {"business_late_fee", "reminder_fee_agreed", "unpaid_costs", "interest_charged"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(f"unknown claim settings {sorted(unknown)}", code="invalid_setting")
    if "unpaid_costs" in changes and changes["unpaid_costs"] not in UnpaidCostsRule.values:
        raise ValidationFailed(
            f"unpaid_costs must be one of {', '.join(UnpaidCostsRule.values)}", field="unpaid_costs"
        )
    with transaction.atomic():
        settings, _ = ClaimSettings.objects.select_for_update().get_or_create(ledger=ledger)
        for name, value in changes.items():
            setattr(settings, name, value)
        settings.save()
    return settings
