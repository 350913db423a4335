"""A Content-Security-Policy on the UI's HTML pages.

Scripts only from Seedboard's own static files (no inline scripts: page data travels as
`json_script` JSON, which the browser never executes; no `unsafe-eval`: vega-embed is called
with `ast: true`, so Vega interprets expressions instead of compiling them with Function()).
The API docs (/api/) and the admin (/admin/) bring their own scripts and are left alone.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, QueryDict

from server.core.errors import is_query_canceled
from server.core.middleware import QueryStringCheckMiddleware
from server.web.errors import error_page

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
EXEMPT_PREFIXES = ("/api/", "/admin/")
_REFUSED_TITLES = {400: "Bad request", 414: "Address too long"}


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.get("Content-Type", "").startswith("text/html")
            and not request.path.startswith(EXEMPT_PREFIXES)
            and "Content-Security-Policy" not in response
        ):
            response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response


class QueryTimeoutPageMiddleware:
    """A UI page whose query ran past the web statement_timeout gets a 503 page, not a 500.

    The API answers the same case with its JSON 503 (server/core/errors.py); this does it for
    the HTML pages, which DRF's exception handler never sees.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/") or not is_query_canceled(exception):
            return None
        response = error_page(
            status=503,
            title="This page took too long",
            message="The database did not answer within the page's time limit. Try again in a moment, "
            "or ask for less (fewer variants or keys).",
        )
        response["Retry-After"] = "5"
        return response


class RequestCheckMiddleware(QueryStringCheckMiddleware):
    """The core path and query string checks, and outside the API the fields of form posts (sign-in,
    tokens, comparisons) as well, answered with an error page there. Reading a form here applies
    DATA_UPLOAD_MAX_MEMORY_SIZE and DATA_UPLOAD_MAX_NUMBER_FIELDS too: past them, 413 or 400 pages
    (server/web/errors.py)."""

    def parameters(self, request: HttpRequest) -> list[QueryDict]:
        if request.method == "POST" and not request.path.startswith("/api/"):
            return [request.GET, request.POST]
        return [request.GET]

    def refuse(
        self, request: HttpRequest, *, status: int, code: str, message: str, field: str | None = None
    ) -> HttpResponse:
        if request.path.startswith("/api/"):
            return super().refuse(request, status=status, code=code, message=message, field=field)
        return error_page(status=status, title=_REFUSED_TITLES.get(status, "Bad request"), message=message)
