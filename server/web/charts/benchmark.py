"""Several tasks: the critical-difference diagram and rliable's interval estimates.

Input: a comparison's ``benchmark`` record, ``server.analysis.BenchmarkResult.to_dict()``
(``server/analysis/benchmark.py``): ``average_ranks`` {variant: R_j} (1 = best), ``nemenyi_cd``
and ``cliques`` (groups whose average ranks differ by less than the CD, autorank's rule),
``friedman_p``, ``alpha``, ``normalized``, ``goal``, ``aggregates`` {variant: {iqm, mean,
median, optimality_gap, each with _ci_low/_ci_high, n_runs, n_tasks}} and ``pairs`` (over
tasks: ``a``, ``b``, ``prob_improvement`` = average P(A better than B) with its interval,
``p_holm``, ``verdict``, wins/losses/ties).

``critical_difference`` draws Demšar's (2006) diagram: an axis of average ranks, 1 (best) on the
left; each variant a dot at its average rank, joined by an elbow line to its label (the better
half to the left, the rest to the right, nearest ranks nearest the axis so that lines never
cross); thick bars under the axis join each clique; the CD is drawn as a ruler above. When
Friedman's test does not reject equal ranks (p ≥ alpha), or cannot be run (k < 3, N < 2), the
diagram would suggest differences the omnibus test does not support, so a note says so instead.

``benchmark_intervals`` and ``probability_of_improvement`` follow rliable (Agarwal et al.,
NeurIPS 2021): a point and a 95 % stratified-bootstrap interval per variant and aggregate, and
one row per pair for the average probability of improvement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt

from .common import (
    LABEL_LIMIT,
    NUMBER,
    PROBABILITY,
    WIDTH,
    Chart,
    Names,
    Record,
    empty_chart,
    finite,
    goal_phrase,
    inline,
    level_percent,
    rows_height,
    titled,
    variant_color,
)

CD_QUESTION = "Which variants rank differently across tasks?"
INTERVALS_QUESTION = "How good is each variant across tasks?"
IMPROVEMENT_QUESTION = "How likely is each variant to beat the other on a task?"
STATISTICS = {"iqm": "IQM", "mean": "mean", "median": "median", "optimality_gap": "optimality gap"}
PAIR_VERDICTS = ["first better", "second better", "no verdict"]
PAIR_COLORS = ["#2a7f3f", "#c23b3b", "#9a9a9a"]


def _cd_note(benchmark: Record, k: int) -> str | None:
    """Why no diagram is drawn, or None when Friedman rejects equal average ranks."""
    if k < 2 or finite(benchmark.get("nemenyi_cd")) is None:
        return "The diagram needs at least 2 variants on at least 1 common task."
    alpha = finite(benchmark.get("alpha")) or 0.05
    p = finite(benchmark.get("friedman_p"))
    if p is None:
        why = (benchmark.get("reasons") or {}).get("friedman_p") or "needs at least 3 variants and 2 tasks"
        return f"Friedman's test was not run ({why}); see the pairs over tasks instead."
    if p >= alpha:
        return (
            f"Friedman's test does not reject equal average ranks (p = {p:.3g} ≥ {alpha:g}): "
            "the ranks may differ by chance, so no critical-difference diagram is drawn."
        )
    return None


def critical_difference(
    benchmark: Record | None,
    *,
    labels: Mapping[str, str] | None = None,
    width: int = 640,
) -> Chart:
    """Demšar's critical-difference diagram from the benchmark's average ranks, CD and cliques."""
    record = benchmark or {}
    ranks = {str(v): r for v, r in (record.get("average_ranks") or {}).items() if finite(r) is not None}
    k = len(ranks)
    note = _cd_note(record, k)
    if note is not None:
        return empty_chart(CD_QUESTION, note)
    names = Names(labels, ranks)
    cd = float(record["nemenyi_cd"])
    order = sorted(ranks, key=lambda v: (ranks[v], names(v)))
    n_tasks = len(record.get("tasks") or [])
    cliques = [list(c) for c in record.get("cliques") or [] if len(c) > 1]
    left, right = order[: (k + 1) // 2], order[(k + 1) // 2 :]
    bar_depth = 0.25 * (len(cliques) + 1)
    lo_x, hi_x = 1.0, float(max(k, 2))
    # Elbow lines: down from the dot, then out to the side; ranks nearest the middle go deepest.
    elbows, texts = [], []
    for i, variant in enumerate(left):
        depth = -(bar_depth + 0.35 * (i + 1))
        elbows.append({"x": ranks[variant], "y": 0.0, "x2": ranks[variant], "y2": depth})
        elbows.append({"x": ranks[variant], "y": depth, "x2": lo_x - 0.25, "y2": depth})
        texts.append({"x": lo_x - 0.3, "y": depth, "text": names(variant), "label": names(variant), "align": "right"})
    for i, variant in enumerate(reversed(right)):
        depth = -(bar_depth + 0.35 * (i + 1))
        elbows.append({"x": ranks[variant], "y": 0.0, "x2": ranks[variant], "y2": depth})
        elbows.append({"x": ranks[variant], "y": depth, "x2": hi_x + 0.25, "y2": depth})
        texts.append({"x": hi_x + 0.3, "y": depth, "text": names(variant), "label": names(variant), "align": "left"})
    dots = [{"x": ranks[v], "y": 0.0, "label": names(v), "rank": ranks[v]} for v in order]
    bars = [
        {
            "x": min(ranks[v] for v in clique) - 0.04,
            "x2": max(ranks[v] for v in clique) + 0.04,
            "y": -0.25 * (j + 1),
            "members": ", ".join(names(v) for v in clique),
        }
        for j, clique in enumerate(cliques)
    ]
    ticks = [{"x": float(r), "y": 0.0, "text": str(r)} for r in range(1, int(hi_x) + 1)]
    ruler = [{"x": lo_x, "x2": lo_x + cd, "y": 0.9, "text": f"CD = {cd:.2f}"}]
    depth_min = min(e["y2"] for e in elbows) - 0.3
    x_scale = alt.Scale(domain=[lo_x, hi_x], nice=False, zero=False)
    y_scale = alt.Scale(domain=[depth_min, 1.2], nice=False, zero=False)

    def xy(x: str = "x", y: str = "y") -> dict[str, Any]:
        return {"x": alt.X(f"{x}:Q", scale=x_scale, axis=None), "y": alt.Y(f"{y}:Q", scale=y_scale, axis=None)}

    layers = [
        alt.Chart(inline([{"x": lo_x, "x2": hi_x, "y": 0.0}])).mark_rule(color="#222").encode(**xy(), x2="x2:Q"),
        alt.Chart(inline(ticks)).mark_tick(color="#222", orient="vertical", size=8).encode(**xy()),
        alt.Chart(inline(ticks)).mark_text(dy=-12, fontSize=11).encode(**xy(), text="text:N"),
        alt.Chart(inline(elbows)).mark_rule(color="#666").encode(**xy(), x2="x2:Q", y2="y2:Q"),
        alt.Chart(inline(bars))
        .mark_rule(strokeWidth=5, color="#222", strokeCap="round")
        .encode(**xy(), x2="x2:Q", tooltip=[alt.Tooltip("members:N", title="not significantly different")]),
        alt.Chart(inline(dots))
        .mark_point(filled=True, size=70, opacity=1)
        .encode(
            **xy(),
            color=variant_color(names, legend=False),
            tooltip=[
                alt.Tooltip("label:N", title="variant"),
                alt.Tooltip("rank:Q", format=".3~g", title="average rank"),
            ],
        ),
        alt.Chart(inline([t for t in texts if t["align"] == "right"]))
        .mark_text(align="right", baseline="middle", fontSize=11)
        .encode(**xy(), text="text:N"),
        alt.Chart(inline([t for t in texts if t["align"] == "left"]))
        .mark_text(align="left", baseline="middle", fontSize=11)
        .encode(**xy(), text="text:N"),
        alt.Chart(inline(ruler)).mark_rule(strokeWidth=2, color="#222").encode(**xy(), x2="x2:Q"),
        alt.Chart(inline(ruler)).mark_text(dy=-10, align="left", fontSize=11).encode(**xy(), text="text:N"),
    ]
    p = finite(record.get("friedman_p"))
    subtitle = [
        f"Average rank over {n_tasks} tasks (1 = best); bars join variants whose average ranks differ by less "
        f"than the critical difference (Nemenyi, alpha {finite(record.get('alpha')) or 0.05:g}).",
        f"Friedman p = {p:.2g}. Demšar (2006)." if p is not None else "Demšar (2006).",
    ]
    height = int(40 * (1.2 - depth_min))
    return alt.layer(*layers, title=titled(CD_QUESTION, subtitle)).properties(
        width=width, height=max(120, height), view=alt.ViewBackground(stroke=None)
    )


def _scale_title(benchmark: Record, metric: str) -> tuple[str, str | None]:
    """The units of the aggregates and the goal that applies to them."""
    if benchmark.get("normalized"):
        return "normalised score (0 = random, 1 = reference)", "max"
    goal = benchmark.get("goal")
    return f"{metric} (not normalised: mixes the tasks' scales)", str(goal) if goal else None


def benchmark_intervals(
    benchmark: Record | None,
    *,
    metric: str,
    labels: Mapping[str, str] | None = None,
    statistics: Sequence[str] = ("iqm", "mean", "median", "optimality_gap"),
    panel_width: int = 220,
) -> Chart:
    """rliable's interval estimates: per aggregate a panel, per variant a point and its 95 % interval."""
    record = benchmark or {}
    aggregates: Mapping[str, Record] = record.get("aggregates") or {}
    if not aggregates:
        return empty_chart(
            INTERVALS_QUESTION, "No cross-task aggregates: they need 2 tasks with seeds of every variant."
        )
    names = Names(labels, aggregates)
    units, goal = _scale_title(record, metric)
    chosen = [s for s in statistics if s in STATISTICS and (s != "optimality_gap" or record.get("normalized"))]
    sign = -1 if goal == "min" else 1
    first = chosen[0] if chosen else "iqm"
    order = sorted(aggregates, key=lambda v: -sign * (finite(aggregates[v].get(first)) or float("-inf") * -sign))
    rows = []
    for variant in order:
        agg = aggregates[variant]
        for statistic in chosen:
            rows.append(
                {
                    "label": names(variant),
                    "statistic": STATISTICS[statistic],
                    "value": finite(agg.get(statistic)),
                    "low": finite(agg.get(f"{statistic}_ci_low")),
                    "high": finite(agg.get(f"{statistic}_ci_high")),
                    "n_runs": agg.get("n_runs"),
                    "n_tasks": agg.get("n_tasks"),
                }
            )
    y_order = [names(v) for v in order]
    tooltip = [
        alt.Tooltip("label:N", title="variant"),
        alt.Tooltip("statistic:N"),
        alt.Tooltip("value:Q", format=NUMBER),
        alt.Tooltip("low:Q", format=NUMBER, title="95% CI low"),
        alt.Tooltip("high:Q", format=NUMBER, title="95% CI high"),
        alt.Tooltip("n_runs:Q", title="runs"),
        alt.Tooltip("n_tasks:Q", title="tasks"),
    ]
    color = variant_color(names, legend=False)  # the rows are labelled
    panels = []
    for i, statistic in enumerate(chosen):
        name = STATISTICS[statistic]
        direction = "lower is better" if statistic == "optimality_gap" else goal_phrase(goal)
        base = alt.Chart(inline([r for r in rows if r["statistic"] == name]))
        y = alt.Y("label:N", sort=y_order, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT) if i == 0 else None)
        x_title = f"{name}, {direction}"
        panels.append(
            alt.layer(
                base.transform_filter("isValid(datum.low) && isValid(datum.high)")
                .mark_rule(strokeWidth=8, opacity=0.6)
                .encode(
                    x=alt.X("low:Q", title=x_title, scale=alt.Scale(zero=False)),
                    x2="high:Q",
                    y=y,
                    color=color,
                    tooltip=tooltip,
                ),
                base.transform_filter("isValid(datum.value)")
                .mark_tick(thickness=2, size=16, color="#222")
                .encode(x=alt.X("value:Q", title=x_title), y=y, tooltip=tooltip),
            ).properties(width=panel_width, height=rows_height(len(order)))
        )
    level = finite(record.get("level"))
    subtitle = [
        f"Tick: the aggregate of the task means; bar: {level_percent(level)} stratified-bootstrap interval "
        "(rliable, Agarwal et al. 2021).",
        f"Scores: {units}.",
    ]
    return alt.hconcat(*panels, spacing=10, title=titled(INTERVALS_QUESTION, subtitle))


def probability_of_improvement(
    benchmark: Record | None,
    *,
    labels: Mapping[str, str] | None = None,
) -> Chart:
    """Average probability of improvement over tasks, one row per pair, with its 95 % interval."""
    record = benchmark or {}
    pairs: Sequence[Record] = record.get("pairs") or []
    names = Names(labels, (str(p.get(side)) for p in pairs for side in ("a", "b")))
    rows: list[dict[str, Any]] = []
    for pair in pairs:
        value = finite(pair.get("prob_improvement"))
        if value is None:
            continue
        verdict = str(pair.get("verdict", "inconclusive"))
        rows.append(
            {
                "pair": f"{names(str(pair.get('a')))} vs {names(str(pair.get('b')))}",
                "p": value,
                "low": finite(pair.get("prob_improvement_ci_low")),
                "high": finite(pair.get("prob_improvement_ci_high")),
                "verdict": {"a_better": PAIR_VERDICTS[0], "b_better": PAIR_VERDICTS[1]}.get(verdict, PAIR_VERDICTS[2]),
                "n_tasks": pair.get("n_tasks"),
                "record": f"{pair.get('wins', 0)}-{pair.get('losses', 0)}-{pair.get('ties', 0)}",
                "p_holm": finite(pair.get("p_holm")),
            }
        )
    if not rows:
        return empty_chart(IMPROVEMENT_QUESTION, "No pair over tasks yet: it needs 2 variants on 2 common tasks.")
    rows.sort(key=lambda r: -r["p"])
    order = [r["pair"] for r in rows]
    y = alt.Y("pair:N", sort=order, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT))
    x_title = "P(first better than second) on a random task"
    x_scale = alt.Scale(domain=[0, 1])
    color = alt.Color(
        "verdict:N", title="Holm-adjusted Wilcoxon", scale=alt.Scale(domain=PAIR_VERDICTS, range=PAIR_COLORS)
    )
    tooltip = [
        alt.Tooltip("pair:N"),
        alt.Tooltip("p:Q", format=PROBABILITY, title="P(first better)"),
        alt.Tooltip("low:Q", format=PROBABILITY, title="95% CI low"),
        alt.Tooltip("high:Q", format=PROBABILITY, title="95% CI high"),
        alt.Tooltip("n_tasks:Q", title="tasks (n)"),
        alt.Tooltip("record:N", title="wins-losses-ties"),
        alt.Tooltip("p_holm:Q", format=".2g", title="Holm-adjusted p"),
        alt.Tooltip("verdict:N"),
    ]
    base = alt.Chart(inline(rows))
    return alt.layer(
        alt.Chart(inline([{"half": 0.5}]))
        .mark_rule(color="#666", strokeDash=[4, 4])
        .encode(x=alt.X("half:Q", scale=x_scale, title=x_title)),
        base.transform_filter("isValid(datum.low) && isValid(datum.high)")
        .mark_rule(strokeWidth=8, opacity=0.55)
        .encode(x=alt.X("low:Q", scale=x_scale, title=x_title), x2="high:Q", y=y, color=color, tooltip=tooltip),
        base.mark_tick(thickness=2, size=16, color="#222").encode(
            x=alt.X("p:Q", scale=x_scale, title=x_title), y=y, tooltip=tooltip
        ),
        title=titled(
            IMPROVEMENT_QUESTION,
            [
                f"Average over tasks of P(a seed of the first beats a seed of the second); "
                f"{level_percent(finite(record.get('level')))} stratified-bootstrap interval (rliable).",
                "0.5: no better than a coin flip. A verdict is named only when the Holm-adjusted Wilcoxon test "
                "says so.",
            ],
        ),
    ).properties(width=WIDTH, height=rows_height(len(rows)))
