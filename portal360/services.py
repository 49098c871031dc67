"""Writes of the operator UI's own: the sign-in code's device and the device-trust mark, and who has
taken which worklist item.

Everything an operator does to the ledger goes through the domain services (ledger, distribution); only
the second factor is kept here.
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.utils import timezone
from django_otp.plugins.otp_email.models import EmailDevice

from ledger.errors import InvalidTransition, ValidationFailed
from ledger.models import SecondFactorChannel, User

from .models import SmsDevice, WorklistClaim

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


# --- Worklists: take and release ------------------------------------------------------------------

# A take older than this is free again (the operator left without releasing it).
WORKLIST_TAKE_HOURS = 8


def worklist_take(*, kind: str, item_id: int, ledger, user: User) -> WorklistClaim:
    """Take an item for `user`: one conditional INSERT, so two operators never both get it. Refused
    (InvalidTransition `worklist_item_taken`) while another operator holds it."""
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO portal360_worklistclaim (kind, item_id, ledger_id, taken_by_id, taken_at)
            VALUES (%s, %s, %s, %s, %s)
            ON CONFLICT (kind, item_id) DO UPDATE SET taken_by_id = EXCLUDED.taken_by_id, taken_at = EXCLUDED.taken_at
             WHERE portal360_worklistclaim.taken_by_id = EXCLUDED.taken_by_id
                OR portal360_worklistclaim.taken_at < %s
            RETURNING id
            """,
            [kind, item_id, ledger.id, user.pk, now, now - timedelta(hours=WORKLIST_TAKE_HOURS)],
        )
        row = cursor.fetchone()
        if row is None:
            holder = WorklistClaim.objects.select_related("taken_by").get(kind=kind, item_id=item_id)
            raise InvalidTransition(
                f"{holder.taken_by.get_full_name() or holder.taken_by.username} is working on this item",
                code="worklist_item_taken",
            )
        return WorklistClaim.objects.get(pk=row[0])


def worklist_release(*, kind: str, item_id: int, user: User) -> bool:
    """Give an item back (only its holder, or our staff, may)."""
    with transaction.atomic():
        qs = WorklistClaim.objects.filter(kind=kind, item_id=item_id)
        if not user.is_our_staff:
            qs = qs.filter(taken_by=user)
        return qs.delete()[0] > 0


def worklist_done(*, kind: str, item_id: int) -> None:
    """The item was worked and left its list: its take goes with it. Call inside the action's transaction."""
    WorklistClaim.objects.filter(kind=kind, item_id=item_id).delete()


# --- Users and API tokens of a client (section Company), each change audited ----------------------


def _audit(**fields):
    from ledger.settings_changes import audit_record

    return audit_record(**fields)


def operator_invite(*, client, username: str, email: str, role: str, actor: User, set_password_url) -> User:
    """A new user of the client, with no password: an e-mail with a link to set one (the link is
    `set_password_url(uidb64, token)`, sent after the commit)."""
    from django.contrib.auth.tokens import default_token_generator
    from django.core.mail import send_mail
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from ledger.models import UserRole

    username, email = username.strip(), email.strip()
    if role not in UserRole.values:
        raise ValidationFailed(f"unknown role {role!r}", code="invalid_role", field="role")
    if not username or not email:
        raise ValidationFailed("a new user needs a username and an e-mail address", code="missing_field")
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationFailed(
                f"the username {username} is taken", code="username_taken", field="username"
            )
        user = User(username=username, email=email, client=client, role=role)
        user.set_unusable_password()
        user.save()
        _audit(client=client, kind="user", action="invite", target=username, actor=actor,
               after={"email": email, "role": role})  # fmt: skip
        link = set_password_url(
            urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)
        )
        transaction.on_commit(lambda: send_mail(
            "Ledger Service 360: your user", f"{actor.get_full_name() or actor.username} has made you a user of "
            f"Ledger Service 360 for {client.name}.\n\nUser name: {username}\nSet your password here: {link}\n",
            None, [email],
        ))  # fmt: skip
    return user


def operator_update(*, user: User, actor: User, role: str | None = None, active: bool | None = None) -> User:
    from ledger.models import UserRole

    if role is not None and role not in UserRole.values:
        raise ValidationFailed(f"unknown role {role!r}", code="invalid_role", field="role")
    if user.pk == actor.pk and (active is False or (role is not None and role != user.role)):
        raise InvalidTransition("you cannot change your own role or deactivate yourself", code="own_user")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        before, after = {}, {}
        if role is not None and role != user.role:
            before["role"], after["role"], user.role = user.role, role, role
        if active is not None and active != user.is_active:
            before["active"], after["active"], user.is_active = user.is_active, active, active
        if not after:
            raise ValidationFailed("nothing to change", code="nothing_changed")
        user.save(update_fields=["role", "is_active"])
        _audit(client=user.client, kind="user", action="change", target=user.username, actor=actor,
               before=before, after=after)  # fmt: skip
    return user


def operator_second_factor_reset(*, user: User, actor: User) -> int:
    with transaction.atomic():
        removed = second_factor_reset(user=user)
        _audit(
            client=user.client, kind="user", action="second_factor_reset", target=user.username, actor=actor
        )
    return removed


def client_token_create(*, client, ledger, can_write: bool, name: str, actor: User):
    from api.services import api_token_create

    with transaction.atomic():
        token, secret = api_token_create(client=client, ledger=ledger, can_write=can_write, name=name,
                                         created_by=actor)  # fmt: skip
        _audit(client=client, ledger=ledger, kind="api_token", action="create", target=token.prefix, actor=actor,
               after={"ledger": ledger.company_no if ledger else "all", "write": can_write, "name": name})  # fmt: skip
    return token, secret


def client_token_revoke(*, client, token_id: int, actor: User):
    from api.services import api_token_revoke

    with transaction.atomic():
        token = api_token_revoke(token_id=token_id, client=client)
        _audit(client=client, ledger=token.ledger, kind="api_token", action="revoke", target=token.prefix,
               actor=actor)  # fmt: skip
    return token
