from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import orjson
from rest_framework import renderers

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _plain(value: Any) -> Any:
    """What orjson would write, as plain Python values for the standard library's encoder."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None  # as orjson writes them
    return value


def _other(value: Any) -> str:
    # datetimes and UUIDs, which orjson writes natively
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


class JSONRenderer(renderers.BaseRenderer):
    """orjson-backed renderer; payloads encode non-finite floats as strings before they get here."""

    media_type = "application/json"
    format = "json"
    charset = None

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        if data is None:
            return b""
        try:
            return orjson.dumps(data, option=_OPTIONS)
        except orjson.JSONEncodeError:
            # Documents stored before the write-time limits (server/core/jsonvalues.py) may nest
            # deeper than orjson's 254 levels; the slower standard encoder still shows them.
            return json.dumps(_plain(data), ensure_ascii=False, separators=(",", ":"), default=_other).encode()
