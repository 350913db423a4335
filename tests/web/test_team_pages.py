"""The team pages, the project settings page and the tokens page: who sees and may do what."""

from __future__ import annotations

import pytest
from django.test import Client

from server.accounts.models import ApiToken, AuditEvent, Membership
from server.accounts.services import member_add, user_set_password
from server.tracking.models import Project
from tests.web.conftest import PASSWORD, sign_in


@pytest.fixture
def bob(two_teams, django_user_model) -> Client:
    """bob, a viewer of acme, signed in."""
    from server.accounts.models import Team

    member_add(team=Team.objects.get(slug="acme"), username="bob", role="viewer", actor=None, create_user=True)
    user_set_password(username="bob", password=PASSWORD)
    client = Client()
    sign_in(client, "bob")
    return client


def test_the_home_page_links_the_team_and_offers_a_new_team(alice):
    page = alice.get("/").content.decode()
    assert 'href="/teams/acme/"' in page
    assert 'action="/teams/new/"' in page


def test_an_admin_sees_members_tokens_and_the_audit_link(alice, bob):
    page = alice.get("/teams/acme/").content.decode()
    assert "bob" in page and "viewer" in page
    assert "Members&#x27; API tokens" in page or "Members' API tokens" in page
    assert 'href="/teams/acme/audit/"' in page


def test_a_viewer_sees_members_but_no_admin_controls(bob):
    page = bob.get("/teams/acme/").content.decode()
    assert "alice" in page
    assert "Add a member" not in page and "API tokens" not in page.split("<main")[1]
    response = bob.post("/teams/acme/", {"action": "role", "username": "alice", "role": "viewer"})
    assert response.status_code == 403
    assert Membership.objects.get(user__username="alice").role == "admin"
    assert bob.get("/teams/acme/audit/").status_code == 403


def test_another_team_gets_404_for_the_team_pages(alice):
    assert alice.get("/teams/rival/").status_code == 404
    assert alice.post("/teams/rival/", {"action": "add", "username": "alice"}).status_code == 404
    assert alice.get("/teams/rival/audit/").status_code == 404


def test_an_admin_adds_a_new_user_and_sees_the_password_once(alice):
    response = alice.post("/teams/acme/", {"action": "add", "username": "carol", "role": "member", "create_user": "on"})
    assert response.status_code == 200
    password = response.context["new_password"]
    assert password and password in response.content.decode()
    sign_in(Client(), "carol", password)
    assert password not in alice.get("/teams/acme/").content.decode()


def test_the_last_admin_is_told_why_they_cannot_leave(alice):
    response = alice.post("/teams/acme/", {"action": "remove", "username": "alice"})
    assert response.status_code == 409
    assert "no admin left" in response.content.decode()


def test_the_last_admin_is_not_offered_leave_until_there_is_another(alice, bob):
    page = alice.get("/teams/acme/").content.decode()
    assert "Leave team" not in page and "the only admin" in page
    assert alice.post("/teams/acme/", {"action": "role", "username": "bob", "role": "admin"}).status_code == 302
    page = alice.get("/teams/acme/").content.decode()
    assert "Leave team" in page and "the only admin" not in page


def test_an_admin_changes_a_role_and_the_audit_page_shows_it(alice, bob):
    assert alice.post("/teams/acme/", {"action": "role", "username": "bob", "role": "member"}).status_code == 302
    assert Membership.objects.get(user__username="bob").role == "member"
    audit = alice.get("/teams/acme/audit/").content.decode()
    assert "changed a role" in audit
    assert "viewer" in audit and "member" in audit


def test_an_admin_revokes_a_members_token(alice, bob, make_token):
    make_token("acme", "bob", "viewer")
    prefix = ApiToken.objects.filter(user__username="bob").values_list("prefix", flat=True).first()
    assert alice.post("/teams/acme/", {"action": "revoke", "prefix": prefix}).status_code == 302
    assert ApiToken.objects.get(prefix=prefix).revoked_at is not None


def test_project_settings_are_for_admins(alice, bob):
    assert bob.get("/acme/vision/settings/").status_code == 403
    assert alice.get("/acme/vision/settings/").status_code == 200
    assert alice.post("/acme/vision/settings/", {"action": "visibility", "visibility": "internal"}).status_code == 302
    assert Project.objects.get(slug="vision").visibility == "internal"
    assert alice.get("/rival/secret/settings/").status_code == 404


def test_deleting_a_project_needs_its_path_typed(alice):
    response = alice.post("/acme/vision/settings/", {"action": "delete", "confirm": "vision"})
    assert response.status_code == 400 and Project.objects.filter(slug="vision").exists()
    response = alice.post("/acme/vision/settings/", {"action": "delete", "confirm": "acme/vision"})
    assert response.status_code == 302 and not Project.objects.filter(slug="vision").exists()
    assert AuditEvent.objects.filter(action="project.delete", target="acme/vision").exists()


def test_an_internal_project_shows_on_other_teams_home_pages(alice, client_for):
    Project.objects.filter(slug="secret").update(visibility="internal")
    page = alice.get("/").content.decode()
    assert "Shared with everyone" in page and "rival/secret" in page
    assert alice.get("/rival/secret/").status_code == 200


def test_a_user_creates_a_team_from_the_home_page(alice):
    response = alice.post("/teams/new/", {"slug": "vision-lab", "name": "Vision lab"})
    assert response.status_code == 302 and response["Location"] == "/teams/vision-lab/"
    assert Membership.objects.get(team__slug="vision-lab").role == "admin"
    assert alice.post("/teams/new/", {"slug": "teams"}).status_code == 400


def test_the_tokens_page_creates_a_read_token_that_expires(alice):
    response = alice.post("/tokens/", {"name": "dash", "scope": "read", "expires_days": "30"})
    assert response.status_code == 200
    token = ApiToken.objects.get(name="dash")
    assert token.scope == "read" and token.expires_at is not None
    page = alice.get("/tokens/").content.decode()
    assert "read" in page and "created a token" in page


def test_signing_in_is_recorded(two_teams):
    client = Client()
    client.post("/login/", {"username": "alice", "password": "wrong"})
    client.post("/login/", {"username": "alice", "password": PASSWORD})
    actions = list(AuditEvent.objects.filter(action__startswith="sign_in").values_list("action", "actor_name"))
    assert actions == [("sign_in_failed", ""), ("sign_in", "alice")]
    assert AuditEvent.objects.get(action="sign_in_failed").detail == {"username": "alice"}
