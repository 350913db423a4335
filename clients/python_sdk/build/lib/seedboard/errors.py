"""Exceptions raised by the Seedboard SDK.

The hierarchy::

    SeedboardError                  every error the SDK raises on purpose
    ├── ConfigurationError          no URL/token in online mode, a bad SEEDBOARD_* value
    ├── TransportError              the server could not be reached (connect, timeout)
    │                               within the retry budget
    ├── ComparisonTimeout           `Api.compare(wait=True)`: the statistics were not
    │                               fresh in time (also a builtin `TimeoutError`)
    ├── ComparisonFailed            `Api.compare(wait=True)`: the server gave up computing
    │                               them (its `error` says why); `Api.leaderboard(wait=True)`
    │                               raises these two as well
    └── APIError                    the server answered with an error body
        ├── BadRequestError         400 invalid / parse_error
        ├── AuthenticationError     401 not_authenticated (bad or revoked token)
        ├── PermissionDeniedError   403 permission_denied
        ├── NotFoundError           404 not_found (also objects of another team)
        ├── ConflictError           409 conflict (e.g. a run id taken in another project)
        ├── PayloadTooLargeError    413 payload_too_large
        ├── RateLimitError          429 throttled, after the retry budget ran out
        └── ServerError             5xx, after the retry budget ran out

The read API (`seedboard.Api`) and `seedboard.init` raise these. The logging path
(`Run.log`, the background sender) never raises them into the training loop: it warns,
spools the data to disk and reports in `Run.finish()`'s result instead. Mistakes in the
caller's own arguments (a bad key or step) raise the builtin `ValueError`/`TypeError`.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "ComparisonFailed",
    "ComparisonTimeout",
    "ConfigurationError",
    "ConflictError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "SeedboardError",
    "ServerError",
    "TransportError",
    "api_error_for",
]


class SeedboardError(Exception):
    """Base class of every error raised by the SDK."""


class ConfigurationError(SeedboardError):
    """The SDK is missing a setting it needs, or a setting has a bad value."""


class TransportError(SeedboardError):
    """The server could not be reached within the retry budget (connect error, timeout)."""


class ComparisonTimeout(SeedboardError, TimeoutError):
    """A comparison's statistics did not become ``fresh`` within the wait.

    The comparison is saved and keeps computing: `comparison` is its last state (the
    previous statistics, if any, with their ``status``), and ``Api.comparison(id)``
    fetches it again later.
    """

    def __init__(self, message: str, *, comparison: dict[str, Any]) -> None:
        super().__init__(message)
        self.comparison = comparison

    @property
    def comparison_id(self) -> str:
        """The id of the saved comparison."""
        return str(self.comparison.get("id"))


class ComparisonFailed(SeedboardError):
    """The server stopped computing a comparison's statistics (status ``failed``), for
    example after its computation was killed twice; `comparison` holds its ``error``.

    The comparison stays saved; the next change of its inputs (a new seed) computes it again.
    """

    def __init__(self, message: str, *, comparison: dict[str, Any]) -> None:
        super().__init__(message)
        self.comparison = comparison


class APIError(SeedboardError):
    """The server answered with an error.

    Attributes mirror the server's error body ``{"error": {"code", "message", "field"}}``.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str = "",
        field: str | None = None,
    ) -> None:
        text = f"{status} {code}: {message}" if code else f"{status}: {message}"
        if field and field not in message:
            text += f" (field: {field})"
        super().__init__(text)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


class BadRequestError(APIError):
    """400: the request was malformed or failed validation."""


class AuthenticationError(APIError):
    """401: the token is missing, wrong or revoked."""


class PermissionDeniedError(APIError):
    """403: the token is valid but may not do this."""


class NotFoundError(APIError):
    """404: no such object, or it belongs to another team."""


class ConflictError(APIError):
    """409: the request conflicts with stored state (e.g. a run id used elsewhere)."""


class PayloadTooLargeError(APIError):
    """413: the request body is too large."""


class RateLimitError(APIError):
    """429: throttled, and the retry budget ran out."""


class ServerError(APIError):
    """5xx: the server failed, and the retry budget ran out."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitError,
}


def api_error_for(
    status: int, *, code: str = "", message: str = "", field: str | None = None
) -> APIError:
    """Build the `APIError` subclass that matches an HTTP status."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else APIError
    return cls(message or "request failed", status=status, code=code, field=field)
