"""Parse and check a columnar metric batch in one pass over each column.

The hot path of ingestion: a batch is up to 50,000 points, so no per-point Python
objects beyond what the JSON parser made. Type checks use the set of element types of a
column (one C-level pass), numpy does the conversion, and the slow loop that finds the
first bad element only runs to word an error message.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from server.core.errors import InvalidInput, PayloadTooLarge

MAX_KEY_LENGTH = 250
MAX_STEP = 2**63 - 1
# The protobuf JSON convention for non-finite floats, in both directions.
NON_FINITE_FROM_WIRE = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
_COLUMNS = {"key", "step", "value", "time"}


@dataclass(frozen=True)
class MetricBatch:
    batch_id: uuid.UUID
    key_names: list[str]  # distinct keys, in order of first appearance
    key_codes: npt.NDArray[np.int32]  # per point: index into key_names
    steps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    times: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.steps)


def _first_bad(column: list[Any], ok: Any) -> int:
    return next(i for i, item in enumerate(column) if not ok(item))


def _key_column(keys: list[Any]) -> tuple[list[str], npt.NDArray[np.int32]]:
    if not set(map(type, keys)) <= {str}:
        i = _first_bad(keys, lambda k: type(k) is str)
        raise InvalidInput(f"points.key[{i}]: must be a string, got {keys[i]!r}", field="points.key")
    # C-level loops only: dict.fromkeys dedupes in order of first appearance, map() looks up.
    names = list(dict.fromkeys(keys))
    # One C-level scan over the distinct keys: PostgreSQL text cannot hold U+0000.
    if "\x00" in "".join(names):
        name = next(name for name in names if "\x00" in name)
        raise InvalidInput(f"points.key: {name[:40]!r} may not contain the NUL character (U+0000)", field="points.key")
    index = {name: code for code, name in enumerate(names)}
    for name in names:
        if not 0 < len(name) <= MAX_KEY_LENGTH:
            raise InvalidInput(
                f"points.key: {name[:40]!r}{'…' if len(name) > 40 else ''} must have 1 to {MAX_KEY_LENGTH} "
                f"characters, not {len(name)}",
                field="points.key",
            )
    codes = np.fromiter(map(index.__getitem__, keys), dtype=np.int32, count=len(keys))
    return names, codes


def _step_column(steps: list[Any]) -> npt.NDArray[np.int64]:
    def is_step(s: Any) -> bool:
        return type(s) is int and 0 <= s <= MAX_STEP

    if not set(map(type, steps)) <= {int}:
        i = _first_bad(steps, lambda s: type(s) is int)
        raise InvalidInput(f"points.step[{i}]: must be a non-negative integer, got {steps[i]!r}", field="points.step")
    try:
        array = np.array(steps, dtype=np.int64)
    except OverflowError:
        i = _first_bad(steps, is_step)
        raise InvalidInput(f"points.step[{i}]: {steps[i]} is out of range [0, 2**63)", field="points.step") from None
    if len(array) and array.min() < 0:
        i = int(np.argmax(array < 0))
        raise InvalidInput(f"points.step[{i}]: must be a non-negative integer, got {steps[i]}", field="points.step")
    return array


def _float_column(values: list[Any], field: str, *, allow_non_finite: bool) -> npt.NDArray[np.float64]:
    types = set(map(type, values))
    if allow_non_finite and str in types:
        values = [NON_FINITE_FROM_WIRE.get(v, v) if type(v) is str else v for v in values]
        types = set(map(type, values))
    if not types <= {float, int}:
        i = _first_bad(values, lambda v: type(v) in (float, int))
        allowed = 'a number or "NaN", "Infinity", "-Infinity"' if allow_non_finite else "a finite number"
        raise InvalidInput(f"{field}[{i}]: must be {allowed}, got {values[i]!r}", field=field)
    try:
        array = np.array(values, dtype=np.float64)
    except OverflowError:
        i = _first_bad(values, lambda v: abs(v) < 2**1024)
        raise InvalidInput(f"{field}[{i}]: {values[i]} does not fit a 64-bit float", field=field) from None
    if not allow_non_finite and not np.isfinite(array).all():
        i = int(np.argmin(np.isfinite(array)))
        raise InvalidInput(f"{field}[{i}]: must be a finite number", field=field)
    return array


def batch_parse(data: Any, *, max_points: int) -> MetricBatch:
    """Check a decoded request body and turn it into columns; raises InvalidInput or PayloadTooLarge."""
    if not isinstance(data, dict):
        raise InvalidInput("The body must be a JSON object with 'batch_id' and 'points'.")
    raw_id = data.get("batch_id")
    if not isinstance(raw_id, str):
        raise InvalidInput("batch_id: required, a UUID string chosen by the client", field="batch_id")
    try:
        batch_id = uuid.UUID(raw_id)
    except ValueError:
        raise InvalidInput(f"batch_id: {raw_id[:60]!r} is not a UUID", field="batch_id") from None
    points = data.get("points")
    if not isinstance(points, dict):
        raise InvalidInput("points: required, an object of columns key, step, value and optional time", field="points")
    unknown = set(points) - _COLUMNS
    if unknown:
        raise InvalidInput(f"points: unknown column {sorted(unknown)[0]!r}", field="points")
    for name in ("key", "step", "value"):
        if name not in points:
            raise InvalidInput(f"points.{name}: required", field=f"points.{name}")
    for name, column in points.items():
        if not isinstance(column, list):
            raise InvalidInput(f"points.{name}: must be an array", field=f"points.{name}")
    n = len(points["key"])
    if n > max_points:
        raise PayloadTooLarge(f"A batch holds at most {max_points} points, this one has {n}.", field="points")
    for name, column in points.items():
        if len(column) != n:
            raise InvalidInput(
                f"points.{name}: has {len(column)} items but points.key has {n}; columns must have equal length",
                field=f"points.{name}",
            )
    key_names, key_codes = _key_column(points["key"])
    steps = _step_column(points["step"])
    values = _float_column(points["value"], "points.value", allow_non_finite=True)
    if "time" in points:
        times = _float_column(points["time"], "points.time", allow_non_finite=False)
    else:
        times = np.full(n, time.time())
    return MetricBatch(batch_id, key_names, key_codes, steps, values, times)
