"""A Content-Security-Policy on the UI's HTML pages.

Scripts only from Seedboard's own static files (no inline scripts: page data travels as
`json_script` JSON, which the browser never executes; no `unsafe-eval`: vega-embed is called
with `ast: true`, so Vega interprets expressions instead of compiling them with Function()).
The API docs (/api/) and the admin (/admin/) bring their own scripts and are left alone.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
