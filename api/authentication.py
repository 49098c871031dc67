"""`Authorization: Bearer <token>`: the request acts as an ApiToken (request.auth), never as a user."""

from rest_framework import authentication, exceptions

from .models import ApiToken
from .selectors import token_for_secret
from .services import token_used


class TokenPrincipal:
    """request.user for a token: authenticated, but not a Django user (no session, no admin)."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_anonymous = False

    def __init__(self, token: ApiToken):
        self.token = token
        self.pk = None

    def __str__(self):
        return self.token.actor_label


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != self.keyword.lower():
            raise exceptions.AuthenticationFailed("use the header Authorization: Bearer <token>")
        token = token_for_secret(parts[1])
        if token is None:
            raise exceptions.AuthenticationFailed("unknown or revoked token")
        token_used(token)
        # for the action log (payex_ledger.middleware), which sees only Django's request
        request._request.audit_token, request._request.audit_api_request = token, request
        return TokenPrincipal(token), token

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) when the token is missing.
        return f'{self.keyword} realm="api"'
