"""The action log (ledger.models.ActionLogEntry): one append-only row per request that changed or revealed
data, with what was sent masked so the log itself holds no secrets and no whole national ids or accounts."""

import re
from dataclasses import dataclass, field

from django.db import transaction

from ledger.models import ActionLogEntry

# Field names whose values are never kept (the masked value says only that one was sent).
SECRET = re.compile(r"pass|secret|token|otp|csrf|api_?key|auth|signature|^code$|^state$", re.IGNORECASE)
# Field names whose values are personal or money routes: kept as their last four characters.
PERSONAL = re.compile(
    r"national|ssn|personnummer|birth|account|iban|bban|card|phone|mobile|mail", re.IGNORECASE
)
MAX_VALUE = 200  # characters kept of a value; a file's content never reaches here (only its name)
MAX_FIELDS = 50


def clean_text(text: str) -> str:
    """Text PostgreSQL can keep: no NUL, no lone surrogates (both arrive in hostile requests)."""
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def mask_value(name: str, value: str) -> str:
    value = clean_text(value)
    if SECRET.search(name):
        return "***"
    if PERSONAL.search(name):
        return "•" * max(len(value) - 4, 0) + value[-4:] if len(value) > 4 else "•" * len(value)
    return value[:MAX_VALUE]


def mask_fields(fields: dict[str, list[str]]) -> dict[str, str]:
    """The fields of a form or a query, each masked by its name, several values joined by ", " (a field
    sent in the query and the body alike counted once); the CSRF token left out; at most MAX_FIELDS."""
    masked = {}
    for name, values in list(fields.items())[:MAX_FIELDS]:
        if name == "csrfmiddlewaretoken":
            continue
        masked[clean_text(name[:100])] = ", ".join(dict.fromkeys(mask_value(name, str(v)) for v in values))
    return masked


@dataclass(frozen=True)
class Action:
    request_id: str
    channel: str
    kind: str
    method: str
    path: str
    status: int
    view: str = ""
    actor: str = ""
    user_id: int | None = None
    client_id: int | None = None
    ledger_id: int | None = None
    target: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    ip: str | None = None


def action_log_record(*, action: Action) -> ActionLogEntry:
    """Append one row. The caller has masked `params` (mask_fields)."""
    with transaction.atomic():
        return ActionLogEntry.objects.create(
            request_id=action.request_id[:64], channel=action.channel, kind=action.kind,
            method=clean_text(action.method[:8]), path=clean_text(action.path[:500]), status=action.status,
            view=clean_text(action.view[:200]), actor=clean_text(action.actor[:150]), user_id=action.user_id, client_id=action.client_id,
            ledger_id=action.ledger_id, target={clean_text(k): mask_value(k, str(v)) for k, v in action.target.items()},
            params=action.params, ip=action.ip,
        )  # fmt: skip
