"""Pairwise comparison of variants on one metric and task (STATISTICS.md §7, §8, §9, §11, §12.2).

For A vs B with seed scores a (n_A) and b (n_B):
- diff = x̄_A - x̄_B in the metric's units, its Welch 95 % CI, welch_t, welch_df, welch_p.
- Mann-Whitney U_A = #{a > b} + ½#{a = b} and its two-sided p (scipy, method 'auto').
- hedges_g (exact J) and cliffs_delta = P(a > b) - P(a < b) = 2 U_A/(n_A n_B) - 1.
  diff, welch_t, hedges_g, cliffs_delta and mannwhitney_u keep the sign of A - B in raw units.
- prob_improvement = P(A better than B) + ½ P(tie) over all n_A·n_B pairs of seeds, on goal-
  oriented scores (Bouthillier et al. 2021; rliable), with a 95 % percentile-bootstrap interval:
  A and B are resampled independently (B = 10,000), see ``bootstrap.dominance_replicates``.
- Paired design (both variants ran exactly the same seed labels, ≥ 2 of them): paired t
  (``scipy.stats.ttest_rel``) with the CI of the mean paired difference, Wilcoxon signed-rank
  (``scipy.stats.wilcoxon``, zero_method 'wilcox', method 'auto'; statistic min(W+, W-)) and
  the fraction of seeds where A beats B (+½ ties). ``paired`` is then true and the paired t p
  is the test that enters the family (``p_method``); otherwise, or when the paired differences
  are constant, Welch's p does.
- p_holm: Holm adjustment over the family = all pairs compared together (undefined tests are
  not counted; ``family_size`` = m).
- verdict: ``a_better`` iff p_holm < alpha, the goal-oriented mean difference is > 0 and
  prob_improvement > ½; ``b_better`` symmetrically; else ``inconclusive`` — never "no
  difference" (equivalence needs a ROPE analysis). ``distribution_sensitive`` flags pairs where
  unadjusted Welch and Mann-Whitney disagree at alpha (typically a diverged seed).
- mde (detectable difference at the current n) and seeds_needed (per variant, to detect the
  observed |diff|): Welch/Colas, alpha 0.05 two-sided, power 0.8 (see ``power``).

Degenerate inputs (n < 2, zero variance, all ties) give None plus ``reasons[field]``.
Swapping A and B mirrors every field: diff, t, g, δ and CIs negate, U → n_A n_B - U,
prob_improvement → 1 - p, the verdict flips.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

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
    Goal,
    Result,
    check_level,
    check_n_boot,
    clean_scores,
    fnum,
    is_zero_std,
    join_reasons,
)
from ._twosample import hedges_g, mannwhitney, one_sample_t, welch
from .goals import goal_resolve, goal_sign
from .multitest import family_size, holm_adjust
from .power import detectable_difference, seeds_needed

Verdict = Literal["a_better", "b_better", "inconclusive"]

METHODS = {
    "diff_ci": "welch_t",
    "test": "welch_t_two_sided (paired_t_two_sided when paired)",
    "rank_test": "mannwhitneyu_two_sided_scipy_auto",
    "paired_rank_test": "wilcoxon_signed_rank_two_sided_scipy_auto",
    "adjustment": "holm",
    "effect_size": "hedges_g_exact_j",
    "prob_improvement": "all_pairs_ties_half",
    "prob_improvement_ci": "percentile_bootstrap_independent",
    "power": "welch_colas_two_sided",
}


@dataclass(frozen=True, slots=True)
class PairStats(Result):
    """A vs B. Raw-unit fields are signed A - B; prob_improvement and verdict respect the goal."""

    a: str
    b: str
    n_a: int
    n_b: int
    goal: Goal
    paired: bool
    diff: float | None
    diff_ci_low: float | None
    diff_ci_high: float | None
    welch_t: float | None
    welch_df: float | None
    welch_p: float | None
    mannwhitney_u: float | None
    mannwhitney_p: float | None
    hedges_g: float | None
    cliffs_delta: float | None
    prob_improvement: float | None
    prob_improvement_ci_low: float | None
    prob_improvement_ci_high: float | None
    paired_n: int | None
    paired_diff_ci_low: float | None
    paired_diff_ci_high: float | None
    paired_t: float | None
    paired_df: float | None
    paired_p: float | None
    wilcoxon_w: float | None
    wilcoxon_p: float | None
    paired_win_rate: float | None
    p_value: float | None
    p_method: str
    p_holm: float | None
    family_size: int
    verdict: Verdict
    verdict_reason: str
    distribution_sensitive: bool | None
    mde: float | None
    seeds_needed: int | None
    alpha: float
    level: float
    power: float
    n_boot: int
    seed: int
    methods: dict[str, str] = field(default_factory=lambda: dict(METHODS))
    method_version: str = METHOD_VERSION
    reasons: dict[str, str] = field(default_factory=dict)
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class PairFamily(Result):
    """All pairs compared together; Holm runs over this family."""

    pairs: tuple[PairStats, ...]
    family_size: int
    adjustment: str
    goal: Goal
    alpha: float
    n_boot: int
    seed: int
    methods: dict[str, str] = field(default_factory=lambda: dict(METHODS))
    method_version: str = METHOD_VERSION

    def get(self, a: str, b: str) -> PairStats | None:
        """The pair (a, b) as computed, or None."""
        return next((p for p in self.pairs if p.a == a and p.b == b), None)


def pair_compare(
    a: ArrayLike,
    b: ArrayLike,
    *,
    goal: Goal = "max",
    names: tuple[str, str] = ("A", "B"),
    seeds_a: Sequence[Hashable] | None = None,
    seeds_b: Sequence[Hashable] | None = None,
    n_boot: int = N_BOOT,
    seed: int = SEED,
    level: float = LEVEL,
    alpha: float = ALPHA,
    power: float = POWER,
) -> PairStats:
    """Compare one pair (a family of one: p_holm = p).

    ``names`` identify the variants; they key the bootstrap streams, so pass the variants' ids
    to get the same interval as in ``pairs_compare``.
    """
    name_a, name_b = names
    if name_a == name_b:
        raise ValueError("the two variants need different names")
    seeds = {name_a: seeds_a, name_b: seeds_b} if seeds_a is not None and seeds_b is not None else None
    family = pairs_compare(
        {name_a: a, name_b: b}, goal=goal, seeds=seeds, n_boot=n_boot, seed=seed, level=level, alpha=alpha, power=power
    )
    return family.pairs[0]


def pairs_compare(
    scores: Mapping[str, ArrayLike],
    *,
    goal: Goal = "max",
    pairs: Sequence[tuple[str, str]] | None = None,
    baseline: str | None = None,
    seeds: Mapping[str, Sequence[Hashable] | None] | None = None,
    n_boot: int = N_BOOT,
    seed: int = SEED,
    level: float = LEVEL,
    alpha: float = ALPHA,
    power: float = POWER,
) -> PairFamily:
    """Compare variants pairwise: all k(k-1)/2 pairs in key order, the k-1 pairs (v, baseline), or ``pairs``.

    ``seeds`` maps a variant to the seed label of each score (same order); two variants whose
    finite scores have exactly the same labels are compared as a paired design.
    """
    goal = goal_resolve(goal)
    check_level(level)
    check_n_boot(n_boot)
    names = list(scores)
    index = {name: i for i, name in enumerate(names)}
    if pairs is None:
        if baseline is not None:
            pairs = [(name, baseline) for name in names if name != baseline]
        else:
            pairs = [(names[i], names[j]) for i in range(len(names)) for j in range(i + 1, len(names))]
    for pa, pb in pairs:
        if pa not in index or pb not in index:
            raise KeyError(f"pair ({pa!r}, {pb!r}) names a variant without scores")
        if pa == pb:
            raise ValueError(f"pair ({pa!r}, {pb!r}) compares a variant with itself")
    ia = np.array([index[pa] for pa, _ in pairs], dtype=np.intp)
    ib = np.array([index[pb] for _, pb in pairs], dtype=np.intp)

    cleaned = [clean_scores(scores[name]) for name in names]
    xs = [c[0] for c in cleaned]
    labels = _seed_labels(names, cleaned, seeds)
    n = np.array([x.size for x in xs], dtype=float)
    mean = np.array([x.mean() if x.size else np.nan for x in xs])
    std = np.array([x.std(ddof=1) if x.size >= 2 else np.nan for x in xs])
    zero = is_zero_std(std, mean)
    std = np.where(zero, 0.0, std)

    sign = goal_sign(goal)
    w = welch(mean[ia], std[ia], n[ia], mean[ib], std[ib], n[ib], level)
    g = hedges_g(mean[ia], std[ia], n[ia], mean[ib], std[ib], n[ib])
    u, mw_p = mannwhitney([xs[i] for i in ia], [xs[j] for j in ib])
    n_pairs = len(ia)
    dominance = [bs.dominance_matrix(xs[i] * sign, xs[j] * sign) for i, j in zip(ia, ib, strict=True)]
    prob = np.array([s.mean() if s.size else np.nan for s in dominance])
    nn = n[ia] * n[ib]
    with np.errstate(divide="ignore", invalid="ignore"):
        cliffs = 2 * u / nn - 1
    prob_low, prob_high = _prob_intervals(names, xs, ia, ib, dominance, n_boot=n_boot, seed=seed, level=level)
    paired, matched_pairs = _paired(xs, labels, mean, ia, ib, sign, level)
    # The paired t p enters the family when defined; when the paired differences are constant it
    # is not, and Welch's test (valid whether or not the seeds are matched) stands in.
    use_paired = matched_pairs & np.isfinite(paired["p"])
    p_value = np.where(use_paired, paired["p"], w["p"])
    p_holm = holm_adjust(p_value)
    m = family_size(p_value)
    diff = mean[ia] - mean[ib]
    mde = detectable_difference(std[ia], n[ia], std[ib], n[ib], alpha=alpha, power=power)
    needed = seeds_needed(std[ia], std[ib], diff, alpha=alpha, power=power)

    columns: dict[str, FloatArray] = {
        "diff": diff,
        "diff_ci_low": w["ci_low"],
        "diff_ci_high": w["ci_high"],
        "welch_t": w["t"],
        "welch_df": w["df"],
        "welch_p": w["p"],
        "mannwhitney_u": u,
        "mannwhitney_p": mw_p,
        "hedges_g": g,
        "cliffs_delta": cliffs,
        "prob_improvement": prob,
        "prob_improvement_ci_low": prob_low,
        "prob_improvement_ci_high": prob_high,
        "paired_diff_ci_low": paired["ci_low"],
        "paired_diff_ci_high": paired["ci_high"],
        "paired_t": paired["t"],
        "paired_df": paired["df"],
        "paired_p": paired["p"],
        "wilcoxon_w": paired["w"],
        "wilcoxon_p": paired["wp"],
        "paired_win_rate": paired["win"],
        "p_value": p_value,
        "p_holm": p_holm,
        "mde": mde,
    }
    lists = {key: np.asarray(value, dtype=float).tolist() for key, value in columns.items()}
    out = []
    for k in range(n_pairs):
        i, j = int(ia[k]), int(ib[k])
        row: dict[str, Any] = {key: fnum(values[k]) for key, values in lists.items()}
        matched = bool(matched_pairs[k])
        row["paired_n"] = int(n[i]) if matched else None
        row["seeds_needed"] = None if not np.isfinite(needed[k]) else int(needed[k])
        welch_p, rank_p = row["welch_p"], row["mannwhitney_p"]
        row["distribution_sensitive"] = (
            None if welch_p is None or rank_p is None else bool((welch_p < alpha) != (rank_p < alpha))
        )
        reasons = _reasons(
            row,
            n_a=int(n[i]),
            n_b=int(n[j]),
            zero_a=bool(zero[i]),
            zero_b=bool(zero[j]),
            matched=matched,
            labelled=labels[i] is not None and labels[j] is not None,
        )
        verdict, why = _verdict(row, sign=sign, alpha=alpha, p_reason=reasons.get("p_value"))
        out.append(
            PairStats(
                a=names[i],
                b=names[j],
                n_a=int(n[i]),
                n_b=int(n[j]),
                goal=goal,
                paired=matched,
                p_method="paired_t" if use_paired[k] else "welch",
                family_size=m,
                verdict=verdict,
                verdict_reason=why,
                alpha=alpha,
                level=level,
                power=power,
                n_boot=int(n_boot),
                seed=int(seed),
                reasons=reasons,
                reason=join_reasons(reasons),
                **row,
            )
        )
    return PairFamily(
        pairs=tuple(out), family_size=m, adjustment="holm", goal=goal, alpha=alpha, n_boot=int(n_boot), seed=int(seed)
    )


def _seed_labels(
    names: list[str], cleaned: list[Any], seeds: Mapping[str, Sequence[Hashable] | None] | None
) -> list[list[Hashable] | None]:
    """Seed labels of the finite scores of each variant, or None when not given."""
    out: list[list[Hashable] | None] = []
    for name, (_, positions, nonfinite) in zip(names, cleaned, strict=True):
        given = None if seeds is None else seeds.get(name)
        if given is None:
            out.append(None)
            continue
        given = list(given)
        if len(given) != positions.size + nonfinite:
            raise ValueError(f"variant {name!r}: {len(given)} seed labels for {positions.size + nonfinite} scores")
        out.append([given[p] for p in positions])
    return out


def _prob_intervals(
    names: list[str],
    xs: list[FloatArray],
    ia: np.ndarray,
    ib: np.ndarray,
    dominance: list[FloatArray],
    *,
    n_boot: int,
    seed: int,
    level: float,
) -> tuple[FloatArray, FloatArray]:
    """Percentile intervals of P(A better) with A and B resampled independently (B x n counts per variant)."""
    low = np.full(len(ia), np.nan)
    high = np.full(len(ia), np.nan)
    usable = [k for k in range(len(ia)) if xs[ia[k]].size >= 2 and xs[ib[k]].size >= 2]
    if not usable:
        return low, high

    def counts_t(v: int) -> FloatArray:
        """(n_v, B) resample counts of v from its own stream: the same whenever made again."""
        counts = bs.resample_counts(bs.named_generator(seed, names[v]), n_boot, xs[v].size)
        return np.ascontiguousarray(counts.T, dtype=float)

    by_a: dict[int, list[int]] = {}
    for k in usable:
        by_a.setdefault(int(ia[k]), []).append(k)
    # Partners in blocks of at most BLOCK_BYTES of counts, each made once per block, so memory stays
    # O(block) for any number of variants; the sums are exact, so blocks change no number.
    partners_of = sorted({int(ib[k]) for k in usable})
    blocks = bs.blocks(partners_of, lambda b: xs[b].size * n_boot * 8)
    for block in blocks:
        counts = {b: counts_t(b) for b in block}
        for a, members in by_a.items():
            inside = [k for k in members if int(ib[k]) in counts]
            if not inside:
                continue
            counts_a = counts[a] if a in counts else counts_t(a)
            partners = np.concatenate([counts[int(ib[k])] for k in inside])
            replicates = bs.dominance_replicates(counts_a, [dominance[k] for k in inside], partners)
            lo, hi = bs.percentile_interval(replicates, level, axis=1)
            low[inside], high[inside] = lo, hi
    return low, high


def _paired(
    xs: list[FloatArray],
    labels: list[list[Hashable] | None],
    mean: FloatArray,
    ia: np.ndarray,
    ib: np.ndarray,
    sign: float,
    level: float,
) -> tuple[dict[str, FloatArray], np.ndarray]:
    """Paired t, Wilcoxon and win rate for pairs whose seed labels match exactly, and that match mask."""
    count = len(ia)
    out = {key: np.full(count, np.nan) for key in ("t", "df", "p", "ci_low", "ci_high", "w", "wp", "win")}
    matched = np.zeros(count, dtype=bool)
    diffs: dict[int, FloatArray] = {}
    for k, (i, j) in enumerate(zip(ia, ib, strict=True)):
        la, lb = labels[i], labels[j]
        if la is None or lb is None or len(la) < 2 or len(set(la)) != len(la) or set(la) != set(lb):
            continue
        where = {label: pos for pos, label in enumerate(lb)}
        diffs[k] = xs[i] - xs[j][[where[label] for label in la]]
        matched[k] = True
    if not diffs:
        return out, matched
    keys = list(diffs)
    d_mean = np.array([diffs[k].mean() for k in keys])
    d_std = np.array([diffs[k].std(ddof=1) for k in keys])
    scale = np.maximum(np.abs(mean[ia[keys]]), np.abs(mean[ib[keys]]))
    d_std = np.where(is_zero_std(d_std, scale), 0.0, d_std)
    res = one_sample_t(d_mean, d_std, [diffs[k].size for k in keys], level)
    for key in ("t", "df", "p", "ci_low", "ci_high"):
        out[key][keys] = res[key]
    for k in keys:
        oriented = diffs[k] * sign
        out["win"][k] = np.mean((oriented > 0) + 0.5 * (oriented == 0))
        if np.any(oriented != 0):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # scipy warns about the normal approximation at small n
                res_w = stats.wilcoxon(oriented, zero_method="wilcox", alternative="two-sided", method="auto")
            out["w"][k], out["wp"][k] = res_w.statistic, res_w.pvalue
    return out, matched


def _reasons(
    row: dict[str, Any], *, n_a: int, n_b: int, zero_a: bool, zero_b: bool, matched: bool, labelled: bool
) -> dict[str, str]:
    """A reason for every None field."""
    if n_a == 0 or n_b == 0:
        general = "no finished seeds in " + ("A" if n_a == 0 else "B")
    elif n_a < 2 or n_b < 2:
        general = "fewer than 2 seeds in " + ("A" if n_a < 2 else "B") + ": no variance estimate"
    elif zero_a and zero_b:
        general = "both variants have zero variance: no test, no interval"
    else:
        general = "undefined"
    specific = {
        "hedges_g": "zero pooled variance or too few seeds for Hedges' g" if n_a and n_b else general,
        "cliffs_delta": general,
        "mannwhitney_p": "all values tied: the rank test has no information" if n_a and n_b else general,
        "prob_improvement_ci_low": "bootstrap interval needs at least 2 seeds per variant",
        "prob_improvement_ci_high": "bootstrap interval needs at least 2 seeds per variant",
        "seeds_needed": general,
    }
    if general == "undefined":  # both variants have ≥ 2 seeds and some variance
        specific["seeds_needed"] = (
            "observed difference is zero" if row["diff"] == 0 else "more than 1,000,000 seeds per variant"
        )
    if not matched:
        unpaired = "unpaired: the variants did not run the same seeds" if labelled else "unpaired: no seed labels"
        for key in (
            "paired_n",
            "paired_diff_ci_low",
            "paired_diff_ci_high",
            "paired_t",
            "paired_df",
            "paired_p",
            "wilcoxon_w",
            "wilcoxon_p",
            "paired_win_rate",
        ):
            specific[key] = unpaired
    else:
        constant = "paired differences have zero variance: paired t undefined"
        for key in ("paired_diff_ci_low", "paired_diff_ci_high", "paired_t", "paired_df", "paired_p"):
            specific[key] = constant
        specific["wilcoxon_w"] = specific["wilcoxon_p"] = "all paired differences are zero"
    return {key: specific.get(key, general) for key, value in row.items() if value is None}


def _verdict(row: dict[str, Any], *, sign: float, alpha: float, p_reason: str | None) -> tuple[Verdict, str]:
    p_holm, prob, diff = row["p_holm"], row["prob_improvement"], row["diff"]
    if p_holm is None:
        return "inconclusive", f"no test: {p_reason or 'undefined'}"
    if p_holm >= alpha:
        return "inconclusive", f"Holm-adjusted p = {p_holm:.3g} ≥ {alpha:g}"
    oriented = diff * sign
    if oriented > 0 and prob is not None and prob > 0.5:
        return "a_better", f"Holm-adjusted p = {p_holm:.3g} < {alpha:g}, P(A better) = {prob:.3g}"
    if oriented < 0 and prob is not None and prob < 0.5:
        return "b_better", f"Holm-adjusted p = {p_holm:.3g} < {alpha:g}, P(B better) = {1 - prob:.3g}"
    return "inconclusive", "the mean difference and P(A better than B) point in different directions"
