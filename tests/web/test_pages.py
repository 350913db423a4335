"""The UI's pages through Django's test client: sign-in, access, CSRF and the CSP header."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from server.accounts.models import ApiToken
from server.web.middleware import CONTENT_SECURITY_POLICY
from tests.web.conftest import PASSWORD, sign_in

pytestmark = pytest.mark.django_db


def test_a_signed_out_visitor_is_sent_to_the_sign_in_page(client: Client) -> None:
    for path in ["/", "/tokens/", "/search/?q=x", "/acme/vision/"]:
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


def test_signing_in_with_the_password_opens_the_home_page(client: Client, two_teams: object) -> None:
    page = client.get("/login/")
    assert page.status_code == 200 and b'name="csrfmiddlewaretoken"' in page.content
    response = client.post("/login/", {"username": "alice", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert b"Signed in as <strong>alice</strong>" in response.content


def test_a_wrong_password_is_refused(client: Client, two_teams: object) -> None:
    response = client.post("/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert b"did not match" in response.content
    assert client.get("/").status_code == 302


@override_settings(SEEDBOARD_SIGNIN_THROTTLE_RATE="3/minute", SEEDBOARD_THROTTLE_ENABLED=True)
def test_sign_in_attempts_are_limited_per_client_address(two_teams: object) -> None:
    cache.clear()
    guesser = Client(REMOTE_ADDR="192.0.2.9")
    statuses = [guesser.post("/login/", {"username": "alice", "password": f"guess{i}"}).status_code for i in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = guesser.post("/login/", {"username": "alice", "password": PASSWORD})  # even the right one, for now
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 61
    assert b"Too many sign-in attempts" in refused.content
    other = Client(REMOTE_ADDR="192.0.2.10").post("/login/", {"username": "alice", "password": PASSWORD})
    assert other.status_code == 302  # another address signs in
    cache.clear()


def test_the_home_page_lists_the_users_projects_and_not_other_teams(alice: Client) -> None:
    body = alice.get("/").content.decode()
    assert 'href="/acme/vision/"' in body
    assert "rival" not in body
    assert "baseline-seed0" in body  # running now
    assert 'data-chart="chart-runs-per-project"' in body and 'id="chart-runs-per-project"' in body


def test_a_project_page_lists_its_runs(alice: Client) -> None:
    body = alice.get("/acme/vision/").content.decode()
    assert "baseline-seed0" in body and "wide-seed1" in body and "wrn" in body


def test_another_teams_project_is_a_404_page_like_a_missing_one(alice: Client) -> None:
    for path in ["/rival/secret/", "/acme/nothing/", "/nobody/nothing/"]:
        response = alice.get(path)
        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/html")
        assert b"baseline-rival" not in response.content


def test_api_paths_keep_their_json_404(alice: Client) -> None:
    response = alice.get("/api/v1/no-such-endpoint/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_search_finds_runs_by_name_in_the_users_projects_only(alice: Client) -> None:
    body = alice.get("/search/?q=baseline").content.decode()
    assert "baseline-seed0" in body
    assert "baseline-rival" not in body


def test_ui_pages_carry_the_content_security_policy(alice: Client, client: Client) -> None:
    for response in [alice.get("/"), alice.get("/tokens/"), client.get("/login/"), alice.get("/rival/secret/")]:
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    policy = CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in policy and "unsafe-inline" not in policy and "script-src 'self'" in policy
    assert "Content-Security-Policy" not in alice.get("/api/v1/docs/")


def test_pages_have_no_inline_scripts_but_json_data(alice: Client) -> None:
    for path in ["/", "/tokens/", "/acme/vision/", "/search/?q=seed"]:
        body = alice.get(path).content.decode()
        for tag in re.findall(r"<script[^>]*>", body):
            assert "src=" in tag or 'type="application/json"' in tag, tag


def test_a_token_is_created_shown_once_and_revoked(alice: Client) -> None:
    response = alice.post("/tokens/", {"name": "laptop"})
    text = re.search(r'value="(sb_[0-9a-f]{12}_[^"]+)"', response.content.decode()).group(1)  # type: ignore[union-attr]
    token = ApiToken.objects.get(prefix=text.split("_")[1])
    assert token.name == "laptop" and token.user.username == "alice"

    listing = alice.get("/tokens/").content.decode()
    assert f"sb_{token.prefix}_" in listing and text not in listing
    api = Client(headers={"Authorization": f"Bearer {text}"})
    assert api.get("/api/v1/projects/").status_code == 200

    assert alice.post(f"/tokens/{token.prefix}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api.get("/api/v1/projects/").status_code == 401


def test_another_users_token_cannot_be_revoked(alice: Client) -> None:
    mallory_token = ApiToken.objects.get(user__username="mallory")
    assert alice.post(f"/tokens/{mallory_token.prefix}/revoke/").status_code == 404
    mallory_token.refresh_from_db()
    assert mallory_token.revoked_at is None


def test_forms_without_the_csrf_token_are_refused(two_teams: object) -> None:
    client = Client(enforce_csrf_checks=True)
    sign_in(client, "alice")
    prefix = ApiToken.objects.filter(user__username="alice").values_list("prefix", flat=True).first()
    assert client.post("/tokens/", {"name": "x"}).status_code == 403
    assert client.post(f"/tokens/{prefix}/revoke/").status_code == 403
    assert client.post("/logout/").status_code == 403
    assert ApiToken.objects.filter(user__username="alice", revoked_at__isnull=True).count() == 1


def test_signing_out_takes_a_post_and_ends_the_session(alice: Client) -> None:
    assert alice.get("/logout/").status_code == 405
    response = alice.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert alice.get("/").status_code == 302
