"""OpenID Connect sign-in per client, with mozilla-django-oidc: its views and backend, configured from
the client's ClientFederation (chosen by the sign-in URL, kept in the session until the callback)
instead of from global settings. A federated user must already exist, active, in that client, with the
e-mail address the provider asserts: nobody is created by signing in."""

import os
import time

import jwt
import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.http import Http404
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from ledger.models import User

from .models import ClientFederation

SESSION_FEDERATION = "portal360_federation"
_DISCOVERY: dict[str, tuple[float, dict]] = {}
_DISCOVERY_SECONDS = 3600


def discovery(issuer: str) -> dict:
    """The provider's metadata, read at most once an hour per process."""
    hit = _DISCOVERY.get(issuer)
    if hit is None or time.monotonic() - hit[0] > _DISCOVERY_SECONDS:
        answer = requests.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration", timeout=10)
        answer.raise_for_status()
        hit = _DISCOVERY[issuer] = (time.monotonic(), answer.json())
    return hit[1]


def federation_settings(federation: ClientFederation) -> dict:
    meta = discovery(federation.issuer)
    secret = os.environ.get(federation.secret_env, "")
    if not secret:
        raise ImproperlyConfigured(f"the client secret variable {federation.secret_env} is not set")
    return {
        "OIDC_OP_AUTHORIZATION_ENDPOINT": meta["authorization_endpoint"],
        "OIDC_OP_TOKEN_ENDPOINT": meta["token_endpoint"],
        "OIDC_OP_USER_ENDPOINT": meta["userinfo_endpoint"],
        "OIDC_OP_JWKS_ENDPOINT": meta["jwks_uri"],
        "OIDC_RP_CLIENT_ID": federation.oidc_client_id,
        "OIDC_RP_CLIENT_SECRET": secret,
        "OIDC_RP_SIGN_ALGO": "RS256",
        "OIDC_RP_SCOPES": federation.scopes,
        "OIDC_AUTHENTICATION_CALLBACK_URL": "portal360:oidc_callback",
        "OIDC_USE_PKCE": True,
        "OIDC_CREATE_USER": False,
        "OIDC_VERIFY_SSL": not settings.DEBUG or federation.issuer.startswith("https://"),
        "OIDC_TIMEOUT": 10,
        "LOGIN_REDIRECT_URL": "/360/",
        "LOGIN_REDIRECT_URL_FAILURE": "/360/login/?federation=failed",
    }


class _FederatedSettings:
    """get_settings from the federation bound to this instance; the library's defaults otherwise."""

    federation_config: dict | None = None

    def get_settings(self, attr, *args):  # an instance method: the library calls self.get_settings(...)
        if self.federation_config is not None and attr in self.federation_config:
            return self.federation_config[attr]
        if args:
            return args[0]
        return None


class FederationStartView(_FederatedSettings, OIDCAuthenticationRequestView):
    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        federation = ClientFederation.objects.filter(slug=kwargs["slug"], enabled=True).first()
        if federation is None:
            raise Http404("no such sign-in")
        self.federation_config = federation_settings(federation)
        request.session[SESSION_FEDERATION] = federation.pk
        self.OIDC_OP_AUTH_ENDPOINT = self.get_settings("OIDC_OP_AUTHORIZATION_ENDPOINT")
        self.OIDC_RP_CLIENT_ID = self.get_settings("OIDC_RP_CLIENT_ID")

    def get(self, request, slug):
        return super().get(request)


class FederationCallbackView(_FederatedSettings, OIDCAuthenticationCallbackView):
    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        federation = ClientFederation.objects.filter(
            pk=request.session.get(SESSION_FEDERATION), enabled=True
        ).first()
        self.federation_config = federation_settings(federation) if federation else {
            "LOGIN_REDIRECT_URL_FAILURE": "/360/login/?federation=failed"
        }  # fmt: skip

    def login_success(self):
        from .middleware import SESSION_FEDERATED

        response = super().login_success()
        # The client's provider brings its own second factor: ours is not asked.
        self.request.session[SESSION_FEDERATED] = True
        self.request.session.pop(SESSION_FEDERATION, None)
        return response


class ClientOIDCBackend(_FederatedSettings, OIDCAuthenticationBackend):
    """Only for a callback of a federation started in this session; never for a password."""

    def __init__(self, *args, **kwargs):
        self.federation = None
        super().__init__(*args, **kwargs)

    def authenticate(self, request, **kwargs):
        if request is None or "code" not in request.GET or "password" in kwargs:
            return None
        federation = ClientFederation.objects.filter(
            pk=request.session.get(SESSION_FEDERATION), enabled=True
        ).first()
        if federation is None:
            return None
        self.federation = federation
        self.federation_config = federation_settings(federation)
        for attr in ("OIDC_OP_TOKEN_ENDPOINT", "OIDC_OP_USER_ENDPOINT", "OIDC_OP_JWKS_ENDPOINT",
                     "OIDC_RP_CLIENT_ID", "OIDC_RP_CLIENT_SECRET", "OIDC_RP_SIGN_ALGO"):  # fmt: skip
            setattr(self, attr, self.get_settings(attr))
        return super().authenticate(request, **kwargs)

    def retrieve_matching_jwk(self, token):
        """The provider's signing key for this token: by `kid` when the token names one (the library
        insists on it, but a provider with one key may send none), and by algorithm."""
        keys = requests.get(
            self.OIDC_OP_JWKS_ENDPOINT, timeout=10, verify=self.get_settings("OIDC_VERIFY_SSL", True)
        )
        keys.raise_for_status()
        header = jwt.get_unverified_header(token)
        for key in keys.json().get("keys", []):
            if header.get("kid") and key.get("kid") not in (None, header["kid"]):
                continue
            if key.get("alg", header.get("alg")) != header.get("alg"):
                continue
            return jwt.PyJWK(key)
        raise SuspiciousOperation("no key of the provider matches the token")

    def filter_users_by_claims(self, claims):
        email = claims.get("email", "")
        if not email or claims.get("email_verified") is False:
            return User.objects.none()
        return User.objects.filter(client=self.federation.client, is_active=True, email__iexact=email)
