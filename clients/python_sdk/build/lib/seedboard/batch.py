"""Columnar metric batches, built by the background thread from raw ``log()`` entries.

``log()`` only appends ``(step, time, metrics_dict)``; the conversion to float, the
non-finite encoding and the JSON serialization happen here, off the training loop.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .encoding import dumps, encode_float, loads, to_float

__all__ = ["MAX_BATCH_POINTS", "Batch", "Batcher", "Rejected", "batch_points"]

# The server takes up to 50,000 points per request; 20,000 keeps bodies near 1 MB.
MAX_BATCH_POINTS = 20_000


@dataclass(frozen=True)
class Batch:
    """One request body, ready to send: the same `batch_id` is kept across retries."""

    batch_id: str
    body: bytes
    points: int


@dataclass(frozen=True)
class Rejected:
    """A logged value that could not become a float."""

    key: str
    step: int
    time: float
    value: str  # repr() of what was logged, truncated
    reason: str

    def as_record(self) -> dict[str, Any]:
        """The JSON line written to the spool's rejected file."""
        return {
            "key": self.key,
            "step": self.step,
            "time": self.time,
            "value": self.value,
            "reason": self.reason,
        }


class Batcher:
    """Accumulates points into columns and cuts a `Batch` every `max_points` points."""

    def __init__(self, max_points: int = MAX_BATCH_POINTS) -> None:
        if max_points < 1:
            raise ValueError("max_points must be positive")
        self.max_points = max_points
        self.ready: list[Batch] = []
        self.rejected: list[Rejected] = []
        self._reset()

    def _reset(self) -> None:
        self._keys: list[str] = []
        self._steps: list[int] = []
        self._values: list[float | str] = []
        self._times: list[float] = []

    def __len__(self) -> int:
        """Points waiting in the open (not yet cut) batch."""
        return len(self._keys)

    def add(self, step: int, time: float, metrics: Mapping[str, Any]) -> None:
        """Add one ``log()`` entry; values that are not numbers go to `rejected`."""
        keys, steps, values, times = self._keys, self._steps, self._values, self._times
        for key, raw in metrics.items():
            if type(raw) is float and raw - raw == 0.0:
                value: float | str = raw  # the common case, inlined: a finite float
            else:
                try:
                    value = encode_float(to_float(raw))
                except (TypeError, ValueError) as exc:
                    self.rejected.append(
                        Rejected(
                            key=key, step=step, time=time, value=repr(raw)[:200], reason=str(exc)
                        )
                    )
                    continue
            keys.append(key)
            steps.append(step)
            values.append(value)
            times.append(time)
            if len(keys) >= self.max_points:
                self.cut()
                keys, steps, values, times = self._keys, self._steps, self._values, self._times

    def cut(self) -> None:
        """Close the open batch (if it has points) and move it to `ready`."""
        if not self._keys:
            return
        batch_id = str(uuid.uuid4())
        body = {
            "batch_id": batch_id,
            "points": {
                "key": self._keys,
                "step": self._steps,
                "value": self._values,
                "time": self._times,
            },
        }
        self.ready.append(Batch(batch_id=batch_id, body=dumps(body), points=len(self._keys)))
        self._reset()

    def take_ready(self) -> list[Batch]:
        """Return and forget the batches cut so far."""
        ready, self.ready = self.ready, []
        return ready

    def take_rejected(self) -> list[Rejected]:
        """Return and forget the rejected values seen so far."""
        rejected, self.rejected = self.rejected, []
        return rejected


def batch_points(body: bytes) -> int:
    """Number of points in a stored request body (0 if it cannot be read)."""
    try:
        return len(loads(body)["points"]["key"])
    except (ValueError, KeyError, TypeError):
        return 0
