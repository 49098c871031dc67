"""Per-token rate limit, counted in the shared "api" cache so that every web process sees one count."""

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def __init__(self):
        # Rates come from the token (or the setting), read per request, not from THROTTLE_RATES.
        self.cache = caches["api"]

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None  # unauthenticated requests are refused before they cost anything
        return f"api-throttle:{request.auth.pk}"

    def allow_request(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return True
        self.rate = request.auth.rate_limit or settings.API_RATE_LIMIT
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)
