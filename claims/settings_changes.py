"""A client administrator's changes to the claim process: the agreed settings and the steps' days, fees
and minimums, checked by the same rules the claims engine uses (statutory limits: claims.services
`_validate_steps`), recorded as AuditEvents and taking effect from a stated date (at once, or when the
business day of that date runs: `claim_changes_apply`)."""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from claims.services.process import _validate_steps, claim_process_set, claim_settings_update
from ledger.errors import ValidationFailed
from ledger.models import AuditEvent, AuditKind, Ledger, User
from ledger.settings_changes import audit_record

from .figures import Figures
from .models import ClaimSettings, ClaimStep
from .selectors import claim_steps

SETTINGS = ("business_late_fee", "reminder_fee_agreed", "unpaid_costs", "interest_charged")
# What of a step an administrator may change; its kind, order, fee rule and audience are the process's.
STEP_FIELDS = ("offset_days", "deadline_days", "fixed_fee", "min_open_amount")


def _step_dicts(steps: list[ClaimStep]) -> list[dict]:
    names = [f.name for f in ClaimStep._meta.concrete_fields if f.name not in ("id", "ledger", "position")]
    return [{name: getattr(step, name) for name in names} for step in steps]


def _jsonable(value):
    return str(value) if isinstance(value, Decimal) else value


def _guard_date(ledger: Ledger, effective_from: date) -> bool:
    today = ledger.today()
    if effective_from < today:
        raise ValidationFailed("a change takes effect today or later, not in the past", code="effective_in_past",
                               field="effective_from")  # fmt: skip
    return effective_from <= today


def claim_settings_change(
    *, ledger: Ledger, values: dict, effective_from: date, actor: User | str | None
) -> AuditEvent:
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise ValidationFailed(f"unknown claim settings {sorted(unknown)}", code="invalid_setting")
    due = _guard_date(ledger, effective_from)
    with transaction.atomic():
        current = ClaimSettings.objects.filter(ledger=ledger).first() or ClaimSettings(ledger=ledger)
        changed = {k: v for k, v in values.items() if getattr(current, k) != v}
        if not changed:
            raise ValidationFailed("nothing to change", code="nothing_changed")
        if due:
            claim_settings_update(ledger=ledger, **changed)  # validates
        event = audit_record(client=ledger.client, ledger=ledger, kind=AuditKind.CLAIM_SETTINGS, action="change",
                             target=ledger.company_no, actor=actor, before={k: getattr(current, k) for k in changed},
                             after=changed, effective_from=effective_from, applied=due)  # fmt: skip
    return event


def claim_steps_change(
    *, ledger: Ledger, changes: dict[int, dict], effective_from: date, actor: User | str | None
) -> AuditEvent:
    """Change steps by position ({2: {"offset_days": 20}}); the whole new process must pass the statutory
    checks as of its effective date, or nothing is recorded."""
    due = _guard_date(ledger, effective_from)
    with transaction.atomic():
        steps = _step_dicts(claim_steps(ledger=ledger))
        before, after = {}, {}
        for position, fields in changes.items():
            if not 1 <= position <= len(steps):
                raise ValidationFailed(f"no step {position}", code="invalid_setting")
            unknown = set(fields) - set(STEP_FIELDS)
            if unknown:
                raise ValidationFailed(f"step {position}: {sorted(unknown)} cannot be changed here",
                                       code="invalid_setting")  # fmt: skip
            step = steps[position - 1]
            for name, value in fields.items():
                if step[name] != value:
                    before.setdefault(str(position), {})[name] = _jsonable(step[name])
                    after.setdefault(str(position), {})[name] = _jsonable(value)
                    step[name] = value
        if not after:
            raise ValidationFailed("nothing to change", code="nothing_changed")
        # The statutory checks, as of the day the process takes effect.
        _validate_steps(ledger, steps, Figures.load(ledger.country), effective_from)
        if due:
            claim_process_set(ledger=ledger, steps=steps, actor=actor)
        event = audit_record(client=ledger.client, ledger=ledger, kind=AuditKind.CLAIM_STEPS, action="change",
                             target=ledger.company_no, actor=actor, before=before, after=after,
                             effective_from=effective_from, applied=due)  # fmt: skip
    return event


def claim_changes_apply(*, ledger: Ledger, as_of: date) -> int:
    """Apply the ledger's pending claim-process changes that take effect by `as_of` (the business day)."""
    with transaction.atomic():
        pending = list(
            AuditEvent.objects.select_for_update(skip_locked=True)
            .filter(ledger=ledger, kind__in=[AuditKind.CLAIM_SETTINGS, AuditKind.CLAIM_STEPS],
                    applied_at__isnull=True, effective_from__lte=as_of)
            .order_by("effective_from", "id")
        )  # fmt: skip
        for event in pending:
            if event.kind == AuditKind.CLAIM_SETTINGS:
                claim_settings_update(ledger=ledger, **event.after)
            else:
                steps = _step_dicts(claim_steps(ledger=ledger))
                for position, fields in event.after.items():
                    for name, value in fields.items():
                        steps[int(position) - 1][name] = (
                            Decimal(value)
                            if name in ("fixed_fee", "min_open_amount") and value is not None
                            else value
                        )
                claim_process_set(ledger=ledger, steps=steps, actor=event.actor)
            event.applied_at = timezone.now()
            event.save(update_fields=["applied_at"])
    return len(pending)
