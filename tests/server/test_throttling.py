from __future__ import annotations

import time

from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient


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


@override_settings(SEEDBOARD_ANON_THROTTLE_RATE="3/minute", SEEDBOARD_THROTTLE_ENABLED=True)
def test_requests_without_a_valid_token_are_limited_per_client_address(db):
    cache.clear()
    guesser = APIClient(REMOTE_ADDR="192.0.2.7")
    statuses = [
        guesser.get("/api/v1/auth/whoami/").status_code,
        guesser.get("/api/v1/auth/whoami/", HTTP_AUTHORIZATION="Bearer sb_nope_nope").status_code,
        guesser.get("/api/v1/auth/whoami/", HTTP_AUTHORIZATION="Basic abc").status_code,
        # A forged X-Forwarded-For does not make a new client: no proxy is trusted by default.
        guesser.get("/api/v1/auth/whoami/", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code,
    ]
    assert statuses == [401, 401, 401, 429]
    throttled = guesser.get("/api/v1/auth/whoami/", HTTP_AUTHORIZATION="Bearer sb_nope_nope")
    assert throttled.json()["error"]["code"] == "throttled" and 0 < int(throttled["Retry-After"]) <= 61
    assert APIClient(REMOTE_ADDR="192.0.2.8").get("/api/v1/auth/whoami/").status_code == 401  # per address
    cache.clear()


@override_settings(SEEDBOARD_THROTTLE_RATE="1000/hour", SEEDBOARD_THROTTLE_ENABLED=True)
def test_a_users_count_is_one_small_counter_not_a_list_of_timestamps(client_for):
    cache.clear()
    api = client_for("acme", "steady")
    user_pk = User.objects.get(username="steady").pk
    window = int(time.time() // 3600)
    for _ in range(5):
        assert api.get("/api/v1/auth/whoami/").status_code == 200
    if int(time.time() // 3600) == window:  # not across an hour boundary
        assert cache.get(f"throttle:user:{user_pk}:{window}") == 5
    cache.clear()
