"""What the distribution services share: their actor, the claim batch size, the archive."""


from django.core.files.storage import storages

from ledger.models import (
    User,
)

DISTRIBUTION_ACTOR = "distribution"
# Small claims: workers share the tail of the day evenly, and a dead worker strands few documents.
CLAIM_BATCH = 25


def _actor_fields(actor: User | str | None) -> tuple[int | None, str]:
    if actor is None:
        return None, DISTRIBUTION_ACTOR
    if isinstance(actor, str):
        return None, actor
    return actor.pk, actor.get_username()


def archive_storage():
    """The document archive: STORAGES["documents"] (local files or an S3-compatible bucket)."""
    return storages["documents"]
