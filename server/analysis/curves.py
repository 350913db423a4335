"""Learning curves of a variant's seeds on a common step grid (STATISTICS.md §10, §12.5).

Method:
1. Each run's points are sorted by step; for a repeated step the last value is kept;
   non-finite points are dropped.
2. Optional smoothing per run *before* aggregation: TensorBoard's debiased EMA,
   s_i = ((1 - w) Σ_{j ≤ i} w^{i-j} v_j) / (1 - w^{i+1}), by point index.
3. Grid: the given grid, else the union of all logged steps when it has at most
   ``max_union_points`` points, else ``n_points`` uniform points over [min first, max last].
4. Linear interpolation (``numpy.interp``) inside each run's logged range only — never
   extrapolated: a run contributes at x iff first ≤ x ≤ last, and not inside a gap longer
   than ``max_gap_factor`` x its median logging interval.
5. Per grid point over the n(x) runs present: mean, std (ddof = 1), 95 % Student-t band
   mean ± t_{0.975, n-1}·std/√n (n ≥ 2), and n(x) itself. Where every run is present
   ``complete`` is true; [intersection_low, intersection_high] = [max first, min last] is the
   range over which the aggregate should be drawn — beyond it the set of runs shrinks
   (survivorship: crashed or early-stopped runs are often the bad ones).
A std below 1e-12·max(1, |mean|) is 0 and the band has zero width there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy import signal, stats

from ._common import LEVEL, METHOD_VERSION, FloatArray, Result, check_level, fnum, is_zero_std

METHODS = {
    "alignment": "linear_interpolation_within_run_range",
    "band": "student_t_mean",
    "std": "sample_std_ddof_1",
    "smoothing": "debiased_ema_per_run",
}


@dataclass(frozen=True, slots=True)
class CurveAggregate(Result):
    steps: tuple[float, ...]
    mean: tuple[float | None, ...]
    std: tuple[float | None, ...]
    ci_low: tuple[float | None, ...]
    ci_high: tuple[float | None, ...]
    n: tuple[int, ...]
    complete: tuple[bool, ...]
    intersection_low: float | None
    intersection_high: float | None
    n_runs: int
    n_runs_used: int
    smoothing: float | None
    max_gap_factor: float | None
    level: float
    methods: dict[str, str] = field(default_factory=lambda: dict(METHODS))
    method_version: str = METHOD_VERSION
    reasons: dict[str, str] = field(default_factory=dict)


def ema_debiased(values: ArrayLike, weight: float) -> FloatArray:
    """TensorBoard's debiased exponential moving average (weight in [0, 1))."""
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight!r}")
    v = np.asarray(values, dtype=float)
    ema = signal.lfilter([1.0 - weight], [1.0, -weight], v)
    return np.asarray(ema / (1.0 - weight ** np.arange(1, v.size + 1)))


def curve_aggregate(
    runs: Sequence[tuple[ArrayLike, ArrayLike]],
    *,
    grid: ArrayLike | None = None,
    n_points: int = 200,
    max_union_points: int = 1000,
    max_gap_factor: float | None = 5.0,
    gap_scales: Sequence[float] | None = None,
    smoothing: float | None = None,
    level: float = LEVEL,
) -> CurveAggregate:
    """Aggregate runs given as (steps, values) pairs on a common grid.

    A run is absent at grid points inside a gap longer than `max_gap_factor` times its typical
    step spacing: the median of its gaps, or `gap_scales[r]` when given (for runs passed as a
    sample of their points, such as the points around each grid step).
    """
    if gap_scales is not None and len(gap_scales) != len(runs):
        raise ValueError(f"gap_scales: {len(gap_scales)} values for {len(runs)} runs")
    check_level(level)
    cleaned = [_clean_run(steps, values) for steps, values in runs]
    scales = [None] * len(runs) if gap_scales is None else list(gap_scales)
    used = [(s, v) for s, v in cleaned if s.size]
    used_scales = [scale for (s, _), scale in zip(cleaned, scales, strict=True) if s.size]
    if smoothing is not None:
        used = [(s, ema_debiased(v, smoothing)) for s, v in used]
    reasons: dict[str, str] = {}
    if grid is not None:
        x = np.unique(np.asarray(grid, dtype=float))
    elif used:
        union = np.unique(np.concatenate([s for s, _ in used]))
        first, last = min(s[0] for s, _ in used), max(s[-1] for s, _ in used)
        x = union if union.size <= max_union_points else np.linspace(first, last, n_points)
    else:
        x = np.empty(0)
    y = np.full((len(used), x.size), np.nan)
    for r, (s, v) in enumerate(used):
        y[r] = np.where(_present(x, s, max_gap_factor, used_scales[r]), np.interp(x, s, v), np.nan)
    n = np.isfinite(y).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.nansum(y, axis=0)
        mean = np.where(n >= 1, total / np.maximum(n, 1), np.nan)
        squares = np.nansum((y - mean) ** 2, axis=0)
        std = np.where(n >= 2, np.sqrt(squares / np.maximum(n - 1, 1)), np.nan)
        std = np.where(is_zero_std(np.nan_to_num(std), mean) & (n >= 2), 0.0, std)
        half = stats.t.ppf((1 + level) / 2, np.maximum(n - 1, 1)) * std / np.sqrt(np.maximum(n, 1))
    if used:
        lo, hi = max(s[0] for s, _ in used), min(s[-1] for s, _ in used)
        intersection = (lo, hi) if lo <= hi else (None, None)
        if intersection[0] is None:
            reasons["intersection_low"] = reasons["intersection_high"] = "the runs share no common step range"
    else:
        intersection = (None, None)
        reasons["intersection_low"] = reasons["intersection_high"] = "no run has a finite point"
    if x.size and (n < 2).any():
        reasons["std"] = reasons["ci_low"] = reasons["ci_high"] = "None where fewer than 2 runs are present"
    return CurveAggregate(
        steps=tuple(x.tolist()),
        mean=_opt(mean),
        std=_opt(std),
        ci_low=_opt(mean - half),
        ci_high=_opt(mean + half),
        n=tuple(int(c) for c in n),
        complete=tuple(bool(c) for c in (n == len(used)) & (n > 0)),
        intersection_low=fnum(intersection[0]),
        intersection_high=fnum(intersection[1]),
        n_runs=len(runs),
        n_runs_used=len(used),
        smoothing=smoothing,
        max_gap_factor=max_gap_factor,
        level=level,
        reasons=reasons,
    )


def _clean_run(steps: ArrayLike, values: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Finite points sorted by step, the last value kept for a repeated step."""
    s = np.asarray(steps, dtype=float).reshape(-1)
    v = np.asarray(values, dtype=float).reshape(-1)
    if s.shape != v.shape:
        raise ValueError(f"steps and values differ in length: {s.size} vs {v.size}")
    finite = np.isfinite(s) & np.isfinite(v)
    s, v = s[finite], v[finite]
    order = np.argsort(s, kind="stable")
    s, v = s[order], v[order]
    last = np.append(s[1:] != s[:-1], True) if s.size else np.zeros(0, dtype=bool)
    return s[last], v[last]


def _present(x: FloatArray, s: FloatArray, max_gap_factor: float | None, gap_scale: float | None) -> np.ndarray:
    """Grid points a run covers: inside [first, last] and not inside an over-long gap."""
    inside = (x >= s[0]) & (x <= s[-1])
    if max_gap_factor is None or s.size < 3:
        return inside
    gaps = np.diff(s)
    limit = max_gap_factor * (np.median(gaps) if gap_scale is None else gap_scale)
    right = np.clip(np.searchsorted(s, x, side="left"), 1, s.size - 1)
    on_point = s[right] == x
    bridged = gaps[right - 1] <= limit
    return np.asarray(inside & (on_point | bridged | (x == s[0])))


def _opt(values: FloatArray) -> tuple[float | None, ...]:
    return tuple(fnum(v) for v in np.asarray(values, dtype=float).tolist())
