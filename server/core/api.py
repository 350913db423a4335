"""What every API module shares: the documented error answers and input checking by serializer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

from server.core.serializers import ErrorSerializer

# The error answers every endpoint may give (503: a statement cancelled at the web
# statement_timeout, server/core/database.py), documented in the schema so fuzzers accept them.
ERRORS: dict[int, Any] = {code: ErrorSerializer for code in (400, 401, 403, 404, 429, 503)}


def checked(serializer_class: type, data: Any, **kwargs: Any) -> dict[str, Any]:
    """`data` validated by `serializer_class` (a 400 naming the first bad field otherwise)."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class FileDownloadNegotiation(BaseContentNegotiation):
    """Content negotiation of the endpoints that stream files: their own `format` parameter names
    the file's format, which DRF would otherwise take for a renderer to look up (and answer 404),
    and their errors are JSON like every other endpoint's."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))  # the JSON renderer, for errors
        return renderer, renderer.media_type
