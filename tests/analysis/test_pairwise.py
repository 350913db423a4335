"""Pairwise comparisons against scipy's tests and the published formulas (STATISTICS.md §11)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import special, stats

from server.analysis import holm_adjust, pair_compare, pairs_compare, seeds_needed
from server.analysis._twosample import hedges_j
from server.analysis.pairwise import _verdict

B = 1000


def _cases(count: int, seed: int = 0, rounded: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        na, nb = rng.integers(2, 12, size=2)
        a = rng.normal(rng.uniform(0.7, 0.9), rng.uniform(0.005, 0.05), na)
        b = rng.normal(rng.uniform(0.7, 0.9), rng.uniform(0.005, 0.05), nb)
        out.append((np.round(a, 2), np.round(b, 2)) if rounded else (a, b))
    return out


@pytest.mark.parametrize(("a", "b"), _cases(25))
def test_welch_matches_scipy_ttest_ind(a: np.ndarray, b: np.ndarray) -> None:
    ref = stats.ttest_ind(a, b, equal_var=False)
    ci = ref.confidence_interval(0.95)
    for goal in ("max", "min"):  # raw-unit fields do not depend on the goal
        r = pair_compare(a, b, goal=goal, n_boot=B)
        assert r.diff == pytest.approx(a.mean() - b.mean(), rel=1e-12)
        assert r.welch_t == pytest.approx(ref.statistic, rel=1e-10)
        assert r.welch_df == pytest.approx(ref.df, rel=1e-10)
        assert r.welch_p == pytest.approx(ref.pvalue, rel=1e-9)
        assert (r.diff_ci_low, r.diff_ci_high) == pytest.approx((ci.low, ci.high), rel=1e-10)


@pytest.mark.parametrize(("a", "b"), _cases(20, seed=1) + _cases(20, seed=2, rounded=True))
def test_mann_whitney_matches_scipy_auto(a: np.ndarray, b: np.ndarray) -> None:
    ref = stats.mannwhitneyu(a, b, alternative="two-sided", method="auto")
    r = pair_compare(a, b, n_boot=B)
    assert r.mannwhitney_u == pytest.approx(ref.statistic)
    assert r.mannwhitney_p == pytest.approx(ref.pvalue, rel=1e-10)


def test_mann_whitney_in_a_family_makes_the_per_pair_exact_or_asymptotic_choice() -> None:
    # One pair with ties (asymptotic) and one without (exact) of the same sizes in one call.
    scores = {"a": [1.0, 2.0, 3.0, 4.0], "b": [1.0, 2.5, 3.5, 5.0], "c": [0.5, 1.5, 2.2, 6.0]}
    family = pairs_compare(scores, n_boot=B)
    for pair in family.pairs:
        ref = stats.mannwhitneyu(scores[pair.a], scores[pair.b], method="auto")
        assert pair.mannwhitney_p == pytest.approx(ref.pvalue, rel=1e-12)


def _brute_force_dominance(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    wins = sum(1.0 if x > y else 0.5 if x == y else 0.0 for x in a for y in b)
    losses = sum(1.0 for x in a for y in b if x < y)
    total = len(a) * len(b)
    return wins / total, (sum(1.0 for x in a for y in b if x > y) - losses) / total


@pytest.mark.parametrize(("a", "b"), _cases(10, seed=3, rounded=True))
def test_prob_improvement_and_cliffs_delta_count_all_pairs_with_half_ties(a: np.ndarray, b: np.ndarray) -> None:
    prob, delta = _brute_force_dominance(a, b)
    r = pair_compare(a, b, n_boot=B)
    assert r.prob_improvement == pytest.approx(prob)
    assert r.cliffs_delta == pytest.approx(delta)
    assert r.prob_improvement == pytest.approx(r.mannwhitney_u / (len(a) * len(b)))
    # goal = min: A better means lower; P(a < b) + ½ P(tie) = 1 - P(a > b) - ½ P(tie).
    low = pair_compare(a, b, goal="min", n_boot=B)
    assert low.prob_improvement == pytest.approx(1 - prob)
    assert low.cliffs_delta == pytest.approx(delta)  # raw-unit sign: A - B


def test_exact_hedges_j_matches_the_gamma_formula() -> None:
    assert hedges_j(2) == pytest.approx(1 / math.sqrt(math.pi))  # Γ(1) / (1 · Γ(½))
    for df in (3, 5, 10, 18, 50):
        exact = math.gamma(df / 2) / (math.sqrt(df / 2) * math.gamma((df - 1) / 2))
        assert hedges_j(df) == pytest.approx(exact, rel=1e-12)
        assert hedges_j(df) == pytest.approx(1 - 3 / (4 * df - 1), rel=0.01)
    assert np.isnan(hedges_j(1))


@pytest.mark.parametrize(("a", "b"), _cases(10, seed=4))
def test_hedges_g_is_j_times_the_pooled_standardised_difference(a: np.ndarray, b: np.ndarray) -> None:
    na, nb = len(a), len(b)
    sp = math.sqrt(((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2))
    df = na + nb - 2
    j = math.exp(special.gammaln(df / 2) - special.gammaln((df - 1) / 2)) / math.sqrt(df / 2)
    assert pair_compare(a, b, n_boot=B).hedges_g == pytest.approx(j * (a.mean() - b.mean()) / sp, rel=1e-12)


def test_paired_design_uses_ttest_rel_and_wilcoxon_on_matched_seeds() -> None:
    rng = np.random.default_rng(7)
    base = rng.normal(0.8, 0.03, 9)
    a = base + rng.normal(0.01, 0.005, 9)
    b = base
    order = rng.permutation(9)  # B's scores arrive in another order; labels align them
    r = pair_compare(a, b[order], seeds_a=list(range(9)), seeds_b=list(order), n_boot=B)
    assert r.paired and r.p_method == "paired_t" and r.paired_n == 9
    ref = stats.ttest_rel(a, b)
    assert r.paired_t == pytest.approx(ref.statistic, rel=1e-10)
    assert r.paired_p == pytest.approx(ref.pvalue, rel=1e-10)
    assert r.paired_df == 8
    ci = ref.confidence_interval(0.95)
    assert (r.paired_diff_ci_low, r.paired_diff_ci_high) == pytest.approx((ci.low, ci.high), rel=1e-10)
    w = stats.wilcoxon(a, b)
    assert (r.wilcoxon_w, r.wilcoxon_p) == pytest.approx((w.statistic, w.pvalue))
    assert r.paired_win_rate == pytest.approx(np.mean(a > b))
    assert r.p_value == r.paired_p
    # Welch is still reported alongside.
    assert r.welch_p == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue)


def test_paired_wilcoxon_respects_the_goal_and_drops_zero_differences() -> None:
    a, b = [0.30, 0.25, 0.20, 0.22, 0.5], [0.35, 0.27, 0.26, 0.21, 0.5]
    r = pair_compare(a, b, goal="min", seeds_a=[1, 2, 3, 4, 5], seeds_b=[1, 2, 3, 4, 5], n_boot=B)
    ref = stats.wilcoxon(-(np.array(a) - np.array(b)), zero_method="wilcox")
    assert (r.wilcoxon_w, r.wilcoxon_p) == pytest.approx((ref.statistic, ref.pvalue))
    assert r.paired_win_rate == pytest.approx((3 + 0.5) / 5)  # lower is better; one tie


def test_constant_paired_differences_fall_back_to_welch_for_the_verdict() -> None:
    a = np.array([0.80, 0.82, 0.79, 0.85, 0.81])
    r = pair_compare(a + 0.05, a, seeds_a=[1, 2, 3, 4, 5], seeds_b=[1, 2, 3, 4, 5], n_boot=B)
    assert r.paired and r.paired_t is None and "zero variance" in r.reasons["paired_t"]
    assert r.p_method == "welch" and r.p_value == r.welch_p
    assert r.wilcoxon_p == pytest.approx(stats.wilcoxon(np.full(5, 0.05)).pvalue)


def test_different_seed_sets_are_compared_unpaired() -> None:
    r = pair_compare([1.0, 2.0, 3.0], [2.0, 3.0, 4.0], seeds_a=[1, 2, 3], seeds_b=[1, 2, 4], n_boot=B)
    assert not r.paired and r.p_method == "welch" and r.paired_t is None
    assert r.reasons["paired_t"] == "unpaired: the variants did not run the same seeds"
    assert not pair_compare([1.0, 2.0], [2.0, 3.0], n_boot=B).paired


def test_holm_runs_over_the_family_of_pairs() -> None:
    rng = np.random.default_rng(8)
    scores = {f"v{i}": rng.normal(0.8 + 0.01 * i, 0.01, 6) for i in range(5)}
    family = pairs_compare(scores, n_boot=B)
    assert len(family.pairs) == 10 and family.family_size == 10
    p = np.array([pair.welch_p for pair in family.pairs])
    np.testing.assert_allclose([pair.p_holm for pair in family.pairs], holm_adjust(p))
    assert all(pair.family_size == 10 for pair in family.pairs)


def test_baseline_family_compares_each_variant_with_the_baseline() -> None:
    scores = {"base": [0.8, 0.81, 0.79], "x": [0.85, 0.86, 0.84], "y": [0.8, 0.82, 0.8]}
    family = pairs_compare(scores, baseline="base", n_boot=B)
    assert [(p.a, p.b) for p in family.pairs] == [("x", "base"), ("y", "base")]
    assert family.get("x", "base") is family.pairs[0] and family.get("base", "x") is None


def test_clear_winners_get_verdicts_in_the_goal_direction() -> None:
    high, low = [0.90, 0.91, 0.92, 0.93, 0.915], [0.80, 0.81, 0.82, 0.805, 0.815]
    assert pair_compare(high, low, n_boot=B).verdict == "a_better"
    assert pair_compare(low, high, n_boot=B).verdict == "b_better"
    assert pair_compare(high, low, goal="min", n_boot=B).verdict == "b_better"


def test_identical_groups_are_inconclusive_never_no_difference() -> None:
    r = pair_compare([0.8, 0.82, 0.81], [0.8, 0.82, 0.81], n_boot=B)
    assert r.verdict == "inconclusive" and r.diff == 0.0 and r.prob_improvement == 0.5
    assert r.seeds_needed is None and r.reasons["seeds_needed"] == "observed difference is zero"
    assert r.mde is not None


def test_verdict_needs_the_direction_of_the_mean_and_of_prob_improvement_to_agree() -> None:
    row = {"p_holm": 0.01, "prob_improvement": 0.4, "diff": 0.2}
    assert _verdict(row, sign=1.0, alpha=0.05, p_reason=None)[0] == "inconclusive"
    assert _verdict({**row, "prob_improvement": 0.6}, sign=1.0, alpha=0.05, p_reason=None)[0] == "a_better"
    assert _verdict({**row, "p_holm": 0.05}, sign=1.0, alpha=0.05, p_reason=None)[0] == "inconclusive"


def test_seeds_needed_detects_the_observed_difference_with_the_colas_formula() -> None:
    a, b = np.array([0.80, 0.83, 0.81, 0.84]), np.array([0.79, 0.80, 0.82, 0.78, 0.80])
    r = pair_compare(a, b, n_boot=B)
    expected = seeds_needed(a.std(ddof=1), b.std(ddof=1), a.mean() - b.mean())
    assert r.seeds_needed == int(expected)


def test_too_few_seeds_give_nulls_with_reasons_and_no_verdict() -> None:
    r = pair_compare([0.9], [0.8, 0.82, 0.81], n_boot=B)
    assert r.welch_t is None and r.welch_p is None and r.p_holm is None
    # Hedges' g stays defined (df = 2): the single seed adds nothing to the pooled variance.
    assert r.hedges_g == pytest.approx(hedges_j(2) * (0.9 - 0.81) / np.std([0.8, 0.82, 0.81], ddof=1))
    assert r.reasons["welch_p"] == "fewer than 2 seeds in A: no variance estimate"
    assert r.verdict == "inconclusive" and r.verdict_reason.startswith("no test")
    assert r.prob_improvement == 1.0 and r.prob_improvement_ci_low is None
    empty = pair_compare([], [0.8, 0.82], n_boot=B)
    assert empty.diff is None and empty.prob_improvement is None and empty.family_size == 0


def test_both_groups_constant_is_undefined_not_infinite() -> None:
    r = pair_compare([0.9, 0.9, 0.9], [0.8, 0.8, 0.8], n_boot=B)
    assert r.welch_t is None and r.welch_p is None and r.hedges_g is None
    assert r.reasons["welch_t"] == "both variants have zero variance: no test, no interval"
    assert r.mannwhitney_p == pytest.approx(stats.mannwhitneyu([0.9] * 3, [0.8] * 3).pvalue)
    assert r.prob_improvement == 1.0
    json.dumps(r.to_dict(), allow_nan=False)


@pytest.mark.filterwarnings("ignore:Precision loss:RuntimeWarning")  # scipy, about the constant group
def test_one_constant_group_leaves_welch_with_the_other_groups_df() -> None:
    a, b = np.array([0.9, 0.9, 0.9, 0.9]), np.array([0.8, 0.85, 0.83])
    r = pair_compare(a, b, n_boot=B)
    assert r.welch_df == pytest.approx(2.0)
    assert r.welch_p == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue)


def test_all_ties_have_no_rank_test() -> None:
    r = pair_compare([1.0, 1.0], [1.0, 1.0, 1.0], n_boot=B)
    assert r.mannwhitney_u == 3.0 and r.mannwhitney_p is None
    assert r.reasons["mannwhitney_p"] == "all values tied: the rank test has no information"
    assert r.prob_improvement == 0.5 == r.prob_improvement_ci_low == r.prob_improvement_ci_high


def test_every_null_field_has_a_reason_and_json_has_no_nan() -> None:
    cases = [([], [1.0]), ([1.0], [2.0]), ([1.0, 1.0], [1.0, 1.0]), ([1.0, 2.0], [1.0, 3.0]), ([1.0, 2.0], [5.0])]
    for a, b in cases:
        r = pair_compare(a, b, n_boot=B)
        data = r.to_dict()
        json.dumps(data, allow_nan=False)
        nulls = {k for k, v in data.items() if v is None and k not in ("reason", "distribution_sensitive")}
        assert nulls <= set(r.reasons), (a, b)


def test_prob_improvement_interval_is_the_same_alone_and_in_a_family() -> None:
    rng = np.random.default_rng(9)
    scores = {name: rng.normal(0.8, 0.02, 6) for name in ("a", "b", "c", "d")}
    family = pairs_compare(scores, n_boot=B, seed=4)
    alone = pair_compare(scores["b"], scores["d"], names=("b", "d"), n_boot=B, seed=4)
    in_family = family.get("b", "d")
    assert in_family is not None
    assert (in_family.prob_improvement_ci_low, in_family.prob_improvement_ci_high) == (
        alone.prob_improvement_ci_low,
        alone.prob_improvement_ci_high,
    )


def test_distribution_sensitive_flags_welch_and_rank_test_disagreeing() -> None:
    a = [0.90, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97, 0.98, 0.10]  # one diverged seed
    b = [0.80, 0.81, 0.82, 0.83, 0.84, 0.85, 0.86, 0.87, 0.88, 0.89]
    r = pair_compare(a, b, n_boot=B)
    assert r.welch_p is not None and r.welch_p > 0.05 and r.mannwhitney_p is not None and r.mannwhitney_p < 0.05
    assert r.distribution_sensitive is True


def test_a_pair_naming_an_unknown_variant_or_the_same_variant_twice_is_refused() -> None:
    with pytest.raises(KeyError):
        pairs_compare({"a": [1.0, 2.0]}, pairs=[("a", "zzz")], n_boot=B)
    with pytest.raises(ValueError, match="itself"):
        pairs_compare({"a": [1.0, 2.0]}, pairs=[("a", "a")], n_boot=B)
