"""Simultaneous rank confidence sets from the pairwise verdicts (Mogstad, Romano, Shaikh & Wilhelm 2024).

Source: M. Mogstad, J. P. Romano, A. M. Shaikh and D. Wilhelm, "Inference for Ranks with
Applications to Mobility across Neighbourhoods and Academic Achievement across Countries",
Review of Economic Studies 91(1), 2024 ("Inference for Ranks"). The true rank of variant v
among the k ranked variants is r_v = 1 + #{w : mu_w better than mu_v}. Given decisions on the
pairwise differences that are all correct at once with probability >= 1 - alpha, the sets

    lower_v = 1 + #{w : the verdict says w is better than v}
    upper_v = k - #{w : the verdict says w is worse than v}

contain every r_v at once with that probability: on the event that no verdict is wrong,
#better verdicts <= r_v - 1 and #worse verdicts <= k - r_v.

Here the decisions are exactly the verdicts of ``pairwise`` (or ``benchmark_pairs``): a pair
counts only when its verdict is ``a_better`` or ``b_better`` (Holm-adjusted p < alpha over the
view's family and the mean difference and P(A better) agreeing), so a rank set and a pair's
plain-word statement can never contradict each other. The level is 1 - alpha of that family.
Holm is the Bonferroni step-down; the paper's step-down uses bootstrap max-t critical values,
which gives narrower sets. Coverage is as good as the verdicts' control of wrong directional
claims: Holm controls the family-wise rate of false rejections, Welch and paired t tests are
approximate for non-normal seeds, and directional (sign) errors are controlled by the
step-down only approximately in general (Shaffer 1980; Guo & Romano 2015).

Consequences (tested in tests/analysis/test_ranksets.py):
- 1 <= lower_v <= upper_v <= k; the point rank by mean (ties averaged) lies in the set, since a
  "better" verdict needs a higher goal-oriented mean.
- A variant with no one significantly better has lower 1; a set is a single rank only when
  every other variant was compared with it and all those verdicts went one way or the other.
- A pair that was not compared (pairs only against one reference, above MAX_ALL_PAIRS
  variants), or whose test is undefined, counts as neither better nor worse: the sets are then
  wider but still valid, and ``complete`` is false with a ``note``.
- A variant with fewer than ``min_seeds`` (2) finished seeds has no variance and enters no
  test: its set is None with a reason, and it still counts among the k ranked variants (its
  true mean may lie anywhere), widening the others' sets. Variants without finished seeds are
  not ranked at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from ._common import METHOD_VERSION, Result, check_level

METHOD = "simultaneous from Holm-adjusted pairwise tests (Mogstad et al. 2024)"
NEEDS_SEEDS = "needs 2 seeds: one seed has no variance, so it enters no test"


class VerdictPair(Protocol):
    """What a rank set needs of a pair: its variants, whether it was tested, its verdict."""

    @property
    def a(self) -> str: ...
    @property
    def b(self) -> str: ...
    @property
    def p_holm(self) -> float | None: ...
    @property
    def verdict(self) -> str: ...


@dataclass(frozen=True, slots=True)
class RankSet(Result):
    """One variant's simultaneous rank confidence set [lower, upper] (1 = best)."""

    lower: int
    upper: int
    level: float
    n_better: int
    n_worse: int
    n_untested: int  # ranked variants not compared with this one by a defined test
    complete: bool  # compared with every other ranked variant
    method: str = METHOD
    note: str | None = None


@dataclass(frozen=True, slots=True)
class RankSets(Result):
    """Rank sets of the variants with enough seeds; ``reasons`` says why the others have none."""

    sets: dict[str, RankSet]
    reasons: dict[str, str]
    k: int
    alpha: float
    level: float
    complete: bool
    note: str | None
    method: str = METHOD
    method_version: str = METHOD_VERSION


def rank_sets(
    seeds: Mapping[str, int],
    pairs: Iterable[VerdictPair],
    *,
    alpha: float,
    min_seeds: int = 2,
) -> RankSets:
    """Rank sets [1 + #better, k - #worse] from the verdicts of ``pairs`` (one Holm family at ``alpha``).

    ``seeds`` maps every variant to its number of finished seeds; variants with at least one are
    ranked (k of them), those with at least ``min_seeds`` get a set.
    """
    check_level(alpha, "alpha")
    ranked = [name for name, n in seeds.items() if n >= 1]
    eligible = {name for name in ranked if seeds[name] >= min_seeds}
    k = len(ranked)
    better = dict.fromkeys(ranked, 0)
    worse = dict.fromkeys(ranked, 0)
    tested: dict[str, set[str]] = {name: set() for name in ranked}
    present: set[frozenset[str]] = set()
    for pair in pairs:
        if pair.a not in seeds or pair.b not in seeds:
            raise KeyError(f"pair ({pair.a!r}, {pair.b!r}) names a variant not in seeds")
        present.add(frozenset((pair.a, pair.b)))
        if pair.p_holm is None or pair.a not in eligible or pair.b not in eligible:
            continue
        tested[pair.a].add(pair.b)
        tested[pair.b].add(pair.a)
        if pair.verdict == "a_better":
            better[pair.b] += 1
            worse[pair.a] += 1
        elif pair.verdict == "b_better":
            better[pair.a] += 1
            worse[pair.b] += 1

    order = sorted(eligible, key=ranked.index)
    wanted = len(order) * (len(order) - 1) // 2
    compared = sum(1 for i, a in enumerate(order) for b in order[i + 1 :] if frozenset((a, b)) in present)
    notes = []
    if compared < wanted:
        notes.append(
            f"partial: {compared} of the {wanted} pairs of variants with 2 or more seeds were compared; "
            "a variant not compared with another counts as neither better nor worse, so the sets are wider"
        )
    few = k - len(eligible)
    if few:
        notes.append(
            f"{few} ranked variant(s) with one seed enter no test and count as neither better nor worse "
            "than any other, so every set is wider"
        )
    note = "; ".join(notes) or None
    complete = compared == wanted and not few
    level = 1.0 - alpha
    sets = {
        name: RankSet(
            lower=1 + better[name],
            upper=k - worse[name],
            level=level,
            n_better=better[name],
            n_worse=worse[name],
            n_untested=k - 1 - len(tested[name]),
            complete=len(tested[name]) == k - 1,
            note=note,
        )
        for name in order
    }
    reasons = {name: NEEDS_SEEDS if seeds[name] >= 1 else "no finished seeds" for name in seeds if name not in eligible}
    return RankSets(sets=sets, reasons=reasons, k=k, alpha=alpha, level=level, complete=complete, note=note)
