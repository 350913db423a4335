"""Generated JSON documents for the round-trip properties, with the rule of what the API accepts.

Plain module (no Django): the SDK tests use it too, on the SDK's oldest Python. The limits are
those of docs/api.md ("Free-form JSON values"), restated here rather than imported from the server.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

MAX_DEPTH = 32
INT64 = 2**63

EXTREME_FLOATS = [1e20, -1e21, 1e308, -1e308, 1.7976931348623157e308, 5e-324, -5e-324, 2.2250738585072014e-308, 0.1]
EXTREME_FLOATS += [2.0**63, 2.0**64, 1e18, 123456789012345678.0, -0.0]
SPECIAL_TEXT = [
    "\x00",
    "a\x00b",
    "\x01\x1f\x7f",
    "é",
    "😀",
    "\U0010fffd",
    "\u2028",
    "NaN",
    "Infinity",
    "",
    "a.b",
    "[0]",
]

texts = st.text(max_size=12) | st.sampled_from(SPECIAL_TEXT)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-INT64, max_value=2**64 - 1)  # what a JSON encoder of 64-bit integers can send
    | st.sampled_from([INT64 - 1, INT64, -INT64, 2**64 - 1])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(EXTREME_FLOATS)
    | texts
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3), max_leaves=12
)


@st.composite
def nested(draw: st.DrawFn) -> Any:
    """A value wrapped in objects and arrays to a depth around the limit."""
    value = draw(scalars)
    for _ in range(draw(st.integers(min_value=1, max_value=MAX_DEPTH + 2))):
        value = {draw(texts): value} if draw(st.booleans()) else [value]
    return value


documents = st.dictionaries(texts, values | nested(), max_size=4)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def acceptable(value: Any) -> bool:
    """Whether the API stores a document: no NUL anywhere, 64-bit integers, nesting within the limit."""

    def ok(item: Any) -> bool:
        if isinstance(item, str):
            return "\x00" not in item
        if isinstance(item, bool) or item is None:
            return True
        if isinstance(item, int):
            return -INT64 <= item < INT64
        if isinstance(item, float):
            return math.isfinite(item)
        if isinstance(item, dict):
            return all("\x00" not in k and ok(v) for k, v in item.items())
        return all(ok(v) for v in item)

    return ok(value) and depth(value) <= MAX_DEPTH


def same(written: Any, read: Any) -> bool:
    """Equal as JSON values; numbers compare as floats (PostgreSQL prints 1e18 as 1000000000000000000)."""
    if isinstance(written, bool) or isinstance(read, bool) or written is None or isinstance(written, str):
        return type(written) is type(read) and written == read
    if isinstance(written, (int, float)):
        return isinstance(read, (int, float)) and (written == read or float(written) == float(read))
    if isinstance(written, dict):
        return (
            isinstance(read, dict)
            and written.keys() == read.keys()
            and all(same(v, read[k]) for k, v in written.items())
        )
    return isinstance(read, list) and len(written) == len(read) and all(map(same, written, read))
