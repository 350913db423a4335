"""Sign-in lockouts: django-axes counts failed sign-ins in the database (see settings.AXES_*)."""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.http import HttpRequest


class SignInAttemptHandler(AxesDatabaseHandler):
    """Axes' database handler (SQLite and PostgreSQL alike), resetting less on a successful sign-in.

    Axes' own reset deletes every attempt matching any lockout parameter, so a sign-in to one's own
    account from an address would also clear the failures against other accounts from that
    address: an attacker with an account could guess another's password without ever reaching the
    limit. Here a success clears the failures of the account that signed in, and nothing else.
    """

    def reset_user_attempts(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def signin_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    """The username a failed sign-in is counted under (AXES_USERNAME_CALLABLE).

    Django's sign-in form hands a username of any length to authenticate(), and axes stores it in
    a 255-character column: a longer one would fail the insert (a 500 on PostgreSQL) instead of
    counting as a failure. No account has such a name (Django's limit is 150), so cutting it is safe.
    """
    source = credentials if credentials is not None else getattr(request, "POST", {})
    username = source.get("username")
    if not isinstance(username, str):
        return None
    return username.replace("\x00", "\ufffd")[:255]
