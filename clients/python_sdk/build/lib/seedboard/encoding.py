"""Value encoding shared by the logging path, the spool and the read API.

Metric values travel as JSON numbers, except the non-finite floats, which travel as the
strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` in both directions (bare ``NaN`` is
not JSON). `jsonable` applies the same rule to config, summary and metadata.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Callable

__all__ = [
    "JSON",
    "decode_value",
    "dumps",
    "encode_float",
    "jsonable",
    "loads",
    "to_float",
]

JSON = Any  # a value made of dict/list/str/int/float/bool/None, with finite floats only

_NON_FINITE_OUT = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_INF = math.inf


def encode_float(value: float) -> float | str:
    """Return `value`, or its wire string when it is NaN or infinite."""
    if value - value == 0.0:  # false for NaN and for ±inf (inf - inf is NaN)
        return value
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def decode_value(value: Any) -> float:
    """Turn a wire value (number or non-finite string) back into a float."""
    if isinstance(value, str):
        try:
            return _NON_FINITE_OUT[value]
        except KeyError:
            raise ValueError(f"not a metric value: {value!r}") from None
    return float(value)


def to_float(value: Any) -> float:
    """Convert a logged value to float: int, float, bool, numpy scalars, any ``__float__``.

    Strings and bytes are refused even though ``float("1.5")`` works: logging the text
    ``"1.5"`` is almost surely a mistake. Raises `TypeError` or `ValueError`.
    """
    cls = type(value)
    if cls is float:
        return value  # type: ignore[no-any-return]
    if isinstance(value, (str, bytes, bytearray)) or not hasattr(cls, "__float__"):
        raise TypeError(f"cannot log a value of type {cls.__name__}")
    try:
        return float(value)
    except OverflowError as exc:  # an int beyond the float range
        raise ValueError(str(exc)) from None


def jsonable(value: Any, where: str = "value") -> JSON:
    """A JSON-safe copy of `value`: tuples become lists, numpy scalars become Python
    numbers, non-finite floats become their wire strings. Raises `TypeError` naming the
    offending path for anything else (so a bad config fails at `init`, not on the server).
    """
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return encode_float(float(value))
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: keys must be str, got {type(k).__name__} {k!r}")
            out[k] = jsonable(v, f"{where}.{k}")
        return out
    if isinstance(value, (list, tuple)):
        return [jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    item = getattr(value, "item", None)  # numpy scalars and 0-d arrays
    if callable(item) and getattr(value, "ndim", 0) == 0:
        return jsonable(item(), where)
    raise TypeError(f"{where}: {type(value).__name__} is not JSON serializable")


def _stdlib_dumps(obj: Any) -> bytes:
    # allow_nan=False turns a stray NaN into an error here instead of invalid JSON on the wire.
    return json.dumps(obj, separators=(",", ":"), allow_nan=False, ensure_ascii=False).encode()


dumps: Callable[[Any], bytes]
loads: Callable[[bytes | str], Any]
try:  # orjson is optional: several times faster on large metric batches.
    import orjson as _orjson

    def _orjson_dumps(obj: Any) -> bytes:
        # Callers hand over jsonable() output or encoded batches, so no NaN reaches here
        # (orjson would write it as null). Integers beyond 64 bits fall back to json.
        try:
            encoded: bytes = _orjson.dumps(obj)  # typed here: orjson may be absent when mypy runs
        except TypeError:
            return _stdlib_dumps(obj)
        return encoded

    dumps = _orjson_dumps
    loads = _orjson.loads
except ImportError:  # pragma: no cover - depends on the environment
    dumps = _stdlib_dumps
    loads = json.loads
