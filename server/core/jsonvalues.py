"""Free-form JSON values (configs, summaries, metadata, ...): what is accepted, and how it reads back.

Anything accepted must read back unchanged from every endpoint that shows it, so the rules
are those of the places a value passes through:

- PostgreSQL refuses the character U+0000 in text and in jsonb: no string or key may hold it.
- orjson, which renders every response, refuses integers beyond 64 bits and nesting deeper
  than 254 levels (envelope included): integers must fit a signed 64-bit integer, and a
  value may nest at most `MAX_DEPTH` levels (the top-level object is level 1).
- JSON has no NaN or infinity: non-finite floats travel as the strings "NaN", "Infinity"
  and "-Infinity" (docs/api.md). orjson's parser already refuses bare NaN and numbers
  beyond the float range; the check here covers values built in Python.
- A document is at most `MAX_DOCUMENT_BYTES` encoded, so that a summary merged over many
  updates stays bounded too.

Floats stay floats: jsonb stores numbers as `numeric` and prints 1e20 as the integer
100000000000000000000, which json.loads would read back as an int that orjson cannot
render. `StoredJSONDecoder` (the decoder of every JSONField) reads integers beyond the
64-bit range as floats again; as writes refuse such integers, only floats can produce
them, and each reads back as the float that was written (the decimal jsonb keeps is the
float's shortest repr, which parses back to the same double).
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

from server.core.errors import InvalidInput

MAX_DEPTH = 32
MAX_DOCUMENT_BYTES = 1024 * 1024
MIN_INT = -(2**63)
MAX_INT = 2**63 - 1
_SHOWN = 60  # characters of a key shown in a field path


def _key(path: str, key: str) -> str:
    shown = (key if len(key) <= _SHOWN else key[:_SHOWN] + "…").replace("\x00", "\\u0000")
    return f"{path}.{shown}" if path else shown


def _walk(value: Any, path: str, depth: int, top: str) -> None:
    """Raise InvalidInput naming `path` for the first value that would not read back."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidInput(f"{path}: strings may not contain the NUL character (U+0000)", field=path)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not MIN_INT <= value <= MAX_INT:
            raise InvalidInput(f"{path}: integer {value} is outside the signed 64-bit range", field=path)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(
                f'{path}: non-finite numbers travel as the strings "NaN", "Infinity" and "-Infinity"', field=path
            )
    elif isinstance(value, (dict, list)):
        if depth > MAX_DEPTH:
            # Named at the top-level key: the full path of a too-deep value is as long as the value is deep.
            raise InvalidInput(f"{top}: nested deeper than {MAX_DEPTH} levels", field=top)
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise InvalidInput(f"{path}: object keys must be strings", field=path)
                if "\x00" in key:
                    raise InvalidInput(
                        f"{path}: keys may not contain the NUL character (U+0000)", field=_key(path, key)
                    )
                _walk(item, _key(path, key), depth + 1, top if depth > 1 else _key(path, key))
        else:
            for index, item in enumerate(value):
                _walk(item, f"{path}[{index}]", depth + 1, top if depth > 1 else f"{path}[{index}]")
    else:
        raise InvalidInput(f"{path}: {type(value).__name__} is not a JSON value", field=path)


def json_value_check(value: Any, *, field: str) -> None:
    """Refuse a JSON value that could not be stored or read back, with InvalidInput naming the
    offending path, e.g. field "summary.train/loss" or "config.layers[2].name"."""
    _walk(value, field, 1, field)
    json_size_check(value, field=field)


def json_size_check(value: Any, *, field: str) -> None:
    """Refuse a value (already walked by json_value_check) whose JSON exceeds MAX_DOCUMENT_BYTES."""
    size = len(orjson.dumps(value))
    if size > MAX_DOCUMENT_BYTES:
        raise InvalidInput(f"{field}: {size} bytes of JSON exceed the limit of {MAX_DOCUMENT_BYTES} bytes", field=field)


def _int_or_float(text: str) -> int | float:
    number = int(text)
    return number if MIN_INT <= number <= MAX_INT else float(number)


class StoredJSONDecoder(json.JSONDecoder):
    """Reads a stored JSON document; integers beyond 64 bits (jsonb's spelling of floats such
    as 1e20) come back as floats. Used as the `decoder` of every model JSONField."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("parse_int", _int_or_float)
        super().__init__(**kwargs)
