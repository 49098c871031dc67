"""Reads of the API app: the token behind a secret, and the ledgers a token may reach."""

from django.db.models import QuerySet

from ledger.errors import NotFound
from ledger.models import Ledger

from .models import ApiToken
from .services import token_hash


def token_for_secret(secret: str) -> ApiToken | None:
    """The live token with this secret, or None (unknown and revoked look the same)."""
    return (
        ApiToken.objects.select_related("ledger")
        .filter(key_hash=token_hash(secret), revoked_at__isnull=True)
        .first()
    )


def ledgers_for_token(token: ApiToken) -> QuerySet[Ledger]:
    if token.ledger_id is not None:
        return Ledger.objects.filter(pk=token.ledger_id, client_id=token.client_id)
    return Ledger.objects.filter(client_id=token.client_id)


def ledger_for_token(*, token: ApiToken, company_no: str) -> Ledger:
    """The ledger, if the token reaches it; else NotFound, the same as for a ledger that does not exist."""
    if token.ledger_id is not None:  # loaded with the token: no second query
        ledger = token.ledger if token.ledger.company_no == company_no else None
        if ledger is not None and ledger.client_id != token.client_id:
            ledger = None
    else:
        ledger = ledgers_for_token(token).filter(company_no=company_no).first()
    if ledger is None:
        raise NotFound(f"ledger {company_no} not found", code="ledger_not_found")
    return ledger
