from __future__ import annotations

from django.core.management import call_command
from rest_framework.test import APIClient

from server.accounts.models import ApiToken, Membership, Team


def test_createtoken_creates_team_user_and_prints_only_the_token(db, capsys):
    call_command("createtoken", "--team", "newteam", "--user", "newbie")
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("sb_") and "\n" not in printed
    assert Membership.objects.filter(team__slug="newteam", user__username="newbie").exists()


def test_tokens_are_stored_hashed(make_token):
    text = make_token()
    token = ApiToken.objects.get()
    assert text not in {token.digest, token.prefix, token.name}
    assert text.split("_", 2)[2] not in token.digest  # the secret may itself contain "_"
    assert len(token.digest) == 64


def test_whoami_answers_with_the_user_and_teams(api):
    response = api.get("/api/v1/auth/whoami/")
    assert response.status_code == 200
    assert response.json() == {"user": "alice", "teams": ["acme"], "scope": "write"}


def test_every_endpoint_needs_a_token(db):
    client = APIClient()
    for path in ["/api/v1/runs/?project=a/b", "/api/v1/projects/", "/api/v1/auth/whoami/"]:
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "not_authenticated"
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_malformed_or_unknown_token_is_rejected(db):
    client = APIClient()
    for header in ["Bearer nonsense", "Bearer sb_000000000000_secret", "Token abc", "Bearer"]:
        client.credentials(HTTP_AUTHORIZATION=header)
        response = client.get("/api/v1/auth/whoami/")
        assert response.status_code == 401, header
        assert response.json()["error"]["code"] == "not_authenticated"


def test_a_revoked_token_stops_working(make_token, capsys):
    text = make_token()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {text}")
    assert client.get("/api/v1/auth/whoami/").status_code == 200
    call_command("revoketoken", text)
    response = client.get("/api/v1/auth/whoami/")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Invalid or revoked token."


def test_a_token_with_a_wrong_secret_is_rejected(make_token):
    text = make_token()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {text[:-4]}AAAA")
    assert client.get("/api/v1/auth/whoami/").status_code == 401


def test_a_viewer_can_read_but_not_write(client_for):
    admin = client_for("acme", "alice")
    viewer = client_for("acme", "victor", role="viewer")
    run = admin.post("/api/v1/runs/", {"project": "acme/p", "model": "m"}, format="json").json()
    assert viewer.get(f"/api/v1/runs/{run['id']}/").status_code == 200
    response = viewer.patch(f"/api/v1/runs/{run['id']}/", {"notes": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert Team.objects.get(slug="acme").memberships.count() == 2
