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

Performance profile (rliable's ``create_performance_profile`` with ``use_score_distribution=True``,
the run-score distribution): F(τ) = (1/N) Σ_t (1/n_t) #{runs i of task t: x_ti > τ}, strict, on
goal-oriented scores; with equal seed counts per task this is rliable's fraction of all runs x
tasks above τ. A replicate resamples each task's runs (the stratified draws below): F*(τ) =
(1/N) Σ_t (1/n_t) Σ_i c_ti 1[x_ti > τ], one matrix product per variant (indicator x counts,
integer-valued per group of equal n_t, so the replicates are non-increasing in τ exactly).

Average-rank intervals (STATISTICS.md §3, §12.4), on the N x k matrix r of within-task ranks of
the per-task means (1 = best, ties averaged), R_j = (1/N) Σ_t r_tj:
- over tasks: N task indices drawn with replacement (stream [seed, 3], ``STREAM_TASKS``); a
  task's ranks do not change when tasks are resampled, so R*_j = Σ_t c_t r_tj / N with c the task
  counts — one (B x N) @ (N x k) product, exact (integer counts, ranks in halves);
- over seeds: the stratified draws below give resampled per-task means, re-ranked within each
  task (``scipy.stats.rankdata`` along the variant axis) and averaged over tasks.
Bounds are the 2.5 % / 97.5 % percentiles taken as attained values (numpy 'lower' / 'higher',
as in ``ranking``); P(best) = mean over replicates of 1[R*_j minimal]/(number minimal).

Stratified bootstrap (rliable's ``StratifiedBootstrap`` / ``StratifiedIndependentBootstrap``):
each task's runs are resampled with replacement independently (strata = tasks), X and Y
independently of each other; 95 % percentile intervals from B = 10,000 replicates. Each
(variant, task) sample has its own PCG64 stream keyed by the two names (see ``bootstrap``),
drawn once and shared by all aggregates, profiles, pairs and rank intervals; no loop over replicates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from . import bootstrap as bs
from ._common import BLOCK_BYTES, METHOD_VERSION, FloatArray, Result, fnum

# Stream of the task bootstrap of average ranks; ``bootstrap`` uses 1 (describe) and 2 (compare).
STREAM_TASKS = 3


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


@dataclass(frozen=True, slots=True)
class PerformanceProfile(Result):
    """Run-score distribution of one variant on the benchmark's τ grid, with its 95 % band."""

    fraction: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class StratifiedDraws:
    """The resamples of every (variant, task) sample, made on demand from their own streams.

    Nothing is held: ``indices(v, t)`` and ``counts_t(v, t)`` draw again from the sample's stream
    each time, bit-identical, so the callers keep only the block they work on (``BLOCK_BYTES``)
    and memory does not grow as k x N x n x B. ``dtype`` is that of the counts.
    """

    variants: tuple[str, ...]
    tasks: tuple[str, ...]
    sizes: NDArray[np.int64]  # (k, N) sample sizes
    n_boot: int
    seed: int
    dtype: type[np.floating[Any]]

    def indices(self, v: int, t: int) -> NDArray[np.int64]:
        """(B, n) resample indices of variant v on task t."""
        rng = bs.named_generator(self.seed, self.variants[v], self.tasks[t])
        return bs.resample_indices(rng, self.n_boot, int(self.sizes[v, t]))

    def counts_t(self, v: int, t: int) -> NDArray[np.floating[Any]]:
        """(n, B) resample counts of variant v on task t, transposed, row-major."""
        counts = bs.indices_to_counts(self.indices(v, t), int(self.sizes[v, t]))
        return np.ascontiguousarray(counts.T, dtype=self.dtype)


def stratified_draws(
    samples: Sequence[Sequence[FloatArray]], variants: Sequence[str], tasks: Sequence[str], *, n_boot: int, seed: int
) -> StratifiedDraws:
    """The draws of (B, n) indices per (variant, task), each from its own named stream."""
    sizes = np.array([[x.size for x in per_task] for per_task in samples], dtype=np.int64)
    sizes = sizes.reshape(len(samples), len(tasks))
    # Counts are integers and the dominance scores they meet multiples of ½, so the sums made of them
    # (at most n_a n_b for a pair, Σ n for a profile) are exact in float32 while 2 n² and Σ n stay
    # below 2^24: the float64 results bit for bit, in half the memory and time.
    exact32 = bool(sizes.size) and 2 * int(sizes.max()) ** 2 < 2**24 and int(sizes.sum(axis=1).max()) < 2**24
    return StratifiedDraws(
        variants=tuple(variants),
        tasks=tuple(tasks),
        sizes=sizes,
        n_boot=int(n_boot),
        seed=int(seed),
        dtype=np.float32 if exact32 else np.float64,
    )


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

    ``oriented[v][t]`` are goal-oriented scores (higher is better). The partners y are taken in
    blocks of at most ``BLOCK_BYTES`` of counts (all tasks), each pair's B replicates are reduced
    to its interval at once: memory is O(block + B x block size), never B x pairs. Replicates are
    exact sums (``bootstrap.dominance_replicates``), so blocks give the same numbers as one pass.
    """
    n_tasks = len(oriented[0]) if oriented else 0
    point = np.full(len(pairs), np.nan)
    low = np.full(len(pairs), np.nan)
    high = np.full(len(pairs), np.nan)
    if not pairs or not n_tasks:
        return point, low, high
    point[:] = 0.0
    for t in range(n_tasks):
        point += [bs.dominance_matrix(oriented[x][t], oriented[y][t]).mean() / n_tasks for x, y in pairs]
    by_x: dict[int, list[int]] = {}
    for k, (x, _) in enumerate(pairs):
        by_x.setdefault(x, []).append(k)
    row_bytes = draws.n_boot * np.dtype(draws.dtype).itemsize
    for block in bs.blocks(sorted({y for _, y in pairs}), lambda y: int(draws.sizes[y].sum()) * row_bytes):
        counts = {y: [draws.counts_t(y, t) for t in range(n_tasks)] for y in block}
        for x, members in by_x.items():
            inside = [k for k in members if pairs[k][1] in counts]
            if not inside:
                continue
            counts_x = counts.get(x) or [draws.counts_t(x, t) for t in range(n_tasks)]
            acc = None
            for t in range(n_tasks):
                partners = np.concatenate([counts[pairs[k][1]][t] for k in inside])
                # In the draws' dtype, float32 when that is exact (``stratified_draws``); ``bootstrap``
                # annotates float64 only.
                dominance = [
                    bs.dominance_matrix(oriented[x][t], oriented[pairs[k][1]][t]).astype(draws.dtype) for k in inside
                ]
                rep = bs.dominance_replicates(cast(FloatArray, counts_x[t]), dominance, cast(FloatArray, partners))
                rep /= n_tasks
                acc = rep if acc is None else acc + rep
            low[inside], high[inside] = bs.percentile_interval(cast(FloatArray, acc), level, axis=1)
    return point, low, high


def performance_profiles(
    oriented: Sequence[Sequence[FloatArray]], draws: StratifiedDraws, tau: FloatArray, *, level: float
) -> list[PerformanceProfile]:
    """The run-score distribution F(τ) of every variant with stratified-bootstrap bands.

    ``oriented[v][t]`` are goal-oriented scores and ``tau`` the grid in the same orientation;
    F(τ) counts runs strictly above τ. Memory is (len(tau) x B) per variant, never k x N x n x B x τ.
    """
    out = []
    for v, per_task in enumerate(oriented):
        n_tasks = len(per_task)
        by_size: dict[int, list[int]] = {}
        for t, x in enumerate(per_task):
            by_size.setdefault(x.size, []).append(t)
        # Per group of tasks with equal n the replicate is an integer count of resampled runs above
        # τ over N n: exact whatever order BLAS adds in, so the bands are non-increasing in τ too.
        parts = []
        for n, members in by_size.items():
            runs = np.concatenate([per_task[t] for t in members])
            counts_t = np.concatenate([draws.counts_t(v, t) for t in members])  # (Σ n_t, B)
            above = (runs[:, None] > tau[None, :]).astype(counts_t.dtype)  # (Σ n_t, len(tau))
            parts.append((n_tasks * n, above.sum(axis=0, dtype=float), (above.T @ counts_t).astype(float)))
        if len(parts) == 1:
            scale, point, above_counts = parts[0]
            low, high = _count_percentile_interval(above_counts.astype(np.int64), scale, level)
            point, low, high = point / scale, low / scale, high / scale
        else:
            point = np.clip(sum(p / scale for scale, p, _ in parts), 0.0, 1.0)
            replicates = np.clip(sum(r / scale for scale, _, r in parts), 0.0, 1.0)
            low, high = bs.percentile_interval(replicates, level, axis=1)
        out.append(
            PerformanceProfile(fraction=tuple(point.tolist()), ci_low=tuple(low.tolist()), ci_high=tuple(high.tolist()))
        )
    return out


def _count_percentile_interval(counts: NDArray[np.int64], top: int, level: float) -> tuple[FloatArray, FloatArray]:
    """``bootstrap.percentile_interval`` along axis 1 of integers in [0, top], from per-row histograms.

    Same definition (numpy's linear interpolation between order statistics j and j + 1 at
    h = (B - 1) q), but a bincount and a cumulative sum instead of a partition of every row.
    """
    rows, n_boot = counts.shape
    offsets = (np.arange(rows, dtype=np.int64) * (top + 1))[:, None]
    cumulative = np.bincount((counts + offsets).ravel(), minlength=rows * (top + 1)).reshape(rows, top + 1).cumsum(1)
    bounds = []
    for q in ((1 - level) / 2, (1 + level) / 2):
        h = (n_boot - 1) * q
        j = int(np.floor(h))
        # Order statistic j (from 0) = the number of values v whose cumulative count is ≤ j.
        below = (cumulative <= j).sum(axis=1)
        above = (cumulative <= min(j + 1, n_boot - 1)).sum(axis=1)
        bounds.append(below + (h - j) * (above - below))
    return bounds[0], bounds[1]


def average_rank_intervals(
    ranks: FloatArray,
    oriented: list[list[FloatArray]],
    draws: StratifiedDraws,
    *,
    n_boot: int,
    seed: int,
    level: float,
) -> dict[str, tuple[FloatArray, FloatArray, FloatArray]]:
    """(ci_low, ci_high, p_best) per variant of the average rank: task bootstrap ('tasks', N ≥ 2), seed bootstrap.

    ``ranks`` is the N x k matrix of within-task ranks of the goal-oriented per-task means
    (1 = best), ``oriented[v][t]`` the goal-oriented seed scores.
    """
    n_tasks, k = ranks.shape
    replicates = {}
    if n_tasks >= 2:
        counts = bs.resample_counts(bs.generator(seed, STREAM_TASKS), n_boot, n_tasks).astype(float)
        # Integer counts times ranks in multiples of ½: every sum is exact, so tied replicates tie.
        replicates["tasks"] = counts @ ranks / n_tasks
    rank_sums = np.zeros((n_boot, k))
    boot_means = np.empty((n_boot, k))
    # rankdata makes a few (rows, k) temporaries: rank a block of replicates at a time.
    rows = max(1, BLOCK_BYTES // (8 * 8 * max(k, 1)))
    for t in range(n_tasks):  # one task at a time: (B, k) in memory, not (B, N, k)
        for v in range(k):
            boot_means[:, v] = oriented[v][t][draws.indices(v, t)].mean(axis=1)
        for start in range(0, n_boot, rows):
            block = slice(start, start + rows)
            rank_sums[block] += stats.rankdata(-boot_means[block], axis=1, method="average")
    replicates["seeds"] = rank_sums / n_tasks
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    out = {}
    for kind, rep in replicates.items():
        best = rep == rep.min(axis=1, keepdims=True)
        out[kind] = (
            np.quantile(rep, lo_q, axis=0, method="lower"),
            np.quantile(rep, hi_q, axis=0, method="higher"),
            (best / best.sum(axis=1, keepdims=True)).mean(axis=0),
        )
    return out
