"""Ranking with bootstrap rank intervals, P(best) and the top group (STATISTICS.md §12.3)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from server.analysis import holm_adjust, variants_rank

B = 1000


@pytest.mark.parametrize("k", range(2, 11))
@pytest.mark.parametrize("goal", ["max", "min"])
def test_ranks_are_scipy_average_ranks_of_the_oriented_means(k: int, goal: str) -> None:
    rng = np.random.default_rng(k)
    scores = {f"v{i}": np.round(rng.normal(0.8, 0.02, int(rng.integers(2, 8))), 2) for i in range(k)}
    ranking = variants_rank(scores, goal=goal, n_boot=B)  # type: ignore[arg-type]
    means = np.array([np.mean(x) for x in scores.values()])
    expected = stats.rankdata(-means if goal == "max" else means, method="average")
    got = {e.name: e.rank for e in ranking.entries}
    assert [got[name] for name in scores] == pytest.approx(list(expected))
    assert sum(got.values()) == pytest.approx(k * (k + 1) / 2)
    assert sum(e.p_best for e in ranking.entries if e.p_best is not None) == pytest.approx(1.0)
    ranks = [e.rank for e in ranking.entries]
    assert ranks == sorted(ranks)
    for e in ranking.entries:
        assert e.rank_ci_low is not None and e.rank_ci_high is not None
        assert 1 <= e.rank_ci_low <= e.rank_ci_high <= k


def test_tied_means_share_the_average_rank() -> None:
    ranking = variants_rank({"a": [1.0, 3.0], "b": [2.0, 2.0], "c": [0.0, 1.0]}, n_boot=B)
    assert {e.name: e.rank for e in ranking.entries} == {"a": 1.5, "b": 1.5, "c": 3.0}
    assert set(ranking.top_group) >= {"a", "b"}


def test_a_clear_winner_has_rank_one_for_sure_and_is_alone_on_top() -> None:
    scores = {"best": [0.95, 0.951, 0.949, 0.952], "mid": [0.85, 0.851, 0.849, 0.85], "low": [0.7, 0.71, 0.69, 0.7]}
    ranking = variants_rank(scores, n_boot=B)
    best = ranking.get("best")
    assert best is not None
    assert (best.rank, best.rank_ci_low, best.rank_ci_high, best.p_best) == (1.0, 1.0, 1.0, 1.0)
    assert ranking.leader == "best" and ranking.top_group == ("best",)
    assert [e.name for e in ranking.entries] == ["best", "mid", "low"]


def test_overlapping_variants_share_the_top_group() -> None:
    rng = np.random.default_rng(1)
    scores = {"a": rng.normal(0.80, 0.02, 5), "b": rng.normal(0.80, 0.02, 5), "c": rng.normal(0.5, 0.01, 5)}
    ranking = variants_rank(scores, n_boot=B)
    assert set(ranking.top_group) == {"a", "b"}
    c = ranking.get("c")
    assert c is not None and not c.in_top_group and c.rank_ci_low == 3.0


def test_p_vs_leader_is_holm_over_welch_tests_against_the_leader() -> None:
    rng = np.random.default_rng(2)
    scores = {f"v{i}": rng.normal(0.8 + 0.01 * i, 0.02, 6) for i in range(5)}
    ranking = variants_rank(scores, n_boot=B)
    leader = ranking.leader
    assert leader == max(scores, key=lambda name: np.mean(scores[name]))
    others = [name for name in scores if name != leader]
    raw = [stats.ttest_ind(scores[leader], scores[name], equal_var=False).pvalue for name in others]
    adjusted = dict(zip(others, holm_adjust(raw), strict=True))
    for name in others:
        entry = ranking.get(name)
        assert entry is not None and entry.p_vs_leader == pytest.approx(adjusted[name], rel=1e-9)
        assert entry.in_top_group == (entry.p_vs_leader >= 0.05 or (entry.rank_ci_low or 9) <= 1)


def test_variants_without_seeds_are_listed_unranked_with_a_reason() -> None:
    ranking = variants_rank({"a": [1.0, 2.0], "none": [], "b": [0.5, 0.7]}, n_boot=B)
    assert ranking.k == 2
    last = ranking.entries[-1]
    assert last.name == "none" and last.rank is None and not last.in_top_group
    assert last.reasons["rank"] == "no finished seeds"
    json.dumps(ranking.to_dict(), allow_nan=False)


def test_rank_bootstrap_is_reproducible_for_a_seed() -> None:
    rng = np.random.default_rng(3)
    scores = {f"v{i}": rng.normal(0.8, 0.02, 4) for i in range(6)}
    assert variants_rank(scores, seed=5, n_boot=B) == variants_rank(scores, seed=5, n_boot=B)
    assert variants_rank(scores, seed=5, n_boot=B).n_boot == B


def test_a_one_seed_variant_gets_no_p_best_and_says_why() -> None:
    """One seed has no spread: a P(best) of its fixed value would claim a certainty no data gives."""
    ranking = variants_rank({"one": [0.99], "a": [0.90, 0.92, 0.91], "b": [0.80, 0.82, 0.81]}, n_boot=B)
    one = ranking.get("one")
    assert one is not None and one.rank == 1.0
    assert one.p_best is None and one.reasons["p_best"].startswith("needs 2 seeds")
    others = [e.p_best for e in ranking.entries if e.name != "one"]
    assert all(p is not None for p in others) and sum(others) <= 1.0  # type: ignore[arg-type]
