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
