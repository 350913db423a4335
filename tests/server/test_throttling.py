from __future__ import annotations

from django.core.cache import cache
from django.test import override_settings


@override_settings(SEEDBOARD_THROTTLE_RATE="3/minute", SEEDBOARD_THROTTLE_ENABLED=True)
def test_a_user_over_the_rate_gets_429_with_retry_after(client_for):
    cache.clear()
    api = client_for("acme", "busy")
    statuses = [api.get("/api/v1/auth/whoami/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api.get("/api/v1/auth/whoami/")
    assert response.json()["error"]["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 61
    other = client_for("acme", "calm")
    assert other.get("/api/v1/auth/whoami/").status_code == 200  # the limit is per user
    cache.clear()
