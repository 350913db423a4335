"""Seeds: how noisy is each variant, and what would settle a tie?

``seed_spread`` takes per-variant blocks (``docs/statistics-api.md``: ``label``, ``n``, ``mean``,
``std``, ``scores``, ``outliers``, ``mde``): each seed as a dot at its distance from its
variant's mean (so variants on different levels compare by spread), outlier seeds (robust
z > 3.5) as diamonds, and per variant the coefficient of variation CV = std / |mean| and the
minimum detectable difference (``mde``: the difference a Welch test at alpha 0.05 would detect
with 80 % power against a variant with the same std and n; ``server/analysis/power.py``) in
the row label and the tooltip. Rows are sorted by std, noisiest first.

``seeds_needed`` takes the pairs (``seeds_needed``: seeds per variant to detect the observed
difference at 80 % power) and draws, for every inconclusive pair with ``reference`` (the
leader, usually), a bar of the seeds needed with the current n marked: "what would settle a tie".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt

from .common import (
    DOT_ROW_HEIGHT,
    LABEL_LIMIT,
    NUMBER,
    WIDTH,
    Chart,
    Names,
    Record,
    empty_chart,
    finite,
    inline,
    jitter_offset,
    jitters,
    rows_height,
    titled,
    value_axis,
    variant_color,
)

SPREAD_QUESTION = "How much do seeds disagree?"
NEEDED_QUESTION = "What would settle a tie?"


def _cv(block: Record) -> float | None:
    std, mean = finite(block.get("std")), finite(block.get("mean"))
    return None if std is None or mean is None or mean == 0 else std / abs(mean)


def seed_spread(
    blocks: Sequence[Record],
    *,
    metric: str,
    labels: Mapping[str, str] | None = None,
) -> Chart:
    """Each seed's distance from its variant's mean, with CV and the minimum detectable difference per row."""
    names = Names(labels or {str(b.get("variant", "")): str(b.get("label") or b.get("variant", "")) for b in blocks})
    shown = [b for b in blocks if finite(b.get("mean")) is not None]
    if not shown:
        return empty_chart(SPREAD_QUESTION, "No variant has a finished seed yet.")
    shown.sort(key=lambda b: -(finite(b.get("std")) or 0.0))
    dots: list[dict[str, Any]] = []
    rows = []
    for block in shown:
        label = names(str(block.get("variant", "")))
        mean = finite(block.get("mean")) or 0.0
        cv, mde, n = _cv(block), finite(block.get("mde")), int(block.get("n") or 0)
        parts = [f"n={n}", "CV " + (f"{100 * cv:.2g}%" if cv is not None else "n/a")]
        parts.append("MDE " + (format(mde, ".2g") if mde is not None else ("needs 2 seeds" if n < 2 else "n/a")))
        row = f"{label} · " + ", ".join(parts)
        rows.append(row)
        outliers = set(block.get("outliers") or [])
        shown_scores = [(i, s) for i, raw in enumerate(block.get("scores") or []) if (s := finite(raw)) is not None]
        for (i, score), offset in zip(shown_scores, jitters(len(shown_scores)), strict=True):
            dots.append(
                {
                    "row": row,
                    "label": label,
                    "deviation": score - mean,
                    "score": score,
                    "jitter": offset,
                    "kind": "outlier seed" if i in outliers else "seed",
                    "n": n,
                    "std": finite(block.get("std")),
                    "cv": cv,
                    "mde": mde,
                }
            )
    y = alt.Y("row:N", sort=rows, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT))
    x_title = f"{metric}: seed minus its variant's mean"
    # padding: the farthest seed sits at the domain's end and was drawn half outside the plot.
    x_scale = alt.Scale(padding=8)
    tooltip = [
        alt.Tooltip("label:N", title="variant"),
        alt.Tooltip("score:Q", format=NUMBER),
        alt.Tooltip("deviation:Q", format=NUMBER, title="minus mean"),
        alt.Tooltip("kind:N", title="seed kind"),
        alt.Tooltip("n:Q", title="seeds (n)"),
        alt.Tooltip("std:Q", format=NUMBER),
        alt.Tooltip("cv:Q", format=".2%", title="CV (std/|mean|)"),
        alt.Tooltip("mde:Q", format=NUMBER, title="min. detectable difference"),
    ]
    return alt.layer(
        alt.Chart(inline([{"zero": 0.0}]))
        .mark_rule(color="#888")
        .encode(x=alt.X("zero:Q", title=x_title, scale=x_scale, axis=value_axis())),
        alt.Chart(inline(dots))
        .mark_point(filled=True, size=40, opacity=0.85)
        .encode(
            x=alt.X("deviation:Q", title=x_title, scale=x_scale, axis=value_axis()),
            y=y,
            yOffset=jitter_offset(),
            color=variant_color(names, legend=False),
            shape=alt.Shape(
                "kind:N",
                scale=alt.Scale(domain=["seed", "outlier seed"], range=["circle", "diamond"]),
                legend=alt.Legend(title="seeds"),
            ),
            size=alt.Size("kind:N", scale=alt.Scale(domain=["seed", "outlier seed"], range=[36, 90]), legend=None),
            tooltip=tooltip,
        ),
        title=titled(
            SPREAD_QUESTION,
            [
                "Dots: seeds, as their distance from the variant's mean; diamonds: outlier seeds (robust z > 3.5).",
                "CV: std / |mean|. MDE: the difference these seeds detect (Welch, alpha 0.05, power 0.8).",
            ],
        ),
    ).properties(width=WIDTH, height=max(80, DOT_ROW_HEIGHT * len(rows)))


def seeds_needed(
    pairs: Sequence[Record],
    *,
    reference: str,
    labels: Mapping[str, str] | None = None,
    task: str | None = None,
) -> Chart:
    """Seeds per variant needed to detect each inconclusive pair's difference with ``reference``, current n marked."""
    names = Names(labels, [reference])
    rows: list[dict[str, Any]] = []
    for pair in pairs:
        a, b = str(pair.get("a")), str(pair.get("b"))
        if reference not in (a, b) or (task is not None and str(pair.get("task", "")) != task):
            continue
        needed = pair.get("seeds_needed")
        if pair.get("verdict") != "inconclusive" or not isinstance(needed, int):
            continue
        other = b if a == reference else a
        rows.append(
            {
                "label": names(other),
                "needed": needed,
                "current": min(int(pair.get("n_a") or 0), int(pair.get("n_b") or 0)),
                "diff": finite(pair.get("diff")),
                "statement": pair.get("statement"),
            }
        )
    ref_label = names(reference)
    if not rows:
        return empty_chart(NEEDED_QUESTION, f"No inconclusive pair with {ref_label} has a seed estimate.")
    rows.sort(key=lambda r: r["needed"])
    for row in rows:
        row["needed_text"] = f"{row['needed']} needed"
        row["current_text"] = f"now {row['current']}"
    order = [r["label"] for r in rows]
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT))
    # A log axis only when the values span a decade or more: on it a single short bar (4 seeds
    # against 3 now) is a sliver; on a linear axis from 0 it reads as "a bit more than now".
    values = [v for r in rows for v in (r["needed"], r["current"]) if v > 0]
    use_log = bool(values) and max(values) >= 10 * min(values)
    x_title = "seeds per variant" + (" (log scale)" if use_log else "")
    x_scale = alt.Scale(type="log") if use_log else alt.Scale(type="linear", zero=True, nice=True)
    axis = value_axis(tickMinStep=1, format="d")

    def x(field: str) -> alt.X:
        return alt.X(f"{field}:Q", title=x_title, scale=x_scale, axis=axis)

    tooltip = [
        alt.Tooltip("label:N", title="variant"),
        alt.Tooltip("needed:Q", title="seeds needed per variant"),
        alt.Tooltip("current:Q", title="seeds now (fewer of the two)"),
        alt.Tooltip("diff:Q", format=NUMBER, title="observed difference"),
        alt.Tooltip("statement:N"),
    ]
    base = alt.Chart(inline(rows))
    return alt.layer(
        base.mark_bar(color="#9ab6d3", height=16).encode(x=x("needed"), y=y, tooltip=tooltip),
        # The current n: a tall black tick across the bar, labelled above it ("now 3").
        base.mark_tick(color="#222", thickness=3, size=24).encode(x=x("current"), y=y, tooltip=tooltip),
        base.mark_text(align="center", baseline="bottom", dy=-12, fontSize=10, color="#222").encode(
            x=x("current"), y=y, text="current_text:N"
        ),
        base.mark_text(align="left", dx=4, fontSize=11).encode(x=x("needed"), y=y, text="needed_text:N"),
        title=titled(
            NEEDED_QUESTION,
            [
                f"Per inconclusive pair with {ref_label}: seeds per variant to detect the observed difference "
                "(Welch, alpha 0.05, power 0.8).",
                "Bar: seeds needed; black tick: seeds now (the fewer of the two variants).",
            ],
        ),
    ).properties(width=WIDTH, height=rows_height(len(rows), 70))
