"""The web pages' charts as Vega-Lite specs for the statistics API's `?include=charts`.

A notebook then shows what the pages show: the SDK's result objects display these specs
(`_repr_mimebundle_`) and need no chart code of their own. The specs come from the same
builders in server/web/charts/, fed the records the API returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.web.charts import curves, distributions, pairs, ranking
from server.web.specs import chart_spec

Record = dict[str, Any]


def _labels(blocks: Sequence[Record]) -> dict[str, str]:
    return {str(b.get("variant", "")): str(b.get("label") or b.get("variant", "")) for b in blocks}


def variant_stats_charts(blocks: Sequence[Record], *, metric: str, goal: str | None) -> dict[str, Any]:
    """The variants tab's chart: every seed, the mean and its interval per variant."""
    chart = distributions.final_scores(blocks, metric=metric, goal=goal, labels=_labels(blocks))
    return {"final_scores": chart_spec(chart)}


def curves_charts(records: Sequence[Record], *, metric: str, goal: str | None) -> dict[str, Any]:
    """The comparison page's learning curves: mean line and band per variant."""
    return {"learning_curves": chart_spec(curves.learning_curves(records, metric=metric, goal=goal))}


def comparison_charts(payload: Record, *, metric: str) -> dict[str, Any]:
    """The comparison page's charts of its first task: final scores, ranking, pair matrix."""
    blocks = payload.get("variants") or []
    if not blocks:
        return {}
    task = str(blocks[0].get("task") or "")
    labels = _labels(blocks)
    goal = payload.get("goal")
    task_blocks = [b for b in blocks if (b.get("task") or "") == task]
    entries = [e for e in (payload.get("ranking") or {}).get("entries", []) if (e.get("task") or "") == task]
    task_pairs = [p for p in payload.get("pairs") or [] if (p.get("task") or "") == task]
    return {
        "ranking": chart_spec(ranking.ranking_forest(entries, labels=labels, task=task)),
        "final_scores": chart_spec(distributions.final_scores(task_blocks, metric=metric, goal=goal, labels=labels)),
        "pairs": chart_spec(
            pairs.pair_matrix(task_pairs, labels=labels, order=ranking.rank_order(entries, task), task=task)
        ),
    }
