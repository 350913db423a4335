"""Metric definitions: which direction is better and how a run's curve becomes one number.

`metric_definition` checks the caller's arguments and builds the body of
``PUT /api/v1/projects/{team}/{project}/metric-definitions/``; both `Run.define_metric`
and `Api.define_metric` use it, so a mistake raises at once in the caller's thread.
`PendingDefinitions` holds what a run has defined but the server has not confirmed yet
(the background sender sends it; the spool keeps it for ``seedboard sync``).
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote

__all__ = [
    "GOALS",
    "SUMMARIES",
    "PendingDefinitions",
    "definitions_path",
    "metric_definition",
    "project_endpoint",
    "project_parts",
]

GOALS = ("max", "min")
SUMMARIES = ("last", "best", "min", "max", "mean_last_k", "at_step")
MAX_KEY_LENGTH = 250  # as for logged metric keys
MAX_STEP = 2**63  # exclusive, as on the server


def project_parts(project: str) -> tuple[str, str]:
    """``"team/project"`` -> ``("team", "project")``; ValueError for anything else."""
    parts = project.split("/") if isinstance(project, str) else []
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"project must look like 'team/project', got {project!r}")
    return parts[0], parts[1]


def project_endpoint(project: str, tail: str) -> str:
    """``projects/{team}/{project}/<tail>``, relative to ``/api/v1/``."""
    team, slug = project_parts(project)
    return f"projects/{quote(team, safe='')}/{quote(slug, safe='')}/{tail}"


def definitions_path(project: str) -> str:
    """The metric-definitions endpoint of a project, relative to ``/api/v1/``."""
    return project_endpoint(project, "metric-definitions/")


def _whole(name: str, value: Any, minimum: int) -> int:
    # numpy integers have __index__; bool is an int but surely a mistake here.
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    number = int(value.__index__())
    if not minimum <= number < MAX_STEP:
        raise ValueError(f"{name} must be an int >= {minimum}, got {number}")
    return number


def metric_definition(
    key: str,
    *,
    goal: str | None = None,
    summary: str = "last",
    k: int | None = None,
    step: int | None = None,
) -> dict[str, Any]:
    """Check a definition and return its PUT body ``{"key", "goal", "summary", "k", "step"}``.

    A `goal` of None travels as null: the server then applies the key's default direction
    (``min`` for keys containing loss, error, err, mse, mae, rmse or perplexity, else
    ``max``). `k` is required with ``summary="mean_last_k"`` (mean of the last k logged values) and
    `step` with ``summary="at_step"``; either one given with another summary is a mistake.

    Raises:
        TypeError: a key that is not a str, a `k` or `step` that is not an int.
        ValueError: an empty or too long key, an unknown goal or summary, a missing or
            out-of-range `k`/`step`.
    """
    if not isinstance(key, str):
        raise TypeError(f"metric key must be a str, got {type(key).__name__} {key!r}")
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        raise ValueError(f"metric key must have 1 to {MAX_KEY_LENGTH} characters, got {key!r}")
    if goal is not None and goal not in GOALS:
        raise ValueError(f"goal must be one of {GOALS} or None, got {goal!r}")
    if summary not in SUMMARIES:
        raise ValueError(f"summary must be one of {SUMMARIES}, got {summary!r}")
    if summary == "mean_last_k":
        if k is None:
            raise ValueError("summary='mean_last_k' needs k, the number of last values")
        k = _whole("k", k, 1)
    elif k is not None:
        raise ValueError(f"k is only used with summary='mean_last_k', not {summary!r}")
    if summary == "at_step":
        if step is None:
            raise ValueError("summary='at_step' needs step, the step whose value counts")
        step = _whole("step", step, 0)
    elif step is not None:
        raise ValueError(f"step is only used with summary='at_step', not {summary!r}")
    # Unused fields travel as null: a PUT replaces the whole definition.
    return {"key": key, "goal": goal, "summary": summary, "k": k, "step": step}


class PendingDefinitions:
    """Definitions a run made that the server has not confirmed, latest per key.

    Written by the caller's thread (`put`), read and confirmed by the sender thread. A
    definition stays here until `confirm` sees the very body that was sent, so a key
    redefined while its first version was in flight is sent again.
    """

    def __init__(self) -> None:
        self._pending: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.version = 0  # bumped on every put; lets the sender skip unchanged spool writes

    def put(self, body: dict[str, Any]) -> None:
        """Add or replace the definition of ``body["key"]``."""
        with self._lock:
            self._pending.pop(body["key"], None)  # keep the order of the latest calls
            self._pending[body["key"]] = body
            self.version += 1

    def snapshot(self) -> list[dict[str, Any]]:
        """The pending bodies, oldest first."""
        with self._lock:
            return list(self._pending.values())

    def confirm(self, body: dict[str, Any]) -> None:
        """Forget `body` once the server stored it (unless it was redefined since)."""
        with self._lock:
            if self._pending.get(body["key"]) is body:
                del self._pending[body["key"]]

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)
