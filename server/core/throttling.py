from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import UserRateThrottle


class UserThrottle(UserRateThrottle):
    """Requests per user, at SEEDBOARD_THROTTLE_RATE (read per request, so tests can change it).

    Answered with 429, a Retry-After header and the usual error body; the SDK waits and retries.
    """

    def get_rate(self) -> str | None:
        if not settings.SEEDBOARD_THROTTLE_ENABLED:
            return None
        return str(settings.SEEDBOARD_THROTTLE_RATE)
