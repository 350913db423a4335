"""Chart specs kept in Django's cache under a digest of everything they are drawn from.

A chart is a pure function of its inputs (the points read, the page's choices), so a spec
cached under their digest is never stale: new points change a series' summary (its count,
last step and values), hence the digest. Building the run page's chart (reading the points,
Altair, JSON) was about two thirds of the page's time; a finished run is drawn again and
again, by everyone who opens it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import altair as alt
import orjson
from django.core.cache import cache

# Bump when a chart builder changes what it draws: specs cached by the old code are then unused.
CHART_VERSION = 1
CACHE_SECONDS = 600


def cached_spec_json(kind: str, inputs: Any, build: Callable[[], dict[str, Any]]) -> str:
    """The spec `build()` returns, as JSON text, from the cache when `inputs` (JSON values) were
    drawn before. NaN and infinities become null, as the browser's JSON would make them."""
    digest = hashlib.sha256(orjson.dumps(inputs, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)).hexdigest()
    key = f"chart:{CHART_VERSION}:{alt.__version__}:{kind}:{digest}"
    text = cache.get(key)
    if text is None:
        text = orjson.dumps(build()).decode()
        cache.set(key, text, CACHE_SECONDS)
    return text
