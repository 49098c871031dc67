"""The Django admin is for our own staff only, signed in (with the second factor) through 360."""

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .models import ClientFederation, News


def _login(request, extra_context=None):
    if _has_permission(request):  # signed in through 360 already: on to the page asked for
        target = request.GET.get("next", "")
        return redirect(
            target if url_has_allowed_host_and_scheme(target, {request.get_host()}) else "admin:index"
        )
    if request.user.is_authenticated:
        raise PermissionDenied("the administration is for our own staff; client operators work in 360")
    return redirect_to_login(request.get_full_path(), login_url=reverse("portal360:login"))


def _has_permission(request) -> bool:
    # The second factor is checked for every /admin/ page by portal360.middleware.
    return request.user.is_active and request.user.is_our_staff


admin.site.login = _login
admin.site.has_permission = _has_permission
admin.site.site_header = "Ledger Service: staff administration"


@admin.register(News)
class NewsAdmin(admin.ModelAdmin):
    list_display = ("title", "client", "published_at", "visible")
    list_filter = ("visible", "client")
    search_fields = ("title", "body")


@admin.register(ClientFederation)
class ClientFederationAdmin(admin.ModelAdmin):
    list_display = ("client", "enabled", "slug", "issuer", "oidc_client_id", "secret_env")
    list_filter = ("enabled",)
