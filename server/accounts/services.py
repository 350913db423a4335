"""Writes for teams, memberships and API tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from server.accounts.models import ApiToken, Membership, Team, slug_validator
from server.accounts.tokens import token_generate
from server.core.errors import InvalidInput, NotFound

# A token's last use is recorded at most this often, so authenticated requests stay read-only.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def team_get_or_create(*, slug: str) -> Team:
    try:
        slug_validator(slug)
    except ValidationError as exc:
        raise InvalidInput(f"Team {slug!r}: {exc.messages[0]}", field="team") from exc
    team, _ = Team.objects.get_or_create(slug=slug, defaults={"name": slug})
    return team


def membership_ensure(*, team: Team, user: User, role: str = Membership.Role.MEMBER) -> Membership:
    membership, _ = Membership.objects.get_or_create(team=team, user=user, defaults={"role": role})
    return membership


@transaction.atomic
def token_create_for(*, team_slug: str, username: str, name: str = "", role: str = Membership.Role.ADMIN) -> str:
    """Create the team and user when missing, make the user a member, and return a new token's text.

    The text is returned once and never stored; only its digest is kept.
    """
    team = team_get_or_create(slug=team_slug)
    user, _ = get_user_model().objects.get_or_create(username=username)
    membership_ensure(team=team, user=user, role=role)
    text, prefix, digest = token_generate()
    ApiToken.objects.create(user=user, name=name, prefix=prefix, digest=digest)
    return text


def token_create(*, user: User, name: str = "") -> str:
    """A new token of an existing user (the web UI's tokens page); returns its text, never stored."""
    if "\x00" in name:  # PostgreSQL's text cannot hold it
        raise InvalidInput("A token's name may not contain NUL characters.", field="name")
    text, prefix, digest = token_generate()
    ApiToken.objects.create(user=user, name=name[:100], prefix=prefix, digest=digest)
    return text


def token_revoke(*, prefix: str, user: User | None = None) -> ApiToken:
    """Revoke the active token with this prefix; with `user`, only one of that user's tokens."""
    tokens = ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True)
    if user is not None:
        tokens = tokens.filter(user=user)
    if not tokens.update(revoked_at=timezone.now()):
        raise NotFound(f"No active token with prefix {prefix!r}.")
    return ApiToken.objects.get(prefix=prefix)


def token_touch(*, token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)


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
