"""Teams: creation, members and roles, the last-admin rule, the audit log, the `team` command."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from server.accounts.models import AuditEvent, Membership
from tests.web.conftest import sign_in


@pytest.fixture
def clients(client_for):
    """Clients of acme's admin, member and viewer, and of rival's admin (another team)."""
    return {
        "admin": client_for("acme", "alice", "admin"),
        "member": client_for("acme", "bob", "member"),
        "viewer": client_for("acme", "vera", "viewer"),
        "other": client_for("rival", "mallory", "admin"),
    }


def test_a_user_creates_a_team_and_becomes_its_admin(api):
    response = api.post("/api/v1/teams/", {"slug": "vision", "name": "Vision"}, format="json")
    assert response.status_code == 201
    assert Membership.objects.get(team__slug="vision").role == "admin"
    assert {t["slug"]: t["role"] for t in api.get("/api/v1/teams/").json()} == {"acme": "admin", "vision": "admin"}
    assert api.post("/api/v1/teams/", {"slug": "vision"}, format="json").status_code == 409


def test_members_see_the_team_and_outsiders_get_404(clients):
    detail = clients["viewer"].get("/api/v1/teams/acme/")
    assert detail.status_code == 200
    assert {m["username"]: m["role"] for m in detail.json()["members"]} == {
        "alice": "admin",
        "bob": "member",
        "vera": "viewer",
    }
    assert clients["other"].get("/api/v1/teams/acme/").status_code == 404
    missing = clients["other"].get("/api/v1/teams/nope/").content.replace(b"nope", b"acme")
    assert clients["other"].get("/api/v1/teams/acme/").content == missing


def test_only_admins_add_members_and_change_roles(clients, django_user_model):
    django_user_model.objects.create_user("carol")
    for who in ("member", "viewer"):
        response = clients[who].post("/api/v1/teams/acme/members/", {"username": "carol"}, format="json")
        assert response.status_code == 403, who
    assert clients["other"].post("/api/v1/teams/acme/members/", {"username": "carol"}, format="json").status_code == 404
    added = clients["admin"].post("/api/v1/teams/acme/members/", {"username": "carol", "role": "viewer"}, format="json")
    assert added.status_code == 201 and added.json()["password"] is None
    assert (
        clients["member"].patch("/api/v1/teams/acme/members/carol/", {"role": "admin"}, format="json").status_code
        == 403
    )
    changed = clients["admin"].patch("/api/v1/teams/acme/members/carol/", {"role": "member"}, format="json")
    assert changed.json()["role"] == "member"
    events = AuditEvent.objects.filter(team__slug="acme", target="carol").order_by("pk")
    assert [(e.action, e.actor_name) for e in events] == [("member.add", "alice"), ("member.role", "alice")]
    assert events[1].detail == {"from": "viewer", "to": "member"}


def test_an_admin_invites_a_new_user_with_a_generated_password(clients, client):
    added = (
        clients["admin"]
        .post("/api/v1/teams/acme/members/", {"username": "newbie", "create_user": True}, format="json")
        .json()
    )
    assert added["role"] == "member" and len(added["password"]) >= 12
    sign_in(client, "newbie", added["password"])
    unknown = clients["admin"].post("/api/v1/teams/acme/members/", {"username": "ghost"}, format="json")
    assert unknown.status_code == 404


def test_the_last_admin_cannot_leave_or_demote_themselves(clients):
    response = clients["admin"].delete("/api/v1/teams/acme/members/alice/")
    assert response.status_code == 409
    assert "no admin left" in response.json()["error"]["message"]
    assert (
        clients["admin"].patch("/api/v1/teams/acme/members/alice/", {"role": "member"}, format="json").status_code
        == 409
    )
    clients["admin"].patch("/api/v1/teams/acme/members/bob/", {"role": "admin"}, format="json")
    assert clients["admin"].delete("/api/v1/teams/acme/members/alice/").status_code == 204
    assert not Membership.objects.filter(team__slug="acme", user__username="alice").exists()


def test_a_member_may_leave_but_not_remove_others(clients):
    assert clients["viewer"].delete("/api/v1/teams/acme/members/bob/").status_code == 403
    assert clients["viewer"].delete("/api/v1/teams/acme/members/vera/").status_code == 204
    assert clients["viewer"].get("/api/v1/teams/acme/").status_code == 404


def test_admins_list_and_revoke_their_members_tokens(clients):
    listed = clients["admin"].get("/api/v1/teams/acme/tokens/").json()
    assert {t["user"] for t in listed} == {"alice", "bob", "vera"}
    assert clients["member"].get("/api/v1/teams/acme/tokens/").status_code == 403
    bob_prefix = next(t["prefix"] for t in listed if t["user"] == "bob")
    assert clients["other"].delete(f"/api/v1/teams/acme/tokens/{bob_prefix}/").status_code == 404
    assert clients["admin"].delete(f"/api/v1/teams/acme/tokens/{bob_prefix}/").status_code == 204
    assert clients["member"].get("/api/v1/auth/whoami/").status_code == 401


def test_the_audit_log_is_for_admins_only(clients):
    clients["admin"].patch("/api/v1/teams/acme/members/vera/", {"role": "member"}, format="json")
    audit = clients["admin"].get("/api/v1/teams/acme/audit/")
    assert audit.status_code == 200
    assert audit.json()[0]["action"] == "member.role" and audit.json()[0]["actor"] == "alice"
    assert audit.json()[0]["ip"] == "127.0.0.1"
    assert clients["member"].get("/api/v1/teams/acme/audit/").status_code == 403
    assert clients["other"].get("/api/v1/teams/acme/audit/").status_code == 404


def test_bad_roles_and_usernames_are_400(clients):
    admin = clients["admin"]
    assert (
        admin.post("/api/v1/teams/acme/members/", {"username": "x", "role": "owner"}, format="json").status_code == 400
    )
    assert admin.post("/api/v1/teams/acme/members/", {"username": "a b"}, format="json").status_code == 400
    assert admin.post("/api/v1/teams/", {"slug": "Bad Slug"}, format="json").status_code == 400


def test_the_team_command_manages_teams(db, capsys, django_user_model):
    django_user_model.objects.create_user("root")
    call_command("team", "create", "lab", "--admin", "root")
    call_command("team", "add", "lab", "newbie", "--role", "viewer", "--create-user")
    assert "sign in with password" in capsys.readouterr().out
    call_command("team", "role", "lab", "newbie", "member")
    capsys.readouterr()
    call_command("team", "members", "lab")
    assert capsys.readouterr().out.splitlines() == ["newbie\tmember", "root\tadmin"]
    with pytest.raises(CommandError, match="no admin left"):
        call_command("team", "remove", "lab", "root")
    assert AuditEvent.objects.filter(team__slug="lab").count() == 3
