"""Writes of the API app: creating and revoking tokens."""

import hashlib
import re
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ledger.errors import NotFound, ValidationFailed
from ledger.models import Client, Ledger, User

from .models import ApiToken

RATE_LIMIT = re.compile(r"^[0-9]+/(s|sec|m|min|h|hour|d|day)$")
TOKEN_PREFIX = "plt_"  # "payex ledger token": makes a leaked token easy to recognise in logs and scanners


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(
    *,
    client: Client,
    ledger: Ledger | None = None,
    can_write: bool = False,
    name: str = "",
    rate_limit: str = "",
    created_by: User | None = None,
) -> tuple[ApiToken, str]:
    """A new token for one ledger of the client (or all of them); returns the row and the secret,
    which is not stored and cannot be shown again."""
    if ledger is not None and ledger.client_id != client.id:
        raise ValidationFailed(
            f"ledger {ledger.company_no} does not belong to client {client.name}",
            code="ledger_of_another_client",
            field="ledger",
        )
    if rate_limit and not RATE_LIMIT.match(rate_limit):
        raise ValidationFailed(
            f"rate limit must look like 600/min (per s, min, hour or day), got {rate_limit!r}",
            code="invalid_rate_limit",
            field="rate_limit",
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            client=client,
            ledger=ledger,
            can_write=can_write,
            name=name[:100],
            prefix=secret[: len(TOKEN_PREFIX) + 6],
            key_hash=token_hash(secret),
            rate_limit=rate_limit,
            created_by=created_by,
        )
    return token, secret


def api_token_revoke(*, token_id: int, client: Client) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id, client=client).first()
        if token is None:
            raise NotFound(f"API token {token_id} not found", code="token_not_found")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token


def token_used(token: ApiToken) -> None:
    """Note the token's last use for its owners' token list: one conditional UPDATE, at most once a
    minute per token, so a busy integration costs no write per request."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < timedelta(minutes=1):
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - timedelta(minutes=1))
    ).update(last_used_at=now)
    token.last_used_at = now
