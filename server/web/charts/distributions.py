"""Final scores: "Is the gap bigger than the seed spread?" (a forest plot with every seed shown).

Input: the per-variant blocks of the statistics API (``docs/statistics-api.md``: ``label``, ``n``,
``mean``, ``ci_low``/``ci_high`` (95 % Student t), ``median``, ``iqm``, ``scores`` (null for a
non-finite score), ``outliers`` (positions in ``scores``), ``n_failed``, ``reasons``).

One row per variant, best mean at the top (goal direction); every finite seed a dot, jittered
vertically by a fixed sequence (the same picture on every render); outlier seeds (robust z > 3.5)
as larger hollow diamonds; the mean as a tick and its interval as a bar; optionally the median
and the IQM as small marks; a vertical rule at the leader's mean. A variant whose interval is
null (one seed, or zero variance) keeps its dots and mean and gets a note instead of a bar.
Failed, crashed, missing and non-finite seeds have no position on the axis: the row's label
counts them ("resnet18 · n=4, 1 failed").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt

from .common import (
    DOT_ROW_HEIGHT,
    LABEL_LIMIT,
    NEEDS_TWO_SEEDS,
    NUMBER,
    WIDTH,
    Chart,
    Names,
    Record,
    axis_title,
    empty_chart,
    finite,
    goal_sign,
    inline,
    jitter_offset,
    jitters,
    level_percent,
    seeds_phrase,
    titled,
    value_axis,
    variant_color,
)

QUESTION = "Is the gap bigger than the seed spread?"


def row_label(block: Record) -> str:
    """'resnet18 (lr=0.03) · n=5' plus the failed seeds, if any: the y axis of per-variant charts."""
    label = str(block.get("label") or block.get("variant", ""))
    failed = int(block.get("n_failed") or 0)
    return f"{label} · n={int(block.get('n') or 0)}" + (f", {failed} failed" if failed else "")


def interval_note(block: Record) -> str | None:
    """Why a variant has no interval: 'needs 2 seeds' for n < 2, else the API's reason; None if it has one."""
    if finite(block.get("ci_low")) is not None and finite(block.get("ci_high")) is not None:
        return None
    if int(block.get("n") or 0) < 2:
        return NEEDS_TWO_SEEDS
    reasons = block.get("reasons") or {}
    return str(reasons.get("ci_low") or "no interval")


def sorted_blocks(blocks: Sequence[Record], goal: str | None) -> list[Record]:
    """Blocks best mean first (goal direction); variants without a mean last, in their order."""
    sign = goal_sign(goal)
    return sorted(blocks, key=lambda b: (finite(b.get("mean")) is None, -sign * (finite(b.get("mean")) or 0.0)))


def final_scores(
    blocks: Sequence[Record],
    *,
    metric: str,
    goal: str | None,
    labels: Mapping[str, str] | None = None,
    show_median: bool = False,
    show_iqm: bool = False,
    level: float = 0.95,
) -> Chart:
    """Every seed, the mean and its interval per variant, sorted by mean in the goal's direction.

    ``labels`` (fingerprint -> label, comparison order) fixes the page's colours; without it the
    blocks' own labels in their order do.
    """
    names = Names(labels or {str(b.get("variant", "")): str(b.get("label") or b.get("variant", "")) for b in blocks})
    ordered = sorted_blocks(blocks, goal)
    if not ordered:
        return empty_chart(QUESTION, "No variant has runs on this metric yet.")
    rows = [row_label(b) for b in ordered]
    seeds, stats, notes = [], [], []
    for block, row in zip(ordered, rows, strict=True):
        seed_names = list(block.get("seeds") or [])
        label = names(str(block.get("variant", "")))
        outliers = set(block.get("outliers") or [])
        n = int(block.get("n") or 0)
        kept = [(i, score) for i, raw in enumerate(block.get("scores") or []) if (score := finite(raw)) is not None]
        for (i, score), offset in zip(kept, jitters(len(kept)), strict=True):
            kind = "outlier seed" if i in outliers else "seed"
            seed = seed_names[i] if i < len(seed_names) else None
            seeds.append({"row": row, "label": label, "score": score, "jitter": offset, "kind": kind, "seed": seed})
        mean = finite(block.get("mean"))
        if mean is None:
            continue
        stat = {
            "row": row,
            "label": label,
            "n": n,
            "mean": mean,
            "ci_low": finite(block.get("ci_low")),
            "ci_high": finite(block.get("ci_high")),
            "median": finite(block.get("median")),
            "iqm": finite(block.get("iqm")),
        }
        stats.append(stat)
        note = interval_note(block)
        if note is not None:
            notes.append({"row": row, "label": label, "mean": mean, "note": note})

    y = alt.Y("row:N", sort=rows, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT))
    x_title = axis_title(metric, goal)

    def x(field: str) -> alt.X:
        # zero=False: scores sit far from 0 (an accuracy near 0.93), and the layers share this scale.
        # padding: a seed at the domain's end is drawn whole. The axis keeps ~5 ticks so that
        # labels such as 0.82, 0.83 never run together on a half-width panel.
        return alt.X(f"{field}:Q", title=x_title, scale=alt.Scale(zero=False, padding=8), axis=value_axis())

    color = variant_color(names)
    tooltip_stat = [
        alt.Tooltip("label:N", title="variant"),
        alt.Tooltip("n:Q", title="seeds (n)"),
        alt.Tooltip("mean:Q", format=NUMBER),
        alt.Tooltip("ci_low:Q", format=NUMBER, title=f"{level_percent(level)} CI low"),
        alt.Tooltip("ci_high:Q", format=NUMBER, title=f"{level_percent(level)} CI high"),
        alt.Tooltip("median:Q", format=NUMBER),
        alt.Tooltip("iqm:Q", format=NUMBER, title="IQM"),
    ]
    stat_data = inline(stats)
    layers: list[alt.Chart] = []
    leader = next((s for s in stats), None)
    if leader is not None:
        layers.append(
            alt.Chart(inline([{"leader": leader["mean"], "label": leader["label"]}]))
            .mark_rule(color="#888", strokeDash=[4, 4])
            .encode(
                x=x("leader"),
                tooltip=[alt.Tooltip("label:N", title="leader"), alt.Tooltip("leader:Q", format=NUMBER, title="mean")],
            )
        )
    layers.append(
        alt.Chart(stat_data)
        .transform_filter("isValid(datum.ci_low) && isValid(datum.ci_high)")
        .mark_rule(strokeWidth=3, opacity=0.55)
        .encode(x=x("ci_low"), x2="ci_high:Q", y=y, color=color, tooltip=tooltip_stat)
    )
    layers.append(
        alt.Chart(inline(seeds))
        .mark_point(size=36, opacity=0.85, filled=True)
        .encode(
            x=x("score"),
            y=y,
            yOffset=jitter_offset(),
            color=color,
            shape=alt.Shape(
                "kind:N",
                scale=alt.Scale(domain=["seed", "outlier seed"], range=["circle", "diamond"]),
                legend=alt.Legend(title="seeds"),
            ),
            size=alt.Size("kind:N", scale=alt.Scale(domain=["seed", "outlier seed"], range=[36, 90]), legend=None),
            tooltip=[
                alt.Tooltip("label:N", title="variant"),
                alt.Tooltip("seed:N"),
                alt.Tooltip("score:Q", format=NUMBER),
                alt.Tooltip("kind:N", title="seed kind"),
            ],
        )
    )
    layers.append(
        alt.Chart(stat_data)
        .mark_tick(thickness=3, size=18, color="#222")
        .encode(x=x("mean"), y=y, tooltip=tooltip_stat)
    )
    for field, shape, shown in (("median", "triangle-down", show_median), ("iqm", "square", show_iqm)):
        if shown:
            layers.append(
                alt.Chart(stat_data)
                .transform_filter(f"isValid(datum.{field})")
                .mark_point(shape=shape, size=50, color="#222", filled=False)
                .encode(x=x(field), y=y, tooltip=tooltip_stat)
            )
    if notes:
        layers.append(
            alt.Chart(inline(notes))
            .mark_text(align="left", dx=12, fontSize=11, fontStyle="italic", color="#555")
            .encode(x=x("mean"), y=y, text="note:N")
        )
    extra = ", ".join(name for name, shown in (("median ▽", show_median), ("IQM □", show_iqm)) if shown)
    subtitle = [
        f"Dots: seeds. Tick: mean; bar: {level_percent(level)} t-interval of the mean; "
        f"{seeds_phrase(int(b.get('n') or 0) for b in ordered)}." + (f" Also {extra}." if extra else ""),
        "Dashed rule: the leader's mean. Diamonds: outlier seeds (robust z > 3.5), kept in the statistics.",
    ]
    return alt.layer(*layers, title=titled(QUESTION, subtitle)).properties(
        width=WIDTH, height=max(80, DOT_ROW_HEIGHT * len(rows))
    )
