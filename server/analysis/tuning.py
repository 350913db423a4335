"""Expected best validation score as a function of the tuning budget (Dodge et al., EMNLP 2019).

For N i.i.d. hyperparameter trials with validation scores sorted v_(1) ≤ … ≤ v_(N) (goal-
oriented; losses are negated and the result negated back, giving the expected minimum):
- with replacement (the paper's estimator and code, ``show_your_work.samplemax``):
  E[max_n] = Σ_i v_(i) p_i, p_i = (i/N)^n - ((i - 1)/N)^n, with spread
  sd_n = sqrt(Σ_i p_i (v_(i) - E[max_n])²) and the band E ± sd clipped to [min, max];
  n = 1 gives the mean of the trials.
- without replacement (unbiased, n ≤ N): p_i = C(i - 1, n - 1)/C(N, n) for i ≥ n, else 0
  (= [C(i, n) - C(i - 1, n)]/C(N, n)); computed with log-gamma; at n = N it equals max(v).
Budget axis: n x mean trial runtime when runtimes are given.
Assumes random search (i.i.d. trials), not Bayesian optimisation; it says nothing about the
seed variance of the chosen configuration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from ._common import METHOD_VERSION, FloatArray, Goal, Result, clean_scores, fnum
from .goals import goal_resolve, goal_sign

MAX_FULL_GRID = 1000

METHODS = {"expected": "dodge_2019_with_replacement", "without_replacement": "dodge_2019_unbiased"}


@dataclass(frozen=True, slots=True)
class ExpectedMaxCurve(Result):
    n_trials: tuple[int, ...]
    expected: tuple[float | None, ...]
    sd: tuple[float | None, ...]
    band_low: tuple[float | None, ...]
    band_high: tuple[float | None, ...]
    expected_without_replacement: tuple[float | None, ...]
    budget: tuple[float, ...] | None
    n: int
    n_failed: int
    goal: Goal
    methods: dict[str, str] = field(default_factory=lambda: dict(METHODS))
    method_version: str = METHOD_VERSION
    reasons: dict[str, str] = field(default_factory=dict)


def trials_expected_max(
    scores: ArrayLike,
    *,
    goal: Goal = "max",
    n_trials: Sequence[int] | None = None,
    runtimes: ArrayLike | None = None,
) -> ExpectedMaxCurve:
    """Expected best score after n trials, for n = 1..N (or a log-spaced grid when N > 1,000)."""
    goal = goal_resolve(goal)
    x, _, nonfinite = clean_scores(scores)
    big_n = x.size
    reasons: dict[str, str] = {}
    if n_trials is None:
        grid = np.arange(1, big_n + 1) if big_n <= MAX_FULL_GRID else np.unique(np.geomspace(1, big_n, 200).astype(int))
    else:
        grid = np.asarray(sorted({int(t) for t in n_trials if int(t) >= 1}), dtype=int)
    budget = None
    if runtimes is not None:
        rt = np.asarray(runtimes, dtype=float)
        rt = rt[np.isfinite(rt)]
        budget = tuple((grid * rt.mean()).tolist()) if rt.size else None
    if big_n == 0:
        empty = tuple(None for _ in grid)
        reasons["expected"] = "no finished trials"
        return ExpectedMaxCurve(
            n_trials=tuple(int(t) for t in grid),
            expected=empty,
            sd=empty,
            band_low=empty,
            band_high=empty,
            expected_without_replacement=empty,
            budget=budget,
            n=0,
            n_failed=nonfinite,
            goal=goal,
            reasons=reasons,
        )
    sign = goal_sign(goal)
    v = np.sort(x * sign)
    expected, sd = _with_replacement(v, grid)
    without = _without_replacement(v, grid)
    if (grid > big_n).any():
        reasons["expected_without_replacement"] = f"defined only up to n = N = {big_n} trials"
    low = np.clip(expected - sd, v[0], v[-1])
    high = np.clip(expected + sd, v[0], v[-1])
    if sign < 0:  # back to the metric's units: the expected minimum, band flipped
        expected, without, low, high = -expected, -without, -high, -low
    return ExpectedMaxCurve(
        n_trials=tuple(int(t) for t in grid),
        expected=_opt(expected),
        sd=_opt(sd),
        band_low=_opt(low),
        band_high=_opt(high),
        expected_without_replacement=_opt(without),
        budget=budget,
        n=big_n,
        n_failed=nonfinite,
        goal=goal,
        reasons=reasons,
    )


def _with_replacement(v: FloatArray, grid: np.ndarray) -> tuple[FloatArray, FloatArray]:
    big_n = v.size
    cdf = np.arange(big_n + 1) / big_n
    powers = cdf[None, :] ** grid[:, None].astype(float)  # (G, N + 1)
    p = np.diff(powers, axis=1)  # p_i = (i/N)^n - ((i - 1)/N)^n
    expected = p @ v
    spread = np.sqrt(np.clip((p * (v[None, :] - expected[:, None]) ** 2).sum(axis=1), 0, None))
    return expected, spread


def _without_replacement(v: FloatArray, grid: np.ndarray) -> FloatArray:
    big_n = v.size
    i = np.arange(1, big_n + 1, dtype=float)[None, :]
    n = grid.astype(float)[:, None]
    valid = (i >= n) & (n <= big_n)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_p = _log_comb(i - 1, n - 1) - _log_comb(np.full_like(n, big_n), n)
    p = np.where(valid, np.exp(np.where(valid, log_p, 0.0)), 0.0)
    return np.asarray(np.where(grid <= big_n, p @ v, np.nan))


def _log_comb(a: FloatArray, b: FloatArray) -> FloatArray:
    return np.asarray(special.gammaln(a + 1) - special.gammaln(b + 1) - special.gammaln(a - b + 1))


def _opt(values: FloatArray) -> tuple[float | None, ...]:
    return tuple(fnum(x) for x in np.asarray(values, dtype=float).tolist())
