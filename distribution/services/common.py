"""What the distribution services share: their actor, the claim batch size, the archive."""

from django.core.files.storage import storages

from ledger.models import User
from ledger.services.common import _actor_fields as ledger_actor_fields

DISTRIBUTION_ACTOR = "distribution"
# Small claims: workers share the tail of the day evenly, and a dead worker strands few documents.
CLAIM_BATCH = 25


def _actor_fields(actor: User | str | None) -> tuple[int | None, str]:
    """The ledger's (created_by_id, actor label), with distribution as the actor when nobody is named."""
    return ledger_actor_fields(DISTRIBUTION_ACTOR if actor is None else actor)


def archive_storage():
    """The document archive: STORAGES["documents"] (local files or an S3-compatible bucket)."""
    return storages["documents"]
