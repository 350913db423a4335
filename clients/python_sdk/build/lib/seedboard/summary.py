"""`Run.summary`: a dict whose changes the background thread pushes to the server."""

from __future__ import annotations

import threading
from collections.abc import Iterator, MutableMapping
from typing import Any

from .encoding import jsonable

__all__ = ["Summary"]


class Summary(MutableMapping[str, Any]):
    """The run's summary, e.g. ``run.summary["test/acc"] = 0.93``.

    Values are stored as JSON-safe copies (tuples become lists, NaN becomes ``"NaN"``),
    so later changes to a logged list do not leak in. Deleting a key removes it on the
    server too; for the same reason a value of None is sent as a deletion.
    Changes reach the server within about a second, and always at `Run.finish`.
    """

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        self.version = 0  # bumped on every change; lets the sender skip unchanged writes

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str) or not key:
            raise TypeError(f"summary keys must be non-empty str, got {key!r}")
        value = jsonable(value, f"summary[{key!r}]")
        with self._lock:
            self._data[key] = value
            self._dirty.add(key)
            self.version += 1

    def __delitem__(self, key: str) -> None:
        with self._lock:
            del self._data[key]
            self._dirty.add(key)
            self.version += 1

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Summary({self._data!r})"

    # -- used by the background thread ---------------------------------------------
    def take_changes(self) -> dict[str, Any]:
        """The keys changed since the last call, with their values (None: deleted)."""
        with self._lock:
            changes = {k: self._data.get(k) for k in self._dirty}
            self._dirty.clear()
        return changes

    def restore(self, keys: Iterator[str] | list[str] | set[str]) -> None:
        """Mark keys as changed again after a failed push (their current value is sent)."""
        with self._lock:
            self._dirty.update(keys)

    def state(self) -> dict[str, Any]:
        """Everything a replay must apply: all values plus pending deletions as None."""
        with self._lock:
            state = dict(self._data)
            state.update({k: None for k in self._dirty if k not in self._data})
        return state
