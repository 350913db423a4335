"""Sign-in lockouts (django-axes): failed sign-ins lock an account from every address and an
address for every account, until the cool-off ends, an administrator unlocks, or a success."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from server.accounts.services import user_set_password
from server.web.middleware import CONTENT_SECURITY_POLICY
from tests.web.conftest import PASSWORD

# The per-address rate limit of the sign-in form (SEEDBOARD_SIGNIN_THROTTLE_RATE) is a separate
# guard, tested in test_pages.py; off here so that only the lockouts answer.
pytestmark = pytest.mark.django_db
no_rate_limit = override_settings(SEEDBOARD_THROTTLE_ENABLED=False)


@pytest.fixture(autouse=True)
def _passwords(two_teams: object) -> None:
    """alice and mallory sign in with PASSWORD; bob, carol, dave and erin do not exist."""
    user_set_password(username="mallory", password=PASSWORD)


ATTACKER, OTHER = "192.0.2.20", "198.51.100.5"


def attempt(address: str, username: str, password: str = "wrong", **headers: str) -> int:
    response = Client(REMOTE_ADDR=address, headers=headers).post(
        "/login/", {"username": username, "password": password}
    )
    return response.status_code


@no_rate_limit
def test_five_failures_lock_the_account_from_every_address() -> None:
    assert [attempt(ATTACKER, "alice") for _ in range(5)] == [200, 200, 200, 200, 429]
    assert attempt(ATTACKER, "alice", PASSWORD) == 429  # even the right password, for now
    assert attempt(OTHER, "alice", PASSWORD) == 429  # the account is locked, not only the address
    assert attempt(OTHER, "mallory", PASSWORD) == 302  # other accounts elsewhere are not


@no_rate_limit
def test_failures_against_many_accounts_lock_the_address_for_every_account() -> None:
    statuses = [attempt(ATTACKER, name) for name in ["alice", "bob", "carol", "dave", "erin"]]
    assert statuses == [200, 200, 200, 200, 429]
    assert attempt(ATTACKER, "mallory", PASSWORD) == 429  # a different user from that address
    assert attempt(OTHER, "mallory", PASSWORD) == 302  # the same user from elsewhere


@no_rate_limit
def test_the_locked_out_page_is_a_readable_429_like_the_sign_in_page() -> None:
    for _ in range(5):
        attempt(ATTACKER, "alice")
    response = Client(REMOTE_ADDR=ATTACKER).post("/login/", {"username": "alice", "password": PASSWORD})
    body = response.content.decode()
    assert response.status_code == 429 and response["Content-Type"].startswith("text/html")
    assert "<h1>Sign-in locked</h1>" in body and "Try again in 15 minutes" in body
    assert "axes_reset_username" in body and 'href="/login/"' in body
    assert response["Retry-After"] == "900"
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "sessionid" not in response.cookies


@no_rate_limit
def test_a_json_client_gets_the_error_shape_with_a_code() -> None:
    for _ in range(5):
        attempt(ATTACKER, "alice")
    response = Client(REMOTE_ADDR=ATTACKER, headers={"Accept": "application/json"}).post(
        "/login/", {"username": "alice", "password": PASSWORD}
    )
    assert response.status_code == 429 and response["Retry-After"] == "900"
    error = response.json()["error"]
    assert error["code"] == "locked_out" and "Try again in 15 minutes" in error["message"]


@no_rate_limit
@override_settings(AXES_COOLOFF_TIME=timedelta(seconds=1))
def test_after_the_cool_off_the_right_password_signs_in_and_clears_the_failures() -> None:
    assert [attempt(ATTACKER, "alice") for _ in range(5)][-1] == 429
    assert attempt(ATTACKER, "alice", PASSWORD) == 429
    time.sleep(1.2)
    assert attempt(ATTACKER, "alice", PASSWORD) == 302
    # The success cleared the count: four more failures are allowed before the fifth locks again
    # (counted under the usual cool-off, so a slow machine's five attempts do not outlast it).
    with override_settings(AXES_COOLOFF_TIME=timedelta(minutes=15)):
        assert [attempt(ATTACKER, "alice") for _ in range(5)] == [200, 200, 200, 200, 429]


@no_rate_limit
def test_signing_in_to_ones_own_account_does_not_clear_failures_against_another() -> None:
    for _ in range(4):
        assert attempt(ATTACKER, "alice") == 200
    assert attempt(ATTACKER, "mallory", PASSWORD) == 302  # the attacker's own account
    assert attempt(ATTACKER, "alice") == 429  # alice's fifth failure still counts
    assert attempt(OTHER, "alice", PASSWORD) == 429


@no_rate_limit
def test_an_administrator_unlocks_an_account_with_axes_reset_username() -> None:
    for _ in range(5):
        attempt(ATTACKER, "alice")
    assert attempt(OTHER, "alice", PASSWORD) == 429
    call_command("axes_reset_username", "alice")
    assert attempt(OTHER, "alice", PASSWORD) == 302


@no_rate_limit
@override_settings(REST_FRAMEWORK={"NUM_PROXIES": 1})
def test_behind_a_trusted_proxy_the_address_comes_from_x_forwarded_for() -> None:
    proxy = "10.0.0.2"
    names = ["alice", "bob", "carol", "dave", "erin"]
    statuses = [attempt(proxy, name, X_Forwarded_For=f"203.0.113.1, {ATTACKER}") for name in names]
    assert statuses == [200, 200, 200, 200, 429]
    assert attempt(proxy, "mallory", PASSWORD, X_Forwarded_For=ATTACKER) == 429
    assert attempt(proxy, "mallory", PASSWORD, X_Forwarded_For=OTHER) == 302  # same proxy, other client


@no_rate_limit
def test_without_a_trusted_proxy_x_forwarded_for_does_not_make_a_new_address() -> None:
    names = ["alice", "bob", "carol", "dave", "erin"]
    statuses = [attempt(ATTACKER, name, X_Forwarded_For=f"203.0.113.{i}") for i, name in enumerate(names)]
    assert statuses == [200, 200, 200, 200, 429]
    assert attempt(ATTACKER, "mallory", PASSWORD, X_Forwarded_For=OTHER) == 429
