"""Reads for authentication, teams and the access rules every other app goes through.

The rules, in one place:
- A team's members have a role: `viewer` reads, `member` also writes (runs, projects,
  comparisons, benchmark submissions), `admin` also manages the team (members, roles, their
  tokens, project settings and deletion).
- A project is read by its team's members, and by every signed-in user when its visibility is
  `internal`; it is written only by its team's members and admins.
- Whoever may not read an object gets 404, exactly as for one that does not exist, so ids,
  names and counts of other teams' private work leak nothing. Whoever may read it but not
  change it gets 403.
"""

from __future__ import annotations

from typing import Any, Literal

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.utils import timezone

from server.accounts.models import ApiToken, AuditEvent, Membership, Team, Visibility
from server.accounts.tokens import token_matches, token_split
from server.core.errors import NotFound, PermissionDenied

Need = Literal["read", "write", "admin"]
READER = "reader"  # the effective role of a non-member on an internal project
ROLES_FOR: dict[str, set[str]] = {
    "read": {Membership.Role.ADMIN, Membership.Role.MEMBER, Membership.Role.VIEWER, READER},
    "write": {Membership.Role.ADMIN, Membership.Role.MEMBER},
    "admin": {Membership.Role.ADMIN},
}


def access_require(role: str | None, *, need: Need, what: str) -> None:
    """Raise unless `role` (the caller's role, READER, or None for no access) grants `need` on `what`."""
    if role is None:
        raise NotFound(f"{what} not found.")
    if role not in ROLES_FOR[need]:
        verb = "manage" if need == "admin" else "change"
        shown = "not a member" if role == READER else role
        raise PermissionDenied(f"Your role in this team ({shown}) cannot {verb} {what[0].lower()}{what[1:]}.")


def project_role(role: str | None, visibility: str) -> str | None:
    """The effective role on a project: the membership role, else READER when it is internal."""
    if role is not None:
        return role
    return READER if visibility == Visibility.INTERNAL else None


def member_team_ids(user: User) -> QuerySet[Membership, Any]:
    return Membership.objects.filter(user=user).values("team_id")


def readable_projects_q(user: User, prefix: str = "") -> Q:
    """A filter on projects (or on rows reaching a project through `prefix`, e.g. "project__")
    that keeps those the user may read. A subquery, not a join, so rows are never repeated."""
    return Q(**{f"{prefix}team_id__in": member_team_ids(user)}) | Q(**{f"{prefix}visibility": Visibility.INTERNAL})


def token_find_active(*, text: str) -> ApiToken | None:
    """The active (not revoked, not expired) token whose text this is, with its user, or None."""
    prefix = token_split(text)
    if prefix is None:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=prefix, revoked_at__isnull=True).first()
    if token is None or not token_matches(text, token.digest) or not token.user.is_active:
        return None
    if token.expires_at is not None and token.expires_at <= timezone.now():
        return None
    return token


def token_list_for(*, user: User) -> list[ApiToken]:
    """The user's active tokens, newest first (revoked ones are kept in the table but not shown)."""
    return list(ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at", "-id"))


def token_list_for_team(*, team: Team) -> list[ApiToken]:
    """The active tokens of the team's members, for its admins: who can write to the team's projects."""
    return list(
        ApiToken.objects.filter(user__memberships__team=team, revoked_at__isnull=True)
        .select_related("user")
        .order_by("user__username", "-created_at", "-id")
    )


def team_slugs_for(*, user: User) -> list[str]:
    return list(Team.objects.filter(memberships__user=user).order_by("slug").values_list("slug", flat=True))


def team_get_for(*, user: User, slug: str, need: Need = "read") -> Team:
    """The team, annotated with the caller's `role`; 404 for a non-member, 403 below `need`."""
    membership = Membership.objects.select_related("team").filter(team__slug=slug, user=user).first()
    access_require(membership.role if membership else None, need=need, what=f"Team {slug!r}")
    assert membership is not None
    team = membership.team
    team.role = membership.role  # type: ignore[attr-defined]
    return team


def team_list_for(*, user: User) -> list[Membership]:
    """The user's memberships with their teams, by team slug."""
    return list(Membership.objects.filter(user=user).select_related("team").order_by("team__slug"))


def member_list(*, team: Team) -> list[Membership]:
    return list(Membership.objects.filter(team=team).select_related("user").order_by("user__username"))


def audit_list(*, team: Team, limit: int = 200) -> list[AuditEvent]:
    """The team's newest audit events (its admins' page)."""
    return list(AuditEvent.objects.filter(team=team).order_by("-created_at", "-id")[:limit])


def audit_list_for_user(*, user: User, limit: int = 50) -> list[AuditEvent]:
    """Events of a user alone (sign-ins, their own tokens), newest first."""
    return list(AuditEvent.objects.filter(actor=user, team__isnull=True).order_by("-created_at", "-id")[:limit])
