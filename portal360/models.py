"""What only the operator UI keeps: news to the clients' operators and the SMS sign-in device.

The e-mail device is django-otp's own (django_otp.plugins.otp_email.EmailDevice).
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_otp.models import CooldownMixin, SideChannelDevice, ThrottlingMixin, TimestampMixin

from ledger.models import Client


class News(models.Model):
    """A notice from us on the 360 start page: to every client, or to one."""

    title = models.CharField(max_length=200)
    body = models.TextField()
    published_at = models.DateTimeField(default=timezone.now)
    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.CASCADE, help_text="blank: every client"
    )
    visible = models.BooleanField(default=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name_plural = "news"
        indexes = [models.Index(fields=["-published_at"], name="news_published_idx")]

    def __str__(self):
        return self.title


class SmsDevice(TimestampMixin, CooldownMixin, ThrottlingMixin, SideChannelDevice):
    """The sign-in code by SMS, through the same gateway as the customers' SMS (distribution.senders)."""

    number = models.CharField(max_length=30)

    class Meta:
        verbose_name = "SMS device"
        constraints = [models.CheckConstraint(condition=~Q(number=""), name="smsdevice_has_number")]

    def get_cooldown_duration(self) -> int:
        return 30

    def get_throttle_factor(self) -> int:
        return 1

    def generate_challenge(self, extra_context=None) -> str:
        from django.conf import settings

        from distribution.senders import sms_gateway

        allowed, _why = self.generate_is_allowed()
        if not allowed:
            return "cooldown"
        self.cooldown_set(commit=False)
        self.generate_token(valid_secs=settings.OTP_EMAIL_TOKEN_VALIDITY, commit=True)
        sms_gateway().send(
            to=self.number,
            text=f"Ledger Service 360: {self.token} is your sign-in code.",
            reference=f"signin-{self.pk}-{int(timezone.now().timestamp())}",
        )
        return "sent"

    def verify_token(self, token) -> bool:
        allowed, _why = self.verify_is_allowed()
        if not allowed:
            return False
        if super().verify_token(token):
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
            return True
        self.throttle_increment()
        return False


class ClientFederation(models.Model):
    """Sign-in "by agreement" (seeds 000 section 8): the client's own OpenID Connect provider signs its
    users in to 360 instead of our password and code. Off until our staff enable it; the client secret
    stays in the environment (`secret_env` names the variable), never in the database."""

    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="federation")
    enabled = models.BooleanField(default=False)
    slug = models.SlugField(max_length=40, unique=True, help_text="the sign-in URL: /360/sso/<slug>/")
    label = models.CharField(max_length=100, help_text="the button: e.g. 'Sign in with Fjord Kraft ID'")
    issuer = models.URLField(help_text="the provider's issuer; its /.well-known/openid-configuration is read")
    oidc_client_id = models.CharField(max_length=200, help_text="our client id at the provider")
    secret_env = models.CharField(
        max_length=100, help_text="name of the environment variable holding the client secret"
    )
    scopes = models.CharField(max_length=200, default="openid email")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(secret_env__regex=r"^[A-Z][A-Z0-9_]*$"), name="federation_secret_env_name"
            )
        ]

    def __str__(self):
        return f"{self.client}: {self.issuer}"


class WorklistKind(models.TextChoices):
    COMPLAINTS = "complaints", "Complaints and disputes"
    RETURNED_MAIL = "returned_mail", "Returned paper mail"
    UNIDENTIFIED = "unidentified", "Unidentified payments"
    CALLS = "calls", "Call tasks"
    RESPITE_REQUESTS = "respite_requests", "Respite requests from the invoice portal"
    MINORS = "minors", "Claims on minors with no guardian"


class WorklistClaim(models.Model):
    """An operator has taken a worklist item: nobody else works it until it is released or done.
    One row per item (the unique key is the lock); taking is an INSERT that finds it free or not."""

    kind = models.CharField(max_length=16, choices=WorklistKind.choices)
    item_id = models.BigIntegerField(help_text="the invoice, returned document, payment or claim event")
    ledger = models.ForeignKey("ledger.Ledger", on_delete=models.CASCADE, related_name="+")
    taken_by = models.ForeignKey("ledger.User", on_delete=models.CASCADE, related_name="+")
    taken_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "item_id"], name="worklist_item_taken_once")]

    def __str__(self):
        return f"{self.kind} {self.item_id} taken by {self.taken_by_id}"
