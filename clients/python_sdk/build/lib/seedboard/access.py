"""Teams, members, roles, API tokens and project visibility: the methods `Api` inherits.

Roles in a team: ``admin`` (members, roles, their tokens, project settings), ``member``
(logs runs, creates projects and comparisons, submits to benchmarks), ``viewer`` (reads).
A project is ``private`` (its team reads it) or ``internal`` (every signed-in user reads it);
only its team writes to it. See docs/teams.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from .client import Client


def _segment(value: str) -> str:
    return quote(value, safe="")


class AccessApi:
    """Mixed into `seedboard.Api`; each method is one request."""

    _client: Client

    # -- tokens -----------------------------------------------------------------------
    def tokens(self) -> list[dict[str, Any]]:
        """The caller's active tokens: ``prefix``, ``name``, ``scope``, ``created_at``,
        ``last_used_at``, ``expires_at`` (never the secret)."""
        return list(self._client.get("tokens/"))

    def create_token(
        self, name: str = "", *, scope: str = "write", expires_at: datetime | None = None
    ) -> dict[str, Any]:
        """A new token of the caller; its text is in ``["token"]``, returned this once only.

        Args:
            scope: ``"write"``, or ``"read"`` for a token that gets 403 on every write.
            expires_at: a timezone-aware time; None: until revoked.
        """
        if expires_at is not None and expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware (e.g. datetime.now(timezone.utc))")
        body = {
            "name": name,
            "scope": scope,
            "expires_at": expires_at.isoformat() if expires_at else None,
        }
        # Not retried: a retried create after a lost answer would make a second token.
        return dict(self._client.post("tokens/", json=body, retry=False))

    def revoke_token(self, prefix: str) -> None:
        """Revoke one of the caller's tokens by its prefix (``sb_<prefix>_…``)."""
        self._client.delete(f"tokens/{_segment(prefix)}/")

    # -- teams ------------------------------------------------------------------------
    def teams(self) -> list[dict[str, Any]]:
        """The caller's teams with their role in each: ``slug``, ``name``, ``role``."""
        return list(self._client.get("teams/"))

    def team(self, slug: str) -> dict[str, Any]:
        """A team with its ``members`` (``username``, ``role``, ``joined_at``)."""
        return dict(self._client.get(f"teams/{_segment(slug)}/"))

    def create_team(self, slug: str, name: str = "") -> dict[str, Any]:
        """A new team; the caller becomes its admin."""
        return dict(self._client.post("teams/", json={"slug": slug, "name": name}, retry=False))

    def add_member(
        self, team: str, username: str, role: str = "member", *, create_user: bool = False
    ) -> dict[str, Any]:
        """Add a user to a team (admins only). With `create_user`, a missing user is created
        and the answer's ``password`` is its generated sign-in password, shown this once."""
        body = {"username": username, "role": role, "create_user": create_user}
        return dict(self._client.post(f"teams/{_segment(team)}/members/", json=body, retry=False))

    def set_role(self, team: str, username: str, role: str) -> dict[str, Any]:
        """Change a member's role (admins only; a team always keeps one admin)."""
        path = f"teams/{_segment(team)}/members/{_segment(username)}/"
        return dict(self._client.patch(path, json={"role": role}))

    def remove_member(self, team: str, username: str) -> None:
        """Remove a member (admins), or leave a team (your own username)."""
        self._client.delete(f"teams/{_segment(team)}/members/{_segment(username)}/")

    def audit_log(self, team: str) -> list[dict[str, Any]]:
        """The team's newest audit events (admins only)."""
        return list(self._client.get(f"teams/{_segment(team)}/audit/"))

    # -- projects ---------------------------------------------------------------------
    def set_visibility(self, project: str, visibility: str) -> dict[str, Any]:
        """Make ``team/project`` ``"private"`` or ``"internal"`` (the team's admins only)."""
        return dict(
            self._client.patch(f"projects/{project.strip('/')}/", json={"visibility": visibility})
        )
