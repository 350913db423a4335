"""Multi-task benchmark against scipy and Demšar's / rliable's definitions (STATISTICS.md §2, §3)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from server.analysis import benchmark_compare, holm_adjust
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
