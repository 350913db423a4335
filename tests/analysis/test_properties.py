"""Property tests: intervals contain estimates, A/B swaps mirror, shifts change only locations."""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from server.analysis import benchmark_compare, holm_adjust, pairs_compare, variant_describe, variants_rank

B = 300
FAST = settings(
    max_examples=60, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

# Scores are small integers (optionally eighths): sums, means of equal rationals and shifted
# comparisons are then exact in floating point, so "unchanged" can be tested exactly.
integers = st.lists(st.integers(-50, 50), min_size=2, max_size=10)
eighths = st.lists(st.integers(-400, 400).map(lambda v: v / 8), min_size=2, max_size=10)
goals = st.sampled_from(["max", "min"])
seed_cells = st.lists(st.integers(-400, 400).map(lambda v: v / 8), min_size=1, max_size=4)  # one task's seeds


def _close(x: float | None, y: float | None, tol: float = 1e-9) -> bool:
    if x is None or y is None:
        return x is y
    return math.isclose(x, y, rel_tol=tol, abs_tol=tol)


@FAST
@given(eighths)
def test_variant_intervals_contain_their_estimates(x: list[float]) -> None:
    r = variant_describe(x, n_boot=B)
    if r.ci_low is not None:
        assert r.ci_low <= r.mean <= r.ci_high
        assert r.min <= r.median_ci_low <= r.median <= r.median_ci_high <= r.max
        assert r.min <= r.iqm_ci_low <= r.iqm <= r.iqm_ci_high <= r.max
        assert r.min <= r.mean_boot_ci_low <= r.mean <= r.mean_boot_ci_high <= r.max
    else:
        assert r.std == 0.0 and "same value" in r.reasons["ci_low"]


@FAST
@given(eighths, eighths, goals)
def test_pair_intervals_contain_their_estimates(a: list[float], b: list[float], goal: str) -> None:
    r = pairs_compare({"a": a, "b": b}, goal=goal, n_boot=B).pairs[0]  # type: ignore[arg-type]
    if r.diff_ci_low is not None:
        assert r.diff_ci_low <= r.diff <= r.diff_ci_high
    assert 0.0 <= r.prob_improvement_ci_low <= r.prob_improvement <= r.prob_improvement_ci_high <= 1.0
    assert r.verdict in ("a_better", "b_better", "inconclusive")


@FAST
@given(eighths, eighths, goals)
def test_swapping_a_and_b_mirrors_the_comparison(a: list[float], b: list[float], goal: str) -> None:
    scores = {"x": a, "y": b}
    ab = pairs_compare(scores, goal=goal, pairs=[("x", "y")], n_boot=B).pairs[0]  # type: ignore[arg-type]
    ba = pairs_compare(scores, goal=goal, pairs=[("y", "x")], n_boot=B).pairs[0]  # type: ignore[arg-type]
    assert ba.diff == -ab.diff
    for name in ("welch_t", "hedges_g", "cliffs_delta"):
        value = getattr(ab, name)
        assert _close(getattr(ba, name), None if value is None else -value)
    assert (ba.diff_ci_low, ba.diff_ci_high) == (
        None if ab.diff_ci_high is None else -ab.diff_ci_high,
        None if ab.diff_ci_low is None else -ab.diff_ci_low,
    )
    for name in ("welch_p", "welch_df", "mannwhitney_p", "p_holm", "mde"):
        assert _close(getattr(ba, name), getattr(ab, name))
    assert ba.mannwhitney_u == len(a) * len(b) - ab.mannwhitney_u
    assert _close(ba.prob_improvement, 1 - ab.prob_improvement)
    assert _close(ba.prob_improvement_ci_low, 1 - ab.prob_improvement_ci_high)
    assert _close(ba.prob_improvement_ci_high, 1 - ab.prob_improvement_ci_low)
    assert ba.seeds_needed == ab.seeds_needed
    flipped = {"a_better": "b_better", "b_better": "a_better", "inconclusive": "inconclusive"}
    assert ba.verdict == flipped[ab.verdict]


@FAST
@given(integers, integers, st.integers(-1000, 1000), goals)
def test_adding_a_constant_changes_only_locations(a: list[int], b: list[int], c: int, goal: str) -> None:
    before = pairs_compare({"a": a, "b": b}, goal=goal, n_boot=B).pairs[0]  # type: ignore[arg-type]
    after = pairs_compare(
        {"a": [v + c for v in a], "b": [v + c for v in b]},
        goal=goal,  # type: ignore[arg-type]
        n_boot=B,
    ).pairs[0]
    for name in ("diff", "diff_ci_low", "diff_ci_high", "welch_t", "welch_df", "welch_p", "hedges_g", "mde"):
        assert _close(getattr(after, name), getattr(before, name), 1e-7)
    for name in (
        "mannwhitney_u",
        "mannwhitney_p",
        "cliffs_delta",
        "prob_improvement",
        "prob_improvement_ci_low",
        "prob_improvement_ci_high",
        "seeds_needed",
    ):
        assert getattr(after, name) == getattr(before, name)
    if before.p_holm is None or abs(before.p_holm - 0.05) > 1e-6:
        assert after.verdict == before.verdict

    one, shifted = variant_describe(a, n_boot=B), variant_describe([v + c for v in a], n_boot=B)
    for name in ("mean", "median", "iqm", "min", "max", "q1", "q3", "ci_low", "median_ci_low", "iqm_ci_high"):
        value = getattr(one, name)
        assert _close(getattr(shifted, name), None if value is None else value + c, 1e-7)
    for name in ("std", "sem", "mad", "mde"):
        assert _close(getattr(shifted, name), getattr(one, name), 1e-7)
    assert shifted.outliers == one.outliers


@FAST
@given(st.lists(integers, min_size=2, max_size=10), st.integers(-1000, 1000), goals)
def test_ranks_are_a_permutation_and_ignore_a_common_shift(groups: list[list[int]], c: int, goal: str) -> None:
    scores = {f"v{i}": g for i, g in enumerate(groups)}
    ranking = variants_rank(scores, goal=goal, n_boot=B)  # type: ignore[arg-type]
    k = len(groups)
    ranks = [e.rank for e in ranking.entries]
    assert sum(ranks) == k * (k + 1) / 2
    assert all(1 <= r <= k and (2 * r) == int(2 * r) for r in ranks)
    p_best = [e.p_best for e in ranking.entries]
    if all(len(g) >= 2 for g in groups):
        assert math.isclose(sum(p_best), 1.0)  # type: ignore[arg-type]
    else:  # a one-seed variant has none (its value is not certain), the others share the rest
        assert all((p is None) == (e.n < 2) for p, e in zip(p_best, ranking.entries, strict=True))
        assert sum(p for p in p_best if p is not None) <= 1.0 + 1e-9
    assert ranking.leader in ranking.top_group
    shifted = variants_rank({name: [v + c for v in g] for name, g in scores.items()}, goal=goal, n_boot=B)  # type: ignore[arg-type]
    key = ("name", "rank", "rank_ci_low", "rank_ci_high", "p_best", "in_top_group")
    assert [[getattr(e, f) for f in key] for e in shifted.entries] == [
        [getattr(e, f) for f in key] for e in ranking.entries
    ]


@FAST
@given(eighths, eighths, st.integers(0, 2**32))
def test_bootstrap_results_are_bit_identical_for_the_same_seed(a: list[float], b: list[float], seed: int) -> None:
    assert variant_describe(a, seed=seed, n_boot=B) == variant_describe(a, seed=seed, n_boot=B)
    first = pairs_compare({"a": a, "b": b}, seed=seed, n_boot=B)
    assert first == pairs_compare({"a": a, "b": b}, seed=seed, n_boot=B)
    assert variants_rank({"a": a, "b": b}, seed=seed, n_boot=B) == variants_rank({"a": a, "b": b}, seed=seed, n_boot=B)
    bench = {"a": {"t1": a, "t2": b}, "b": {"t1": b, "t2": a}, "c": {"t1": a[:1], "t2": b[:1]}}
    assert benchmark_compare(bench, seed=seed, n_boot=50) == benchmark_compare(bench, seed=seed, n_boot=50)


@FAST
@given(st.lists(st.floats(0, 1), min_size=1, max_size=20))
def test_holm_never_lowers_a_p_value_and_keeps_their_order(p: list[float]) -> None:
    adjusted = holm_adjust(p)
    raw = np.array(p)
    assert np.all(adjusted >= raw - 1e-15) and np.all(adjusted <= 1.0)
    order = np.argsort(raw, kind="stable")
    assert np.all(np.diff(adjusted[order]) >= -1e-15)


@FAST
@given(st.lists(st.lists(eighths, min_size=4, max_size=4), min_size=3, max_size=5))
def test_benchmark_ranks_sum_like_a_permutation_per_task(cells: list[list[list[float]]]) -> None:
    k = len(cells)
    scores = {f"v{v}": {f"t{t}": cells[v][t] for t in range(4)} for v in range(k)}
    r = benchmark_compare(scores, n_boot=50)
    assume(r.tasks)
    assert math.isclose(sum(r.average_ranks.values()), k * (k + 1) / 2)
    for agg in r.aggregates.values():
        assert agg.iqm_ci_low <= agg.iqm_ci_high


@FAST
@given(st.integers(2, 5), st.integers(1, 4), goals, st.booleans(), st.data())
def test_benchmark_rank_intervals_and_profiles_stay_in_range(
    k: int, n_tasks: int, goal: str, normalised: bool, data: st.DataObject
) -> None:
    scores = {f"v{v}": {f"t{t}": data.draw(seed_cells) for t in range(n_tasks)} for v in range(k)}
    baselines = {f"t{t}": (-60.0, 60.0 + t) for t in range(n_tasks)} if normalised else None
    r = benchmark_compare(scores, goal=goal, baselines=baselines, n_boot=B)  # type: ignore[arg-type]
    json.dumps(r.to_dict(), allow_nan=False)
    for kind in ("tasks", "seeds"):
        entries = [
            (getattr(e, f"rank_ci_{kind}_low"), getattr(e, f"rank_ci_{kind}_high"), getattr(e, f"p_best_{kind}"))
            for e in r.ranks.values()
        ]
        if kind == "tasks" and n_tasks == 1:
            assert all(entry == (None, None, None) for entry in entries)
            continue
        for low, high, p_best in entries:
            assert 1 <= low <= high <= k and 0 <= p_best <= 1
        assert math.isclose(sum(p for _, _, p in entries), 1.0)
    assert all(1 <= e.average_rank <= k for e in r.ranks.values())
    # The grid ascends; "above" profiles fall along it, "below" (a raw loss) profiles rise.
    direction = -1 if r.profile_direction == "above" else 1
    assert r.profile_direction == ("above" if normalised or goal == "max" else "below")
    for profile in r.profiles.values():
        for curve in (profile.fraction, profile.ci_low, profile.ci_high):
            assert all(0.0 <= f <= 1.0 for f in curve)
            assert np.all(direction * np.diff(curve) >= 0)
        assert all(low <= high for low, high in zip(profile.ci_low, profile.ci_high, strict=True))
