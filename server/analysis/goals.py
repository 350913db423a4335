"""Metric direction: whether higher (``max``) or lower (``min``) values are better.

Every "better" statistic (P(A better than B), verdicts, ranks, P(best), probability of
improvement) is computed on *oriented* scores: x for goal ``max``, -x for goal ``min``
("losses are flipped before any better statistic", STATISTICS.md §12). Location and spread
statistics (mean, median, differences, intervals) stay in the metric's own units.

Default goal of an undefined metric (issue 3): a key containing ``loss``, ``error``, ``err``,
``mse``, ``mae``, ``rmse`` or ``perplexity`` (case-insensitive substring) is minimised,
every other key is maximised.
"""

from __future__ import annotations

from typing import cast

import numpy as np
from numpy.typing import ArrayLike

from ._common import FloatArray, Goal

MINIMISED_KEY_PARTS = ("loss", "error", "err", "mse", "mae", "rmse", "perplexity")
GOALS: tuple[Goal, ...] = ("max", "min")


def goal_for_key(key: str) -> Goal:
    """The default goal of a metric key: ``min`` for loss-like names, else ``max``."""
    lowered = key.lower()
    return "min" if any(part in lowered for part in MINIMISED_KEY_PARTS) else "max"


def goal_resolve(goal: str | None, key: str | None = None) -> Goal:
    """An explicit goal wins; otherwise the default for ``key``; otherwise ``max``."""
    if goal is None:
        return goal_for_key(key) if key is not None else "max"
    if goal not in GOALS:
        raise ValueError(f"goal must be 'max' or 'min', got {goal!r}")
    return cast(Goal, goal)


def goal_sign(goal: Goal) -> float:
    """+1 for ``max``, -1 for ``min``: multiply by it to get higher-is-better scores."""
    return 1.0 if goal_resolve(goal) == "max" else -1.0


def goal_orient(scores: ArrayLike, goal: Goal) -> FloatArray:
    """Scores where higher is better (a copy)."""
    return np.asarray(scores, dtype=float) * goal_sign(goal)
