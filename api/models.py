"""API tokens and the responses kept for Idempotency-Key replays."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from ledger.models import Client, Ledger, User


class ApiToken(models.Model):
    """A bearer token for one ledger (or, without a ledger, every ledger of its client).

    Only the SHA-256 of the secret is stored: a token is shown once, when it is created. A token is
    high-entropy random, so a fast hash is enough (no password stretching needed).
    """

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="api_tokens")
    ledger = models.ForeignKey(
        Ledger, null=True, blank=True, on_delete=models.PROTECT, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise a token")
    key_hash = models.CharField(max_length=64, unique=True)
    can_write = models.BooleanField(default=False)
    rate_limit = models.CharField(
        max_length=20, blank=True, help_text="e.g. 600/min; blank: the API_RATE_LIMIT setting"
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    # When the token was last used, to the minute (written at most once a minute: api/authentication.py).
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(key_hash__regex=r"^[0-9a-f]{64}$"), name="api_token_hash_hex"),
            models.CheckConstraint(
                condition=Q(rate_limit="") | Q(rate_limit__regex=r"^[0-9]+/(s|sec|m|min|h|hour|d|day)$"),
                name="api_token_rate_limit_format",
            ),
        ]

    def __str__(self):
        scope = self.ledger.company_no if self.ledger_id else f"client {self.client_id}"
        return f"{self.prefix}… ({scope}, {'read/write' if self.can_write else 'read'})"

    @property
    def actor_label(self) -> str:
        """Who the journal and the events say acted: the token, by its prefix."""
        return f"api:{self.prefix}"


class IdempotencyRecord(models.Model):
    """The first response to a POST with an Idempotency-Key, replayed for the same key and body."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of method, path and body")
    status_code = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100)
    body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="idempotency_key_unique")]

    def __str__(self):
        return f"{self.key} ({self.status_code})"


class RateCounter(models.Model):
    """Requests of a token in one rate-limit window (api/throttling.py). The table is UNLOGGED
    (api/migrations): written on every request, and losing a minute's counts in a crash is harmless."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    window_start = models.BigIntegerField(help_text="Unix time the window starts")
    requests = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "window_start"], name="rate_counter_unique_window"),
        ]

    def __str__(self):
        return f"{self.token_id}@{self.window_start}: {self.requests}"
