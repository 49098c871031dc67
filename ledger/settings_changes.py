"""A client administrator's changes to a ledger's rules, recorded (AuditEvent: who, when, before, after)
and taking effect from a stated date: at once when that date is today or past, else when the business
day of that date runs (`ledger_rule_changes_apply`). The claim process has its own, in claims/."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from ledger.services.common import _actor_fields

from .errors import ValidationFailed
from .models import AllocationOrder, AuditEvent, AuditKind, Ledger, User

LEDGER_RULES = (
    "default_reference_text",
    "settle_surplus_against_oldest",
    "allocation_order",
    "payment_terms_days",
    "max_respite_days",
)


def _validate_rules(values: dict) -> dict:
    unknown = set(values) - set(LEDGER_RULES)
    if unknown:
        raise ValidationFailed(f"unknown ledger rules {sorted(unknown)}", code="invalid_setting")
    if "payment_terms_days" in values and not 0 <= int(values["payment_terms_days"]) <= 365:
        raise ValidationFailed("payment terms must be 0 to 365 days", code="invalid_setting",
                               field="payment_terms_days")  # fmt: skip
    if "max_respite_days" in values and not 1 <= int(values["max_respite_days"]) <= 365:
        raise ValidationFailed("the longest respite must be 1 to 365 days", code="invalid_setting",
                               field="max_respite_days")  # fmt: skip
    if "allocation_order" in values and values["allocation_order"] not in AllocationOrder.values:
        raise ValidationFailed("unknown allocation order", code="invalid_setting", field="allocation_order")
    if len(values.get("default_reference_text", "")) > 200:
        raise ValidationFailed("the reference text is at most 200 characters", code="invalid_setting",
                               field="default_reference_text")  # fmt: skip
    return values


def audit_record(*, client, kind, action, target, actor, ledger=None, before=None, after=None,
                 effective_from=None, applied=True) -> AuditEvent:  # fmt: skip
    created_by_id, actor_label = _actor_fields(actor)
    return AuditEvent.objects.create(
        client=client, ledger=ledger, kind=kind, action=action, target=str(target)[:200], before=before or {},
        after=after or {}, effective_from=effective_from, applied_at=timezone.now() if applied else None,
        created_by_id=created_by_id, actor=actor_label,
    )  # fmt: skip


def _apply(ledger: Ledger, values: dict) -> None:
    for name, value in values.items():
        setattr(ledger, name, value)
    ledger.save(update_fields=list(values))


def ledger_rules_change(
    *, ledger: Ledger, values: dict, effective_from: date, actor: User | str | None
) -> AuditEvent:
    """Change some of the ledger's rules from `effective_from` (not before today)."""
    values = _validate_rules(dict(values))
    today = ledger.today()
    if effective_from < today:
        raise ValidationFailed("a change takes effect today or later, not in the past", code="effective_in_past",
                               field="effective_from")  # fmt: skip
    with transaction.atomic():
        ledger = Ledger.objects.select_for_update(no_key=True).get(pk=ledger.pk)
        before = {name: getattr(ledger, name) for name in values}
        changed = {name: value for name, value in values.items() if before[name] != value}
        if not changed:
            raise ValidationFailed("nothing to change", code="nothing_changed")
        due = effective_from <= today
        event = audit_record(client=ledger.client, ledger=ledger, kind=AuditKind.LEDGER_RULES, action="change",
                             target=ledger.company_no, actor=actor, before={k: before[k] for k in changed},
                             after=changed, effective_from=effective_from, applied=due)  # fmt: skip
        if due:
            _apply(ledger, changed)
    return event


def ledger_rule_changes_apply(*, ledger: Ledger, as_of: date) -> int:
    """Apply the ledger's pending rule changes that take effect by `as_of`, oldest first (the business day)."""
    with transaction.atomic():
        pending = list(
            AuditEvent.objects.select_for_update(skip_locked=True)
            .filter(
                ledger=ledger, kind=AuditKind.LEDGER_RULES, applied_at__isnull=True, effective_from__lte=as_of
            )
            .order_by("effective_from", "id")
        )
        if pending:
            locked = Ledger.objects.select_for_update(no_key=True).get(pk=ledger.pk)
            for event in pending:
                _apply(locked, event.after)
                event.applied_at = timezone.now()
                event.save(update_fields=["applied_at"])
    return len(pending)
