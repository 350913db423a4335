"""Hyperparameters: how the metric moves with a config value, and what a search budget buys.

``hyperparameter_effect`` and ``parallel_coordinates`` take per-variant blocks (``docs/
statistics-api.md``: ``label``, ``model``, ``config``, ``n``, ``mean``, ``ci_low``/``ci_high``);
a config path is dotted ("optimizer.lr") and a variant whose value is missing or not a number
is left out of that axis (the subtitle counts them).

- ``hyperparameter_effect``: x = the value, y = the variant's mean with its 95 % t-interval as an
  error bar, colour = model, one line per model through its variants in x order. The x axis is
  logarithmic when the positive values span at least two decades (``log_x=None``).
- ``parallel_coordinates``: one line per variant mean across the given config axes and the
  metric, each axis scaled to [0, 1] over the variants shown (min-max), coloured by the metric;
  the raw values are in the tooltip. Normalising in Python (long rows, one per variant and axis)
  rather than with Vega-Lite's fold/joinaggregate keeps config paths with dots out of field
  names; the picture is the one of Altair's parallel-coordinates example.
- ``tuning_curve``: the tuning endpoint's record (Dodge et al. 2019, "Show Your Work";
  ``server/analysis/tuning.py``): expected best score against the number of trials with its
  ± sd band, and the without-replacement estimate dashed; x = trials, or seconds of budget.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt

from .common import (
    NUMBER,
    WIDTH,
    Chart,
    Record,
    axis_title,
    empty_chart,
    finite,
    inline,
    level_percent,
    titled,
    value_axis,
)

EFFECT_QUESTION = "How does the metric move with {param}?"
PARALLEL_QUESTION = "Which configurations do well?"
TUNING_QUESTION = "What does a bigger search buy?"


def config_value(config: Any, path: str) -> Any:
    """The value at a dotted path of a config (nested dicts), or None."""
    value = config
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def spans_decades(values: Sequence[float], decades: float = 2.0) -> bool:
    """True when all values are positive and max/min ≥ 10**decades: a log axis reads better."""
    return bool(values) and min(values) > 0 and math.log10(max(values) / min(values)) >= decades


def hyperparameter_effect(
    blocks: Sequence[Record],
    *,
    param: str,
    metric: str,
    goal: str | None,
    log_x: bool | None = None,
    level: float = 0.95,
) -> Chart:
    """Variant means (with their intervals) against a numeric config value, coloured by model."""
    question = EFFECT_QUESTION.format(param=param)
    rows: list[dict[str, Any]] = []
    skipped = 0
    for block in blocks:
        value, mean = finite(config_value(block.get("config"), param)), finite(block.get("mean"))
        if value is None or mean is None:
            skipped += 1
            continue
        rows.append(
            {
                "value": value,
                "mean": mean,
                "low": finite(block.get("ci_low")),
                "high": finite(block.get("ci_high")),
                "n": int(block.get("n") or 0),
                "model": str(block.get("model") or ""),
                "label": str(block.get("label") or block.get("variant", "")),
            }
        )
    if not rows:
        return empty_chart(question, f"No variant has a numeric {param} and a mean yet.")
    use_log = spans_decades([r["value"] for r in rows]) if log_x is None else log_x
    if use_log:
        skipped += sum(r["value"] <= 0 for r in rows)
        rows = [r for r in rows if r["value"] > 0]
    x = alt.X(
        "value:Q",
        title=param + (" (log scale)" if use_log else ""),
        # padding: the lowest and highest values' dots and bars sat on the plot's edge, half cut.
        scale=alt.Scale(type="log" if use_log else "linear", zero=False, padding=12),
        axis=value_axis(),
    )
    y_title = axis_title(metric, goal)
    models = list(dict.fromkeys(r["model"] for r in rows))
    color = alt.Color("model:N", scale=alt.Scale(domain=models, scheme="tableau10"), title="model")
    tooltip = [
        alt.Tooltip("label:N", title="variant"),
        alt.Tooltip("value:Q", format=NUMBER, title=param),
        alt.Tooltip("mean:Q", format=NUMBER),
        alt.Tooltip("low:Q", format=NUMBER, title=f"{level_percent(level)} CI low"),
        alt.Tooltip("high:Q", format=NUMBER, title=f"{level_percent(level)} CI high"),
        alt.Tooltip("n:Q", title="seeds (n)"),
    ]
    base = alt.Chart(inline(rows))
    subtitle = [
        f"Dot: a variant's mean over seeds; bar: its {level_percent(level)} t-interval; lines join a model's variants.",
    ]
    if skipped:
        subtitle.append(f"{skipped} variant(s) without a usable {param} or mean are not shown.")
    return alt.layer(
        base.mark_line(opacity=0.5).encode(
            x=x, y=alt.Y("mean:Q", title=y_title, scale=alt.Scale(zero=False, padding=8)), color=color, detail="model:N"
        ),
        base.transform_filter("isValid(datum.low) && isValid(datum.high)")
        .mark_rule(strokeWidth=2)
        .encode(x=x, y=alt.Y("low:Q", title=y_title), y2="high:Q", color=color, tooltip=tooltip),
        base.mark_point(filled=True, size=60).encode(
            x=x, y=alt.Y("mean:Q", title=y_title), color=color, tooltip=tooltip
        ),
        title=titled(question, subtitle),
    ).properties(width=WIDTH, height=300)


def parallel_coordinates(
    blocks: Sequence[Record],
    *,
    params: Sequence[str],
    metric: str,
    goal: str | None,
) -> Chart:
    """One line per variant mean across config axes and the metric, each axis min-max scaled."""
    axes = [*params, metric]
    kept: list[tuple[Record, list[float]]] = []
    for block in blocks:
        values = [finite(config_value(block.get("config"), p)) for p in params] + [finite(block.get("mean"))]
        numbers = [v for v in values if v is not None]
        if len(numbers) == len(values):
            kept.append((block, numbers))
    if not kept:
        return empty_chart(PARALLEL_QUESTION, "No variant has a number for every axis and a mean yet.")
    lows = [min(numbers[i] for _, numbers in kept) for i in range(len(axes))]
    highs = [max(numbers[i] for _, numbers in kept) for i in range(len(axes))]
    rows = []
    for block, numbers in kept:
        label = str(block.get("label") or block.get("variant", ""))
        for i, (axis, value) in enumerate(zip(axes, numbers, strict=True)):
            span = highs[i] - lows[i]
            rows.append(
                {
                    "label": label,
                    "axis": axis,
                    "value": value,
                    "scaled": 0.5 if span == 0 else (value - lows[i]) / span,
                    "metric": numbers[-1],
                    "n": int(block.get("n") or 0),
                }
            )
    metric_title = axis_title(metric, goal)
    chart = (
        alt.Chart(
            inline(rows),
            title=titled(
                PARALLEL_QUESTION,
                [
                    "One line per variant (its mean over seeds); each axis scaled from its lowest to its highest "
                    f"value among the {len(kept)} variants shown.",
                    f"Colour: {metric_title}.",
                ],
            ),
        )
        .mark_line(opacity=0.75, point=True)
        .encode(
            x=alt.X("axis:N", sort=axes, title=None, axis=alt.Axis(labelAngle=0, domain=False, ticks=False, grid=True)),
            y=alt.Y("scaled:Q", title="scaled per axis (min to max)", axis=alt.Axis(format=".0%")),
            color=alt.Color(
                "metric:Q",
                title=metric_title,
                scale=alt.Scale(scheme="viridis", reverse=goal == "min"),
            ),
            detail="label:N",
            tooltip=[
                alt.Tooltip("label:N", title="variant"),
                alt.Tooltip("axis:N"),
                alt.Tooltip("value:Q", format=NUMBER),
                alt.Tooltip("metric:Q", format=NUMBER, title=metric),
                alt.Tooltip("n:Q", title="seeds (n)"),
            ],
        )
        .properties(width=WIDTH, height=300)
    )
    return chart


def tuning_curve(tuning: Record | None, *, x: str = "trials") -> Chart:
    """Expected best score vs number of trials (or budget in seconds) with its ± sd band."""
    record = tuning or {}
    metric = str(record.get("metric", "metric"))
    goal = record.get("goal")
    grid = list(record.get("n_trials") or [])
    budget = list(record.get("budget") or [])
    if x not in ("trials", "budget"):
        raise ValueError(f"x must be 'trials' or 'budget', got {x!r}")
    use_budget = x == "budget" and len(budget) == len(grid)

    def column(name: str) -> list[float | None]:
        values = [finite(v) for v in record.get(name) or []]
        return values + [None] * (len(grid) - len(values))

    expected, low, high, unbiased = (
        column("expected"),
        column("band_low"),
        column("band_high"),
        column("expected_without_replacement"),
    )
    rows = [
        {
            "trials": int(n),
            "budget": finite(budget[i]) if use_budget else None,
            "expected": expected[i],
            "low": low[i],
            "high": high[i],
            "without_replacement": unbiased[i],
        }
        for i, n in enumerate(grid)
        if expected[i] is not None
    ]
    if not rows:
        return empty_chart(TUNING_QUESTION, "No finished trial with a score yet.")
    x_enc = (
        alt.X("budget:Q", title="budget (seconds of compute)", axis=value_axis())
        # Trials are whole numbers: no 0.5-trial ticks (36 labels in a row on 18 trials).
        if use_budget
        else alt.X("trials:Q", title="trials", axis=value_axis(tickMinStep=1, format="d", tickCount=10))
    )
    y_title = axis_title(metric, str(goal) if goal else None, prefix="expected best ")
    tooltip = [
        alt.Tooltip("trials:Q"),
        alt.Tooltip("expected:Q", format=NUMBER, title="expected best"),
        alt.Tooltip("low:Q", format=NUMBER, title="- sd"),
        alt.Tooltip("high:Q", format=NUMBER, title="+ sd"),
        alt.Tooltip("without_replacement:Q", format=NUMBER, title="without replacement"),
    ]
    base = alt.Chart(inline(rows))
    n = int(record.get("n") or 0)
    subtitle = [
        f"Expected best of n trials drawn from the {n} trials run (with replacement; band: ± 1 sd). "
        "Dashed: the unbiased estimate without replacement, up to n.",
        "Assumes random search (i.i.d. trials), not Bayesian optimisation (Dodge et al. 2019).",
    ]
    if x == "budget" and not use_budget:
        reason = (record.get("reasons") or {}).get("budget", "no runtime for every trial")
        subtitle.append(f"Budget axis unavailable: {reason}.")
    return alt.layer(
        base.transform_filter("isValid(datum.low) && isValid(datum.high)")
        .mark_area(opacity=0.2, color="#4c78a8")
        .encode(x=x_enc, y=alt.Y("low:Q", title=y_title, scale=alt.Scale(zero=False)), y2="high:Q"),
        base.mark_line(color="#4c78a8", strokeWidth=2).encode(x=x_enc, y=alt.Y("expected:Q", title=y_title)),
        base.transform_filter("isValid(datum.without_replacement)")
        .mark_line(color="#222", strokeDash=[4, 3], strokeWidth=1.2)
        .encode(x=x_enc, y=alt.Y("without_replacement:Q", title=y_title)),
        base.mark_point(opacity=0, size=40).encode(x=x_enc, y=alt.Y("expected:Q", title=y_title), tooltip=tooltip),
        title=titled(TUNING_QUESTION, subtitle),
    ).properties(width=WIDTH, height=300)
