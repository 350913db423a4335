"""Checks every request's query string once, before any view parses it.

A query parameter ends up in SQL (filters, keys, cursors), and PostgreSQL's text cannot hold
a NUL character: refused here, for every endpoint, with a 400 naming the parameter. An
overlong query string gets a 414 here as well; gunicorn's `limit_request_line` refuses long
request lines before Django, this check covers the embedded server and `runserver`.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from server.core.errors import error_body


class QueryStringCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.SEEDBOARD_MAX_QUERY_STRING
        if len(request.META.get("QUERY_STRING", "")) > limit:
            message = f"The query string is longer than {limit} characters; ask for less per request."
            return JsonResponse(error_body("uri_too_long", message), status=414)
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return JsonResponse(error_body("invalid", f"{name}: no NUL characters", name), status=400)
        return self.get_response(request)
