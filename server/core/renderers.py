from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from rest_framework import renderers


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
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)
