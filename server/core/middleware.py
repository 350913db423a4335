"""Checks every request's path and query string once, before any view parses them.

A path segment or a query parameter ends up in SQL (slugs, filters, keys, cursors), and
PostgreSQL's text cannot hold a NUL character: refused here, for every endpoint, with a 400
naming the parameter. An overlong query string gets a 414 here as well; gunicorn's
`limit_request_line` refuses long request lines before Django, this check covers the embedded
server and `runserver`. The API answers in its JSON error shape; the UI's subclass
(server/web/middleware.py) checks form posts too and answers with an error page.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict

from server.core.errors import error_body


class QueryStringCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.SEEDBOARD_MAX_QUERY_STRING
        if len(request.META.get("QUERY_STRING", "")) > limit:
            message = f"The query string is longer than {limit} characters; ask for less per request."
            return self.refuse(request, status=414, code="uri_too_long", message=message)
        if "\x00" in request.path:
            return self.refuse(request, status=400, code="invalid", message="The path may not contain NUL characters.")
        for parameters in self.parameters(request):
            for name, values in parameters.lists():
                if "\x00" in name or any("\x00" in value for value in values):
                    message = f"{name}: no NUL characters"
                    return self.refuse(request, status=400, code="invalid", message=message, field=name)
        return self.get_response(request)

    def parameters(self, request: HttpRequest) -> list[QueryDict]:
        """The parameters to check: the query string's (the API's bodies are JSON, checked by its parsers)."""
        return [request.GET]

    def refuse(
        self, request: HttpRequest, *, status: int, code: str, message: str, field: str | None = None
    ) -> HttpResponse:
        return JsonResponse(error_body(code, message, field), status=status)
