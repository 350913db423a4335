"""The leaderboard page's table rows and the list page's leader, from a stored leaderboard payload.

Pure: plain dicts in, plain dicts out (no ORM); the statistics come from the payload as the
workers stored it, nothing is recomputed here. One row per submission, best first:
- one task: its rank (1 = best) with the rank interval (the simultaneous rank set, else the
  bootstrap interval), P(best), the mean with its 95% interval, and the top group (not shown
  worse than the leader);
- several tasks: the average rank over tasks with its bootstrap interval over seeds, P(best)
  over seeds, the IQM over tasks with its stratified-bootstrap interval, each task's mean, and
  as top group the entries within the Nemenyi critical difference of the best average rank.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from server.web.charts.ranking import rank_interval

ACROSS_TASKS = "across tasks"


def entry_labels(payload: Mapping[str, Any]) -> dict[str, str]:
    """Submission id (as text, the payload's `variant`) -> "label [team]"."""
    return {str(entry["submission"]): f"{entry['label']} [{entry['team']}]" for entry in payload.get("entries", [])}


def across_task_entries(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The benchmark's average ranks as ranking entries (the shape ranking_forest draws)."""
    bench = payload.get("benchmark") or {}
    ranks, cd = bench.get("ranks") or {}, bench.get("nemenyi_cd")
    averages = [r["average_rank"] for r in ranks.values() if r.get("average_rank") is not None]
    best = min(averages) if averages else None
    entries = []
    for variant, rank in ranks.items():
        average = rank.get("average_rank")
        top = (
            average is not None and best is not None and (average == best or (cd is not None and average - best <= cd))
        )
        entries.append(
            {
                "variant": variant,
                "task": ACROSS_TASKS,
                "n": sum(b.get("n") or 0 for b in payload.get("variants", []) if b.get("variant") == variant),
                "rank": average,
                "rank_ci_low": rank.get("rank_ci_seeds_low"),
                "rank_ci_high": rank.get("rank_ci_seeds_high"),
                "p_best": rank.get("p_best_seeds"),
                "in_top_group": top,
            }
        )
    return entries


def leaderboard_rows(payload: Mapping[str, Any], tasks: list[str]) -> list[dict[str, Any]]:
    """One row per submission, best rank first (unranked last)."""
    labels = entry_labels(payload)
    blocks = {(str(b["variant"]), b.get("task") or ""): b for b in payload.get("variants", [])}
    several = payload.get("benchmark") is not None
    if several:
        entries = across_task_entries(payload)
    else:
        entries = [e for e in (payload.get("ranking") or {}).get("entries", [])]
    by_variant = {str(e["variant"]): e for e in entries}
    aggregates = (payload.get("benchmark") or {}).get("aggregates") or {}
    rows = []
    for entry in payload.get("entries", []):
        name = str(entry["submission"])
        ranked = by_variant.get(name, {})
        low, high, kind = rank_interval(ranked) if ranked else (None, None, None)
        cells = [blocks.get((name, task)) for task in tasks]
        aggregate = aggregates.get(name) or {}
        only = cells[0] if len(cells) == 1 and cells[0] else {}
        rows.append(
            {
                "submission": entry["submission"],
                "label": entry["label"],
                "team": entry["team"],
                "name": labels[name],
                "rank": ranked.get("rank"),
                "rank_low": low,
                "rank_high": high,
                "rank_kind": kind,
                "p_best": ranked.get("p_best"),
                "top": bool(ranked.get("in_top_group")),
                "means": [None if cell is None else cell.get("mean") for cell in cells],
                "score": aggregate.get("iqm") if several else only.get("mean"),
                "score_low": aggregate.get("iqm_ci_low") if several else only.get("ci_low"),
                "score_high": aggregate.get("iqm_ci_high") if several else only.get("ci_high"),
                "budget": entry.get("budget") or {},
                "n_seeds": entry.get("n_seeds") or {},
            }
        )
    return sorted(rows, key=lambda row: (row["rank"] is None, row["rank"] or 0.0, row["name"]))


def leader(payload: Mapping[str, Any]) -> str | None:
    """The best-ranked entry's "label [team]", or None before there is one."""
    rows = leaderboard_rows(payload, list(payload.get("tasks") or []))
    return rows[0]["name"] if rows and rows[0]["rank"] is not None else None
