"""Ranking of k variants on one metric and task, with rank uncertainty (STATISTICS.md §12.3).

- rank: by mean on goal-oriented scores, 1 = best, ties get the average rank
  (``scipy.stats.rankdata(method='average')``); ranks of the k ranked variants sum to k(k+1)/2.
- Rank bootstrap: each variant's seeds are resampled independently (its own PCG64 stream keyed
  by its name, B = 10,000), all variants are re-ranked by resampled mean in every replicate
  (one ``rankdata`` call along the variant axis, no loop over replicates).
  rank_ci_low / rank_ci_high = 2.5 % / 97.5 % percentiles of the replicate ranks, taken as
  attained values (numpy methods 'lower' / 'higher'), so the interval is made of ranks that
  occurred. p_best = P(rank 1) over replicates, a tie for first counting 1/(number tied), so
  p_best sums to 1.
- leader = the variant with the best mean (the first of them on a tie).
- p_vs_leader: two-sided Welch p of the leader against each other variant, Holm-adjusted
  over those k - 1 tests.
- top_group = the leader(s), every variant whose rank interval contains 1, and every variant
  not significantly worse than the leader (p_vs_leader ≥ alpha). A variant whose Welch test
  is undefined (zero variance, one seed) enters only through its rank interval. Once rank sets
  are attached (``Ranking.with_rank_sets``), it is the leader and every variant whose rank set
  contains 1, so that it agrees with the pair verdicts.

Variants without finished seeds are listed with rank None and a reason. A variant with one
finished seed keeps its rank but gets no rank interval and no P(best): a bootstrap over one seed
has no spread, and a zero-width interval or a P(best) of its fixed value would claim certainty
("needs 2 seeds"). The other variants' replicates still rank against its one value, so their
P(best) values sum to 1 minus the share its value took.

The bootstrap rank interval is marginal (one variant at a time, ``rank_ci_method``) and not
corrected for the multiplicity the pair verdicts correct for; at 5 seeds it is often too
narrow. ``Ranking.with_rank_sets`` adds to each entry the simultaneous rank set derived from the
pair verdicts (``ranksets``), which can never contradict them. The percentile bootstrap is
approximate at small n (see ``descriptive``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from . import bootstrap as bs
from ._common import (
    ALPHA,
    BLOCK_BYTES,
    LEVEL,
    METHOD_VERSION,
    N_BOOT,
    SEED,
    Goal,
    Result,
    check_level,
    check_n_boot,
    clean_scores,
    fnum,
    is_zero_std,
)
from ._twosample import welch
from .goals import goal_resolve, goal_sign
from .multitest import holm_adjust
from .ranksets import RankSet, RankSets

METHODS = {
    "rank": "mean_average_ties",
    "rank_ci": "percentile_bootstrap_within_variant_attained",
    "p_best": "bootstrap_ties_shared",
    "top_group": "rank_ci_contains_1_or_welch_holm_vs_leader",
    "rank_set": "simultaneous_from_holm_pairwise_verdicts_mogstad_2024",
}
# The top group once rank sets are attached (`Ranking.with_rank_sets`).
TOP_GROUP_BY_RANK_SETS = "leader_or_rank_set_contains_1"
RANK_CI_METHOD = "percentile bootstrap over seeds: marginal, not simultaneous, not corrected for multiplicity"
ONE_SEED = "needs 2 seeds: a bootstrap over one seed has no spread"
NO_RANK_SET = "not computed: needs the pair verdicts (Ranking.with_rank_sets)"


@dataclass(frozen=True, slots=True)
class RankEntry(Result):
    name: str
    n: int
    mean: float | None
    rank: float | None
    rank_ci_low: float | None
    rank_ci_high: float | None
    p_best: float | None
    p_vs_leader: float | None
    in_top_group: bool
    reasons: dict[str, str] = field(default_factory=dict)
    rank_set: RankSet | None = None


@dataclass(frozen=True, slots=True)
class Ranking(Result):
    """Entries ordered by rank (unranked last)."""

    entries: tuple[RankEntry, ...]
    leader: str | None
    top_group: tuple[str, ...]
    k: int
    goal: Goal
    alpha: float
    level: float
    n_boot: int
    seed: int
    methods: dict[str, str] = field(default_factory=lambda: dict(METHODS))
    method_version: str = METHOD_VERSION
    rank_ci_method: str = RANK_CI_METHOD
    rank_set_level: float | None = None
    rank_set_note: str | None = None

    def get(self, name: str) -> RankEntry | None:
        return next((e for e in self.entries if e.name == name), None)

    def with_rank_sets(self, sets: RankSets) -> Ranking:
        """This ranking with each entry's simultaneous rank set (None plus a reason where it has none).

        The top group becomes the variants whose rank set contains 1 (no verdict names a better
        one), plus the leader by mean: highlighted on the same page as the verdicts, it must
        agree with them, which the bootstrap-and-Holm-vs-leader rule does not guarantee.
        """
        if sets.k != self.k:
            raise ValueError(f"rank sets over {sets.k} variants for a ranking of {self.k}")
        entries = []
        for entry in self.entries:
            reasons = {key: why for key, why in entry.reasons.items() if key != "rank_set"}
            rank_set = sets.sets.get(entry.name)
            if rank_set is None:
                reasons["rank_set"] = sets.reasons.get(entry.name, "not among the compared variants")
            top = entry.n > 0 and (entry.name == self.leader or (rank_set is not None and rank_set.lower == 1))
            entries.append(replace(entry, rank_set=rank_set, reasons=reasons, in_top_group=top))
        return replace(
            self,
            entries=tuple(entries),
            top_group=tuple(entry.name for entry in entries if entry.in_top_group),
            methods={**self.methods, "top_group": TOP_GROUP_BY_RANK_SETS},
            rank_set_level=sets.level,
            rank_set_note=sets.note,
        )


def variants_rank(
    scores: Mapping[str, ArrayLike],
    *,
    goal: Goal = "max",
    n_boot: int = N_BOOT,
    seed: int = SEED,
    level: float = LEVEL,
    alpha: float = ALPHA,
) -> Ranking:
    """Rank variants by mean with bootstrap rank intervals, P(best) and the top group."""
    goal = goal_resolve(goal)
    check_level(level)
    check_n_boot(n_boot)
    names = list(scores)
    xs = [clean_scores(scores[name])[0] for name in names]
    ranked = [i for i, x in enumerate(xs) if x.size]
    sign = goal_sign(goal)
    k = len(ranked)
    rank = np.full(len(names), np.nan)
    ci_low = np.full(len(names), np.nan)
    ci_high = np.full(len(names), np.nan)
    p_best = np.full(len(names), np.nan)
    p_leader = np.full(len(names), np.nan)
    mean = np.array([x.mean() if x.size else np.nan for x in xs])
    leader = None
    if k:
        oriented = mean[ranked] * sign
        rank[ranked] = stats.rankdata(-oriented, method="average")
        # Resampled means, counts (B, n) @ x / n per variant, each from its own named stream.
        boot_means = [
            bs.resample_counts(bs.named_generator(seed, names[i]), n_boot, xs[i].size) @ xs[i] / xs[i].size
            for i in ranked
        ]
        replicates = np.stack(boot_means) * sign
        del boot_means
        # rankdata makes a few (k, columns) temporaries: a block of replicates at a time keeps
        # them within BLOCK_BYTES (each column is ranked on its own, so the numbers are the same).
        boot_ranks = np.empty_like(replicates)
        columns = max(1, BLOCK_BYTES // (8 * 8 * k))
        for start in range(0, n_boot, columns):
            block = slice(start, start + columns)
            boot_ranks[:, block] = stats.rankdata(-replicates[:, block], method="average", axis=0)
            best = boot_ranks[:, block] == boot_ranks[:, block].min(axis=0)
            replicates[:, block] = best / best.sum(axis=0)  # the block's share of P(best), in place
        lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
        ci_low[ranked] = np.quantile(boot_ranks, lo_q, axis=1, method="lower")
        ci_high[ranked] = np.quantile(boot_ranks, hi_q, axis=1, method="higher")
        one_seed = [i for i in ranked if xs[i].size < 2]
        p_best[ranked] = replicates.mean(axis=1)
        # Zero spread: neither a zero-width interval nor a P(best) that treats one seed as certain.
        ci_low[one_seed] = ci_high[one_seed] = p_best[one_seed] = np.nan
        lead = ranked[int(np.argmax(oriented))]
        leader = names[lead]
        others = [i for i in ranked if i != lead]
        if others:
            n = np.array([x.size for x in xs], dtype=float)
            std = np.array([x.std(ddof=1) if x.size >= 2 else np.nan for x in xs])
            std = np.where(is_zero_std(std, mean), 0.0, std)
            idx = np.array(others)
            res = welch(mean[lead], std[lead], n[lead], mean[idx], std[idx], n[idx], level)
            p_leader[idx] = holm_adjust(res["p"])
    best_rank = np.nanmin(rank) if k else np.nan
    top = (rank == best_rank) | (ci_low <= 1) | (np.isfinite(p_leader) & (p_leader >= alpha))
    entries = []
    for i, name in enumerate(names):
        reasons: dict[str, str] = {}
        if not xs[i].size:
            reasons = {key: "no finished seeds" for key in ("mean", "rank", "rank_ci_low", "rank_ci_high", "p_best")}
        elif xs[i].size < 2:
            reasons = {"rank_ci_low": ONE_SEED, "rank_ci_high": ONE_SEED, "p_best": ONE_SEED}
        reasons["rank_set"] = "no finished seeds" if not xs[i].size else NO_RANK_SET
        if name == leader:
            reasons["p_vs_leader"] = "the leader itself"
        elif not np.isfinite(p_leader[i]):
            reasons["p_vs_leader"] = "Welch test against the leader undefined (no seeds, one seed or zero variance)"
        entries.append(
            RankEntry(
                name=name,
                n=int(xs[i].size),
                mean=fnum(mean[i]),
                rank=fnum(rank[i]),
                rank_ci_low=fnum(ci_low[i]),
                rank_ci_high=fnum(ci_high[i]),
                p_best=fnum(p_best[i]),
                p_vs_leader=fnum(p_leader[i]),
                in_top_group=bool(top[i]) and bool(xs[i].size),
                reasons=reasons,
            )
        )
    order = sorted(range(len(names)), key=lambda i: (np.isnan(rank[i]), rank[i] if np.isfinite(rank[i]) else 0.0))
    ordered = tuple(entries[i] for i in order)
    return Ranking(
        entries=ordered,
        leader=leader,
        top_group=tuple(e.name for e in ordered if e.in_top_group),
        k=k,
        goal=goal,
        alpha=alpha,
        level=level,
        n_boot=int(n_boot),
        seed=int(seed),
    )
