from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from server.core.errors import PayloadTooLarge


def read_limited(stream: Any, meta: dict[str, Any]) -> bytes:
    """Read a request body, refusing more than DATA_UPLOAD_MAX_MEMORY_SIZE bytes.

    DRF reads the raw stream, which bypasses Django's own size check on `request.body`.
    """
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    declared = meta.get("CONTENT_LENGTH") or 0
    try:
        declared_bytes = int(declared)
    except ValueError:
        declared_bytes = 0
    if declared_bytes > limit:
        raise PayloadTooLarge(f"Request body of {declared_bytes} bytes exceeds the limit of {limit} bytes.")
    body = stream.read(limit + 1) if stream is not None else b""
    if len(body) > limit:
        raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes.")
    return bytes(body)


def loads_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ParseError(f"Malformed JSON: {exc}") from exc


class JSONParser(parsers.BaseParser):
    """orjson-backed JSON parser (strict: bare NaN/Infinity literals are rejected)."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        request = (parser_context or {}).get("request")
        meta = request.META if request is not None else {}
        return loads_json(read_limited(stream, meta))
