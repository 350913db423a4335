"""Application errors and the one place that turns any error into the API's error shape.

    SeedboardError            400 invalid            (base: anything the client can fix)
    ├── InvalidInput          400 invalid
    ├── PermissionDenied      403 permission_denied
    │   └── ReadOnlyToken     403 read_only_token     (a write with a `read` token)
    ├── NotFound              404 not_found           (also for objects the caller may not see)
    │   └── UnknownMetric     404 unknown_metric      (a metric key never logged there; close matches named)
    ├── Conflict              409 conflict
    └── PayloadTooLarge       413 payload_too_large

Services raise these; `exception_handler` maps them, and DRF's and Django's own exceptions,
to `{"error": {"code", "message", "field"}}` with the matching status. A statement PostgreSQL
cancelled at the web statement_timeout (server/core/database.py) becomes 503 query_timeout:
the request may be valid and succeed when the database is less busy or the request asks for
less, so it is not a 400; and it is not the server's fault in the sense of a 500.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response


class SeedboardError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(SeedboardError):
    pass


class PermissionDenied(SeedboardError):
    status = 403
    code = "permission_denied"


class ReadOnlyToken(PermissionDenied):
    code = "read_only_token"


class NotFound(SeedboardError):
    status = 404
    code = "not_found"


class UnknownMetric(NotFound):
    code = "unknown_metric"


class Conflict(SeedboardError):
    status = 409
    code = "conflict"


class PayloadTooLarge(SeedboardError):
    status = 413
    code = "payload_too_large"


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def _first_validation_error(detail: Any, path: str = "") -> tuple[str | None, str]:
    """Flatten DRF's nested ValidationError detail to its first (field path, message)."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):  # ListField reports items by index
                return _first_validation_error(value, f"{path}[{key}]")
            sub = str(key) if key != "non_field_errors" else ""
            return _first_validation_error(value, f"{path}.{sub}" if path and sub else path or sub)
    if isinstance(detail, list) and detail:
        first = detail[0]
        if isinstance(first, (dict, list)):
            index = next(i for i, item in enumerate(detail) if item)
            return _first_validation_error(detail[index], f"{path}[{index}]")
        return path or None, str(first)
    return path or None, str(detail)


_DRF_CODES: list[tuple[type[Exception], str]] = [
    (drf_exceptions.ParseError, "parse_error"),
    (drf_exceptions.AuthenticationFailed, "not_authenticated"),
    (drf_exceptions.NotAuthenticated, "not_authenticated"),
    (drf_exceptions.PermissionDenied, "permission_denied"),
    (drf_exceptions.NotFound, "not_found"),
    (drf_exceptions.MethodNotAllowed, "method_not_allowed"),
    (drf_exceptions.NotAcceptable, "not_acceptable"),
    (drf_exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (drf_exceptions.Throttled, "throttled"),
]


def is_query_canceled(exc: BaseException) -> bool:
    # Django wraps psycopg's QueryCanceled (SQLSTATE 57014) in its own OperationalError.
    return isinstance(exc, OperationalError) and getattr(exc.__cause__, "sqlstate", None) == "57014"


QUERY_TIMEOUT_MESSAGE = (
    "The database did not answer within the request time limit; retry later, or ask for less "
    "(fewer runs, keys or filter values, a narrower step range, max_points)."
)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if is_query_canceled(exc):
        return Response(error_body("query_timeout", QUERY_TIMEOUT_MESSAGE), status=503, headers={"Retry-After": "5"})
    if isinstance(exc, SeedboardError):
        return Response(error_body(exc.code, exc.message, exc.field), status=exc.status)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("payload_too_large", str(exc)), status=413)
    if isinstance(exc, Http404):
        return Response(error_body("not_found", "Not found."), status=404)
    if isinstance(exc, DjangoPermissionDenied):
        return Response(error_body("permission_denied", "Permission denied."), status=403)
    if isinstance(exc, drf_exceptions.ValidationError):
        field, message = _first_validation_error(exc.detail)
        return Response(error_body("invalid", message, field), status=400)
    if isinstance(exc, drf_exceptions.APIException):
        code = next((c for cls, c in _DRF_CODES if isinstance(exc, cls)), "error")
        headers: dict[str, str] = {}
        wait = getattr(exc, "wait", None)
        if isinstance(exc, drf_exceptions.Throttled) and wait is not None:
            headers["Retry-After"] = str(int(wait) + 1)
        if isinstance(exc, (drf_exceptions.NotAuthenticated, drf_exceptions.AuthenticationFailed)):
            headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return Response(error_body(code, str(exc.detail)), status=exc.status_code, headers=headers)
    return None


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("not_found", f"No endpoint at {request.path}."), status=404)


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body("server_error", "Internal server error."), status=500)


def json_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("invalid", "Bad request."), status=400)
