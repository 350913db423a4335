"""Ranking: "How sure is the order?" (rank intervals drawn on a rank axis, one row per variant).

Input: the ``ranking.entries`` of a comparison (``docs/statistics-api.md``; ``server/analysis/
ranking.py``): per variant ``variant``, ``task``, ``n``, ``rank`` (1 = best, ties averaged),
``rank_ci_low``/``rank_ci_high`` (percentile bootstrap over seeds: marginal, one variant at a
time), ``p_best``, ``in_top_group`` and, when present, ``rank_set`` = {"lower", "upper",
"level", "method"}: the simultaneous rank confidence set derived from the Holm-adjusted pair
verdicts (Mogstad, Romano, Shaikh & Wilhelm 2024), null with ``reasons.rank_set`` for a
variant with fewer than 2 seeds.

The bar is the rank set where the entry has one, else the bootstrap interval (the tooltip
says which); the dot is the estimated rank; rows of the top group sit on a highlighted band;
P(best) is a bar in a narrow panel on the right. A variant with a rank but no interval (one
seed) is drawn as its dot with the note "needs 2 seeds"; a variant without finished seeds has
no rank and is only counted in the subtitle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt

from .common import (
    LABEL_LIMIT,
    NEEDS_TWO_SEEDS,
    PROBABILITY,
    Chart,
    Names,
    Record,
    empty_chart,
    finite,
    inline,
    level_percent,
    rows_height,
    titled,
    variant_color,
)

QUESTION = "How sure is the order?"
TOP_BAND = "#fdf1c7"


def task_entries(entries: Sequence[Record], task: str | None) -> tuple[list[Record], str | None]:
    """The entries of ``task`` (default: the first task named), and that task."""
    tasks = list(dict.fromkeys(str(e.get("task", "")) for e in entries))
    chosen = task if task is not None else (tasks[0] if tasks else None)
    return [e for e in entries if str(e.get("task", "")) == chosen or "task" not in e], chosen


def rank_order(entries: Sequence[Record], task: str | None = None) -> list[str]:
    """Variant ids best rank first (unranked last, in their order): the row order of rank-sorted charts."""
    chosen, _ = task_entries(entries, task)
    return [
        str(e.get("variant", e.get("name")))
        for e in sorted(chosen, key=lambda e: (finite(e.get("rank")) is None, finite(e.get("rank")) or 0.0))
    ]


def rank_interval(entry: Record) -> tuple[float | None, float | None, str | None]:
    """(low, high, kind): the simultaneous rank set when present, else the bootstrap interval."""
    rank_set = entry.get("rank_set")
    if isinstance(rank_set, Mapping):
        low, high = finite(rank_set.get("lower")), finite(rank_set.get("upper"))
        if low is not None and high is not None:
            return low, high, "rank set"
    low, high = finite(entry.get("rank_ci_low")), finite(entry.get("rank_ci_high"))
    if low is not None and high is not None:
        return low, high, "bootstrap"
    return None, None, None


def ranking_forest(
    entries: Sequence[Record],
    *,
    labels: Mapping[str, str] | None = None,
    task: str | None = None,
    level: float = 0.95,
) -> Chart:
    """Rank (dot) and rank interval (bar) per variant, top group highlighted, P(best) beside."""
    chosen, task_name = task_entries(entries, task)
    ids = [str(e.get("variant", e.get("name"))) for e in chosen]
    names = Names(labels, ids)
    ranked = [e for e in chosen if finite(e.get("rank")) is not None]
    if not ranked:
        return empty_chart(QUESTION, "No variant has a finished seed yet: nothing to rank.")
    ranked.sort(key=lambda e: (finite(e.get("rank")) or 0.0, names(str(e.get("variant", e.get("name"))))))
    k = int(max(len(chosen), max(finite(e.get("rank")) or 1 for e in ranked)))
    rows: list[dict[str, Any]] = []
    kinds = set()
    for entry in ranked:
        low, high, kind = rank_interval(entry)
        kinds.add(kind)
        rank_set = entry.get("rank_set") if isinstance(entry.get("rank_set"), Mapping) else None
        rows.append(
            {
                "label": names(str(entry.get("variant", entry.get("name")))),
                "n": int(entry.get("n") or 0),
                "rank": finite(entry.get("rank")),
                "low": low,
                "high": high,
                "interval": kind or NEEDS_TWO_SEEDS,
                "level": finite(rank_set.get("level")) if rank_set else level,
                "p_best": finite(entry.get("p_best")),
                "top": "top group" if entry.get("in_top_group") else "others",
                "note": NEEDS_TWO_SEEDS if kind is None else None,
                "band_low": 0.5,
                "band_high": k + 0.5,
            }
        )
    order = [row["label"] for row in rows]
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT))
    x_scale = alt.Scale(domain=[0.5, k + 0.5], nice=False, zero=False)
    x_axis = alt.Axis(values=list(range(1, k + 1)), format="d")

    def x(field: str) -> alt.X:
        return alt.X(f"{field}:Q", title="rank (1 = best)", scale=x_scale, axis=x_axis)

    color = variant_color(names)
    tooltip = [
        alt.Tooltip("label:N", title="variant"),
        alt.Tooltip("n:Q", title="seeds (n)"),
        alt.Tooltip("rank:Q", format=".3~g"),
        alt.Tooltip("low:Q", title="interval from"),
        alt.Tooltip("high:Q", title="interval to"),
        alt.Tooltip("interval:N", title="interval kind"),
        alt.Tooltip("p_best:Q", format=PROBABILITY, title="P(best)"),
        alt.Tooltip("top:N", title="group"),
    ]
    data = alt.Chart(inline(rows))
    forest = alt.layer(
        data.transform_filter("datum.top == 'top group'")
        .mark_rect(color=TOP_BAND)
        .encode(x=x("band_low"), x2="band_high:Q", y=y),
        data.transform_filter("isValid(datum.low)")
        .mark_rule(strokeWidth=5, opacity=0.6)
        .encode(x=x("low"), x2="high:Q", y=y, color=color, tooltip=tooltip),
        data.mark_point(filled=True, size=90, color="#222").encode(x=x("rank"), y=y, tooltip=tooltip),
        data.transform_filter("isValid(datum.note)")
        .mark_text(align="left", dx=10, fontStyle="italic", color="#555")
        .encode(x=x("rank"), y=y, text="note:N"),
    ).properties(width=520, height=rows_height(len(rows)))
    p_best = alt.layer(
        data.mark_bar(color="#888", height=12).encode(
            x=alt.X("p_best:Q", title="P(best)", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=".0%")),
            y=alt.Y("label:N", sort=order, axis=None),
            tooltip=tooltip,
        ),
        data.mark_text(align="left", dx=3, fontSize=11).encode(
            x="p_best:Q", y=alt.Y("label:N", sort=order, axis=None), text=alt.Text("p_best:Q", format=PROBABILITY)
        ),
    ).properties(width=140, height=rows_height(len(rows)))
    unranked = len(chosen) - len(ranked)
    set_levels = sorted({row["level"] for row in rows if row["interval"] == "rank set" and row["level"] is not None})
    method = []
    if "rank set" in kinds:
        method.append(
            f"{level_percent(set_levels[0] if set_levels else level)} simultaneous rank set from the "
            "Holm-adjusted pair verdicts (Mogstad et al. 2024)"
        )
    if "bootstrap" in kinds:
        method.append(f"{level_percent(level)} bootstrap rank interval over seeds (marginal, one variant at a time)")
    subtitle = [
        "Dot: rank by mean; bar: " + (" or ".join(method) if method else "no interval yet") + ".",
        "Shaded rows: the top group (not shown worse than the leader)."
        + (f" {unranked} variant(s) without finished seeds are not ranked." if unranked else "")
        + (f" Task: {task_name}." if task_name else ""),
    ]
    return alt.hconcat(forest, p_best, spacing=6, title=titled(QUESTION, subtitle)).resolve_scale(color="shared")
