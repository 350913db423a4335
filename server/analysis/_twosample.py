"""Vectorised two-sample formulas shared by pairwise comparisons and ranking (STATISTICS.md §11).

All functions take arrays (one entry per comparison) of per-group summaries and return NaN
where a quantity is undefined; callers turn NaN into None with a reason.
- Welch: t = (x̄_A - x̄_B)/SE, SE = sqrt(s_A²/n_A + s_B²/n_B), nu Welch-Satterthwaite,
  p = 2·T_nu(-|t|), CI Δ ± t_{(1+level)/2, nu}·SE (``scipy.stats.ttest_ind(equal_var=False)``).
  Undefined when a group has n < 2 or both have zero variance.
- Hedges' g = J · (x̄_A - x̄_B)/s_p, s_p² = ((n_A-1)s_A² + (n_B-1)s_B²)/(n_A+n_B-2),
  exact J = Γ(df/2) / (sqrt(df/2) · Γ((df-1)/2)), df = n_A + n_B - 2 (Hedges 1981); computed
  through log-gamma. Undefined when df < 2 (J = 0 at df = 1) or s_p = 0.
- One-sample t of paired differences (``scipy.stats.ttest_rel``): t = d̄/(s_d/√n), nu = n - 1.
- Mann-Whitney U (``scipy.stats.mannwhitneyu``, two-sided, method 'auto'): U_A = #{a > b} +
  ½ #{a = b}. scipy's 'auto' picks the exact distribution iff min(n_A, n_B) ≤ 8 and the pooled
  sample has no ties; comparisons are grouped by (n_A, n_B, tied) so that one vectorised scipy
  call per group makes exactly the per-pair choice.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats

from ._common import FloatArray
from .power import welch_df


def welch(
    mean_a: ArrayLike,
    std_a: ArrayLike,
    n_a: ArrayLike,
    mean_b: ArrayLike,
    std_b: ArrayLike,
    n_b: ArrayLike,
    level: float,
) -> dict[str, FloatArray]:
    """Welch t, df, two-sided p and the CI of mean_a - mean_b."""
    ma, sa, na, mb, sb, nb = (np.asarray(v, dtype=float) for v in (mean_a, std_a, n_a, mean_b, std_b, n_b))
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(sa**2 / na + sb**2 / nb)
        df = welch_df(sa**2, na, sb**2, nb)
        ok = (na >= 2) & (nb >= 2) & (se > 0) & np.isfinite(df)
        safe_df = np.where(ok, df, 1.0)
        diff = ma - mb
        t = diff / np.where(ok, se, 1.0)
        p = 2 * stats.t.sf(np.abs(t), safe_df)
        half = stats.t.ppf((1 + level) / 2, safe_df) * se
    nan = np.nan
    return {
        "t": np.where(ok, t, nan),
        "df": np.where(ok, df, nan),
        "p": np.where(ok, p, nan),
        "ci_low": np.where(ok, diff - half, nan),
        "ci_high": np.where(ok, diff + half, nan),
    }


def hedges_j(df: ArrayLike) -> FloatArray:
    """Exact small-sample correction J(df) = Γ(df/2)/(sqrt(df/2)Γ((df-1)/2)); NaN for df < 2."""
    d = np.asarray(df, dtype=float)
    safe = np.where(d >= 2, d, 2.0)
    j = np.exp(special.gammaln(safe / 2) - special.gammaln((safe - 1) / 2)) / np.sqrt(safe / 2)
    return np.asarray(np.where(d >= 2, j, np.nan))


def hedges_g(
    mean_a: ArrayLike, std_a: ArrayLike, n_a: ArrayLike, mean_b: ArrayLike, std_b: ArrayLike, n_b: ArrayLike
) -> FloatArray:
    """Hedges' g of A - B with the exact J; NaN when df < 2 or the pooled std is zero."""
    ma, sa, na, mb, sb, nb = (np.asarray(v, dtype=float) for v in (mean_a, std_a, n_a, mean_b, std_b, n_b))
    df = na + nb - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        sa2 = np.where(na >= 2, sa**2, 0.0)  # a single seed contributes no variance term
        sb2 = np.where(nb >= 2, sb**2, 0.0)
        sp = np.sqrt(((na - 1) * sa2 + (nb - 1) * sb2) / df)
        g = hedges_j(df) * (ma - mb) / sp
    return np.asarray(np.where((df >= 2) & (sp > 0), g, np.nan))


def one_sample_t(mean_d: ArrayLike, std_d: ArrayLike, n: ArrayLike, level: float) -> dict[str, FloatArray]:
    """t-test of mean differences against 0 (paired t): t, df, two-sided p, CI of the mean difference."""
    md, sd, nn = (np.asarray(v, dtype=float) for v in (mean_d, std_d, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        se = sd / np.sqrt(nn)
        ok = (nn >= 2) & (se > 0)
        df = np.where(ok, nn - 1, 1.0)
        t = md / np.where(ok, se, 1.0)
        p = 2 * stats.t.sf(np.abs(t), df)
        half = stats.t.ppf((1 + level) / 2, df) * se
    nan = np.nan
    return {
        "t": np.where(ok, t, nan),
        "df": np.where(ok, nn - 1, nan),
        "p": np.where(ok, p, nan),
        "ci_low": np.where(ok, md - half, nan),
        "ci_high": np.where(ok, md + half, nan),
    }


def mannwhitney(samples_a: Sequence[FloatArray], samples_b: Sequence[FloatArray]) -> tuple[FloatArray, FloatArray]:
    """(U_A, two-sided p) per comparison, scipy's 'auto' method; NaN p when empty or all values tied."""
    count = len(samples_a)
    u = np.full(count, np.nan)
    p = np.full(count, np.nan)
    groups: dict[tuple[int, int, bool], list[int]] = {}
    for i, (a, b) in enumerate(zip(samples_a, samples_b, strict=True)):
        if a.size == 0 or b.size == 0:
            continue
        pooled = np.concatenate([a, b])
        distinct = np.unique(pooled).size
        if distinct == 1:
            # Only ties: U is defined (n_a·n_b/2) but the test carries no information.
            u[i] = a.size * b.size / 2
            continue
        groups.setdefault((a.size, b.size, distinct < pooled.size), []).append(i)
    for (n_a, n_b, tied), members in groups.items():
        method = "asymptotic" if (n_a > 8 and n_b > 8) or tied else "exact"
        xa = np.stack([samples_a[i] for i in members])
        xb = np.stack([samples_b[i] for i in members])
        res = stats.mannwhitneyu(xa, xb, alternative="two-sided", method=method, axis=1)
        u[members] = res.statistic
        p[members] = res.pvalue
    return u, p
