from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from rest_framework import authentication, permissions
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from server.accounts.models import ApiToken
from server.accounts.selectors import token_find_active
from server.accounts.services import token_touch
from server.core.errors import ReadOnlyToken
from server.core.throttling import anonymous_throttle_check


def request_user(request: Request) -> User:
    """The authenticated user of a request (views run only after IsAuthenticated passed)."""
    user = request.user
    assert isinstance(user, User)
    return user


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer sb_<prefix>_<secret>`; answers 401 for a missing, unknown or revoked token."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).split()
        if not header:
            anonymous_throttle_check(request)
            return None
        if header[0].decode(errors="replace").lower() != self.keyword.lower() or len(header) != 2:
            anonymous_throttle_check(request)
            raise AuthenticationFailed("Authorization header must be 'Bearer <token>'.")
        text = header[1].decode(errors="replace")
        token = token_find_active(text=text)
        if token is None:
            anonymous_throttle_check(request)
            raise AuthenticationFailed("Invalid or revoked token.")
        token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class TokenScopePermission(permissions.BasePermission):
    """A `read` token may only read: every write (any method but GET, HEAD, OPTIONS) is a 403."""

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if request.method in permissions.SAFE_METHODS or not isinstance(token, ApiToken):
            return True
        if token.scope != ApiToken.Scope.WRITE:
            raise ReadOnlyToken(f"Token sb_{token.prefix}_… is read-only; writing needs a token with scope 'write'.")
        return True
