"""Sign-in: password (django-axes counts the failures), then the one-time code by SMS or e-mail
(django-otp), asked again after the client's period and on every new device."""

from datetime import datetime

from django import forms
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from ledger.errors import ValidationFailed

from ..middleware import SESSION_VERIFIED_AT, verification_fresh
from ..services import DEVICE_COOKIE, device_mark, device_trusted, second_factor_device, second_factor_period


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("portal360:start")


def _masked_destination(device) -> str:
    if hasattr(device, "number"):
        return "•••• " + device.number[-3:]
    email = device.email or device.user.email
    name, _, domain = email.partition("@")
    return f"{name[:1]}•••@{domain}"


@never_cache
def login(request):
    if request.user.is_authenticated and verification_fresh(request):
        return redirect(_next_url(request))
    form = AuthenticationForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        auth.login(request, user)
        trusted_at = device_trusted(user=user, mark=request.COOKIES.get(DEVICE_COOKIE))
        if trusted_at is not None:
            try:
                device = second_factor_device(user=user)
            except ValidationFailed:
                device = None
            if device is not None:
                otp_login(request, device)
                request.session[SESSION_VERIFIED_AT] = trusted_at
                return redirect(_next_url(request))
        return redirect(f"{reverse('portal360:login_code')}?{urlencode({'next': _next_url(request)})}")
    return render(
        request,
        "portal360/auth/login.html",
        {
            "form": form,
            "next": _next_url(request),
            "federation_failed": request.GET.get("federation") == "failed",
        },
    )


@never_cache
def login_code(request):
    """Send the code (at most once per cooldown) and check it."""
    if not request.user.is_authenticated:
        return redirect("portal360:login")
    user = request.user
    try:
        device = second_factor_device(user=user)
    except ValidationFailed as exc:
        auth.logout(request)
        return render(request, "portal360/auth/no_device.html", {"error": exc}, status=403)
    form = CodeForm(request.POST or None)
    notice = ""
    if request.method == "POST" and "resend" in request.POST:
        if device.generate_is_allowed()[0]:
            device.generate_challenge()
            notice = _("A new code is on its way.")
        else:
            notice = _("Wait half a minute before asking for another code.")
        form = CodeForm()
    elif request.method == "POST" and form.is_valid():
        if not device.verify_is_allowed()[0]:
            form.add_error("code", _("Too many wrong codes: wait a little and try again."))
        elif device.verify_token(form.cleaned_data["code"].strip()):
            otp_login(request, device)
            now = timezone.now()
            request.session[SESSION_VERIFIED_AT] = int(now.timestamp())
            response = redirect(_next_url(request))
            response.set_cookie(
                DEVICE_COOKIE,
                device_mark(user=user),
                max_age=int(second_factor_period(user).total_seconds()),
                secure=not settings.DEBUG,
                httponly=True,
                samesite="Lax",
            )
            return response
        else:
            form.add_error("code", _("That code is wrong or has expired."))
    elif request.method == "GET" and not _code_pending(device):
        device.generate_challenge()
    return render(
        request,
        "portal360/auth/code.html",
        {
            "form": form,
            "next": _next_url(request),
            "channel": _("SMS") if hasattr(device, "number") else _("e-mail"),
            "destination": _masked_destination(device),
            "notice": notice,
        },
    )


def _code_pending(device) -> bool:
    """A code sent earlier is still valid: a reload of the page does not send another."""
    return bool(device.token and device.valid_until and device.valid_until > timezone.now())


@require_POST
def logout(request):
    auth.logout(request)
    return redirect("portal360:login")


def locked_out(request, credentials=None, *args, **kwargs):
    """django-axes' answer when a username or address has failed too often."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "portal360/auth/locked.html", {"minutes": minutes}, status=429)


def verified_at(request) -> datetime | None:
    stamp = request.session.get(SESSION_VERIFIED_AT)
    return datetime.fromtimestamp(stamp, tz=timezone.get_current_timezone()) if stamp else None
