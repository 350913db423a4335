"""Multi-task benchmark: k variants x N tasks x seeds (STATISTICS.md §2, §3, §12.4).

Preconditions: a complete block — a task is used only if every variant has at least one
finite score on it (others are dropped with a warning); with ``baselines`` every task is
normalised, z = (x - random)/(reference - random) (0 = random, 1 = reference), and normalised
scores are higher-is-better whatever the metric's goal.

On the N x k matrix of per-task means M (goal-oriented):
- ranks within each task, 1 = best, ties averaged; R_j = average rank of variant j.
- Friedman (``scipy.stats.friedmanchisquare``, which divides Demšar's
  χ²_F = 12N/(k(k+1)) [Σ R_j² - k(k+1)²/4] by the tie correction 1 - Σ(t³ - t)/(N k (k² - 1))),
  χ² with k - 1 df; needs k ≥ 3.
- Iman & Davenport 1980: F_F = (N - 1) χ² / (N(k - 1) - χ²) ~ F(k - 1, (k - 1)(N - 1)),
  from the same (tie-corrected) χ².
- Nemenyi (Demšar 2006): CD = q_alpha · sqrt(k(k + 1)/(6N)), q_alpha = studentized range
  quantile(1 - alpha, k, ∞)/√2 (``scipy.stats.studentized_range``); pair p =
  P(Q_{k,∞} > √2 |R_i - R_j| / sqrt(k(k+1)/(6N))). Cliques by autorank's rule: in rank order,
  join each variant with the farthest later variant within CD; keep a group only if it
  extends the previous one.
- Pairwise Wilcoxon signed-rank over tasks on differences of per-task means (two-sided,
  zero_method 'wilcox', method 'auto') with Holm over the pairs compared — the recommended
  pairwise claim (Benavoli, Corani & Mangili 2016). All k(k-1)/2 pairs up to ``max_all_pairs``
  variants (``MAX_ALL_PAIRS`` = 50); beyond, or when ``against`` names a variant, the k - 1 pairs
  (v, reference) with the reference = ``against``, else the leader (lowest average rank, the first
  on a tie), and a warning says so: nothing in the result or the work grows as k². With N tasks
  the smallest attainable p is 2/2^N.
  Verdict ``a_better`` iff p_holm < alpha, W+ > W- and the average probability of improvement
  > ½ (``b_better`` symmetrically), else ``inconclusive``.
- Rank intervals (STATISTICS.md §12.4; computed in ``aggregates``): 95 % percentile bootstrap
  intervals of R_j over tasks (tasks resampled: would the ranking hold on other tasks like
  these? needs N ≥ 2) and over seeds (seeds resampled within every (variant, task), means
  re-ranked within each task: would it hold on a rerun?), bounds taken as attained average ranks
  so they lie in [1, k]; P(best) = share of replicates in which a variant has the lowest average
  rank, a tie for best counting 1/(number tied).
- rliable aggregates (see ``aggregates``): IQM, mean, median of task means, optimality gap
  (gamma = 1, normalised scores only) and average probability of improvement, all with
  stratified-bootstrap 95 % intervals; performance profiles (Agarwal et al. 2021; rliable
  ``create_performance_profile``, run-score distribution): F_j(τ) = (1/N) Σ_t (1/n_t) #{seeds of
  j on t strictly better than τ}, with 95 % stratified-bootstrap bands from the same draws. The
  grid ``profile_tau`` (default 101 points from the lowest to the highest score of all runs) is
  in the scores' units: normalised when baselines are given, else the metric's. "Better than τ"
  is "> τ" (``profile_direction`` 'above') for goal 'max' and for normalised scores, and "< τ"
  ('below') for goal 'min' without baselines: rliable's profile of the negated scores at -τ, so
  the curve is the fraction of runs that beat τ and rises with τ for a loss.
Per-task statistics of every variant (``descriptive``) are given in raw units.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from ._common import (
    ALPHA,
    LEVEL,
    MAX_ALL_PAIRS,
    METHOD_VERSION,
    N_BOOT,
    SEED,
    FloatArray,
    Goal,
    Result,
    check_level,
    check_n_boot,
    clean_scores,
    fnum,
    join_reasons,
)
from .aggregates import (
    AggregateScores,
    PerformanceProfile,
    aggregate_scores,
    average_probability_of_improvement,
    average_rank_intervals,
    performance_profiles,
    stratified_draws,
)
from .benchmark_pairs import BenchmarkPair, benchmark_pairs, pairs_reference
from .descriptive import VariantStats, variants_describe
from .goals import goal_resolve, goal_sign
from .power import min_p_wilcoxon

METHODS = {
    "ranks": "per_task_mean_average_ties",
    "omnibus": "friedman_scipy_tie_corrected",
    "omnibus_f": "iman_davenport",
    "posthoc": "nemenyi_studentized_range_inf",
    "cliques": "autorank_rule",
    "pairwise": "wilcoxon_signed_rank_holm",
    "aggregates": "rliable_stratified_percentile_bootstrap",
    "rank_ci_tasks": "percentile_bootstrap_over_tasks_attained",
    "rank_ci_seeds": "stratified_bootstrap_within_variant_task_attained",
    "p_best": "bootstrap_ties_shared",
    "profiles": "rliable_run_score_distribution_stratified_percentile_bootstrap",
}

PROFILE_POINTS = 101


@dataclass(frozen=True, slots=True)
class BenchmarkRank(Result):
    """Average rank of one variant over tasks (1 = best) with its two bootstrap intervals."""

    average_rank: float | None
    rank_ci_tasks_low: float | None
    rank_ci_tasks_high: float | None
    p_best_tasks: float | None
    rank_ci_seeds_low: float | None
    rank_ci_seeds_high: float | None
    p_best_seeds: float | None
    reasons: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BenchmarkResult(Result):
    variants: tuple[str, ...]
    tasks: tuple[str, ...]
    dropped_tasks: dict[str, str]
    normalized: bool
    goal: Goal
    per_task: dict[str, dict[str, VariantStats]]
    task_means: dict[str, dict[str, float | None]]
    average_ranks: dict[str, float]
    friedman_chi2: float | None
    friedman_p: float | None
    iman_davenport_f: float | None
    iman_davenport_df: tuple[int, int] | None
    iman_davenport_p: float | None
    nemenyi_q: float | None
    nemenyi_cd: float | None
    cliques: tuple[tuple[str, ...], ...]
    pairs: tuple[BenchmarkPair, ...]
    pairs_against: str | None  # the reference of every pair, None when all pairs are compared
    aggregates: dict[str, AggregateScores]
    ranks: dict[str, BenchmarkRank]
    profile_tau: tuple[float, ...]
    profile_direction: Literal["above", "below"]
    profiles: dict[str, PerformanceProfile]
    min_attainable_wilcoxon_p: float | None
    warnings: tuple[str, ...]
    alpha: float
    level: float
    n_boot: int
    seed: int
    methods: dict[str, str] = field(default_factory=lambda: dict(METHODS))
    method_version: str = METHOD_VERSION
    reasons: dict[str, str] = field(default_factory=dict)
    reason: str | None = None


def benchmark_compare(
    scores: Mapping[str, Mapping[str, ArrayLike]],
    *,
    goal: Goal = "max",
    baselines: Mapping[str, tuple[float, float]] | None = None,
    n_failed: Mapping[str, Mapping[str, int]] | None = None,
    n_boot: int = N_BOOT,
    seed: int = SEED,
    level: float = LEVEL,
    alpha: float = ALPHA,
    profile_tau: ArrayLike | None = None,
    against: str | None = None,
    max_all_pairs: int = MAX_ALL_PAIRS,
) -> BenchmarkResult:
    """Compare variants over tasks.

    ``scores[variant][task]`` are seed scores; ``baselines[task]`` = (random, reference) turns on
    normalisation; ``n_failed[variant][task]`` counts failed seeds for the per-task statistics;
    ``profile_tau`` replaces the default τ grid of the performance profiles (in normalised units
    when normalising); ``against`` compares every variant with that one only, as do more than
    ``max_all_pairs`` variants with the leader.
    """
    goal = goal_resolve(goal)
    check_level(level)
    check_n_boot(n_boot)
    tau = None if profile_tau is None else np.asarray(profile_tau, dtype=float).reshape(-1)
    if tau is not None and (tau.size == 0 or not np.all(np.isfinite(tau))):
        raise ValueError("profile_tau must be a non-empty sequence of finite numbers")
    variants = list(scores)
    tasks, dropped = _complete_tasks(scores, baselines)
    k, n_tasks = len(variants), len(tasks)
    raw = [[clean_scores(scores[v][t])[0] for t in tasks] for v in variants]
    per_task = {
        t: variants_describe(
            {v: scores[v][t] for v in variants},
            n_failed={v: (n_failed or {}).get(v, {}).get(t, 0) for v in variants},
            n_boot=n_boot,
            seed=seed,
            level=level,
        )
        for t in tasks
    }
    if baselines is not None:
        lows = [baselines[t][0] for t in tasks]
        spans = [baselines[t][1] - baselines[t][0] for t in tasks]
        values = [[(x - lo) / span for x, lo, span in zip(row, lows, spans, strict=True)] for row in raw]
        effective: Goal = "max"
    else:
        values, effective = raw, goal
    sign = goal_sign(effective)
    oriented = [[x * sign for x in row] for row in values]
    notes = [f"task {t!r} dropped: {why}" for t, why in dropped.items()]
    reasons: dict[str, str] = {}
    if not n_tasks:
        reasons["tasks"] = "no task has finished seeds for every variant"
    means = np.array([[x.mean() for x in row] for row in values]).T if k and n_tasks else np.empty((n_tasks, k))
    ranks = stats.rankdata(-means * sign, axis=1, method="average") if k and n_tasks else np.empty((n_tasks, k))
    avg_ranks = ranks.mean(axis=0) if n_tasks else np.full(k, np.nan)

    omnibus = _friedman(means * sign, reasons)
    q, cd, nemenyi_scale = None, None, None
    if k >= 2 and n_tasks >= 1:
        q = float(stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2))
        nemenyi_scale = float(np.sqrt(k * (k + 1) / (6 * n_tasks)))
        cd = q * nemenyi_scale
    else:
        reasons["nemenyi_cd"] = reasons["nemenyi_q"] = "needs at least 2 variants and 1 task"
    cliques = _cliques(variants, avg_ranks, cd) if cd is not None else ()

    reference = pairs_reference(variants, avg_ranks, against, max_all_pairs, n_tasks, notes)
    if reference is None:
        pair_index = [(i, j) for i in range(k) for j in range(i + 1, k)]
    else:
        pair_index = [(i, reference) for i in range(k) if i != reference]
    draws = stratified_draws(oriented, variants, tasks, n_boot=n_boot, seed=seed) if k and n_tasks else None
    if draws is not None and pair_index:
        pi, pi_low, pi_high = average_probability_of_improvement(oriented, draws, pair_index, level=level)
    else:
        pi = pi_low = pi_high = np.full(len(pair_index), np.nan)
    pairs = benchmark_pairs(
        variants, means * sign, avg_ranks, pair_index, pi, pi_low, pi_high, nemenyi_scale, cd, alpha
    )
    aggregates, rank_entries, profiles = {}, {}, {}
    if draws is not None:
        for v, name in enumerate(variants):
            aggregates[name] = aggregate_scores(
                values[v],
                [draws.indices(v, t) for t in range(n_tasks)],
                gamma=1.0 if baselines is not None else None,
                level=level,
            )
        intervals = average_rank_intervals(ranks, oriented, draws, n_boot=n_boot, seed=seed, level=level)
        rank_entries = _rank_entries(variants, avg_ranks, intervals)
        if tau is None:
            pooled = np.concatenate([x for row in values for x in row])
            tau = np.linspace(pooled.min(), pooled.max(), PROFILE_POINTS)
        profiles = dict(zip(variants, performance_profiles(oriented, draws, tau * sign, level=level), strict=True))
        single = sum(x.size == 1 for row in raw for x in row)
        if single:
            notes.append(
                f"{single} (variant, task) cells have one seed: the seed-bootstrap rank intervals treat them as exact"
            )
    else:
        reasons["ranks"] = reasons["profiles"] = "no task has finished seeds for every variant"

    min_p = min_p_wilcoxon(n_tasks) if n_tasks else None
    if min_p is not None and k >= 2 and min_p >= alpha:
        notes.append(
            f"with {n_tasks} tasks the smallest attainable Wilcoxon p is {min_p:.3g}: no pair can be "
            f"significant at {alpha:g}"
        )
    if k >= 3 and (n_tasks <= 10 or k <= 5):
        notes.append("Friedman's chi-square approximation is rough for N ≤ 10 tasks or k ≤ 5 variants (Demšar 2006)")
    if baselines is None and n_tasks > 1:
        notes.append("scores are not normalised: cross-task aggregates mix the tasks' scales")
    return BenchmarkResult(
        variants=tuple(variants),
        tasks=tuple(tasks),
        dropped_tasks=dropped,
        normalized=baselines is not None,
        goal=goal,
        per_task=per_task,
        task_means={name: {t: fnum(means[ti, v]) for ti, t in enumerate(tasks)} for v, name in enumerate(variants)},
        average_ranks={name: float(avg_ranks[v]) for v, name in enumerate(variants)} if n_tasks else {},
        nemenyi_q=q,
        nemenyi_cd=cd,
        cliques=cliques,
        pairs=pairs,
        pairs_against=None if reference is None else variants[reference],
        aggregates=aggregates,
        ranks=rank_entries,
        profile_tau=() if tau is None else tuple(tau.tolist()),
        profile_direction="above" if sign > 0 else "below",
        profiles=profiles,
        min_attainable_wilcoxon_p=min_p,
        warnings=tuple(notes),
        alpha=alpha,
        level=level,
        n_boot=int(n_boot),
        seed=int(seed),
        reasons=reasons,
        reason=join_reasons(reasons),
        **omnibus,
    )


def _rank_entries(
    names: list[str], avg_ranks: FloatArray, intervals: dict[str, tuple[FloatArray, FloatArray, FloatArray]]
) -> dict[str, BenchmarkRank]:
    out = {}
    for v, name in enumerate(names):
        values: dict[str, float | None] = {}
        reasons: dict[str, str] = {}
        for kind in ("tasks", "seeds"):
            keys = (f"rank_ci_{kind}_low", f"rank_ci_{kind}_high", f"p_best_{kind}")
            if kind in intervals:
                values.update(zip(keys, (fnum(a[v]) for a in intervals[kind]), strict=True))
            else:
                values.update(dict.fromkeys(keys))
                reasons.update(dict.fromkeys(keys, "the task bootstrap needs at least 2 tasks"))
        out[name] = BenchmarkRank(average_rank=fnum(avg_ranks[v]), reasons=reasons, **values)
    return out


def _complete_tasks(
    scores: Mapping[str, Mapping[str, ArrayLike]], baselines: Mapping[str, tuple[float, float]] | None
) -> tuple[list[str], dict[str, str]]:
    """Tasks every variant has a finite score on (and a usable baseline); the others with why."""
    tasks = list(dict.fromkeys(t for per_task in scores.values() for t in per_task))
    kept, dropped = [], {}
    for t in tasks:
        missing = [v for v, per_task in scores.items() if t not in per_task or clean_scores(per_task[t])[0].size == 0]
        if missing:
            dropped[t] = "no finished seeds for " + ", ".join(map(str, missing))
        elif baselines is not None and t not in baselines:
            dropped[t] = "no normalisation baseline"
        elif baselines is not None and not (
            np.isfinite(baselines[t][0]) and np.isfinite(baselines[t][1]) and baselines[t][1] != baselines[t][0]
        ):
            dropped[t] = "unusable baseline: random and reference must be finite and different"
        else:
            kept.append(t)
    return kept, dropped


def _friedman(oriented_means: FloatArray, reasons: dict[str, str]) -> dict[str, Any]:
    """Friedman χ² and p (scipy, tie-corrected) and Iman-Davenport F, its df and p."""
    n_tasks, k = oriented_means.shape
    out: dict[str, Any] = dict.fromkeys(
        ("friedman_chi2", "friedman_p", "iman_davenport_f", "iman_davenport_df", "iman_davenport_p")
    )
    if k < 3 or n_tasks < 2:
        why = "Friedman needs at least 3 variants and 2 tasks (for 2 variants use the Wilcoxon pair)"
        reasons.update(dict.fromkeys(out, why))
        return out
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore")
        res = stats.friedmanchisquare(*oriented_means.T)
    chi2, p = fnum(res.statistic), fnum(res.pvalue)
    if chi2 is None:
        reasons.update(dict.fromkeys(out, "every task ties all variants"))
        return out
    out.update(friedman_chi2=chi2, friedman_p=p, iman_davenport_df=(k - 1, (k - 1) * (n_tasks - 1)))
    denominator = n_tasks * (k - 1) - chi2
    if denominator <= 1e-12 * n_tasks * (k - 1):
        # χ² = N(k - 1): every task ranks the variants identically; F is infinite, its p-value 0.
        out["iman_davenport_p"] = 0.0
        reasons["iman_davenport_f"] = "every task ranks the variants identically: F is infinite"
    else:
        f_stat = (n_tasks - 1) * chi2 / denominator
        out["iman_davenport_f"] = f_stat
        out["iman_davenport_p"] = float(stats.f.sf(f_stat, k - 1, (k - 1) * (n_tasks - 1)))
    return out


def _cliques(names: list[str], avg_ranks: FloatArray, cd: float) -> tuple[tuple[str, ...], ...]:
    """Groups of variants not separated by the critical difference (autorank's rule)."""
    order = np.argsort(avg_ranks, kind="stable")
    ranks = avg_ranks[order]
    groups: list[tuple[str, ...]] = []
    current_end = -1
    for i in range(len(ranks)):
        within = [j for j in range(i + 1, len(ranks)) if abs(ranks[i] - ranks[j]) <= cd]
        if within and within[-1] > current_end:
            current_end = within[-1]
            groups.append(tuple(names[order[j]] for j in range(i, current_end + 1)))
    return tuple(groups)
