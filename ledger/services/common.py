"""What every service of the ledger core shares: who did it."""

from pathlib import Path

from ledger.models import (
    User,
)

CHARTS_DIR = Path(__file__).resolve().parent.parent / "charts"
SYSTEM_ACTOR = "system"


def _actor_fields(actor: User | str | None) -> tuple[int | None, str]:
    """(created_by_id, actor label) for a user, a system label such as 'cusin', or nobody."""
    if actor is None:
        return None, SYSTEM_ACTOR
    if isinstance(actor, str):
        return None, actor
    return actor.pk, actor.get_username()
