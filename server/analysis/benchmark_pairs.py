"""The pairs of a multi-task benchmark: Wilcoxon signed-rank over tasks with Holm, and Nemenyi.

Formulas and sources in ``benchmark``'s docstring (STATISTICS.md §3, §12.4): Wilcoxon on the
differences of per-task means (two-sided, zero_method 'wilcox', method 'auto'), Holm over the
pairs compared, Nemenyi p from the studentized range with k groups and infinite df. Which pairs:
all k(k-1)/2 up to ``max_all_pairs`` variants, else the k - 1 pairs (v, reference)
(``pairs_reference``), so the work and the result grow as k, not k².
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from ._common import FloatArray, Result, fnum
from .multitest import family_size, holm_adjust
from .pairwise import Verdict


@dataclass(frozen=True, slots=True)
class BenchmarkPair(Result):
    """A vs B over tasks. Wins/losses/ties count tasks on goal-oriented per-task means."""

    a: str
    b: str
    n_tasks: int
    wins: int
    losses: int
    ties: int
    wilcoxon_w: float | None
    wilcoxon_p: float | None
    p_holm: float | None
    family_size: int
    mean_rank_diff: float
    nemenyi_p: float | None
    nemenyi_significant: bool | None
    prob_improvement: float | None
    prob_improvement_ci_low: float | None
    prob_improvement_ci_high: float | None
    verdict: Verdict
    verdict_reason: str
    reasons: dict[str, str] = field(default_factory=dict)


def pairs_reference(
    names: list[str], avg_ranks: FloatArray, against: str | None, max_all_pairs: int, n_tasks: int, notes: list[str]
) -> int | None:
    """Index of the variant every pair is compared with, or None for all pairs; a note says which and why."""
    if against is not None:
        if against not in names:
            raise KeyError(f"against names a variant without scores: {against!r}")
        notes.append(f"each variant is compared with {against!r} only")
        return names.index(against)
    if len(names) <= max_all_pairs:
        return None
    leader = int(np.argmin(avg_ranks))  # the first of the tied leaders
    notes.append(
        f"{len(names)} variants: each is compared with the leader {names[leader]!r} (best average rank) only "
        f"(all pairs up to {max_all_pairs} variants)"
    )
    return leader


def benchmark_pairs(
    names: list[str],
    oriented_means: FloatArray,
    avg_ranks: FloatArray,
    pair_index: list[tuple[int, int]],
    pi: FloatArray,
    pi_low: FloatArray,
    pi_high: FloatArray,
    nemenyi_scale: float | None,
    cd: float | None,
    alpha: float,
) -> tuple[BenchmarkPair, ...]:
    n_tasks = oriented_means.shape[0]
    w_stat = np.full(len(pair_index), np.nan)
    w_p = np.full(len(pair_index), np.nan)
    direction = np.zeros(len(pair_index))
    # scipy picks exact or asymptotic once per call, from zeros and ties anywhere in its input: pairs
    # with neither go through one vectorised call (same choice as alone), the others one by one.
    clean = []
    for k, (i, j) in enumerate(pair_index):
        d = oriented_means[:, i] - oriented_means[:, j]
        nonzero = d[d != 0]
        if nonzero.size:
            signed_ranks = stats.rankdata(np.abs(nonzero)) * np.sign(nonzero)
            direction[k] = np.sign(signed_ranks.sum())  # sign of W+ - W-
            if nonzero.size == d.size and np.unique(np.abs(d)).size == d.size:
                clean.append(k)
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided", method="auto")
            w_stat[k], w_p[k] = res.statistic, res.pvalue
    if clean:
        diffs = np.stack([oriented_means[:, pair_index[k][0]] - oriented_means[:, pair_index[k][1]] for k in clean])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = stats.wilcoxon(diffs, zero_method="wilcox", alternative="two-sided", method="auto", axis=1)
        w_stat[clean], w_p[clean] = res.statistic, res.pvalue
    rank_diffs = (
        np.array([avg_ranks[i] - avg_ranks[j] for i, j in pair_index]) if n_tasks else np.zeros(len(pair_index))
    )
    nemenyi = None
    if nemenyi_scale is not None and pair_index:
        nemenyi = stats.studentized_range.sf(np.sqrt(2) * np.abs(rank_diffs) / nemenyi_scale, len(names), np.inf)
    p_holm = holm_adjust(w_p)
    m = family_size(w_p)
    out = []
    for k, (i, j) in enumerate(pair_index):
        d = oriented_means[:, i] - oriented_means[:, j]
        rank_diff = float(rank_diffs[k])
        nemenyi_p = None if nemenyi is None else float(nemenyi[k])
        reasons: dict[str, str] = {}
        if not np.isfinite(w_p[k]):
            why = "no tasks" if n_tasks == 0 else "the variants tie on every task"
            reasons.update(wilcoxon_w=why, wilcoxon_p=why, p_holm=why)
        if nemenyi_p is None:
            reasons["nemenyi_p"] = reasons["nemenyi_significant"] = "needs at least 1 task"
        if not np.isfinite(pi_low[k]):
            for key in ("prob_improvement", "prob_improvement_ci_low", "prob_improvement_ci_high"):
                reasons[key] = "no tasks" if n_tasks == 0 else "undefined"
        holm, prob = fnum(p_holm[k]), fnum(pi[k])
        verdict: Verdict = "inconclusive"
        if holm is None:
            why = f"no test: {reasons.get('p_holm', 'undefined')}"
        elif holm >= alpha:
            why = f"Holm-adjusted Wilcoxon p = {holm:.3g} ≥ {alpha:g}"
        elif direction[k] > 0 and prob is not None and prob > 0.5:
            verdict, why = (
                "a_better",
                f"Holm-adjusted Wilcoxon p = {holm:.3g} < {alpha:g}, average P(A better) = {prob:.3g}",
            )
        elif direction[k] < 0 and prob is not None and prob < 0.5:
            verdict, why = (
                "b_better",
                f"Holm-adjusted Wilcoxon p = {holm:.3g} < {alpha:g}, average P(B better) = {1 - prob:.3g}",
            )
        else:
            why = "the signed ranks and the probability of improvement point in different directions"
        out.append(
            BenchmarkPair(
                a=names[i],
                b=names[j],
                n_tasks=n_tasks,
                wins=int((d > 0).sum()),
                losses=int((d < 0).sum()),
                ties=int((d == 0).sum()),
                wilcoxon_w=fnum(w_stat[k]),
                wilcoxon_p=fnum(w_p[k]),
                p_holm=holm,
                family_size=m,
                mean_rank_diff=rank_diff,
                nemenyi_p=nemenyi_p,
                nemenyi_significant=None if cd is None else bool(abs(rank_diff) > cd),
                prob_improvement=prob,
                prob_improvement_ci_low=fnum(pi_low[k]),
                prob_improvement_ci_high=fnum(pi_high[k]),
                verdict=verdict,
                verdict_reason=why,
                reasons=reasons,
            )
        )
    return tuple(out)
