"""Cross-task aggregates with stratified-bootstrap intervals (rliable; Agarwal et al., NeurIPS 2021).

Scores x[v][t] are the seed scores of variant v on task t (normalised beforehand when
baselines are known, STATISTICS.md §2, §12.4). Definitions follow ``rliable.metrics``:
- IQM = ``scipy.stats.trim_mean(all runs of all tasks, 0.25)`` (the headline aggregate);
- mean = mean over tasks of the per-task mean; median = median over tasks of the per-task mean;
- optimality gap (only with a target gamma, normally 1 on normalised scores) =
  gamma - mean(min(x, gamma)) over all runs;
- average probability of improvement of X over Y = (1/N) Σ_t P(X_t > Y_t), with per task
  P(X_t > Y_t) = U_t/(n_x n_y), ties counting ½ (0.5 for identical columns), on goal-oriented
  scores.

Stratified bootstrap (rliable's ``StratifiedBootstrap`` / ``StratifiedIndependentBootstrap``):
each task's runs are resampled with replacement independently (strata = tasks), X and Y
independently of each other; 95 % percentile intervals from B = 10,000 replicates. Each
(variant, task) sample has its own PCG64 stream keyed by the two names (see ``bootstrap``),
drawn once and shared by all aggregates and pairs; no loop over replicates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from . import bootstrap as bs
from ._common import METHOD_VERSION, FloatArray, Result, fnum


@dataclass(frozen=True, slots=True)
class AggregateScores(Result):
    """rliable aggregates of one variant across tasks, with stratified-bootstrap intervals."""

    n_runs: int
    n_tasks: int
    iqm: float | None
    iqm_ci_low: float | None
    iqm_ci_high: float | None
    mean: float | None
    mean_ci_low: float | None
    mean_ci_high: float | None
    median: float | None
    median_ci_low: float | None
    median_ci_high: float | None
    optimality_gap: float | None
    optimality_gap_ci_low: float | None
    optimality_gap_ci_high: float | None
    reasons: dict[str, str] = field(default_factory=dict)
    method_version: str = METHOD_VERSION


@dataclass
class StratifiedDraws:
    """Resample indices and counts of every (variant, task) sample, drawn once."""

    indices: list[list[np.ndarray]]
    counts_t: list[list[FloatArray]]


def stratified_draws(
    samples: Sequence[Sequence[FloatArray]], variants: Sequence[str], tasks: Sequence[str], *, n_boot: int, seed: int
) -> StratifiedDraws:
    """Draw (B, n) indices per (variant, task), each from its own named stream."""
    indices = [
        [
            bs.resample_indices(bs.named_generator(seed, v, t), n_boot, x.size)
            for x, t in zip(per_task, tasks, strict=True)
        ]
        for per_task, v in zip(samples, variants, strict=True)
    ]
    counts_t = [
        [
            np.ascontiguousarray(bs.indices_to_counts(idx, x.size).T, dtype=float)
            for idx, x in zip(row, per_task, strict=True)
        ]
        for row, per_task in zip(indices, samples, strict=True)
    ]
    return StratifiedDraws(indices=indices, counts_t=counts_t)


def aggregate_scores(
    per_task: Sequence[FloatArray], indices: Sequence[np.ndarray], *, gamma: float | None, level: float
) -> AggregateScores:
    """IQM, mean, median of task means and optimality gap of one variant, with their intervals."""
    runs = np.concatenate(per_task)
    task_means = np.array([x.mean() for x in per_task])
    # Replicates: (B, Σ n_t) resampled runs, task by task (stratified), and (B, N) task means.
    resampled = [x[idx] for x, idx in zip(per_task, indices, strict=True)]
    boot_runs = np.concatenate(resampled, axis=1)
    boot_means = np.stack([r.mean(axis=1) for r in resampled], axis=1)
    point = {
        "iqm": stats.trim_mean(runs, 0.25),
        "mean": task_means.mean(),
        "median": np.median(task_means),
    }
    replicates = {
        "iqm": stats.trim_mean(boot_runs, 0.25, axis=1),
        "mean": boot_means.mean(axis=1),
        "median": np.median(boot_means, axis=1),
    }
    reasons: dict[str, str] = {}
    if gamma is not None:
        point["optimality_gap"] = gamma - np.minimum(runs, gamma).mean()
        replicates["optimality_gap"] = gamma - np.minimum(boot_runs, gamma).mean(axis=1)
    else:
        for key in ("optimality_gap", "optimality_gap_ci_low", "optimality_gap_ci_high"):
            reasons[key] = "optimality gap needs normalised scores (a target gamma)"
    values: dict[str, Any] = {}
    for key, estimate in point.items():
        low, high = bs.percentile_interval(replicates[key], level)
        values[key], values[f"{key}_ci_low"], values[f"{key}_ci_high"] = fnum(estimate), fnum(low), fnum(high)
    fields: dict[str, Any] = {key: values.get(key) for key in _AGGREGATE_FIELDS}
    return AggregateScores(n_runs=int(runs.size), n_tasks=len(per_task), reasons=reasons, **fields)


_AGGREGATE_FIELDS = tuple(
    f"{key}{suffix}" for key in ("iqm", "mean", "median", "optimality_gap") for suffix in ("", "_ci_low", "_ci_high")
)


def average_probability_of_improvement(
    oriented: Sequence[Sequence[FloatArray]],
    draws: StratifiedDraws,
    pairs: Sequence[tuple[int, int]],
    *,
    level: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(point, ci_low, ci_high) of the average P(X better than Y) over tasks, for each (x, y) pair.

    ``oriented[v][t]`` are goal-oriented scores (higher is better).
    """
    n_tasks = len(oriented[0]) if oriented else 0
    point = np.full(len(pairs), np.nan)
    total = {}
    by_x: dict[int, list[int]] = {}
    for k, (x, _) in enumerate(pairs):
        by_x.setdefault(x, []).append(k)
    for x, members in by_x.items():
        acc = None
        for t in range(n_tasks):
            dominance = [bs.dominance_matrix(oriented[x][t], oriented[pairs[k][1]][t]) for k in members]
            if t == 0:
                point[members] = 0.0
            point[members] += np.array([s.mean() for s in dominance]) / n_tasks
            partners = np.concatenate([draws.counts_t[pairs[k][1]][t] for k in members])
            rep = bs.dominance_replicates(draws.counts_t[x][t], dominance, partners) / n_tasks
            acc = rep if acc is None else acc + rep
        if acc is not None:
            for row, k in enumerate(members):
                total[k] = acc[row]
    low = np.full(len(pairs), np.nan)
    high = np.full(len(pairs), np.nan)
    if total:
        keys = sorted(total)
        lo, hi = bs.percentile_interval(np.stack([total[k] for k in keys]), level, axis=1)
        low[keys], high[keys] = lo, hi
    return point, low, high
