"""Reads for authentication and team access."""

from __future__ import annotations

from django.contrib.auth.models import User

from server.accounts.models import ApiToken, Team
from server.accounts.tokens import token_matches, token_split


def token_find_active(*, text: str) -> ApiToken | None:
    """The active token whose text this is, with its user, or None."""
    prefix = token_split(text)
    if prefix is None:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=prefix, revoked_at__isnull=True).first()
    if token is None or not token_matches(text, token.digest) or not token.user.is_active:
        return None
    return token


def token_list_for(*, user: User) -> list[ApiToken]:
    """The user's active tokens, newest first (revoked ones are kept in the table but not shown)."""
    return list(ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at", "-id"))


def team_slugs_for(*, user: User) -> list[str]:
    return list(Team.objects.filter(memberships__user=user).order_by("slug").values_list("slug", flat=True))


def team_get_for_member(*, user: User, slug: str) -> Team | None:
    return Team.objects.filter(slug=slug, memberships__user=user).first()
