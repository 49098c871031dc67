"""Sign-in and the second factor on every 360 and admin page: an anonymous visitor of a 360 page goes to
the sign-in page; a signed-in user whose code is missing or older than their period goes to the code
page before anything else."""

from datetime import datetime

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from .services import second_factor_period

SESSION_VERIFIED_AT = "portal360_verified_at"
SESSION_FEDERATED = "portal360_federated"


def verification_fresh(request) -> bool:
    """The code was given on this session within the user's period (or the client's own sign-in
    federated it, which brings its own factor)."""
    if request.session.get(SESSION_FEDERATED):
        return True
    if not request.user.is_verified():
        return False
    stamp = request.session.get(SESSION_VERIFIED_AT)
    if not stamp:
        return False
    verified_at = datetime.fromtimestamp(stamp, tz=timezone.get_current_timezone())
    return timezone.now() - verified_at < second_factor_period(request.user)


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith("/360/") and not self._open(path) and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url=reverse("portal360:login"))
        if request.user.is_authenticated and (path.startswith("/360/") or path.startswith("/admin/")):
            if not self._open(path) and not verification_fresh(request):
                return redirect(
                    f"{reverse('portal360:login_code')}?{urlencode({'next': request.get_full_path()})}"
                )
        return self.get_response(request)

    @staticmethod
    def _open(path: str) -> bool:
        """Pages a user reaches before the code is given, or to leave."""
        return path in _OPEN_PATHS or path.startswith(("/360/password-reset/", "/360/sso/"))


_OPEN_PATHS = ("/360/login/", "/360/login/code/", "/360/logout/", "/360/language/")
