"""Multi-task benchmark against scipy and Demšar's / rliable's definitions (STATISTICS.md §2, §3)."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from scipy import stats

from server.analysis import (
    BenchmarkResult,
    aggregates,
    benchmark_compare,
    holm_adjust,
    pairs_compare,
    ranking,
    variants_rank,
)
from server.analysis import bootstrap as bs
from server.analysis.aggregates import (
    STREAM_TASKS,
    average_probability_of_improvement,
    stratified_draws,
)
from server.analysis.benchmark import _cliques

B = 500

# Demšar 2006, Table 5(a): q_0.05 for k = 2..10.
Q_005 = [1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164]


def _benchmark_scores(k: int, n_tasks: int, seed: int, seeds: int = 4, rounded: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    skill = rng.normal(0, 0.02, k)
    out: dict[str, dict[str, np.ndarray]] = {}
    for v in range(k):
        out[f"v{v}"] = {}
        for t in range(n_tasks):
            x = rng.normal(0.5 + 0.1 * t + skill[v], 0.02, seeds)
            out[f"v{v}"][f"t{t}"] = np.round(x, 1) if rounded else x
    return out


def _task_means(scores: dict, goal: str = "max") -> np.ndarray:
    sign = 1 if goal == "max" else -1
    variants = list(scores)
    tasks = list(scores[variants[0]])
    return np.array([[np.mean(scores[v][t]) for v in variants] for t in tasks]) * sign


@pytest.mark.parametrize("k", [3, 4, 6, 10])
@pytest.mark.parametrize("n_tasks", [4, 7, 10])
def test_friedman_and_iman_davenport_match_scipy_and_the_formula(k: int, n_tasks: int) -> None:
    scores = _benchmark_scores(k, n_tasks, seed=k * 100 + n_tasks)
    r = benchmark_compare(scores, n_boot=B)
    m = _task_means(scores)
    ref = stats.friedmanchisquare(*m.T)
    assert r.friedman_chi2 == pytest.approx(ref.statistic, rel=1e-12)
    assert r.friedman_p == pytest.approx(ref.pvalue, rel=1e-10)
    # Without ties scipy's statistic is Demšar's χ²_F = 12N/(k(k+1)) [Σ R_j² - k(k+1)²/4].
    ranks = stats.rankdata(-m, axis=1).mean(axis=0)
    chi2 = 12 * n_tasks / (k * (k + 1)) * (np.sum(ranks**2) - k * (k + 1) ** 2 / 4)
    assert r.friedman_chi2 == pytest.approx(chi2, rel=1e-10)
    assert [r.average_ranks[v] for v in scores] == pytest.approx(list(ranks))
    f = (n_tasks - 1) * chi2 / (n_tasks * (k - 1) - chi2)
    df = (k - 1, (k - 1) * (n_tasks - 1))
    if r.iman_davenport_f is not None:
        assert r.iman_davenport_f == pytest.approx(f, rel=1e-10)
        assert r.iman_davenport_df == df
        assert r.iman_davenport_p == pytest.approx(stats.f.sf(f, *df), rel=1e-9)


def test_friedman_with_ties_is_scipys_tie_corrected_statistic() -> None:
    scores = _benchmark_scores(5, 8, seed=3, seeds=1, rounded=True)
    r = benchmark_compare(scores, n_boot=B)
    ref = stats.friedmanchisquare(*_task_means(scores).T)
    assert r.friedman_chi2 == pytest.approx(ref.statistic) and r.friedman_p == pytest.approx(ref.pvalue)


def test_iman_davenport_of_identical_task_rankings_is_infinite_with_p_zero() -> None:
    scores = {f"v{i}": {f"t{t}": [float(i + 10 * t)] for t in range(5)} for i in range(4)}
    r = benchmark_compare(scores, n_boot=B)
    assert r.friedman_chi2 == pytest.approx(5 * 3)  # N(k - 1)
    assert r.iman_davenport_f is None and r.iman_davenport_p == 0.0
    assert "infinite" in r.reasons["iman_davenport_f"]


@pytest.mark.parametrize("k", range(2, 11))
def test_nemenyi_critical_difference_uses_demsars_q_table(k: int) -> None:
    n_tasks = 6
    r = benchmark_compare(_benchmark_scores(k, n_tasks, seed=k), n_boot=50)
    assert r.nemenyi_q == pytest.approx(Q_005[k - 2], abs=1.5e-3)  # Demšar prints 3 truncated digits
    assert r.nemenyi_cd == pytest.approx(r.nemenyi_q * math.sqrt(k * (k + 1) / (6 * n_tasks)), rel=1e-12)
    for pair in r.pairs:
        assert pair.nemenyi_significant == (abs(pair.mean_rank_diff) > r.nemenyi_cd)
        expected = stats.studentized_range.sf(
            math.sqrt(2) * abs(pair.mean_rank_diff) / math.sqrt(k * (k + 1) / (6 * n_tasks)), k, np.inf
        )
        assert pair.nemenyi_p == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_a_rank_difference_of_exactly_cd_has_nemenyi_p_alpha() -> None:
    k, n_tasks = 4, 9
    q = stats.studentized_range.ppf(0.95, k, np.inf) / math.sqrt(2)
    scale = math.sqrt(k * (k + 1) / (6 * n_tasks))
    assert stats.studentized_range.sf(math.sqrt(2) * q, k, np.inf) == pytest.approx(0.05, rel=1e-6)
    assert q * scale == pytest.approx(2.569 * scale, abs=1e-3)


def test_cliques_follow_autoranks_rule() -> None:
    names = ["a", "b", "c", "d", "e"]
    # In rank order a(1.0) b(1.5) c(3.0) d(3.2) e(3.9), CD = 1: {a, b}, {c, d, e}; b-c is 1.5 apart.
    assert _cliques(names, np.array([1.0, 1.5, 3.0, 3.2, 3.9]), 1.0) == (("a", "b"), ("c", "d", "e"))
    # A group inside the previous one is not repeated: d-e lies within c-e.
    assert _cliques(names, np.array([1.0, 2.5, 3.0, 3.2, 3.5]), 1.0) == (("b", "c", "d", "e"),)
    assert _cliques(names, np.array([1.0, 2.5, 4.0, 5.5, 7.0]), 1.0) == ()


@pytest.mark.parametrize("n_tasks", range(4, 11))
def test_pairwise_wilcoxon_over_task_means_with_holm(n_tasks: int) -> None:
    scores = _benchmark_scores(4, n_tasks, seed=n_tasks)
    r = benchmark_compare(scores, n_boot=B)
    m = _task_means(scores)
    names = list(scores)
    raw = []
    for pair in r.pairs:
        d = m[:, names.index(pair.a)] - m[:, names.index(pair.b)]
        ref = stats.wilcoxon(d)
        assert (pair.wilcoxon_w, pair.wilcoxon_p) == pytest.approx((ref.statistic, ref.pvalue))
        assert (pair.wins, pair.losses, pair.ties) == (int((d > 0).sum()), int((d < 0).sum()), 0)
        raw.append(ref.pvalue)
    assert [pair.p_holm for pair in r.pairs] == pytest.approx(list(holm_adjust(raw)))
    assert r.min_attainable_wilcoxon_p == pytest.approx(2.0 ** (1 - n_tasks))


def test_four_tasks_warn_that_no_pair_can_be_significant() -> None:
    r = benchmark_compare(_benchmark_scores(3, 4, seed=1), n_boot=B)
    assert r.min_attainable_wilcoxon_p == 0.125
    assert any("smallest attainable Wilcoxon p is 0.125" in w for w in r.warnings)
    assert all(p.verdict == "inconclusive" for p in r.pairs)


def test_rliable_aggregates_match_their_definitions() -> None:
    scores = _benchmark_scores(3, 5, seed=4, seeds=5)
    baselines = {f"t{t}": (0.4 + 0.1 * t, 0.6 + 0.1 * t) for t in range(5)}
    r = benchmark_compare(scores, baselines=baselines, n_boot=2000)
    for v, per_task in scores.items():
        z = [(np.asarray(x) - baselines[t][0]) / (baselines[t][1] - baselines[t][0]) for t, x in per_task.items()]
        flat = np.concatenate(z)
        agg = r.aggregates[v]
        assert agg.iqm == pytest.approx(stats.trim_mean(flat, 0.25))
        assert agg.mean == pytest.approx(np.mean([x.mean() for x in z]))
        assert agg.median == pytest.approx(np.median([x.mean() for x in z]))
        assert agg.optimality_gap == pytest.approx(1 - np.minimum(flat, 1).mean())
        assert agg.iqm_ci_low <= agg.iqm <= agg.iqm_ci_high
        assert agg.n_runs == 25 and agg.n_tasks == 5
        assert r.task_means[v]["t0"] == pytest.approx(z[0].mean())
    assert r.normalized


def test_average_probability_of_improvement_is_the_mean_of_per_task_u_statistics() -> None:
    scores = _benchmark_scores(3, 6, seed=5, seeds=4, rounded=True)
    for goal in ("max", "min"):
        r = benchmark_compare(scores, goal=goal, n_boot=B)
        for pair in r.pairs:
            per_task = []
            for t in scores[pair.a]:
                a, b = np.asarray(scores[pair.a][t]), np.asarray(scores[pair.b][t])
                u = stats.mannwhitneyu(a, b).statistic / (a.size * b.size)
                per_task.append(u if goal == "max" else 1 - u)
            assert pair.prob_improvement == pytest.approx(np.mean(per_task))
            assert pair.prob_improvement_ci_low <= pair.prob_improvement <= pair.prob_improvement_ci_high


def test_normalised_losses_become_higher_is_better() -> None:
    # Loss with random = 2.0 and reference = 0.5: lower loss → higher normalised score.
    scores = {"good": {"t": [0.6, 0.7]}, "bad": {"t": [1.5, 1.6]}}
    r = benchmark_compare(scores, goal="min", baselines={"t": (2.0, 0.5)}, n_boot=B)
    assert r.task_means["good"]["t"] == pytest.approx((0.65 - 2.0) / (0.5 - 2.0))
    assert r.average_ranks == {"good": 1.0, "bad": 2.0}
    assert (r.pairs[0].a, r.pairs[0].b, r.pairs[0].prob_improvement) == ("good", "bad", 1.0)
    assert r.aggregates["good"].optimality_gap == pytest.approx(1 - np.mean([(0.6 - 2) / -1.5, (0.7 - 2) / -1.5]))


def test_goal_min_ranks_the_lowest_loss_first() -> None:
    scores = {"a": {"t1": [0.2], "t2": [0.3]}, "b": {"t1": [0.5], "t2": [0.6]}, "c": {"t1": [0.9], "t2": [0.1]}}
    r = benchmark_compare(scores, goal="min", n_boot=B)
    assert r.average_ranks == {"a": 1.5, "b": 2.5, "c": 2.0}


def test_incomplete_tasks_are_dropped_with_a_warning() -> None:
    scores = _benchmark_scores(3, 5, seed=6)
    scores["v1"]["t2"] = np.array([np.nan, np.nan])
    scores["v0"]["extra"] = np.array([1.0])
    r = benchmark_compare(scores, n_boot=B)
    assert r.tasks == ("t0", "t1", "t3", "t4")
    assert r.dropped_tasks == {"t2": "no finished seeds for v1", "extra": "no finished seeds for v1, v2"}
    assert any("'t2' dropped" in w for w in r.warnings)


def test_tasks_without_a_usable_baseline_are_dropped_when_normalising() -> None:
    scores = _benchmark_scores(3, 3, seed=7)
    r = benchmark_compare(scores, baselines={"t0": (0.0, 1.0), "t1": (0.5, 0.5)}, n_boot=B)
    assert r.tasks == ("t0",)
    assert r.dropped_tasks["t2"] == "no normalisation baseline"
    assert "unusable baseline" in r.dropped_tasks["t1"]


def test_two_variants_get_wilcoxon_but_no_friedman() -> None:
    r = benchmark_compare(_benchmark_scores(2, 6, seed=8), n_boot=B)
    assert r.friedman_chi2 is None and r.friedman_p is None and r.iman_davenport_f is None
    assert "at least 3 variants" in r.reasons["friedman_p"]
    assert len(r.pairs) == 1 and r.pairs[0].wilcoxon_p is not None and r.nemenyi_cd is not None


def test_variants_tied_on_every_task_have_no_tests() -> None:
    scores = {v: {f"t{t}": [0.5, 0.5] for t in range(5)} for v in ("a", "b", "c")}
    r = benchmark_compare(scores, n_boot=B)
    assert r.friedman_chi2 is None and r.reasons["friedman_chi2"] == "every task ties all variants"
    assert all(p.wilcoxon_p is None and p.verdict == "inconclusive" for p in r.pairs)
    assert all(p.prob_improvement == 0.5 for p in r.pairs)
    assert r.average_ranks == {"a": 2.0, "b": 2.0, "c": 2.0}
    json.dumps(r.to_dict(), allow_nan=False)


def test_a_consistent_winner_over_ten_tasks_is_a_better() -> None:
    rng = np.random.default_rng(9)
    scores = {
        "new": {f"t{t}": rng.normal(0.6 + 0.05 * t, 0.01, 5) for t in range(10)},
        "old": {f"t{t}": rng.normal(0.5 + 0.05 * t, 0.01, 5) for t in range(10)},
    }
    pair = benchmark_compare(scores, n_boot=B).pairs[0]
    assert pair.verdict == "a_better" and pair.wins == 10
    assert pair.p_holm == pytest.approx(stats.wilcoxon(np.arange(1, 11)).pvalue)


def test_per_task_statistics_are_the_per_variant_statistics_in_raw_units() -> None:
    scores = _benchmark_scores(3, 2, seed=10)
    r = benchmark_compare(scores, baselines={"t0": (0.0, 2.0), "t1": (0.0, 2.0)}, n_failed={"v0": {"t1": 2}}, n_boot=B)
    stats_t1 = r.per_task["t1"]["v0"]
    assert stats_t1.mean == pytest.approx(np.mean(scores["v0"]["t1"]))
    assert stats_t1.n_failed == 2
    assert r.aggregates["v0"].optimality_gap is not None
    json.dumps(r.to_dict(), allow_nan=False)


def test_without_baselines_aggregates_warn_about_mixed_scales() -> None:
    r = benchmark_compare(_benchmark_scores(3, 3, seed=11), n_boot=B)
    assert any("not normalised" in w for w in r.warnings)
    assert r.aggregates["v0"].optimality_gap is None and "optimality_gap" in r.aggregates["v0"].reasons


# Rank intervals and performance profiles (STATISTICS.md §2, §12.4). The references below are
# plain loops over replicates that redraw the same resample indices from the documented streams.


def _quantile_bounds(replicates: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    low = np.quantile(replicates, (1 - level) / 2, axis=0, method="lower")
    high = np.quantile(replicates, (1 + level) / 2, axis=0, method="higher")
    return low, high


def _p_best(replicates: np.ndarray) -> np.ndarray:
    p = np.zeros(replicates.shape[1])
    for row in replicates:
        best = np.flatnonzero(row == row.min())
        p[best] += 1 / best.size
    return p / len(replicates)


def _reference_rank_intervals(scores: dict, goal: str, n_boot: int, seed: int) -> dict[str, tuple]:
    """Both rank bootstraps, one replicate at a time, ranking from scratch in every replicate."""
    sign = 1 if goal == "max" else -1
    names, tasks = list(scores), list(scores[next(iter(scores))])
    oriented = {(v, t): sign * np.asarray(scores[v][t], dtype=float) for v in names for t in tasks}
    means = np.array([[oriented[v, t].mean() for v in names] for t in tasks])
    out = {}
    if len(tasks) >= 2:
        task_idx = bs.resample_indices(bs.generator(seed, STREAM_TASKS), n_boot, len(tasks))
        replicates = []
        for b in range(n_boot):
            resampled = means[task_idx[b]]
            replicates.append(np.mean([stats.rankdata(-row) for row in resampled], axis=0))
        out["tasks"] = (*_quantile_bounds(np.array(replicates)), _p_best(np.array(replicates)))
    seed_idx = {
        (v, t): bs.resample_indices(bs.named_generator(seed, v, t), n_boot, oriented[v, t].size)
        for v in names
        for t in tasks
    }
    replicates = []
    for b in range(n_boot):
        task_ranks = []
        for t in tasks:
            boot_means = [oriented[v, t][seed_idx[v, t][b]].mean() for v in names]
            task_ranks.append(stats.rankdata(-np.array(boot_means)))
        replicates.append(np.mean(task_ranks, axis=0))
    out["seeds"] = (*_quantile_bounds(np.array(replicates)), _p_best(np.array(replicates)))
    return out


def _reference_profiles(
    values: dict, tau: np.ndarray, above: bool, n_boot: int, seed: int
) -> dict[str, tuple[np.ndarray, ...]]:
    """F(τ) = mean over tasks of the fraction of seeds better than τ, and its stratified bootstrap."""
    out = {}
    for v, per_task in values.items():

        def fraction(samples: list[np.ndarray]) -> np.ndarray:
            better = [(x[:, None] > tau) if above else (x[:, None] < tau) for x in samples]
            return np.mean([b.mean(axis=0) for b in better], axis=0)

        draws = {t: bs.resample_indices(bs.named_generator(seed, v, t), n_boot, len(x)) for t, x in per_task.items()}
        replicates = np.array(
            [fraction([np.asarray(x)[draws[t][b]] for t, x in per_task.items()]) for b in range(n_boot)]
        )
        low, high = np.quantile(replicates, [0.025, 0.975], axis=0)
        out[v] = (fraction([np.asarray(x) for x in per_task.values()]), low, high)
    return out


def _assert_rank_intervals_match(r: BenchmarkResult, reference: dict) -> None:
    for i, v in enumerate(r.variants):
        entry = r.ranks[v]
        assert entry.average_rank == pytest.approx(r.average_ranks[v], abs=1e-12)
        for kind, (low, high, p_best) in reference.items():
            assert getattr(entry, f"rank_ci_{kind}_low") == pytest.approx(low[i], abs=1e-12)
            assert getattr(entry, f"rank_ci_{kind}_high") == pytest.approx(high[i], abs=1e-12)
            assert getattr(entry, f"p_best_{kind}") == pytest.approx(p_best[i], abs=1e-12)


@pytest.mark.parametrize(("k", "n_tasks"), [(2, 4), (3, 10), (5, 6), (7, 5), (10, 8), (4, 9), (6, 7)])
@pytest.mark.parametrize("goal", ["max", "min"])
def test_rank_intervals_match_a_replicate_by_replicate_reference(k: int, n_tasks: int, goal: str) -> None:
    scores = _benchmark_scores(k, n_tasks, seed=31 * k + n_tasks, seeds=3)
    r = benchmark_compare(scores, goal=goal, n_boot=200, seed=5)  # type: ignore[arg-type]
    _assert_rank_intervals_match(r, _reference_rank_intervals(scores, goal, 200, 5))
    for entry in r.ranks.values():
        assert entry.reasons == {}


def test_rank_intervals_with_ties_and_unequal_seed_counts_match_the_reference() -> None:
    # Eighths: means are exact, so ties within a task and between replicates are real ties.
    rng = np.random.default_rng(12)
    scores = {f"v{v}": {f"t{t}": rng.integers(0, 4, int(rng.integers(1, 5))) / 8 for t in range(5)} for v in range(4)}
    r = benchmark_compare(scores, n_boot=300, seed=2)
    task_means = _task_means(scores)
    assert any(len(set(row)) < len(row) for row in task_means)  # some task ties two variants
    _assert_rank_intervals_match(r, _reference_rank_intervals(scores, "max", 300, 2))


def test_rank_intervals_on_normalised_scores_rank_like_the_raw_goal() -> None:
    scores = _benchmark_scores(4, 6, seed=13, seeds=4)
    baselines = {f"t{t}": (1.0 + 0.1 * t, 0.2) for t in range(6)}  # a loss: lower is better
    r = benchmark_compare(scores, goal="min", baselines=baselines, n_boot=200, seed=3)
    _assert_rank_intervals_match(r, _reference_rank_intervals(scores, "min", 200, 3))


def test_variants_tied_everywhere_share_rank_and_p_best() -> None:
    scores = {v: {f"t{t}": [0.5, 0.5, 0.5] for t in range(5)} for v in ("a", "b", "c")}
    r = benchmark_compare(scores, n_boot=200)
    for entry in r.ranks.values():
        assert (entry.rank_ci_tasks_low, entry.rank_ci_tasks_high) == (2.0, 2.0)
        assert (entry.rank_ci_seeds_low, entry.rank_ci_seeds_high) == (2.0, 2.0)
        assert entry.p_best_tasks == pytest.approx(1 / 3) and entry.p_best_seeds == pytest.approx(1 / 3)


def test_a_dominant_variant_is_best_in_every_replicate() -> None:
    rng = np.random.default_rng(14)
    scores = {f"v{v}": {f"t{t}": rng.normal(v, 0.01, 5) for t in range(6)} for v in range(4)}
    r = benchmark_compare(scores, n_boot=500)
    top = r.ranks["v3"]
    assert (top.average_rank, top.rank_ci_tasks_low, top.rank_ci_tasks_high, top.p_best_tasks) == (1.0, 1.0, 1.0, 1.0)
    assert (top.rank_ci_seeds_low, top.rank_ci_seeds_high, top.p_best_seeds) == (1.0, 1.0, 1.0)
    assert r.ranks["v0"].rank_ci_seeds_low == 4.0


def test_one_task_has_no_task_bootstrap_but_a_seed_bootstrap() -> None:
    scores = _benchmark_scores(3, 1, seed=15, seeds=4)
    r = benchmark_compare(scores, n_boot=200, seed=1)
    for entry in r.ranks.values():
        assert entry.rank_ci_tasks_low is None and entry.rank_ci_tasks_high is None and entry.p_best_tasks is None
        assert entry.reasons["rank_ci_tasks_low"] == "the task bootstrap needs at least 2 tasks"
        assert entry.rank_ci_seeds_low is not None
    _assert_rank_intervals_match(r, _reference_rank_intervals(scores, "max", 200, 1))
    json.dumps(r.to_dict(), allow_nan=False)


def test_one_seed_cells_are_flagged_for_the_seed_bootstrap() -> None:
    r = benchmark_compare(_benchmark_scores(3, 4, seed=16, seeds=1), n_boot=100)
    assert any("12 (variant, task) cells have one seed" in w for w in r.warnings)
    for entry in r.ranks.values():
        assert entry.rank_ci_seeds_low == entry.rank_ci_seeds_high == entry.average_rank


def test_without_tasks_there_are_no_ranks_or_profiles() -> None:
    r = benchmark_compare({"a": {"t": [1.0]}, "b": {"u": [2.0]}}, n_boot=50)
    assert r.ranks == {} and r.profiles == {} and r.profile_tau == ()
    assert "profiles" in r.reasons and "ranks" in r.reasons


@pytest.mark.parametrize(
    ("k", "n_tasks", "goal", "normalised"),
    [(2, 4, "max", False), (3, 6, "min", False), (5, 10, "max", True), (4, 5, "min", True), (10, 4, "max", False)],
)
def test_performance_profiles_match_the_formula_and_their_bootstrap(
    k: int, n_tasks: int, goal: str, normalised: bool
) -> None:
    scores = _benchmark_scores(k, n_tasks, seed=7 * k + n_tasks, seeds=5, rounded=not normalised)
    baselines = {f"t{t}": (0.3 + 0.1 * t, 0.8 + 0.1 * t) for t in range(n_tasks)} if normalised else None
    r = benchmark_compare(scores, goal=goal, baselines=baselines, n_boot=150, seed=4)  # type: ignore[arg-type]
    values = {
        v: {
            t: (np.asarray(x) - baselines[t][0]) / (baselines[t][1] - baselines[t][0]) if baselines else np.asarray(x)
            for t, x in per_task.items()
        }
        for v, per_task in scores.items()
    }
    pooled = np.concatenate([x for per_task in values.values() for x in per_task.values()])
    tau = np.asarray(r.profile_tau)
    assert tau == pytest.approx(np.linspace(pooled.min(), pooled.max(), 101))
    above = normalised or goal == "max"
    assert r.profile_direction == ("above" if above else "below")
    reference = _reference_profiles(values, tau, above, 150, 4)
    for v, (fraction, low, high) in reference.items():
        profile = r.profiles[v]
        assert profile.fraction == pytest.approx(fraction, abs=1e-12)
        assert profile.ci_low == pytest.approx(low, abs=1e-12)
        assert profile.ci_high == pytest.approx(high, abs=1e-12)


def test_profiles_with_unequal_seed_counts_average_per_task_fractions() -> None:
    rng = np.random.default_rng(17)
    scores = {f"v{v}": {f"t{t}": rng.normal(0.5, 0.1, 2 + (v + t) % 4) for t in range(4)} for v in range(3)}
    tau = [0.3, 0.45, 0.5, 0.55, 0.7]
    r = benchmark_compare(scores, n_boot=120, seed=6, profile_tau=tau)
    assert r.profile_tau == tuple(tau)
    for v, (fraction, low, high) in _reference_profiles(scores, np.array(tau), True, 120, 6).items():
        assert r.profiles[v].fraction == pytest.approx(fraction, abs=1e-12)
        assert r.profiles[v].ci_low == pytest.approx(low, abs=1e-12)
        assert r.profiles[v].ci_high == pytest.approx(high, abs=1e-12)


@pytest.mark.parametrize("goal", ["max", "min"])
def test_profiles_equal_rliables_run_score_distribution(goal: str) -> None:
    rly = pytest.importorskip("rliable.library")
    scores = _benchmark_scores(3, 6, seed=18, seeds=5, rounded=True)
    r = benchmark_compare(scores, goal=goal, n_boot=50)  # type: ignore[arg-type]
    sign = 1 if goal == "max" else -1
    # rliable: score matrix (runs x tasks), higher is better; a loss is negated, and so is τ.
    score_dict = {
        v: sign * np.stack([np.asarray(x) for x in per_task.values()], axis=1) for v, per_task in scores.items()
    }
    np.random.seed(0)  # rliable 1.2.0 draws its bootstrap from the global state
    expected, _ = rly.create_performance_profile(score_dict, sign * np.asarray(r.profile_tau), reps=20)
    for v in scores:
        assert r.profiles[v].fraction == pytest.approx(expected[v], abs=1e-12)


def test_a_custom_profile_grid_must_be_finite_and_non_empty() -> None:
    scores = _benchmark_scores(2, 3, seed=19)
    for bad in ([], [0.1, np.nan], [np.inf]):
        with pytest.raises(ValueError, match="profile_tau"):
            benchmark_compare(scores, n_boot=20, profile_tau=bad)


def test_wilcoxon_of_pairs_with_and_without_ties_matches_scipy_pair_by_pair() -> None:
    # Over 13 tasks, pairs with zero or tied differences get scipy's asymptotic p, pairs without its
    # exact p: the clean pairs share one vectorised call, which must not change their method.
    scores = _benchmark_scores(5, 15, seed=20, seeds=3)
    scores["copy"] = {
        t: np.asarray(x) + (0.0 if t in ("t0", "t1") else 0.25 + 0.01 * int(t[1:])) for t, x in scores["v0"].items()
    }
    scores["twin"] = {t: np.asarray(x) + 0.5 for t, x in scores["v1"].items()}
    r = benchmark_compare(scores, n_boot=50)
    m = _task_means(scores)
    names = list(scores)
    kinds = set()
    for pair in r.pairs:
        d = m[:, names.index(pair.a)] - m[:, names.index(pair.b)]
        if not np.any(d):
            assert pair.wilcoxon_p is None
            continue
        kinds.add(bool(np.all(d != 0) and np.unique(np.abs(d)).size == d.size))
        ref = stats.wilcoxon(d)
        assert (pair.wilcoxon_w, pair.wilcoxon_p) == (ref.statistic, ref.pvalue)
    assert kinds == {True, False}


def test_float32_draws_give_the_float64_probabilities_of_improvement_bit_for_bit() -> None:
    rng = np.random.default_rng(21)
    samples = [[np.round(rng.normal(0.5, 0.1, 3 + (v * t) % 5), 2) for t in range(3)] for v in range(5)]
    names, tasks = [f"v{v}" for v in range(5)], ["a", "b", "c"]
    narrow = stratified_draws(samples, names, tasks, n_boot=400, seed=3)
    assert narrow.dtype == np.float32 and narrow.counts_t(0, 0).dtype == np.float32
    wide = dataclasses.replace(narrow, dtype=np.float64)
    pairs = [(i, j) for i in range(5) for j in range(i + 1, 5)] + [(4, 0), (2, 1), (2, 4)]
    for got, expected in zip(
        average_probability_of_improvement(samples, narrow, pairs, level=0.95),
        average_probability_of_improvement(samples, wide, pairs, level=0.95),
        strict=True,
    ):
        assert np.array_equal(got, expected)


def test_draws_of_very_large_samples_stay_in_float64() -> None:
    draws = stratified_draws([[np.zeros(3000)], [np.zeros(2)]], ["a", "b"], ["t"], n_boot=2, seed=0)
    assert draws.dtype == np.float64 and draws.counts_t(1, 0).shape == (2, 2)


def test_draws_made_again_are_the_same_draws() -> None:
    draws = stratified_draws([[np.zeros(4), np.zeros(3)]], ["a"], ["t", "u"], n_boot=50, seed=9)
    assert np.array_equal(draws.indices(0, 1), draws.indices(0, 1))
    assert np.array_equal(draws.counts_t(0, 0).sum(axis=0), np.full(50, 4.0))
    expected = bs.resample_indices(bs.named_generator(9, "a", "u"), 50, 3)
    assert np.array_equal(draws.indices(0, 1), expected)


def test_more_variants_than_all_pairs_allow_are_compared_with_the_leader_only() -> None:
    scores = _benchmark_scores(7, 3, seed=31)
    r = benchmark_compare(scores, n_boot=B, max_all_pairs=5)
    leader = min(r.average_ranks, key=lambda name: r.average_ranks[name])
    assert r.pairs_against == leader
    assert [(p.a, p.b) for p in r.pairs] == [(name, leader) for name in scores if name != leader]
    assert {p.family_size for p in r.pairs} <= {6} and any(f"leader {leader!r}" in w for w in r.warnings)
    # A pair is the same pair whichever others are compared: its probability of improvement too.
    full = {(p.a, p.b): p for p in benchmark_compare(scores, n_boot=B).pairs}
    for pair in r.pairs:
        same = full.get((pair.a, pair.b))
        if same is not None:
            assert (pair.prob_improvement_ci_low, pair.prob_improvement_ci_high) == (
                same.prob_improvement_ci_low,
                same.prob_improvement_ci_high,
            )
    assert benchmark_compare(scores, n_boot=B).pairs_against is None


def test_against_names_the_reference_of_every_pair() -> None:
    scores = _benchmark_scores(4, 3, seed=32)
    r = benchmark_compare(scores, n_boot=B, against="v2")
    assert r.pairs_against == "v2" and [(p.a, p.b) for p in r.pairs] == [("v0", "v2"), ("v1", "v2"), ("v3", "v2")]
    assert any("compared with 'v2' only" in w for w in r.warnings)
    with pytest.raises(KeyError):
        benchmark_compare(scores, n_boot=B, against="nope")


def test_bootstrap_blocks_change_no_number(monkeypatch: pytest.MonkeyPatch) -> None:
    scores = _benchmark_scores(9, 3, seed=33, seeds=5, rounded=True)
    per_task = {name: cells["t0"] for name, cells in scores.items()}
    expected = (
        benchmark_compare(scores, n_boot=B, seed=4).to_dict(),
        pairs_compare(per_task, n_boot=B, seed=4).to_dict(),
        pairs_compare(per_task, baseline="v3", n_boot=B, seed=4).to_dict(),
        variants_rank(per_task, n_boot=B, seed=4).to_dict(),
    )
    # Blocks of a few samples' counts: every partner block, rank block and pair group is small.
    monkeypatch.setattr(bs, "BLOCK_BYTES", 5 * B * 8)
    monkeypatch.setattr(aggregates, "BLOCK_BYTES", 2 * 9 * 64)
    monkeypatch.setattr(ranking, "BLOCK_BYTES", 2 * 9 * 64)
    got = (
        benchmark_compare(scores, n_boot=B, seed=4).to_dict(),
        pairs_compare(per_task, n_boot=B, seed=4).to_dict(),
        pairs_compare(per_task, baseline="v3", n_boot=B, seed=4).to_dict(),
        variants_rank(per_task, n_boot=B, seed=4).to_dict(),
    )
    assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)
