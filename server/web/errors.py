"""Error pages: JSON under /api/ (the API's error shape, server/core/errors.py), HTML elsewhere."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from server.core import errors as api_errors
from server.web.selectors import project_paths


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def error_page(*, status: int, title: str, message: str) -> HttpResponse:
    # No request context on purpose: a 500 page must not run queries or context processors.
    body = render_to_string("web/error.html", {"status": status, "title": title, "message": message})
    return HttpResponse(body, status=status)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return api_errors.json_not_found(request, exception)
    context = {
        "status": 404,
        "title": "Not found",
        "message": "There is no page here, or it belongs to a team you are not in.",
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:  # the top bar, so the user can go on from here
        context["nav_projects"] = project_paths(user=user)
    return HttpResponse(render_to_string("web/error.html", context, request=request), status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return api_errors.json_server_error(request)
    return error_page(
        status=500, title="Server error", message="Something went wrong on the server; it has been logged."
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return api_errors.json_bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):  # a form post past DATA_UPLOAD_MAX_MEMORY_SIZE
        return error_page(status=413, title="Request too large", message="The form sent more data than allowed.")
    return error_page(status=400, title="Bad request", message="The server could not understand this request.")


def _wants_json(request: HttpRequest) -> bool:
    return (
        _is_api(request)
        or request.headers.get("X-Requested-With") == "XMLHttpRequest"
        or (request.accepts("application/json") and not request.accepts("text/html"))
    )


def signin_locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """Axes' answer to a sign-in while the account or the address is locked (AXES_LOCKOUT_CALLABLE):
    429 with Retry-After, a page like the sign-in page, or the API's error shape for a JSON client."""
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 0
    minutes = max(1, -(-seconds // 60))
    message = (
        "Too many failed sign-ins for this account or from this address. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}, or ask an administrator to unlock the account."
    )
    response: HttpResponse
    if _wants_json(request):
        response = JsonResponse(api_errors.error_body("locked_out", message), status=429)
    else:
        response = render(request, "web/locked_out.html", {"message": message, "minutes": minutes}, status=429)
    response["Retry-After"] = str(seconds)
    return response
