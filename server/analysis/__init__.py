"""Seedboard's statistics engine: is a difference between variants bigger than seed noise?

Pure numpy/scipy: functions take arrays (or mappings of variant name → seed scores) and return
frozen dataclasses with ``to_dict()`` (JSON values, None instead of NaN/inf). Nothing here
knows about Django or the rest of Seedboard. Methods, formulas and defaults follow
STATISTICS.md §12; every module's docstring states its formulas and sources.

Public entry points:
- ``variant_describe`` / ``variants_describe`` — per-variant seed statistics (``descriptive``)
- ``pair_compare`` / ``pairs_compare`` — A vs B tests, effect sizes, Holm, verdicts (``pairwise``)
- ``variants_rank`` — ranks with bootstrap intervals, P(best), top group (``ranking``)
- ``rank_sets`` — simultaneous rank confidence sets from the pair verdicts (``ranksets``)
- ``benchmark_compare`` — k variants x N tasks: Friedman, Nemenyi, Wilcoxon, rank intervals,
  rliable aggregates and performance profiles (``benchmark``)
- ``curve_aggregate`` — learning curves on a common grid (``curves``)
- ``trials_expected_max`` — expected best score vs number of trials (``tuning``)
- ``detectable_difference``, ``seeds_needed``, ``power_plan`` — power analysis (``power``)
- ``goal_for_key``, ``goal_resolve`` — metric direction (``goals``)
- ``holm_adjust``, ``bh_adjust`` — multiple comparisons (``multitest``)
"""

from __future__ import annotations

from ._common import MAX_ALL_PAIRS, METHOD_VERSION
from .aggregates import AggregateScores, PerformanceProfile
from .benchmark import BenchmarkPair, BenchmarkRank, BenchmarkResult, benchmark_compare
from .curves import CurveAggregate, curve_aggregate, ema_debiased
from .descriptive import VariantStats, variant_describe, variants_describe
from .goals import goal_for_key, goal_orient, goal_resolve
from .multitest import bh_adjust, holm_adjust
from .pairwise import PairFamily, PairStats, pair_compare, pairs_compare
from .power import (
    PowerPlan,
    detectable_difference,
    min_p_mannwhitney,
    min_p_wilcoxon,
    noether_seeds,
    power_plan,
    seeds_needed,
)
from .ranking import RankEntry, Ranking, variants_rank
from .ranksets import RankSet, RankSets, rank_sets
from .tuning import ExpectedMaxCurve, trials_expected_max

__all__ = [
    "MAX_ALL_PAIRS",
    "METHOD_VERSION",
    "AggregateScores",
    "BenchmarkPair",
    "BenchmarkRank",
    "BenchmarkResult",
    "CurveAggregate",
    "ExpectedMaxCurve",
    "PairFamily",
    "PairStats",
    "PerformanceProfile",
    "PowerPlan",
    "RankEntry",
    "RankSet",
    "RankSets",
    "Ranking",
    "VariantStats",
    "benchmark_compare",
    "bh_adjust",
    "curve_aggregate",
    "detectable_difference",
    "ema_debiased",
    "goal_for_key",
    "goal_orient",
    "goal_resolve",
    "holm_adjust",
    "min_p_mannwhitney",
    "min_p_wilcoxon",
    "noether_seeds",
    "pair_compare",
    "pairs_compare",
    "power_plan",
    "rank_sets",
    "seeds_needed",
    "trials_expected_max",
    "variant_describe",
    "variants_describe",
    "variants_rank",
]
