"""Writes of the operator UI's own: the sign-in code's device and the device-trust mark.

Everything an operator does to the ledger goes through the domain services (ledger, distribution); only
the second factor is kept here.
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_email.models import EmailDevice

from ledger.errors import ValidationFailed
from ledger.models import SecondFactorChannel, User

from .models import SmsDevice

DEVICE_COOKIE = "ls360_device"
_DEVICE_SALT = "portal360.device"


def second_factor_period(user: User) -> timedelta:
    """How long a code holds on one device: the client's period, or the default for our own staff."""
    hours = user.client.second_factor_hours if user.client_id else settings.SECOND_FACTOR_HOURS
    return timedelta(hours=hours)


def second_factor_device(*, user: User) -> SmsDevice | EmailDevice:
    """The user's device for their channel, made on first use. Raises ValidationFailed when the user has
    no number or address for it (an administrator must add one)."""
    with transaction.atomic():
        if user.second_factor_channel == SecondFactorChannel.SMS:
            if not user.phone:
                raise ValidationFailed("no mobile number for the sign-in code", code="second_factor_no_phone")
            device = SmsDevice.objects.filter(user=user).first()
            if device is None:
                device = SmsDevice.objects.create(user=user, name="sms", number=user.phone)
            elif device.number != user.phone:
                device.number = user.phone
                device.save(update_fields=["number"])
            return device
        if not user.email:
            raise ValidationFailed("no e-mail address for the sign-in code", code="second_factor_no_email")
        device = EmailDevice.objects.filter(user=user).first()
        if device is None:
            device = EmailDevice.objects.create(user=user, name="email")
        return device


def second_factor_reset(*, user: User) -> int:
    """Forget the user's devices: the next sign-in makes a new one (for the channel then set)."""
    with transaction.atomic():
        deleted = SmsDevice.objects.filter(user=user).delete()[0]
        deleted += EmailDevice.objects.filter(user=user).delete()[0]
    return deleted


def device_mark(*, user: User) -> str:
    """The signed value of the device-trust cookie: this browser gave this user's code now."""
    return signing.dumps({"u": user.pk, "t": int(timezone.now().timestamp())}, salt=_DEVICE_SALT)


def device_trusted(*, user: User, mark: str | None) -> int | None:
    """When this browser last gave this user's code (a POSIX timestamp), if within the user's period."""
    if not mark:
        return None
    try:
        value = signing.loads(mark, salt=_DEVICE_SALT, max_age=second_factor_period(user))
    except signing.BadSignature:
        return None
    return value["t"] if value.get("u") == user.pk else None
