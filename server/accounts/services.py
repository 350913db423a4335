"""Writes for teams, memberships, API tokens and the audit log.

Every change of access (a membership, a role, a token) records an audit event in the same
transaction, so the log never misses a change that happened nor shows one that rolled back.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.request import Request

from server.accounts.models import ApiToken, AuditEvent, Membership, Team, slug_validator
from server.accounts.tokens import token_generate
from server.core.errors import Conflict, InvalidInput, NotFound
from server.core.throttling import client_address

# A token's last use is recorded at most this often, so authenticated requests stay read-only.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_TOKEN_LIFETIME = timedelta(days=3650)
MAX_ACTIVE_TOKENS = 100  # per user: keeps token listings (the user's, the team admins') small


def audit_record(
    *,
    action: str,
    actor: User | None,
    team: Team | None = None,
    target: str = "",
    detail: dict[str, Any] | None = None,
    request: HttpRequest | Request | None = None,
) -> AuditEvent:
    """Append an audit event (`AuditEvent.Action`); `request` gives the client address."""
    return AuditEvent.objects.create(
        action=action,
        actor=actor if actor is not None and actor.pk else None,
        actor_name=actor.get_username() if actor is not None else "",
        team=team,
        target=target[:300],
        detail=detail or {},
        ip=client_address(request) if request is not None else None,
    )


# ---------------------------------------------------------------------------- teams and members


# The web UI's own first path segments: a team of that name would hide its projects' pages.
RESERVED_TEAM_SLUGS = frozenset(
    {
        "admin",
        "api",
        "benchmarks",
        "compare",
        "healthz",
        "login",
        "logout",
        "runs",
        "search",
        "static",
        "teams",
        "tokens",
    }
)


def _slug_checked(slug: str, field: str) -> str:
    try:
        slug_validator(slug)
    except ValidationError as exc:
        raise InvalidInput(f"{field} {slug!r}: {exc.messages[0]}", field=field) from exc
    if field == "team" and slug in RESERVED_TEAM_SLUGS:
        raise InvalidInput(f"team {slug!r} is reserved for the web UI's pages; choose another name", field=field)
    return slug


def team_get_or_create(*, slug: str) -> Team:
    team, _ = Team.objects.get_or_create(slug=_slug_checked(slug, "team"), defaults={"name": slug})
    return team


@transaction.atomic
def team_create(
    *, slug: str, name: str = "", creator: User | None, request: HttpRequest | Request | None = None
) -> Team:
    """A new team; its creator (when given) becomes its first admin."""
    _slug_checked(slug, "team")
    try:
        with transaction.atomic():
            team = Team.objects.create(slug=slug, name=name[:200] or slug)
    except IntegrityError:
        raise Conflict(f"Team {slug!r} already exists.", field="slug") from None
    if creator is not None:
        Membership.objects.create(team=team, user=creator, role=Membership.Role.ADMIN)
    audit_record(action=AuditEvent.Action.TEAM_CREATE, actor=creator, team=team, target=slug, request=request)
    return team


def membership_ensure(*, team: Team, user: User, role: str = Membership.Role.MEMBER) -> Membership:
    membership, _ = Membership.objects.get_or_create(team=team, user=user, defaults={"role": role})
    return membership


def _role_checked(role: str) -> str:
    if role not in Membership.Role.values:
        raise InvalidInput(f"role: one of {', '.join(Membership.Role.values)}, got {role!r}", field="role")
    return role


def user_create(*, username: str) -> tuple[User, str]:
    """A new user with a generated sign-in password (returned once, stored hashed)."""
    user_model = get_user_model()
    try:
        user_model.username_validator(username)
    except ValidationError as exc:
        raise InvalidInput(f"username {username!r}: {exc.messages[0]}", field="username") from exc
    if not username or len(username) > 150:
        raise InvalidInput("username: 1-150 characters", field="username")
    if user_model.objects.filter(username=username).exists():
        raise Conflict(f"User {username!r} already exists.", field="username")
    password = password_generate()
    user = user_model.objects.create_user(username=username, password=password)
    return user, password


@transaction.atomic
def member_add(
    *,
    team: Team,
    username: str,
    role: str,
    actor: User | None,
    create_user: bool = False,
    request: HttpRequest | Request | None = None,
) -> tuple[Membership, str | None]:
    """Add a user to the team with `role`; with `create_user`, a missing user is created and its
    generated password returned (the way to invite someone new), else None."""
    _role_checked(role)
    password = None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        if not create_user:
            raise NotFound(f"No user {username!r}.", field="username")
        user, password = user_create(username=username)
    if Membership.objects.filter(team=team, user=user).exists():
        raise Conflict(f"{username} is already a member of {team.slug}.", field="username")
    membership = Membership.objects.create(team=team, user=user, role=role)
    audit_record(
        action=AuditEvent.Action.MEMBER_ADD,
        actor=actor,
        team=team,
        target=username,
        detail={"role": role, "new_user": password is not None},
        request=request,
    )
    return membership, password


def _membership_locked(team: Team, username: str) -> Membership:
    # Lock the team's admin rows in a fixed order, so two admins demoting each other at once
    # cannot both pass the "another admin remains" check.
    list(Membership.objects.select_for_update().filter(team=team, role=Membership.Role.ADMIN).order_by("pk"))
    membership = Membership.objects.select_for_update().filter(team=team, user__username=username).first()
    if membership is None:
        raise NotFound(f"{username!r} is not a member of {team.slug}.", field="username")
    return membership


def _last_admin_guard(team: Team, membership: Membership, what: str) -> None:
    if membership.role != Membership.Role.ADMIN:
        return
    if not Membership.objects.filter(team=team, role=Membership.Role.ADMIN).exclude(pk=membership.pk).exists():
        raise Conflict(f"{what}: {team.slug} would have no admin left; make another member admin first.")


@transaction.atomic
def member_role_set(
    *, team: Team, username: str, role: str, actor: User | None, request: HttpRequest | Request | None = None
) -> Membership:
    _role_checked(role)
    membership = _membership_locked(team, username)
    if membership.role == role:
        return membership
    if role != Membership.Role.ADMIN:
        _last_admin_guard(team, membership, f"Changing {username}'s role")
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        action=AuditEvent.Action.MEMBER_ROLE,
        actor=actor,
        team=team,
        target=username,
        detail={"from": previous, "to": role},
        request=request,
    )
    return membership


@transaction.atomic
def member_remove(
    *, team: Team, username: str, actor: User | None, request: HttpRequest | Request | None = None
) -> None:
    membership = _membership_locked(team, username)
    _last_admin_guard(team, membership, f"Removing {username}")
    membership.delete()
    audit_record(
        action=AuditEvent.Action.MEMBER_REMOVE,
        actor=actor,
        team=team,
        target=username,
        detail={"role": membership.role},
        request=request,
    )


# ---------------------------------------------------------------------------- tokens


def _expiry_checked(expires_at: datetime | None) -> datetime | None:
    if expires_at is None:
        return None
    now = timezone.now()
    if expires_at <= now:
        raise InvalidInput("expires_at: must be in the future", field="expires_at")
    if expires_at - now > MAX_TOKEN_LIFETIME:
        raise InvalidInput("expires_at: at most 10 years ahead (omit it for no expiry)", field="expires_at")
    return expires_at


@transaction.atomic
def token_create(
    *,
    user: User,
    name: str = "",
    scope: str = ApiToken.Scope.WRITE,
    expires_at: datetime | None = None,
    request: HttpRequest | Request | None = None,
) -> tuple[str, ApiToken]:
    """A new token of an existing user: its text (returned once, never stored) and its row."""
    if scope not in ApiToken.Scope.values:
        raise InvalidInput(f"scope: 'read' or 'write', got {scope!r}", field="scope")
    if "\x00" in name:  # PostgreSQL's text cannot hold it
        raise InvalidInput("A token's name may not contain NUL characters.", field="name")
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_ACTIVE_TOKENS:
        raise InvalidInput(f"At most {MAX_ACTIVE_TOKENS} active tokens per user: revoke unused ones first.")
    text, prefix, digest = token_generate()
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=prefix, digest=digest, scope=scope, expires_at=_expiry_checked(expires_at)
    )
    audit_record(
        action=AuditEvent.Action.TOKEN_CREATE,
        actor=user,
        target=prefix,
        detail={"name": token.name, "scope": scope, "expires_at": expires_at.isoformat() if expires_at else None},
        request=request,
    )
    return text, token


@transaction.atomic
def token_create_for(
    *,
    team_slug: str,
    username: str,
    name: str = "",
    role: str = Membership.Role.ADMIN,
    scope: str = ApiToken.Scope.WRITE,
    expires_at: datetime | None = None,
) -> str:
    """Create the team and user when missing, make the user a member, and return a new token's text
    (`manage.py createtoken`). The text is returned once and never stored; only its digest is kept.
    """
    team = team_get_or_create(slug=team_slug)
    user, _ = get_user_model().objects.get_or_create(username=username)
    membership_ensure(team=team, user=user, role=_role_checked(role))
    text, _ = token_create(user=user, name=name, scope=scope, expires_at=expires_at)
    return text


@transaction.atomic
def token_revoke(
    *,
    prefix: str,
    user: User | None = None,
    team: Team | None = None,
    actor: User | None = None,
    request: HttpRequest | Request | None = None,
) -> ApiToken:
    """Revoke the active token with this prefix; with `user`, only one of that user's tokens;
    with `team`, only one of that team's members' (its admins revoke them)."""
    tokens = ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True)
    if user is not None:
        tokens = tokens.filter(user=user)
    if team is not None:
        tokens = tokens.filter(user__memberships__team=team)
    token = tokens.select_related("user").first()
    if token is None:
        raise NotFound(f"No active token with prefix {prefix!r}.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        action=AuditEvent.Action.TOKEN_REVOKE,
        actor=actor if actor is not None else user,
        team=team,
        target=prefix,
        detail={"owner": token.user.get_username(), "name": token.name},
        request=request,
    )
    return token


def token_touch(*, token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)


# ---------------------------------------------------------------------------- passwords


def password_generate() -> str:
    # 96 random bits in 16 URL-safe characters: easy to copy from a terminal.
    return secrets.token_urlsafe(12)


def user_set_password(*, username: str, password: str) -> User:
    """Set (or reset) a user's sign-in password; it is stored hashed by Django's password hashers."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise NotFound(f"No user {username!r} (`manage.py createtoken --team T --user U` creates one).")
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


def user_password_ensure(*, username: str) -> str | None:
    """Give a user without a password a generated one and return it; None when it already had one.

    Users made by `createtoken` have an empty password field, which Django treats as usable but
    which no password matches, so both that and an explicitly unusable one count as none.
    """
    user = get_user_model().objects.get(username=username)
    if user.password and user.has_usable_password():
        return None
    password = password_generate()
    user.set_password(password)
    user.save(update_fields=["password"])
    return password
