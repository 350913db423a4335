"""Reads for the run page and a project's variants, seeds and hyperparameters pages.

Every read goes through the selectors and services the API uses (`tracking.selectors` for runs
and histories, `stats.services.metric_stats_ensure` + `stats.selectors.variant_stats_results`
for the per-variant statistics, `stats.selectors.tuning_curve` for the tuning budget), so a page
shows exactly what the API would answer; the power arithmetic is `server/analysis/power.py`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from server.analysis import power_plan
from server.core.errors import InvalidInput
from server.stats import selectors as stats_selectors
from server.stats import services as stats_services
from server.tracking import selectors as tracking_selectors
from server.tracking.models import Project, Run
from server.tracking.points import floats_to_wire

RUN_MAX_POINTS = 1000  # per series, as the API's max_points
# All panels of the run page share one chart, whose inline data Altair caps at 5,000 rows: the
# points per series shrink as keys are added (20 keys: 200 each), with room for end points.
RUN_MAX_CHART_ROWS = 4000
RUN_MAX_CHART_KEYS = 24  # panels on the run page without a key= choice


# ---------------------------------------------------------------------------- the run page


@dataclass(frozen=True)
class RunChartKeys:
    keys: list[str]  # every key the run logged, by name
    shown: list[str]  # the keys drawn
    more: int  # keys not drawn because of the panel limit (no key= choice)


def run_chart_keys(*, logged: Sequence[str], keys: Sequence[str]) -> RunChartKeys:
    """The keys drawn: those chosen (key=) that the run logged, else the first RUN_MAX_CHART_KEYS by name."""
    chosen = [key for key in dict.fromkeys(keys) if key in logged][: tracking_selectors.MAX_KEYS_PER_HISTORY]
    shown = chosen or list(logged[:RUN_MAX_CHART_KEYS])
    more = 0 if chosen else max(0, len(logged) - RUN_MAX_CHART_KEYS)
    return RunChartKeys(keys=list(logged), shown=shown, more=more)


def run_chart_histories(
    *, run: Run, shown: Sequence[str], min_step: int | None = None, max_step: int | None = None
) -> dict[str, dict[str, Any]]:
    """The run-history endpoint's `metrics` for the keys `shown`: at most RUN_MAX_POINTS points per
    series and RUN_MAX_CHART_ROWS in all (min/max buckets on the server, as the API's max_points),
    within [min_step, max_step] when given: a zoom spends the same points on the narrower range."""
    if not shown:
        return {}
    per_series = min(RUN_MAX_POINTS, RUN_MAX_CHART_ROWS // len(shown))
    histories = tracking_selectors.run_histories(
        run=run, keys=list(shown), max_points=per_series, min_step=min_step, max_step=max_step
    )
    return {
        key: {
            "step": h.series.steps.tolist(),
            "value": floats_to_wire(h.series.values),
            "time": h.series.times.tolist(),
            "count": h.count,
            "downsampled": h.downsampled,
        }
        for key, h in histories.items()
    }


def run_status(*, run: Run, summaries: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """What the run page polls: the run's status, the last step of each key and the points stored."""
    if summaries is None:
        summaries = tracking_selectors.run_metric_summaries(run=run)
    return {
        "run": str(run.uuid),
        "status": run.status,
        "last_step": {key: s["last_step"] for key, s in summaries.items()},
        "count": sum(int(s["count"] or 0) for s in summaries.values()),
    }


def config_tree(config: Any) -> list[dict[str, Any]]:
    """The config as nested nodes {key, value, children} for `<details>` branches in the template."""
    if not isinstance(config, Mapping):
        return []
    nodes = []
    for key in sorted(config, key=str):
        value = config[key]
        if isinstance(value, Mapping) and value:
            nodes.append({"key": str(key), "value": None, "children": config_tree(value)})
        else:
            nodes.append({"key": str(key), "value": value, "children": []})
    return nodes


# ---------------------------------------------------------------------------- project pages


def project_metrics(*, project: Project) -> list[dict[str, Any]]:
    """Every declared or logged metric of the project with its rule (goal...), by key."""
    return stats_selectors.metric_definitions_list(project=project)


@dataclass
class VariantStats:
    metric: str
    goal: str | None
    status: str  # fresh, stale, computing, failed (the API's `status`)
    error: str | None
    results: list[dict[str, Any]] = field(default_factory=list)  # the API's variant blocks

    @property
    def tasks(self) -> list[str]:
        return list(dict.fromkeys(str(b.get("task") or "") for b in self.results))


def variant_stats(*, project: Project, metric: str, task: str | None) -> VariantStats:
    """The variants endpoint's answer: queues a computation when the metric has none (InvalidInput
    for a metric the project lacks), then the stored blocks with the row's status."""
    stats = stats_services.metric_stats_ensure(project=project, metric=metric)
    results = stats_selectors.variant_stats_results(stats=stats, task=task)
    return VariantStats(
        metric=stats.metric, goal=stats.goal, status=stats.status, error=stats.error or None, results=results
    )


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def variant_rows(blocks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The variants tab's rows: each block with its outlier seeds and, for the inline interval
    bar, the mean and 95% interval as percentages of one axis shared by every row (the span of
    all intervals and means), so the bars compare at a glance."""
    ends = [
        value
        for block in blocks
        for value in (_finite(block.get("ci_low")), _finite(block.get("ci_high")), _finite(block.get("mean")))
        if value is not None
    ]
    low, high = (min(ends), max(ends)) if ends else (0.0, 1.0)
    span = high - low or 1.0

    def at(value: Any) -> float | None:
        number = _finite(value)
        return None if number is None else round(100 * (number - low) / span, 2)

    rows = []
    for block in blocks:
        seeds, outliers = list(block.get("seeds") or []), list(block.get("outliers") or [])
        ci_low, ci_high = at(block.get("ci_low")), at(block.get("ci_high"))
        rows.append(
            {
                **block,
                "outlier_seeds": [seeds[i] if i < len(seeds) else f"#{i}" for i in outliers],
                "bar": None
                if ci_low is None or ci_high is None
                else {"x": ci_low, "width": max(ci_high - ci_low, 0.5), "mean": at(block.get("mean"))},
            }
        )
    return rows


def seed_plans(*, blocks: Sequence[Mapping[str, Any]], delta: float | None) -> list[dict[str, Any]]:
    """Per variant: n, std, CV, the minimum detectable difference at the current n (against a
    variant with the same std and n) and, for a difference `delta`, the seeds per variant needed
    to detect it (Welch, alpha 0.05, power 0.8; `analysis.power.power_plan`)."""
    rows = []
    for block in blocks:
        std, mean, n = _finite(block.get("std")), _finite(block.get("mean")), int(block.get("n") or 0)
        plan = power_plan(std, n, delta=delta)
        rows.append(
            {
                "variant": block.get("variant"),
                "label": block.get("label") or block.get("variant"),
                "task": block.get("task") or "",
                "n": n,
                "mean": mean,
                "std": std,
                "cv": None if std is None or not mean else std / abs(mean),
                "mde": plan.mde,
                "seeds_needed": plan.seeds_needed,
                "more_seeds": None if plan.seeds_needed is None else max(0, plan.seeds_needed - n),
                "reason": plan.reasons.get("seeds_needed" if delta is not None else "mde"),
            }
        )
    return rows


def numeric_params(blocks: Sequence[Mapping[str, Any]]) -> list[str]:
    """Dotted config paths with a number in at least two variants and more than one distinct value."""
    values: dict[str, set[float]] = {}

    def walk(config: Any, prefix: str) -> None:
        if not isinstance(config, Mapping):
            return
        for key, value in config.items():
            path = f"{prefix}{key}"
            if isinstance(value, Mapping):
                walk(value, f"{path}.")
            elif (number := _finite(value)) is not None:
                values.setdefault(path, set()).add(number)

    for block in blocks:
        walk(block.get("config"), "")
    return sorted(path for path, seen in values.items() if len(seen) > 1)


def tuning(
    *, project: Project, metric: str, model: str | None, task: str | None
) -> tuple[dict[str, Any] | None, str | None]:
    """The tuning endpoint's record over the project's runs (one trial per run), or the reason none."""
    run_filters: dict[str, list[str]] = {}
    if model:
        run_filters["model"] = [model]
    if task is not None:
        run_filters["task"] = [task]
    try:
        return stats_selectors.tuning_curve(
            project=project, metric=metric, run_filters=run_filters, per="run", max_trials=None
        ), None
    except InvalidInput as exc:
        return None, exc.message
