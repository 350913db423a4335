"""MLflow's wire format: how its client writes fields, and its error shape.

The MLflow client sends protobuf messages as JSON (GET requests as query parameters): int64
fields as numbers or as strings, doubles as numbers or as the strings "NaN", "Infinity" and
"-Infinity", enums by name or number. Errors are `{"error_code": "...", "message": "..."}`
with the HTTP status MLflow's own server gives each code.
"""

from __future__ import annotations

import math
from typing import Any

from django.http import JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from server.core import errors

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

# MLflow's error codes, with the HTTP status its tracking server answers them with.
STATUS_OF = {
    "INVALID_PARAMETER_VALUE": 400,
    "BAD_REQUEST": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "INTERNAL_ERROR": 500,
    "TEMPORARILY_UNAVAILABLE": 503,
}
# Seedboard's own errors (server/core/errors.py) in MLflow's words. A payload too large is
# INVALID_PARAMETER_VALUE: MLflow's REQUEST_LIMIT_EXCEEDED is a 429, which clients retry.
_CODE_OF_SEEDBOARD: list[tuple[type[errors.SeedboardError], str]] = [
    (errors.NotFound, "RESOURCE_DOES_NOT_EXIST"),
    (errors.PermissionDenied, "PERMISSION_DENIED"),
    (errors.Conflict, "RESOURCE_ALREADY_EXISTS"),
    (errors.SeedboardError, "INVALID_PARAMETER_VALUE"),
]
_CODE_OF_DRF: list[tuple[type[Exception], str]] = [
    (drf_exceptions.NotAuthenticated, "UNAUTHENTICATED"),
    (drf_exceptions.AuthenticationFailed, "UNAUTHENTICATED"),
    (drf_exceptions.PermissionDenied, "PERMISSION_DENIED"),
    (drf_exceptions.MethodNotAllowed, "ENDPOINT_NOT_FOUND"),
    (drf_exceptions.NotFound, "RESOURCE_DOES_NOT_EXIST"),
    (drf_exceptions.Throttled, "REQUEST_LIMIT_EXCEEDED"),
    (drf_exceptions.ParseError, "BAD_REQUEST"),
    (drf_exceptions.ValidationError, "INVALID_PARAMETER_VALUE"),
]


class MlflowError(errors.SeedboardError):
    """An error with an MLflow code of its own (ENDPOINT_NOT_FOUND, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = STATUS_OF[code]


def error_body(code: str, message: str) -> dict[str, str]:
    return {"error_code": code, "message": message}


def error_response(code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=STATUS_OF[code])


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error of the MLflow endpoints in MLflow's shape; None (a 500) for a bug."""
    if errors.is_query_canceled(exc):
        body = error_body("TEMPORARILY_UNAVAILABLE", errors.QUERY_TIMEOUT_MESSAGE)
        return Response(body, status=503, headers={"Retry-After": "5"})
    if isinstance(exc, MlflowError):
        return Response(error_body(exc.code, exc.message), status=exc.status)
    if isinstance(exc, errors.SeedboardError):
        code = next(c for cls, c in _CODE_OF_SEEDBOARD if isinstance(exc, cls))
        return Response(error_body(code, exc.message), status=STATUS_OF[code])
    seedboard = errors.exception_handler(exc, context)  # Django's and DRF's own exceptions
    if seedboard is None:
        return None
    code = next((c for cls, c in _CODE_OF_DRF if isinstance(exc, cls)), "")
    if not code:
        code = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "RESOURCE_DOES_NOT_EXIST"}.get(
            seedboard.status_code, "INVALID_PARAMETER_VALUE"
        )
    response = Response(error_body(code, seedboard.data["error"]["message"]), status=STATUS_OF[code])
    for header in ("Retry-After", "WWW-Authenticate"):
        if header in seedboard:
            response[header] = seedboard[header]
    return response


# ---------------------------------------------------------------------------- reading fields


def invalid(field: str, message: str) -> MlflowError:
    return MlflowError("INVALID_PARAMETER_VALUE", f"Invalid value for parameter '{field}': {message}")


def string(data: Any, field: str, *, required: bool = False, default: str = "") -> str:
    value = data.get(field)
    if value is None or value == "":
        if required:
            raise MlflowError("INVALID_PARAMETER_VALUE", f"Missing value for required parameter '{field}'.")
        return default
    if not isinstance(value, str):
        raise invalid(field, f"expected a string, got {value!r}")
    if "\x00" in value:
        raise invalid(field, "may not contain the NUL character (U+0000)")
    return value


def int64(value: Any, field: str) -> int | None:
    """An int64 field as MLflow writes it: a number or a decimal string; None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str, float)):
        raise invalid(field, f"expected an integer, got {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise invalid(field, f"expected an integer, got {value!r}")
        value = int(value)
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise invalid(field, f"expected an integer, got {value!r}") from None
    if not INT64_MIN <= value <= INT64_MAX:
        raise invalid(field, f"{value} is outside the int64 range")
    return int(value)


def double(value: Any, field: str) -> float:
    """A double field: a number, a numeric string, or "NaN", "Infinity", "-Infinity"."""
    if isinstance(value, bool) or value is None:
        raise invalid(field, f"expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:
            raise invalid(field, f"{value} does not fit a 64-bit float") from None
    if isinstance(value, str):
        if value in _NON_FINITE:
            return _NON_FINITE[value]
        try:
            return float(value)
        except ValueError:
            pass
    raise invalid(field, f"expected a number or 'NaN', 'Infinity', '-Infinity', got {value!r}")


def float_out(value: float | None) -> float | str | None:
    """A double as protobuf's JSON writes it."""
    if value is None:
        return None
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def key_values(data: Any, field: str) -> list[tuple[str, str]]:
    """A repeated {key, value} field (params, tags) as pairs; values may be empty strings."""
    items = data.get(field) or []
    if not isinstance(items, list):
        raise invalid(field, "expected a list of {key, value}")
    pairs = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise invalid(f"{field}[{index}]", "expected an object with key and value")
        key = string(item, "key", required=True)
        value = item.get("value", "")
        if value is None:
            value = ""
        if not isinstance(value, str) or "\x00" in value:
            raise invalid(f"{field}[{index}].value", f"expected a string without NUL, got {value!r}")
        pairs.append((key, value))
    return pairs
