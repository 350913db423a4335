"""Pairs: "Which differences are real?" (a k x k matrix, and a forest of differences against one variant).

Input: the ``pairs`` of a comparison (``docs/statistics-api.md``; ``server/analysis/pairwise.py``):
``a``, ``b`` (fingerprints), ``task``, ``n_a``, ``n_b``, ``diff`` = mean A - mean B in the
metric's units; ``diff_ci_low``/``diff_ci_high`` is always its Welch 95 % CI, and
``paired_diff_ci_low``/``paired_diff_ci_high`` the paired-t CI of the mean paired difference
(``paired`` true: both variants ran the same seed labels). ``p_method`` (``paired_t`` |
``welch``) names the test whose p entered the Holm family and so the verdict: paired when the
pair is paired and the paired t is defined, else Welch. ``prob_improvement`` = P(A better
than B) on goal-oriented scores with its interval, ``p_holm``,
``verdict`` (``a_better`` | ``b_better`` | ``inconclusive``, named only when the Holm-adjusted
test says so), ``seeds_needed`` and ``statement`` (the verdict in plain words).

``pair_matrix``: cell (row R, column C) = P(R better than C); a pair (A, B) fills (A, B) with
P and (B, A) with 1 - P. The fill is a diverging scale centred on 0.5; the verdict category
(row better / column better / no verdict) is the cell's border and a glyph after the number
(▲ row better, ▼ column better), so the colour reads "how often" and the border "is it real".
Rows and columns follow ``order`` (the ranking's, best first).

``pair_differences``: every pair involving ``reference`` (a baseline or the leader), as the
difference other - reference with the interval of the test the verdict used (``interval_of``:
the paired CI for a pair tested paired, else Welch's; the tooltip names it), coloured by the
verdict category. A Welch interval drawn for a paired verdict could cross 0 next to a named winner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt

from .common import (
    LABEL_LIMIT,
    NEEDS_TWO_SEEDS,
    NUMBER,
    PROBABILITY,
    WIDTH,
    Chart,
    Names,
    Record,
    empty_chart,
    finite,
    goal_phrase,
    goal_sign,
    inline,
    rows_height,
    titled,
    value_axis,
)

MATRIX_QUESTION = "Which differences are real?"
VERDICTS = ["row better", "column better", "no verdict"]
AGAINST = ["better than the reference", "worse than the reference", "no verdict"]
AGAINST_COLORS = ["#2a7f3f", "#c23b3b", "#9a9a9a"]


def task_pairs(pairs: Sequence[Record], task: str | None) -> tuple[list[Record], str | None]:
    """The pairs of ``task`` (default: the first task named), and that task."""
    tasks = list(dict.fromkeys(str(p.get("task", "")) for p in pairs))
    chosen = task if task is not None else (tasks[0] if tasks else None)
    return [p for p in pairs if str(p.get("task", "")) == chosen], chosen


def interval_of(pair: Record) -> tuple[float | None, float | None, str]:
    """The difference's CI of the test the verdict used: (low, high, 'paired' | 'Welch').

    ``p_method`` says which test entered the Holm family; a record without it (older payloads)
    counts as paired when ``paired`` is true and the paired interval exists.
    """
    paired_low, paired_high = finite(pair.get("paired_diff_ci_low")), finite(pair.get("paired_diff_ci_high"))
    method = pair.get("p_method")
    if method is None:
        method = "paired_t" if pair.get("paired") and paired_low is not None and paired_high is not None else "welch"
    if method == "paired_t":
        return paired_low, paired_high, "paired"
    return finite(pair.get("diff_ci_low")), finite(pair.get("diff_ci_high")), "Welch"


def _cells(pair: Record, names: Names) -> list[dict[str, Any]]:
    a, b = str(pair.get("a")), str(pair.get("b"))
    p = finite(pair.get("prob_improvement"))
    low, high = finite(pair.get("prob_improvement_ci_low")), finite(pair.get("prob_improvement_ci_high"))
    verdict = str(pair.get("verdict", "inconclusive"))
    common = {
        "statement": pair.get("statement"),
        "p_holm": finite(pair.get("p_holm")),
    }
    forward = {"a_better": "row better", "b_better": "column better"}.get(verdict, "no verdict")
    backward = {"a_better": "column better", "b_better": "row better"}.get(verdict, "no verdict")
    glyph = {"row better": " ▲", "column better": " ▼", "no verdict": ""}
    out = []
    for row, column, prob, lo, hi, n_row, n_col, cat in (
        (a, b, p, low, high, pair.get("n_a"), pair.get("n_b"), forward),
        (
            b,
            a,
            None if p is None else 1 - p,
            None if high is None else 1 - high,
            None if low is None else 1 - low,
            pair.get("n_b"),
            pair.get("n_a"),
            backward,
        ),
    ):
        text = "n/a" if prob is None else f"{prob:.2f}{glyph[cat]}"
        out.append(
            {
                "row": names(row),
                "column": names(column),
                "p": prob,
                "p_low": lo,
                "p_high": hi,
                "n_row": n_row,
                "n_column": n_col,
                "verdict": cat,
                "text": text,
                "strong": prob is not None and abs(prob - 0.5) > 0.3,
                **common,
            }
        )
    return out


def pair_matrix(
    pairs: Sequence[Record],
    *,
    labels: Mapping[str, str] | None = None,
    order: Sequence[str] | None = None,
    task: str | None = None,
    size: int = 46,
) -> Chart:
    """P(row better than column) for every compared pair, rows and columns in ``order`` (variant ids)."""
    chosen, task_name = task_pairs(pairs, task)
    ids = list(order or []) + [str(p.get(side)) for p in chosen for side in ("a", "b")]
    names = Names(labels, ids)
    if not chosen:
        return empty_chart(MATRIX_QUESTION, "No pair to compare: a matrix needs 2 variants with finished seeds.")
    cells = [cell for pair in chosen for cell in _cells(pair, names)]
    axis_order = list(dict.fromkeys(names(v) for v in ids))
    axis_order = [label for label in axis_order if any(c["row"] == label for c in cells)]
    tooltip = [
        alt.Tooltip("row:N", title="row (A)"),
        alt.Tooltip("column:N", title="column (B)"),
        alt.Tooltip("p:Q", format=PROBABILITY, title="P(A better than B)"),
        alt.Tooltip("p_low:Q", format=PROBABILITY, title="95% CI low"),
        alt.Tooltip("p_high:Q", format=PROBABILITY, title="95% CI high"),
        alt.Tooltip("n_row:Q", title="seeds A"),
        alt.Tooltip("n_column:Q", title="seeds B"),
        alt.Tooltip("p_holm:Q", format=".2g", title="Holm-adjusted p"),
        alt.Tooltip("verdict:N"),
        alt.Tooltip("statement:N"),
    ]
    x = alt.X("column:N", sort=axis_order, title="column (B)", axis=alt.Axis(labelAngle=-35, labelLimit=LABEL_LIMIT))
    y = alt.Y("row:N", sort=axis_order, title="row (A)", axis=alt.Axis(labelLimit=LABEL_LIMIT))
    base = alt.Chart(inline(cells))
    heat = base.mark_rect(strokeWidth=2.5).encode(
        x=x,
        y=y,
        fill=alt.Fill(
            "p:Q",
            title="P(row better)",
            scale=alt.Scale(scheme="redblue", domain=[0, 1], domainMid=0.5),
            legend=alt.Legend(format=".1f"),
        ),
        stroke=alt.Stroke(
            "verdict:N",
            title="Holm-adjusted verdict",
            scale=alt.Scale(domain=VERDICTS, range=["#111111", "#111111", "#ffffff"]),
            legend=None,  # said by the subtitle and the glyphs: a legend of black squares reads as nothing
        ),
        tooltip=tooltip,
    )
    text = base.mark_text(fontSize=11).encode(
        x=x,
        y=y,
        text="text:N",
        color=alt.condition("datum.strong", alt.value("white"), alt.value("#222")),
        tooltip=tooltip,
    )
    side = max(1, len(axis_order)) * size
    n_family = sorted({int(p.get("family_size") or 0) for p in chosen})
    subtitle = [
        "Cell: probability that a random seed of the row beats one of the column (0.5 = a coin flip).",
        "Bordered cells, ▲/▼: the Holm-adjusted test names the row / the column the winner"
        + (f" (family of {n_family[-1]} pairs)" if n_family and n_family[-1] else "")
        + "; other cells: no verdict, not 'equal'."
        + (f" Task: {task_name}." if task_name else ""),
    ]
    return alt.layer(heat, text, title=titled(MATRIX_QUESTION, subtitle)).properties(width=side, height=side)


def pair_differences(
    pairs: Sequence[Record],
    *,
    reference: str,
    metric: str,
    goal: str | None,
    labels: Mapping[str, str] | None = None,
    task: str | None = None,
) -> Chart:
    """Difference other - reference with its 95 % CI for every pair involving ``reference`` (a variant id)."""
    chosen, task_name = task_pairs(pairs, task)
    names = Names(labels, [reference])
    ref_label = names(reference)
    question = f"How does each variant differ from {ref_label}?"
    rows: list[dict[str, Any]] = []
    for pair in chosen:
        a, b = str(pair.get("a")), str(pair.get("b"))
        if reference not in (a, b) or a == b:
            continue
        flip = a == reference  # the record is reference - other: negate it
        other, n_other, n_ref = (b, pair.get("n_b"), pair.get("n_a")) if flip else (a, pair.get("n_a"), pair.get("n_b"))
        diff = finite(pair.get("diff"))
        low, high, method = interval_of(pair)
        if flip:
            diff, low, high = (
                None if diff is None else -diff,
                None if high is None else -high,
                None if low is None else -low,
            )
        verdict = str(pair.get("verdict", "inconclusive"))
        other_better = "b_better" if flip else "a_better"
        category = AGAINST[0] if verdict == other_better else (AGAINST[2] if verdict == "inconclusive" else AGAINST[1])
        n_min = min(int(n_other or 0), int(n_ref or 0))
        rows.append(
            {
                "label": names(other),
                "diff": diff,
                "low": low,
                "high": high,
                "method": method,
                "verdict": category,
                "n_other": n_other,
                "n_reference": n_ref,
                "p_holm": finite(pair.get("p_holm")),
                "seeds_needed": pair.get("seeds_needed"),
                "statement": pair.get("statement"),
                "note": (NEEDS_TWO_SEEDS if n_min < 2 else "no interval") if low is None or high is None else None,
            }
        )
    rows = [row for row in rows if row["diff"] is not None]
    if not rows:
        return empty_chart(question, f"No pair with {ref_label} has a difference yet.")
    sign = goal_sign(goal)
    rows.sort(key=lambda row: -sign * row["diff"])
    order = [row["label"] for row in rows]
    x_title = f"{metric}: other minus {ref_label} ({goal_phrase(goal)})"
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT))
    color = alt.Color("verdict:N", title="Holm-adjusted verdict", scale=alt.Scale(domain=AGAINST, range=AGAINST_COLORS))
    tooltip = [
        alt.Tooltip("label:N", title="variant"),
        alt.Tooltip("diff:Q", format=NUMBER, title="difference"),
        alt.Tooltip("low:Q", format=NUMBER, title="95% CI low"),
        alt.Tooltip("high:Q", format=NUMBER, title="95% CI high"),
        alt.Tooltip("method:N", title="interval (test of the verdict)"),
        alt.Tooltip("n_other:Q", title="seeds (variant)"),
        alt.Tooltip("n_reference:Q", title="seeds (reference)"),
        alt.Tooltip("p_holm:Q", format=".2g", title="Holm-adjusted p"),
        alt.Tooltip("seeds_needed:Q", title="seeds needed per variant"),
        alt.Tooltip("statement:N"),
    ]
    base = alt.Chart(inline(rows))

    def x(field: str) -> alt.X:
        return alt.X(f"{field}:Q", title=x_title, axis=value_axis())

    chart = alt.layer(
        alt.Chart(inline([{"zero": 0}])).mark_rule(color="#666").encode(x=x("zero")),
        base.transform_filter("isValid(datum.low) && isValid(datum.high)")
        .mark_rule(strokeWidth=3)
        .encode(x=x("low"), x2="high:Q", y=y, color=color, tooltip=tooltip),
        base.mark_point(filled=True, size=70).encode(x=x("diff"), y=y, color=color, tooltip=tooltip),
        base.transform_filter("isValid(datum.note)")
        .mark_text(align="left", dx=10, fontStyle="italic", color="#555")
        .encode(x=x("diff"), y=y, text="note:N"),
        title=titled(
            question,
            [
                f"Difference of means with the 95% CI of the test behind the verdict: paired t when both ran "
                f"the same seeds, else Welch (the tooltip says which); {len(rows)} pairs.",
                "A verdict is named only when the Holm-adjusted test says so."
                + (f" Task: {task_name}." if task_name else ""),
            ],
        ),
    )
    return chart.properties(width=WIDTH, height=rows_height(len(rows)))
