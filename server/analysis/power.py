"""Power analysis: how small a difference the seeds can detect, and how many seeds are needed.

Welch test, after Colas, Sigaud & Oudeyer 2018 ("How Many Random Seeds?", STATISTICS.md §8).
With per-seed standard deviations s_A, s_B and n_A, n_B seeds, a true difference ε is detected
with power 1 - β at two-sided level alpha when

    ε ≥ (t_{1-alpha/2, nu} + t_{1-β, nu}) · sqrt(s_A²/n_A + s_B²/n_B),
    nu = (s_A²/n_A + s_B²/n_B)² / [(s_A²/n_A)²/(n_A-1) + (s_B²/n_B)²/(n_B-1)]   (Welch-Satterthwaite).

- Minimum detectable difference (MDE) at the current n: the right-hand side. For a single
  variant the partner is assumed to have the same std and n: MDE = (t + t) · s · sqrt(2/n),
  nu = 2(n - 1).
- Seeds needed per variant (equal N) for a difference ε: Colas' N = (t_{1-alpha/2,nu} + t_{1-β,nu})² ·
  (s_A² + s_B²) / ε² with nu = (N - 1)(s_A² + s_B²)² / (s_A⁴ + s_B⁴); the smallest integer N ≥ 2
  satisfying it, found by bisection (the condition is monotone in N).
  Colas state the formula one-sided; Seedboard's verdicts are two-sided, so alpha/2 is used.
- Noether 1987 (Bouthillier et al. 2021): seeds for a target P(A > B) = gamma with a one-sided
  rank test, N ≥ (z_{1-alpha} + z_{1-β})² / (6 (gamma - ½)²); gamma = 0.75, alpha = β = 0.05 → 29.
- Smallest attainable two-sided p of exact rank tests without ties: Mann-Whitney
  2 / C(n_A + n_B, n_A); Wilcoxon signed-rank 2 / 2^N. With 3 seeds each no Mann-Whitney test
  can reach 0.05, nor a Wilcoxon test over 4 tasks.

The array functions return NaN where undefined (n < 2, zero std, ε = 0); result dataclasses
turn NaN into None with a reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats

from ._common import ALPHA, METHOD_VERSION, POWER, FloatArray, Result, fnum, join_reasons

MAX_SEEDS = 1_000_000


def welch_df(var_a: ArrayLike, n_a: ArrayLike, var_b: ArrayLike, n_b: ArrayLike) -> FloatArray:
    """Welch-Satterthwaite degrees of freedom from per-seed variances and counts."""
    va = np.asarray(var_a, dtype=float) / np.asarray(n_a, dtype=float)
    vb = np.asarray(var_b, dtype=float) / np.asarray(n_b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((va + vb) ** 2 / (va**2 / (np.asarray(n_a) - 1.0) + vb**2 / (np.asarray(n_b) - 1.0)))


def detectable_difference(
    std_a: ArrayLike,
    n_a: ArrayLike,
    std_b: ArrayLike | None = None,
    n_b: ArrayLike | None = None,
    *,
    alpha: float = ALPHA,
    power: float = POWER,
) -> FloatArray:
    """Minimum detectable difference (two-sided Welch); NaN where undefined."""
    sa = np.asarray(std_a, dtype=float)
    na = np.asarray(n_a, dtype=float)
    sb = sa if std_b is None else np.asarray(std_b, dtype=float)
    nb = na if n_b is None else np.asarray(n_b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(sa**2 / na + sb**2 / nb)
        df = welch_df(sa**2, na, sb**2, nb)
        ok = (na >= 2) & (nb >= 2) & (se > 0) & np.isfinite(df)
        safe_df = np.where(ok, df, 1.0)
        mde = (stats.t.ppf(1 - alpha / 2, safe_df) + stats.t.ppf(power, safe_df)) * se
    return np.asarray(np.where(ok, mde, np.nan))


def seeds_needed(
    std_a: ArrayLike,
    std_b: ArrayLike,
    delta: ArrayLike,
    *,
    alpha: float = ALPHA,
    power: float = POWER,
    max_seeds: int = MAX_SEEDS,
) -> FloatArray:
    """Seeds per variant to detect ``delta`` (Colas et al. 2018, two-sided); NaN where undefined."""
    va = np.asarray(std_a, dtype=float) ** 2
    vb = np.asarray(std_b, dtype=float) ** 2
    eps = np.abs(np.asarray(delta, dtype=float))
    va, vb, eps = np.broadcast_arrays(va, vb, eps)
    total = va + vb
    ok = np.isfinite(total) & (total > 0) & np.isfinite(eps) & (eps > 0)
    total_safe = np.where(ok, total, 1.0)
    squares = np.where(ok, va**2 + vb**2, 1.0)
    eps_safe = np.where(ok, eps, 1.0)

    def satisfied(n: FloatArray) -> FloatArray:
        df = (n - 1) * total_safe**2 / squares
        needed = (stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)) ** 2 * total_safe / eps_safe**2
        return np.asarray(needed <= n)

    lo = np.full(va.shape, 2.0)  # invariant: answer > lo unless satisfied(lo)
    hi = np.full(va.shape, float(max_seeds))
    done_at_two = satisfied(lo)
    reachable = satisfied(hi)
    while np.any(hi - lo > 1):
        mid = np.floor((lo + hi) / 2)
        good = satisfied(mid)
        hi = np.where(good, mid, hi)
        lo = np.where(good, lo, mid)
    n = np.where(done_at_two, 2.0, hi)
    return np.asarray(np.where(ok & reachable, n, np.nan))


def noether_seeds(gamma: float = 0.75, *, alpha: float = 0.05, power: float = 0.95) -> int:
    """Seeds per variant for a one-sided rank test to detect P(A > B) = gamma (Noether 1987)."""
    if not 0.5 < gamma < 1.0:
        raise ValueError(f"gamma must be in (0.5, 1), got {gamma!r}")
    z = stats.norm.ppf(1 - alpha) + stats.norm.ppf(power)
    return math.ceil(z**2 / (6 * (gamma - 0.5) ** 2))


def min_p_mannwhitney(n_a: int, n_b: int) -> float:
    """Smallest two-sided exact Mann-Whitney p-value with n_a and n_b values and no ties."""
    if n_a < 1 or n_b < 1:
        return 1.0
    return float(min(1.0, 2.0 / special.comb(n_a + n_b, n_a, exact=True)))


def min_p_wilcoxon(n: int) -> float:
    """Smallest two-sided exact Wilcoxon signed-rank p-value with n non-zero differences."""
    return float(min(1.0, 2.0 ** (1 - n))) if n >= 1 else 1.0


@dataclass(frozen=True, slots=True)
class PowerPlan(Result):
    """Detectable difference at the current seeds and seeds needed for a chosen difference."""

    std_a: float | None
    n_a: int
    std_b: float | None
    n_b: int
    delta: float | None
    mde: float | None
    seeds_needed: int | None
    noether_seeds: int
    min_p_mannwhitney: float
    alpha: float
    power: float
    methods: dict[str, str]
    method_version: str = METHOD_VERSION
    reasons: dict[str, str] = field(default_factory=dict)
    reason: str | None = None


def power_plan(
    std_a: float | None,
    n_a: int,
    std_b: float | None = None,
    n_b: int | None = None,
    *,
    delta: float | None = None,
    alpha: float = ALPHA,
    power: float = POWER,
) -> PowerPlan:
    """Plan seeds for A vs B (B defaults to A's std and n). ``delta`` is the meaningful difference."""
    sb = std_a if std_b is None else std_b
    nb = n_a if n_b is None else n_b
    reasons: dict[str, str] = {}
    if std_a is None or sb is None or n_a < 2 or nb < 2:
        mde = None
        reasons["mde"] = "fewer than 2 seeds: no variance estimate"
    else:
        mde = fnum(detectable_difference(std_a, n_a, sb, nb, alpha=alpha, power=power))
        if mde is None:
            reasons["mde"] = "zero variance: any difference is detectable"
    needed = None
    if delta is None:
        reasons["seeds_needed"] = "no meaningful difference set"
    elif std_a is None or sb is None:
        reasons["seeds_needed"] = "fewer than 2 seeds: no variance estimate"
    else:
        value = fnum(seeds_needed(std_a, sb, delta, alpha=alpha, power=power))
        needed = None if value is None else int(value)
        if needed is None:
            reasons["seeds_needed"] = "undefined: zero difference, zero variance or more than 1,000,000 seeds"
    return PowerPlan(
        std_a=fnum(std_a),
        n_a=int(n_a),
        std_b=fnum(sb),
        n_b=int(nb),
        delta=fnum(delta),
        mde=mde,
        seeds_needed=needed,
        noether_seeds=noether_seeds(),
        min_p_mannwhitney=min_p_mannwhitney(int(n_a), int(nb)),
        alpha=alpha,
        power=power,
        methods={
            "mde": "welch_colas_two_sided",
            "seeds_needed": "colas_2018_welch_two_sided",
            "noether": "noether_1987_gamma_0.75_one_sided",
        },
        reasons=reasons,
        reason=join_reasons(reasons),
    )
