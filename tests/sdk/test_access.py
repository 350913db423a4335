"""Teams, tokens and visibility through the SDK and the CLI, against a live server."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import seedboard
from seedboard.errors import APIError, AuthenticationError, NotFoundError

from tests.sdk.conftest import run_cli


def test_tokens_are_created_scoped_and_revoked(sdk_api: seedboard.Api, server: Any) -> None:
    soon = datetime.now(timezone.utc) + timedelta(days=1)  # noqa: UP017 (runs on Python 3.9 too)
    made = sdk_api.create_token("dashboard", scope="read", expires_at=soon)
    assert made["token"].startswith(f"sb_{made['prefix']}_") and made["scope"] == "read"
    assert made["prefix"] in {t["prefix"] for t in sdk_api.tokens()}
    with seedboard.Api(token=made["token"]) as reader:
        assert reader.whoami()["scope"] == "read"
        with pytest.raises(APIError) as refused:
            reader.create_team(f"t{uuid.uuid4().hex[:8]}")
        assert refused.value.status == 403 and refused.value.code == "read_only_token"
    sdk_api.revoke_token(made["prefix"])
    with seedboard.Api(token=made["token"], retry_budget=0) as reader, pytest.raises(AuthenticationError):
        reader.whoami()


def test_a_naive_expiry_is_refused_before_sending(sdk_api: seedboard.Api) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sdk_api.create_token(expires_at=datetime.now() + timedelta(days=1))


def test_teams_members_and_roles(sdk_api: seedboard.Api, server: Any) -> None:
    slug = f"lab-{uuid.uuid4().hex[:8]}"
    assert sdk_api.create_team(slug)["role"] == "admin"
    added = sdk_api.add_member(slug, f"u{uuid.uuid4().hex[:8]}", "viewer", create_user=True)
    assert added["role"] == "viewer" and added["password"]
    assert sdk_api.set_role(slug, added["username"], "member")["role"] == "member"
    roles = {m["username"]: m["role"] for m in sdk_api.team(slug)["members"]}
    assert roles == {"alice": "admin", added["username"]: "member"}
    with pytest.raises(APIError) as last_admin:
        sdk_api.remove_member(slug, "alice")
    assert last_admin.value.status == 409
    sdk_api.remove_member(slug, added["username"])
    assert [e["action"] for e in sdk_api.audit_log(slug)][:2] == ["member.remove", "member.role"]


def test_visibility_opens_a_project_to_other_teams(sdk_api: seedboard.Api, server: Any, project: str) -> None:
    with seedboard.init(project=project, model="m", seed=0) as run:
        run.log({"acc": 0.5}, step=0)
    with seedboard.Api(token=server.other_token) as mallory:
        with pytest.raises(NotFoundError):
            mallory.project(project)
        sdk_api.set_visibility(project, "internal")
        assert mallory.project(project)["role"] == "reader"
        assert len(mallory.runs(project)) == 1


def test_the_token_command_creates_lists_and_revokes(server: Any) -> None:
    created = run_cli("token", "create", "--name", "ci", "--scope", "read", "--expires-days", "3")
    assert created.returncode == 0, created.stderr
    text = created.stdout.strip()
    prefix = text.split("_")[1]
    listed = run_cli("token", "list")
    assert f"sb_{prefix}_" in listed.stdout and "read" in listed.stdout
    revoked = run_cli("token", "revoke", f"sb_{prefix}_…")
    assert revoked.returncode == 0, revoked.stderr
    assert f"sb_{prefix}_" not in run_cli("token", "list").stdout
