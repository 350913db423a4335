"""Per-variant statistics of one metric over seeds (STATISTICS.md §1 and §12.1).

For a variant with n finite seed scores x_1..x_n:
- mean x̄; std s = sqrt(Σ(x_i - x̄)²/(n - 1)) (ddof = 1); sem = s/√n; median, Q1, Q3 (numpy,
  linear interpolation); min, max; MAD = median|x_i - median| (unscaled).
- IQM = ``scipy.stats.trim_mean(x, 0.25)``: drop ⌊n/4⌋ sorted values from each end, average
  the rest (rliable's interquartile mean).
- 95 % CI of the mean, Student t (the headline interval): x̄ ± t_{0.975, n-1} · s/√n.
- Percentile-bootstrap 95 % intervals (B = 10,000) of the mean, median and IQM. Flagged
  ``bootstrap_approximate`` when n < 10: the percentile bootstrap under-covers at small n
  (for the mean its width is ≈ 1.96·sqrt((n-1)/n)/t_{0.975,n-1} of the t-interval).
- Outlier seeds: robust z = |x - median| / (1.4826 · MAD) > 3.5 (Iglewicz & Hoaglin 1993),
  flagged, never dropped. When MAD = 0 the mean absolute deviation is used instead,
  z = |x - median| / (1.253314 · mean|x - median|) (the same authors' convention).
- Shapiro-Wilk p (n ≥ 3, informational only).
- Minimum detectable difference against a variant with the same std and n (Welch, alpha 0.05
  two-sided, power 0.8; see ``power``).

Degenerate cases give None with a reason: n = 0; n = 1 (no spread, no interval); zero variance
(|s| < 1e-12·max(1, |x̄|): std = sem = 0, intervals None). Non-finite scores are counted as
failed seeds (``n_failed`` includes them, ``n_nonfinite`` counts them separately).

Batching: variants with the same n are computed together as an (m, n) matrix; their bootstrap
intervals share one (B, n) resample matrix (see ``bootstrap``), so 1,000 variants cost a few
matrix products, with no loop over resamples.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from . import bootstrap as bs
from ._common import (
    ALPHA,
    LEVEL,
    METHOD_VERSION,
    N_BOOT,
    POWER,
    SEED,
    FloatArray,
    Result,
    check_level,
    check_n_boot,
    clean_scores,
    fnum,
    is_zero_std,
    join_reasons,
)
from .power import detectable_difference

ROBUST_Z_LIMIT = 3.5
MAD_TO_SD = 1.4826
MEANAD_TO_SD = 1.253314
APPROXIMATE_BELOW_N = 10
BOOT_CHUNK = 512

INTERVAL_FIELDS = (
    "ci_low",
    "ci_high",
    "mean_boot_ci_low",
    "mean_boot_ci_high",
    "median_ci_low",
    "median_ci_high",
    "iqm_ci_low",
    "iqm_ci_high",
    "mde",
    "shapiro_p",
)
SPREAD_FIELDS = ("std", "sem", *INTERVAL_FIELDS)
STAT_FIELDS = ("mean", "median", "iqm", "min", "max", "q1", "q3", "mad", *SPREAD_FIELDS)

METHODS = {
    "std": "sample_std_ddof_1",
    "ci": "student_t_mean",
    "bootstrap": "percentile_pcg64_shared_per_n",
    "iqm": "scipy_trim_mean_0.25",
    "outliers": "robust_z_mad_3.5",
    "mde": "welch_colas_two_sided",
    "normality": "shapiro_wilk",
}


@dataclass(frozen=True, slots=True)
class VariantStats(Result):
    """Seed statistics of one variant on one metric and task. Units are the metric's."""

    n: int
    n_failed: int
    n_nonfinite: int
    mean: float | None
    std: float | None
    sem: float | None
    median: float | None
    iqm: float | None
    min: float | None
    max: float | None
    q1: float | None
    q3: float | None
    mad: float | None
    ci_low: float | None
    ci_high: float | None
    mean_boot_ci_low: float | None
    mean_boot_ci_high: float | None
    median_ci_low: float | None
    median_ci_high: float | None
    iqm_ci_low: float | None
    iqm_ci_high: float | None
    bootstrap_approximate: bool
    outliers: tuple[int, ...]
    shapiro_p: float | None
    mde: float | None
    level: float
    alpha: float
    power: float
    n_boot: int
    seed: int
    methods: dict[str, str] = field(default_factory=lambda: dict(METHODS))
    method_version: str = METHOD_VERSION
    reasons: dict[str, str] = field(default_factory=dict)
    reason: str | None = None


def variant_describe(
    scores: ArrayLike,
    *,
    n_failed: int = 0,
    n_boot: int = N_BOOT,
    seed: int = SEED,
    level: float = LEVEL,
    alpha: float = ALPHA,
    power: float = POWER,
) -> VariantStats:
    """Statistics of one variant's seed scores (non-finite scores count as failed)."""
    return variants_describe(
        {"": scores}, n_failed={"": n_failed}, n_boot=n_boot, seed=seed, level=level, alpha=alpha, power=power
    )[""]


def variants_describe(
    scores: Mapping[str, ArrayLike],
    *,
    n_failed: Mapping[str, int] | None = None,
    n_boot: int = N_BOOT,
    seed: int = SEED,
    level: float = LEVEL,
    alpha: float = ALPHA,
    power: float = POWER,
) -> dict[str, VariantStats]:
    """Statistics of many variants, batched by seed count. Keys are kept, in order."""
    check_level(level)
    check_n_boot(n_boot)
    failed = dict(n_failed or {})
    cleaned = {name: clean_scores(values) for name, values in scores.items()}
    by_n: dict[int, list[str]] = {}
    for name, (x, _, _) in cleaned.items():
        by_n.setdefault(x.size, []).append(name)
    out: dict[str, VariantStats] = {}
    for n, names in by_n.items():
        matrix = np.stack([cleaned[name][0] for name in names]) if n else np.empty((len(names), 0))
        rows = _describe_group(matrix, n_boot=n_boot, seed=seed, level=level, alpha=alpha, power=power)
        for name, row in zip(names, rows, strict=True):
            x, positions, nonfinite = cleaned[name]
            outliers = tuple(int(positions[i]) for i in row.pop("outlier_rows"))
            out[name] = _build(
                row,
                n=n,
                n_failed=int(failed.get(name, 0)) + nonfinite,
                n_nonfinite=nonfinite,
                outliers=outliers,
                n_boot=n_boot,
                seed=seed,
                level=level,
                alpha=alpha,
                power=power,
            )
    return {name: out[name] for name in scores}


def _describe_group(
    x: FloatArray, *, n_boot: int, seed: int, level: float, alpha: float, power: float
) -> list[dict[str, Any]]:
    """Column-wise statistics of m variants with n seeds each (x is m x n)."""
    m, n = x.shape
    if n == 0:
        return [{"outlier_rows": [], "reasons": {key: "no finished seeds" for key in STAT_FIELDS}} for _ in range(m)]
    xs = np.sort(x, axis=1)
    mean = x.mean(axis=1)
    median = np.median(x, axis=1)
    q1, q3 = np.quantile(x, [0.25, 0.75], axis=1)
    iqm = stats.trim_mean(x, 0.25, axis=1)
    abs_dev = np.abs(x - median[:, None])
    mad = np.median(abs_dev, axis=1)
    base = {
        "mean": mean,
        "median": median,
        "iqm": iqm,
        "min": xs[:, 0],
        "max": xs[:, -1],
        "q1": q1,
        "q3": q3,
        "mad": mad,
    }
    outlier_mask = _outliers(abs_dev, mad)
    if n == 1:
        rows = _rows(base, m)
        for i, row in enumerate(rows):
            row["outlier_rows"] = list(np.flatnonzero(outlier_mask[i]))
            row["reasons"] = {key: "1 seed: no variance estimate" for key in SPREAD_FIELDS}
        return rows

    std = x.std(axis=1, ddof=1)
    zero = is_zero_std(std, mean)
    std = np.where(zero, 0.0, std)
    sem = std / np.sqrt(n)
    half = stats.t.ppf((1 + level) / 2, n - 1) * sem
    base.update(std=std, sem=sem, ci_low=mean - half, ci_high=mean + half)
    base["mde"] = detectable_difference(std, n, alpha=alpha, power=power)

    # Bootstrap: one shared (B, n) resample matrix for this n; location statistics are
    # weighted sums of the sorted scores (see bootstrap's docstring), one product per statistic.
    # Variants go through in chunks so that a (B, chunk) block stays around 40 MB at B = 10,000.
    counts = bs.resample_counts(bs.generator(seed, bs.STREAM_DESCRIBE, n), n_boot, n)
    positions = {"mean_boot": (0, n), "median": bs.median_positions(n), "iqm": bs.iqm_positions(n)}
    for key, (lo, hi) in positions.items():
        weights = bs.positions_weights(counts, lo, hi)
        low, high = np.empty(m), np.empty(m)
        for start in range(0, m, BOOT_CHUNK):
            block = slice(start, start + BOOT_CHUNK)
            # (chunk, B): each variant's replicates contiguous, which the quantile's selection needs.
            low[block], high[block] = bs.percentile_interval(xs[block] @ weights.T, level, axis=1)
        base[f"{key}_ci_low"], base[f"{key}_ci_high"] = low, high

    shapiro = np.full(m, np.nan)
    testable = ~zero
    if n >= 3 and testable.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            shapiro[testable] = stats.shapiro(x[testable], axis=1).pvalue
    base["shapiro_p"] = shapiro

    rows = _rows(base, m)
    for i, row in enumerate(rows):
        row["outlier_rows"] = list(np.flatnonzero(outlier_mask[i]))
        reasons: dict[str, str] = {}
        if zero[i]:
            for key in INTERVAL_FIELDS:
                row[key] = None
                reasons[key] = "all seeds gave the same value: no interval, no test"
        elif n < 3:
            reasons["shapiro_p"] = "normality test needs 3 seeds"
        row["reasons"] = reasons
    return rows


def _outliers(abs_dev: FloatArray, mad: FloatArray) -> np.ndarray:
    """Robust-z outlier mask (m x n); MAD = 0 falls back to the mean absolute deviation."""
    mean_ad = abs_dev.mean(axis=1)
    scale = np.where(mad > 0, MAD_TO_SD * mad, MEANAD_TO_SD * mean_ad)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = abs_dev / scale[:, None]
    return np.asarray((scale[:, None] > 0) & (z > ROBUST_Z_LIMIT))


def _rows(columns: dict[str, FloatArray], m: int) -> list[dict[str, Any]]:
    """Per-variant dicts of Python floats (None for NaN) out of column arrays."""
    lists = {key: np.asarray(value, dtype=float).tolist() for key, value in columns.items()}
    return [{key: fnum(values[i]) for key, values in lists.items()} for i in range(m)]


def _build(
    row: dict[str, Any],
    *,
    n: int,
    n_failed: int,
    n_nonfinite: int,
    outliers: tuple[int, ...],
    n_boot: int,
    seed: int,
    level: float,
    alpha: float,
    power: float,
) -> VariantStats:
    reasons = dict(row.pop("reasons", {}))
    value = row.get
    return VariantStats(
        n=n,
        n_failed=n_failed,
        n_nonfinite=n_nonfinite,
        mean=value("mean"),
        std=value("std"),
        sem=value("sem"),
        median=value("median"),
        iqm=value("iqm"),
        min=value("min"),
        max=value("max"),
        q1=value("q1"),
        q3=value("q3"),
        mad=value("mad"),
        ci_low=value("ci_low"),
        ci_high=value("ci_high"),
        mean_boot_ci_low=value("mean_boot_ci_low"),
        mean_boot_ci_high=value("mean_boot_ci_high"),
        median_ci_low=value("median_ci_low"),
        median_ci_high=value("median_ci_high"),
        iqm_ci_low=value("iqm_ci_low"),
        iqm_ci_high=value("iqm_ci_high"),
        bootstrap_approximate=n < APPROXIMATE_BELOW_N,
        outliers=outliers,
        shapiro_p=value("shapiro_p"),
        mde=value("mde"),
        level=level,
        alpha=alpha,
        power=power,
        n_boot=int(n_boot),
        seed=int(seed),
        reasons=reasons,
        reason=join_reasons(reasons),
    )
