"""Per-token rate limit: a fixed-window request counter per token in PostgreSQL, so that every web
process and server counts against the same limit.

One atomic statement per request (an upsert returning the new count) in an UNLOGGED table
(api.models.RateCounter). A counter, not DRF's default list of request times in the
cache: with limits of thousands per minute that list would be read and rewritten whole each time.
"""

import time

from django.conf import settings
from django.db import connection
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from .models import ApiToken

COUNT = """
INSERT INTO api_ratecounter AS c (token_id, window_start, requests) VALUES (%s, %s, 1)
ON CONFLICT (token_id, window_start) DO UPDATE SET requests = c.requests + 1
RETURNING c.requests
"""
FORGET_OLD_WINDOWS = "DELETE FROM api_ratecounter WHERE token_id = %s AND window_start < %s"


def parse_rate(rate: str) -> tuple[int, int]:
    """'600/min' -> (600, 60), as DRF reads rates."""
    return SimpleRateThrottle.parse_rate(None, rate)


class TokenRateThrottle(BaseThrottle):
    timer = time.time

    def __init__(self):
        self.retry_after = None

    def allow_request(self, request, view):
        token = request.auth
        if not isinstance(token, ApiToken):
            return True  # unauthenticated requests are refused before they cost anything
        limit, period = parse_rate(token.rate_limit or settings.API_RATE_LIMIT)
        now = self.timer()
        window_start = int(now // period) * period
        with connection.cursor() as cursor:
            cursor.execute(COUNT, [token.pk, window_start])
            count = cursor.fetchone()[0]
            if count == 1:  # the first request of a window clears the token's earlier windows
                cursor.execute(FORGET_OLD_WINDOWS, [token.pk, window_start])
        if count <= limit:
            return True
        self.retry_after = max(1, int(window_start + period - now + 0.999))
        return False

    def wait(self):
        return self.retry_after
