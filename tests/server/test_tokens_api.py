"""API tokens: several per user, named, scoped, expiring, revocable, hashed, audited."""

from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from server.accounts.models import ApiToken, AuditEvent
from server.tracking.models import Project


def _bearer(text: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {text}")
    return client


def test_a_user_creates_named_tokens_and_sees_them_only_by_prefix(api):
    created = api.post("/api/v1/tokens/", {"name": "laptop", "scope": "read"}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith(f"sb_{body['prefix']}_")
    assert body["scope"] == "read" and body["name"] == "laptop"
    listed = api.get("/api/v1/tokens/").json()
    assert {token["name"] for token in listed} == {"", "laptop"}
    assert all("token" not in token and "digest" not in token for token in listed)
    stored = ApiToken.objects.get(prefix=body["prefix"])
    assert body["token"].split("_", 2)[2] not in stored.digest


def test_a_read_token_reads_but_gets_403_on_every_write(api):
    text = api.post("/api/v1/tokens/", {"scope": "read"}, format="json").json()["token"]
    reader = _bearer(text)
    assert reader.get("/api/v1/projects/").status_code == 200
    for method, path, body in [
        ("post", "/api/v1/projects/", {"team": "acme", "slug": "p"}),
        ("post", "/api/v1/runs/", {"project": "acme/p", "model": "m"}),
        ("post", "/api/v1/tokens/", {}),
        ("post", "/api/v1/teams/", {"slug": "x"}),
        ("delete", "/api/v1/tokens/whatever/", None),
    ]:
        response = getattr(reader, method)(path, body, format="json")
        assert response.status_code == 403, (method, path)
        assert response.json()["error"]["code"] == "read_only_token"
    assert ApiToken.objects.filter(user__username="alice").count() == 2  # no token made by the reader
    assert not Project.objects.exists()


def test_an_expired_token_is_refused(api):
    soon = (timezone.now() + timedelta(minutes=5)).isoformat()
    text = api.post("/api/v1/tokens/", {"expires_at": soon}, format="json").json()["token"]
    assert _bearer(text).get("/api/v1/auth/whoami/").status_code == 200
    ApiToken.objects.filter(expires_at__isnull=False).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _bearer(text).get("/api/v1/auth/whoami/")
    assert response.status_code == 401


def test_an_expiry_in_the_past_is_a_400(api):
    response = api.post("/api/v1/tokens/", {"expires_at": "2001-01-01T00:00:00Z"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "expires_at"


def test_revoking_a_token_stops_it_and_is_audited(api):
    body = api.post("/api/v1/tokens/", {"name": "ci"}, format="json").json()
    assert api.delete(f"/api/v1/tokens/{body['prefix']}/").status_code == 204
    assert _bearer(body["token"]).get("/api/v1/auth/whoami/").status_code == 401
    actions = list(AuditEvent.objects.filter(target=body["prefix"]).values_list("action", flat=True))
    assert sorted(actions) == ["token.create", "token.revoke"]


def test_a_user_cannot_revoke_another_users_token(client_for):
    alice = client_for("acme", "alice")
    mallory = client_for("rival", "mallory")
    prefix = alice.post("/api/v1/tokens/", {}, format="json").json()["prefix"]
    assert mallory.delete(f"/api/v1/tokens/{prefix}/").status_code == 404
    assert ApiToken.objects.get(prefix=prefix).revoked_at is None


def test_last_used_is_recorded(api):
    api.get("/api/v1/auth/whoami/")
    assert ApiToken.objects.get(user__username="alice").last_used_at is not None


def test_createtoken_makes_a_read_token_that_expires(db, capsys):
    call_command("createtoken", "--team", "acme", "--user", "bob", "--scope", "read", "--expires-days", "7")
    text = capsys.readouterr().out.strip()
    token = ApiToken.objects.get(user__username="bob")
    assert token.scope == "read"
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)
    assert _bearer(text).post("/api/v1/projects/", {"team": "acme", "slug": "p"}, format="json").status_code == 403


def test_active_tokens_per_user_are_capped(api, monkeypatch):
    from server.accounts import services

    monkeypatch.setattr(services, "MAX_ACTIVE_TOKENS", 3)
    assert [api.post("/api/v1/tokens/", {}, format="json").status_code for _ in range(3)] == [201, 201, 400]
