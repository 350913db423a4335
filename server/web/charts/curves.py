"""Learning curves: "Does it learn faster or just end higher?", and a run's own history.

``learning_curves`` takes the curves API's records (``docs/statistics-api.md``, learning curves:
per variant ``steps``, ``mean``, ``ci_low``/``ci_high`` (95 % Student t over the seeds present),
``n`` (seeds present at each step), ``complete``, ``n_runs``) and, optionally, seed histories
(the metric-history endpoint's ``runs`` records: ``step``, ``value`` with non-finite values as
the strings "NaN"/"Infinity", each with the ``variant`` it belongs to added by the caller).
One line per variant (the mean), its band, and optionally every seed as a thin translucent
line in the variant's colour. Where fewer than all seeds are present (``complete`` false: runs
that stopped early), the line is dashed and the band lighter: beyond that range the mean is of
survivors only.

Smoothing (``smoothing`` = w in [0, 1)) is TensorBoard's debiased EMA by point index,
s_i = ((1 - w) Σ_{j≤i} w^{i-j} v_j) / (1 - w^{i+1}), as in ``server/analysis/curves.py``
(``ema_debiased``). It is applied here to each seed line, and to the mean and the band bounds
as drawn. The EMA is linear, so the smoothed mean equals the mean of smoothed seeds wherever
the same seeds are present on the shared grid; the smoothed band bounds are a display
approximation, not the interval of smoothed seeds. The unsmoothed mean stays on the chart as
a faint line, one glance away.

``run_history`` takes one run's history (``{"metrics": {key: {step, value, time, count,
downsampled}}}`` of the run-history endpoint) and draws one small multiple per key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt

from .common import (
    NUMBER,
    WIDTH,
    Chart,
    Names,
    Record,
    axis_title,
    empty_chart,
    finite,
    goal_phrase,
    inline,
    level_percent,
    titled,
    variant_color,
)

QUESTION = "Does it learn faster or just end higher?"
HISTORY_QUESTION = "How did this run's metrics evolve?"
ZOOM_PARAM = "zoom"  # the run history's x-interval selection: a Vega signal the page listens to


def ema(values: Sequence[float | None], weight: float) -> list[float | None]:
    """TensorBoard's debiased EMA by point index; None (a missing value) is kept and skipped."""
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight!r}")
    out: list[float | None] = []
    total, count = 0.0, 0
    for value in values:
        if value is None:
            out.append(None)
            continue
        total = weight * total + (1.0 - weight) * value
        count += 1
        out.append(total / (1.0 - weight**count))
    return out


def _curve_rows(curve: Record, label: str, smoothing: float | None, log_x: bool) -> list[dict[str, Any]]:
    steps = [finite(s) for s in curve.get("steps") or []]
    size = len(steps)

    def column(name: str) -> list[float | None]:
        values = [finite(v) for v in (curve.get(name) or [])][:size]
        return values + [None] * (size - len(values))

    mean, low, high = column("mean"), column("ci_low"), column("ci_high")
    raw_mean = list(mean)
    if smoothing:
        mean, low, high = ema(mean, smoothing), ema(low, smoothing), ema(high, smoothing)
    n = list(curve.get("n") or [])
    complete = list(curve.get("complete") or [])
    n_runs = int(curve.get("n_runs") or 0)
    rows = []
    for i, step in enumerate(steps):
        if step is None or mean[i] is None or (log_x and step <= 0):
            continue
        present = int(n[i]) if i < len(n) else 0
        rows.append(
            {
                "label": label,
                "step": step,
                "mean": mean[i],
                "raw_mean": raw_mean[i],
                "ci_low": low[i],
                "ci_high": high[i],
                "n": present,
                "n_runs": n_runs,
                "complete": bool(complete[i]) if i < len(complete) else present >= n_runs,
            }
        )
    return rows


def _seed_rows(histories: Sequence[Record], names: Names, smoothing: float | None, log_x: bool) -> list[dict[str, Any]]:
    rows = []
    for history in histories:
        label = names(str(history.get("variant", "")))
        pairs = [
            (finite(s), finite(v)) for s, v in zip(history.get("step") or [], history.get("value") or [], strict=False)
        ]
        kept = [(s, v) for s, v in pairs if s is not None and v is not None and not (log_x and s <= 0)]
        values: list[float | None] = [v for _, v in kept]
        if smoothing:
            values = ema(values, smoothing)
        run = str(history.get("run", ""))
        rows += [{"label": label, "run": run, "step": s, "value": v} for (s, _), v in zip(kept, values, strict=True)]
    return rows


def learning_curves(
    curves: Sequence[Record],
    *,
    metric: str,
    goal: str | None,
    labels: Mapping[str, str] | None = None,
    seed_histories: Sequence[Record] | None = None,
    smoothing: float | None = None,
    log_x: bool = False,
    level: float = 0.95,
) -> Chart:
    """Mean line and band per variant over steps; optional seed lines, EMA smoothing, log x.

    ``labels`` maps a variant fingerprint to its label in comparison order (the page's colours).
    With ``log_x``, points at step ≤ 0 are left out (a log axis has no place for them).
    """
    names = Names(labels, (str(c.get("variant", "")) for c in curves))
    rows = [row for c in curves for row in _curve_rows(c, names(str(c.get("variant", ""))), smoothing, log_x)]
    if not rows:
        return empty_chart(QUESTION, "No finished run has logged this metric yet.")
    x = alt.X(
        "step:Q",
        title="step (log scale)" if log_x else "step",
        scale=alt.Scale(type="log") if log_x else alt.Scale(zero=False),
    )
    y_title = axis_title(metric, goal)
    y = alt.Y("mean:Q", title=y_title, scale=alt.Scale(zero=False))
    color = variant_color(names)
    tooltip = [
        alt.Tooltip("label:N", title="variant"),
        alt.Tooltip("step:Q", format=","),
        alt.Tooltip("mean:Q", format=NUMBER, title="mean" + (" (smoothed)" if smoothing else "")),
        alt.Tooltip("ci_low:Q", format=NUMBER, title=f"{level_percent(level)} CI low"),
        alt.Tooltip("ci_high:Q", format=NUMBER, title=f"{level_percent(level)} CI high"),
        alt.Tooltip("n:Q", title="seeds present n(step)"),
        alt.Tooltip("n_runs:Q", title="seeds"),
    ]
    # The rows are the layer's data, not each layer's: Altair deep-copies a chart's inline rows
    # whenever it copies the chart (every encode and transform), which was most of the page's time.
    data = inline(rows)
    base = alt.Chart()
    band = "isValid(datum.ci_low) && isValid(datum.ci_high)"
    layers: list[alt.Chart] = [
        # Lighter band and dashed line everywhere, the full band and solid line where every seed is present.
        base.transform_filter(band)
        .mark_area(opacity=0.1)
        .encode(x=x, y=alt.Y("ci_low:Q", title=y_title), y2="ci_high:Q", color=color, detail="label:N"),
        base.transform_filter(f"{band} && datum.complete")
        .mark_area(opacity=0.22)
        .encode(x=x, y=alt.Y("ci_low:Q", title=y_title), y2="ci_high:Q", color=color, detail="label:N"),
    ]
    if seed_histories:
        layers.append(
            alt.Chart(inline(_seed_rows(seed_histories, names, smoothing, log_x)))
            .mark_line(strokeWidth=0.8, opacity=0.35)
            .encode(
                x=x,
                y=alt.Y("value:Q", title=y_title),
                color=color,
                detail="run:N",
                tooltip=[
                    alt.Tooltip("label:N", title="variant"),
                    "run:N",
                    "step:Q",
                    alt.Tooltip("value:Q", format=NUMBER),
                ],
            )
        )
    if smoothing:
        layers.append(
            base.mark_line(strokeWidth=1, opacity=0.3).encode(
                x=x, y=alt.Y("raw_mean:Q", title=y_title), color=color, detail="label:N"
            )
        )
    layers += [
        base.mark_line(strokeWidth=2, strokeDash=[5, 3]).encode(x=x, y=y, color=color, detail="label:N"),
        base.transform_filter("datum.complete").mark_line(strokeWidth=2.2).encode(x=x, y=y, color=color),
        # Invisible points carry the tooltip at every step.
        base.mark_point(opacity=0, size=40).encode(x=x, y=y, color=color, tooltip=tooltip),
    ]
    runs = sorted({int(c.get("n_runs") or 0) for c in curves})
    subtitle = [
        f"Line: mean over seeds; band: {level_percent(level)} t-interval; "
        f"{runs[0] if len(runs) == 1 else f'{runs[0]}-{runs[-1]}'} seeds per variant.",
        "Dashed, lighter band: not every seed reaches that step (the mean is of the seeds still present).",
    ]
    if smoothing:
        subtitle.append(f"Smoothed: debiased EMA, weight {smoothing:g} (faint line: unsmoothed mean).")
    return alt.layer(*layers, data=data, title=titled(QUESTION, subtitle)).properties(width=WIDTH, height=320)


def _history_rows(
    key: str, series: Record, *, x: str, log_y: bool, smoothing: float | None
) -> tuple[list[dict[str, Any]], int]:
    """A key's drawable rows, and how many points the log scale left out (values <= 0)."""
    times = list(series.get("time") or [])
    rows: list[dict[str, Any]] = []
    left_out = 0
    for i, (step, value) in enumerate(zip(series.get("step") or [], series.get("value") or [], strict=False)):
        v, s = finite(value), finite(step)
        t = finite(times[i]) if i < len(times) else None
        if v is None or s is None or (x == "time" and t is None):
            continue
        if log_y and v <= 0:
            left_out += 1
            continue
        rows.append({"key": key, "step": s, "time": None if t is None else t * 1000, "value": v})
    if smoothing:
        # Over the points kept, in order; an EMA of positive values stays positive (a weighted mean).
        for row, smoothed in zip(rows, ema([row["value"] for row in rows], smoothing), strict=True):
            row["smoothed"] = smoothed
    return rows, left_out


def run_history(
    metrics: Mapping[str, Record],
    *,
    goals: Mapping[str, str] | None = None,
    x: str = "step",
    log_y: bool = False,
    smoothing: float | None = None,
    columns: int = 2,
    panel_width: int = 420,
) -> Chart:
    """One small multiple per metric key of a run, sharing the x axis (``x`` = 'step' or 'time').

    ``metrics`` is the run-history endpoint's ``metrics`` ({key: series}); a series shown
    downsampled (min/max buckets on the server) says so in its panel title with its full count.
    ``time`` is wall-clock seconds since the Unix epoch, drawn as a time axis. ``log_y`` draws
    y on a log scale and leaves out values <= 0, counted in the panel title. ``smoothing`` = w
    draws the debiased EMA of the drawn points (``ema``) over the raw line, which stays faint.
    With x = 'step' the chart carries an interval selection ``ZOOM_PARAM`` on x, which the page
    turns into a zoom (``static/web/zoom.js``).
    """
    if x not in ("step", "time"):
        raise ValueError(f"x must be 'step' or 'time', got {x!r}")
    rows, panels, left_out, blank = [], [], 0, []
    for key, series in metrics.items():
        goal = (goals or {}).get(key)
        shown = len(series.get("step") or [])
        panel = key + (f", {goal_phrase(goal)}" if goal else "")
        if series.get("downsampled"):
            panel += f" ({shown:,} of {int(series.get('count') or 0):,} points, min/max buckets)"
        kept, dropped = _history_rows(key, series, x=x, log_y=log_y, smoothing=smoothing)
        if dropped:
            panel += f" ({dropped:,} ≤ 0 left out)"
        panels.append(panel)
        rows += [{"panel": panel, **row} for row in kept]
        left_out += dropped
        if not kept:
            blank.append(key)
    if not rows:
        if left_out:
            return empty_chart(HISTORY_QUESTION, "Every point is ≤ 0: a log scale cannot draw them.")
        return empty_chart(HISTORY_QUESTION, "This run has no finite points for these keys yet.")
    x_encoding = alt.X("step:Q", title="step") if x == "step" else alt.X("time:T", title="wall time")
    y_scale = alt.Scale(type="log") if log_y else alt.Scale(zero=False)
    y_title = "log scale" if log_y else None
    position = [alt.Tooltip("step:Q", format=",")] + (
        [alt.Tooltip("time:T", format="%Y-%m-%d %H:%M:%S")] if x == "time" else []
    )
    base = alt.Chart(inline(rows))
    layers = []
    if smoothing:
        layers.append(
            base.mark_line(strokeWidth=1, opacity=0.3).encode(
                x=x_encoding, y=alt.Y("value:Q", title=y_title, scale=y_scale)
            )
        )
        line = base.mark_line(strokeWidth=1.5).encode(
            x=x_encoding,
            y=alt.Y("smoothed:Q", title=y_title, scale=y_scale),
            tooltip=[
                alt.Tooltip("key:N"),
                *position,
                alt.Tooltip("smoothed:Q", format=NUMBER, title=f"value (smoothed, EMA {smoothing:g})"),
                alt.Tooltip("value:Q", format=NUMBER, title="value (raw)"),
            ],
        )
    else:
        line = base.mark_line(strokeWidth=1.5).encode(
            x=x_encoding,
            y=alt.Y("value:Q", title=y_title, scale=y_scale),
            tooltip=[alt.Tooltip("key:N"), *position, alt.Tooltip("value:Q", format=NUMBER)],
        )
    subtitle = ["One panel per metric; each has its own y axis."]
    if blank:  # a facet has no panel for a key without rows: name it rather than drop it silently
        subtitle.append(f"No points to draw for {', '.join(blank)}.")
    if log_y:
        subtitle.append("y on a log scale: values ≤ 0 cannot be drawn there and are left out.")
    if smoothing:
        subtitle.append(
            f"Smoothed: debiased EMA, weight {smoothing:g}, over the points drawn (long series are "
            "min/max-downsampled first); faint line: raw."
        )
    if x == "step":
        # Only x: a zoom is a step range, which the server answers at full resolution.
        line = line.add_params(alt.selection_interval(name=ZOOM_PARAM, encodings=["x"]))
        subtitle.append("Drag across a panel to zoom in: the server sends that step range in more detail.")
    unit = alt.layer(*layers, line) if layers else line
    return (
        unit.properties(width=panel_width, height=180)
        .facet(
            facet=alt.Facet("panel:N", sort=panels, title=None, header=alt.Header(labelAnchor="start")),
            columns=columns,
            title=titled(HISTORY_QUESTION, subtitle),
        )
        .resolve_scale(y="independent")
    )
