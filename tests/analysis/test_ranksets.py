"""Simultaneous rank sets from the pair verdicts (Mogstad, Romano, Shaikh & Wilhelm 2024)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from server.analysis import pairs_compare, rank_sets, variants_rank
from server.analysis.ranksets import NEEDS_SEEDS

B = 200  # the bootstrap only feeds P(A better)'s interval, which no verdict uses


def _holm(p: list[float]) -> list[float]:
    """Holm's step-down, written out: p~_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    out = [0.0] * m
    running = 0.0
    for j, i in enumerate(order):
        running = max(running, min(1.0, (m - j) * p[i]))
        out[i] = running
    return out


def _reference_sets(scores: dict[str, list[float]], goal: str, alpha: float = 0.05) -> dict[str, tuple[int, int]]:
    """Every pair of variants with 2+ seeds: Welch p (scipy), Holm, the verdict rule, then count.

    A pair is a win for A iff Holm p < alpha, A's goal-oriented mean is higher and
    P(A better) + ½ P(tie) over all pairs of seeds is above ½.
    """
    sign = 1.0 if goal == "max" else -1.0
    names = [name for name in scores if len(scores[name]) >= 1]
    tested = [name for name in names if len(scores[name]) >= 2]
    pairs = [(a, b) for i, a in enumerate(tested) for b in tested[i + 1 :]]
    raw = [stats.ttest_ind(scores[a], scores[b], equal_var=False).pvalue for a, b in pairs]
    adjusted = _holm(raw)
    better = dict.fromkeys(names, 0)
    worse = dict.fromkeys(names, 0)
    for (a, b), p in zip(pairs, adjusted, strict=True):
        diff = sign * (np.mean(scores[a]) - np.mean(scores[b]))
        wins = sum((sign * x > sign * y) + 0.5 * (x == y) for x in scores[a] for y in scores[b])
        prob = wins / (len(scores[a]) * len(scores[b]))
        if p < alpha and diff > 0 and prob > 0.5:
            better[b] += 1
            worse[a] += 1
        elif p < alpha and diff < 0 and prob < 0.5:
            better[a] += 1
            worse[b] += 1
    k = len(names)
    return {name: (1 + better[name], k - worse[name]) for name in tested}


def _study(seed: int, k: int, one_seed: bool = False) -> dict[str, list[float]]:
    rng = np.random.default_rng(seed)
    scores = {
        f"v{i}": rng.normal(0.8 + 0.01 * rng.integers(0, 6), rng.uniform(0.002, 0.01), int(rng.integers(2, 9))).tolist()
        for i in range(k)
    }
    if one_seed:
        scores["lone"] = [0.83]
    return scores


def _sets(scores: dict[str, list[float]], goal: str = "max", **kwargs: object):  # type: ignore[no-untyped-def]
    family = pairs_compare(scores, goal=goal, n_boot=B, **kwargs)  # type: ignore[arg-type]
    return family, rank_sets({name: len(x) for name, x in scores.items()}, family.pairs, alpha=family.alpha)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("goal", ["max", "min"])
def test_rank_sets_match_a_reference_from_scipy_welch_and_holm(seed: int, goal: str) -> None:
    scores = _study(seed, k=3 + seed % 6, one_seed=seed % 3 == 0)
    _, sets = _sets(scores, goal)
    expected = _reference_sets(scores, goal)
    assert {name: (s.lower, s.upper) for name, s in sets.sets.items()} == expected
    assert sets.k == len(scores) and sets.level == pytest.approx(0.95)


@pytest.mark.parametrize("seed", range(20))
def test_the_sets_hold_the_verdicts_and_the_point_ranks(seed: int) -> None:
    scores = _study(100 + seed, k=2 + seed % 9, one_seed=seed % 4 == 0)
    family, sets = _sets(scores)
    k = sets.k
    beaten_by = {
        name: sum(
            (p.verdict, p.b) == ("a_better", name) or (p.verdict, p.a) == ("b_better", name) for p in family.pairs
        )
        for name in sets.sets
    }
    ranking = variants_rank(scores, n_boot=B).with_rank_sets(sets)
    for name, s in sets.sets.items():
        assert s.lower == 1 + s.n_better == 1 + beaten_by[name]
        assert s.upper == k - s.n_worse
        assert 1 <= s.lower <= s.upper <= k
        entry = ranking.get(name)
        assert entry is not None and entry.rank_set == s
        assert entry.rank is not None and s.lower <= entry.rank <= s.upper
    for pair in family.pairs:
        if pair.verdict == "inconclusive":
            continue
        winner, loser = (pair.a, pair.b) if pair.verdict == "a_better" else (pair.b, pair.a)
        assert sets.sets[loser].lower >= 2 and sets.sets[winner].upper <= k - 1
    # Whoever no verdict puts below anyone may be best; someone always may.
    unbeaten = [name for name, s in sets.sets.items() if s.n_better == 0]
    assert unbeaten and all(sets.sets[name].lower == 1 for name in unbeaten)
    # The highlighted top group is exactly those, and the leader by mean: it agrees with the verdicts.
    assert set(ranking.top_group) == set(unbeaten) | {ranking.leader}


def test_three_close_leaders_at_five_seeds_share_ranks_one_to_three() -> None:
    # The demo's situation: the top 3 within seed noise of each other, their pairs "no verdict".
    scores = {
        "a": [0.9312, 0.9281, 0.9335, 0.9270, 0.9302],
        "b": [0.9290, 0.9301, 0.9255, 0.9322, 0.9268],
        "c": [0.9275, 0.9260, 0.9301, 0.9248, 0.9293],
        "d": [0.9050, 0.9021, 0.9077, 0.9040, 0.9062],
        "e": [0.8850, 0.8822, 0.8871, 0.8840, 0.8866],
    }
    family, sets = _sets(scores)
    top = ("a", "b", "c")
    for pair in family.pairs:
        if pair.a in top and pair.b in top:
            assert pair.verdict == "inconclusive"
    for name in top:
        assert (sets.sets[name].lower, sets.sets[name].upper) == (1, 3)
    assert (sets.sets["d"].lower, sets.sets["d"].upper) == (4, 4)
    assert (sets.sets["e"].lower, sets.sets["e"].upper) == (5, 5)
    assert sets.complete and sets.note is None
    # The bootstrap interval may claim more; it stays, labelled as marginal.
    ranking = variants_rank(scores, n_boot=2000).with_rank_sets(sets)
    assert set(ranking.top_group) == set(top)  # none of the three is beaten by a verdict
    assert "not simultaneous" in ranking.rank_ci_method
    assert ranking.rank_set_level == pytest.approx(0.95)


def test_a_one_seed_variant_has_no_set_and_no_bootstrap_interval_but_widens_the_others() -> None:
    scores = {"a": [0.90, 0.91, 0.92, 0.90], "b": [0.70, 0.71, 0.69, 0.70], "lone": [0.80], "none": []}
    _, sets = _sets(scores)
    assert sets.k == 3 and "lone" not in sets.sets and "none" not in sets.sets
    assert sets.reasons == {"lone": NEEDS_SEEDS, "none": "no finished seeds"}
    assert (sets.sets["a"].lower, sets.sets["a"].upper) == (1, 2)  # lone might lie anywhere
    assert (sets.sets["b"].lower, sets.sets["b"].upper) == (2, 3)
    assert not sets.complete and sets.note is not None and "one seed" in sets.note
    ranking = variants_rank(scores, n_boot=B).with_rank_sets(sets)
    lone = ranking.get("lone")
    assert lone is not None and lone.rank == 2.0
    assert lone.rank_ci_low is None and lone.rank_ci_high is None and lone.rank_set is None
    assert lone.reasons["rank_ci_low"].startswith("needs 2 seeds") and lone.reasons["rank_set"] == NEEDS_SEEDS
    json.dumps(ranking.to_dict(), allow_nan=False)


def test_pairs_against_one_reference_give_partial_sets_with_a_note() -> None:
    scores = {"ref": [0.80, 0.81, 0.79, 0.80], "hi": [0.90, 0.91, 0.89, 0.90], "lo": [0.70, 0.71, 0.69, 0.70]}
    _, full = _sets(scores)
    assert {name: (s.lower, s.upper) for name, s in full.sets.items()} == {"hi": (1, 1), "ref": (2, 2), "lo": (3, 3)}
    _, partial = _sets(scores, baseline="ref")
    # hi and lo were never compared with each other: each counts as neither better nor worse.
    assert {name: (s.lower, s.upper) for name, s in partial.sets.items()} == {"hi": (1, 2), "ref": (2, 2), "lo": (2, 3)}
    assert not partial.complete and partial.note is not None and partial.note.startswith("partial: 2 of the 3 pairs")
    assert (partial.sets["hi"].n_untested, partial.sets["ref"].n_untested) == (1, 0)
    assert partial.sets["ref"].complete and not partial.sets["hi"].complete


def test_a_ranking_without_the_verdicts_says_why_it_has_no_sets() -> None:
    ranking = variants_rank({"a": [1.0, 2.0], "b": [0.0, 0.5]}, n_boot=B)
    assert all(e.rank_set is None and e.reasons["rank_set"].startswith("not computed") for e in ranking.entries)
    with pytest.raises(ValueError, match="rank sets over 1 variants"):
        ranking.with_rank_sets(rank_sets({"a": 2}, (), alpha=0.05))
