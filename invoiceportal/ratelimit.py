"""Requests per client address, counted in PostgreSQL (fixed windows, one upsert per request) so that
every web process shares one limit. Two counters: all portal requests, and links that did not open
(guessing costs the guesser, not us: once over the limit no token is even looked up)."""

import time

from django.conf import settings
from django.db import connection
from rest_framework.throttling import SimpleRateThrottle

COUNT = """
INSERT INTO invoiceportal_ratecounter AS c (key, window_start, requests) VALUES (%s, %s, %s)
ON CONFLICT (key, window_start) DO UPDATE SET requests = c.requests + EXCLUDED.requests
RETURNING c.requests
"""
HIT = """
WITH hit AS (
    INSERT INTO invoiceportal_ratecounter AS c (key, window_start, requests) VALUES (%s, %s, 1)
    ON CONFLICT (key, window_start) DO UPDATE SET requests = c.requests + 1
    RETURNING c.requests
)
SELECT (SELECT requests FROM hit),
       (SELECT requests FROM invoiceportal_ratecounter WHERE key = %s AND window_start = %s)
"""
FORGET = "DELETE FROM invoiceportal_ratecounter WHERE key = %s AND window_start < %s"


def _rate(name: str, default: str) -> tuple[int, int]:
    return SimpleRateThrottle.parse_rate(None, getattr(settings, name, default) or default)


def client_address(request) -> str:
    # Behind a proxy REMOTE_ADDR is the proxy: the deployment sets it from the proxy's header
    # (e.g. gunicorn --forwarded-allow-ips), never from a header the client controls.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _count(key: str, period: int, add: int) -> tuple[int, int]:
    now = time.time()
    window_start = int(now // period) * period
    with connection.cursor() as cursor:
        cursor.execute(COUNT, [key, window_start, add])
        count = cursor.fetchone()[0]
        if count == add:  # the first request of a window clears the address's earlier windows
            cursor.execute(FORGET, [key, window_start])
    return count, max(1, int(window_start + period - now + 0.999))


def hit(request) -> int | None:
    """Count this request; the seconds to wait if the address is over a limit, else None. One statement:
    the request counted and the address's bad-link count read."""
    address = client_address(request)
    limit, period = _rate("INVOICE_PORTAL_RATE_LIMIT", "120/min")
    bad_limit, bad_period = _rate("INVOICE_PORTAL_BAD_LINK_LIMIT", "20/hour")
    now = time.time()
    window, bad_window = int(now // period) * period, int(now // bad_period) * bad_period
    with connection.cursor() as cursor:
        cursor.execute(HIT, [f"req:{address}", window, f"bad:{address}", bad_window])
        count, bad = cursor.fetchone()
        if count == 1:  # the first request of a window clears the address's earlier windows
            cursor.execute(FORGET, [f"req:{address}", window])
    if count > limit:
        return max(1, int(window + period - now + 0.999))
    if bad is not None and bad >= bad_limit:
        return max(1, int(bad_window + bad_period - now + 0.999))
    return None


def bad_link(request) -> None:
    _, period = _rate("INVOICE_PORTAL_BAD_LINK_LIMIT", "20/hour")
    _count(f"bad:{client_address(request)}", period, 1)
