"""Request rate limits: per user for authenticated requests, per client address for the rest.

Each limit is a fixed-window counter: one integer per (scope, client, window) in the cache,
incremented atomically (Redis INCR). DRF's default throttles keep a list of every request's
timestamp per client instead, up to the rate's count (100,000 floats, about 890 KB, read
and written back on every request at "100000/hour").
"""

from __future__ import annotations

import ipaddress
import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

if TYPE_CHECKING:  # rest_framework.views imports the authentication classes, which import this module
    from rest_framework.views import APIView

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rate_parse(rate: str) -> tuple[int, int]:
    """'100/hour' -> (100, 3600): the number of requests and the window in seconds."""
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip()[0]]


def window_count(*, scope: str, ident: str, rate: str) -> tuple[bool, float]:
    """Count one request of `ident` in the current window: (allowed, seconds until the window ends)."""
    limit, period = rate_parse(rate)
    now = time.time()
    key = f"throttle:{scope}:{ident}:{int(now // period)}"
    cache.add(key, 0, timeout=period + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr: this is the window's first request
        cache.add(key, 1, timeout=period + 1)
        count = 1
    return count <= limit, period - now % period


class UserThrottle(BaseThrottle):
    """Requests per authenticated user, at SEEDBOARD_THROTTLE_RATE (read per request, so tests can change it).

    Answered with 429, a Retry-After header and the usual error body; the SDK waits and retries.
    Unauthenticated requests are limited earlier, by `anonymous_throttle_check`.
    """

    def __init__(self) -> None:
        self.seconds_left: float | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not settings.SEEDBOARD_THROTTLE_ENABLED or user is None or not user.is_authenticated:
            return True
        allowed, self.seconds_left = window_count(
            scope="user", ident=str(user.pk), rate=settings.SEEDBOARD_THROTTLE_RATE
        )
        return allowed

    def wait(self) -> float | None:
        return self.seconds_left


def anonymous_throttle_check(request: Request) -> None:
    """Count a request without a valid token against its client address; Throttled beyond the rate.

    Called by the authentication class, because DRF checks permissions (and answers 401) before
    it runs throttles: without this, requests with no or a wrong token would never be limited.
    """
    wait = address_throttle_wait(request, scope="anon", rate=settings.SEEDBOARD_ANON_THROTTLE_RATE)
    if wait is not None:
        raise Throttled(wait=wait)


def address_throttle_wait(request: HttpRequest | Request, *, scope: str, rate: str) -> float | None:
    """Count a request against its client address in `scope`: None when allowed, else the seconds
    until the window ends. The address is REMOTE_ADDR, or X-Forwarded-For behind
    SEEDBOARD_NUM_PROXIES trusted proxies."""
    if not settings.SEEDBOARD_THROTTLE_ENABLED:
        return None
    # Requests whose address is not an IP address share one counter.
    ident = client_address(request) or "unknown"
    allowed, seconds_left = window_count(scope=scope, ident=ident, rate=rate)
    return None if allowed else seconds_left


def client_address(request: HttpRequest | Request) -> str | None:
    """The client's IP address: REMOTE_ADDR, or the entry SEEDBOARD_NUM_PROXIES trusted proxies added
    to X-Forwarded-For; None when that is not an IP address. The API's throttles and the sign-in
    lockouts (AXES_CLIENT_IP_CALLABLE, stored in an inet column) share it."""
    ident = BaseThrottle().get_ident(request)  # type: ignore[arg-type]  # it reads request.META only
    try:
        return str(ipaddress.ip_address(ident))
    except ValueError:
        return None
