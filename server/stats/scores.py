"""Seed scores: one number per run for a metric, by the project's summary rule.

Rules (docs/statistics-api.md):
- ``last``: the value at the run's largest step (MetricSummary.last_value);
- ``min`` / ``max``: the smallest / largest non-NaN value (MetricSummary.min_value / max_value);
- ``best``: ``max`` for goal max, ``min`` for goal min;
- ``mean_last_k``: the mean of the last k logged points (of a repeated step the point read last
  counts; fewer than k points: all of them); one non-finite point in the window makes it
  non-finite, as a diverged run should be;
- ``at_step``: the point logged at exactly ``step`` (none: missing).
A number written to ``run.summary[metric]`` wins over the rule; the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"`` there are non-finite values. Other JSON values there
(text, objects, booleans) are not scores and leave the rule in charge.

Which runs take part: every run of a variant that has the metric (some run of it logged the
metric or wrote it to its summary), except running ones. Finished runs are scored; the others
are accounted for, never dropped: ``failed`` and ``crashed`` runs, finished runs without a
value (``missing``) and finished runs whose value is NaN or infinite (``nonfinite``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db.models.fields.json import KeyTransform

from server.analysis import goal_for_key
from server.stats.models import MetricDefinition, Summary
from server.tracking import points
from server.tracking.models import MetricKey, MetricSummary, Run, Variant

NONFINITE_STRINGS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
# Runs per points read: bounds the memory of a mean_last_k recompute over long histories.
POINTS_CHUNK = 200


class State:
    OK = "ok"
    NONFINITE = "nonfinite"
    MISSING = "missing"
    FAILED = "failed"
    CRASHED = "crashed"


@dataclass(frozen=True)
class MetricRule:
    """How a run's curve becomes one number, and which direction is better."""

    goal: str
    summary: str
    k: int | None = None
    step: int | None = None
    declared: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"goal": self.goal, "summary": self.summary, "k": self.k, "step": self.step}


def metric_rule_default(metric: str) -> MetricRule:
    """The rule of an undeclared metric: summary ``last``, goal from the key's name (``goal_for_key``)."""
    return MetricRule(goal=goal_for_key(metric), summary=Summary.LAST)


def rule_of(metric: str, definition: MetricDefinition | None) -> MetricRule:
    if definition is None:
        return metric_rule_default(metric)
    return MetricRule(definition.goal, definition.summary, definition.k, definition.step, declared=True)


def metric_rule(*, project_id: int, metric: str) -> MetricRule:
    """The declared rule of a metric, or the default."""
    return rule_of(metric, MetricDefinition.objects.filter(project_id=project_id, key=metric).first())


@dataclass(frozen=True)
class VariantInfo:
    fingerprint: str
    model: str
    config: dict[str, Any]


@dataclass(frozen=True)
class ScoreTable:
    """The runs of one metric's variants (running ones excluded), in run-id order, as columns."""

    run_pks: npt.NDArray[np.int64]
    run_ids: list[str]
    variant_ids: npt.NDArray[np.int64]
    tasks: list[str]
    seeds: list[int | None]
    states: list[str]
    values: npt.NDArray[np.float64]  # NaN unless the state is ok or nonfinite (then ±inf or NaN)
    variants: dict[int, VariantInfo]

    def __len__(self) -> int:
        return len(self.run_ids)


def explicit_value(raw: Any) -> float | None:
    """A summary entry as a score: a number, a non-finite string, or None (not a score)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return float(raw)
    if isinstance(raw, str):
        return NONFINITE_STRINGS.get(raw)
    return None


def metric_scores(*, project_id: int, metric: str, rule: MetricRule) -> ScoreTable:
    """Score every run of the project's variants that have `metric` (see the module docstring)."""
    key_id = MetricKey.objects.filter(name=metric).values_list("id", flat=True).first()
    rows = list(
        Run.objects.filter(project_id=project_id)
        .annotate(explicit=KeyTransform(metric, "summary"))
        .order_by("pk")
        .values_list("pk", "uuid", "variant_id", "task", "seed", "status", "explicit")
    )
    # Summary rows as sorted columns (run pk; last, min, max), NULL read as NaN.
    summary_rows = (
        []
        if key_id is None
        else list(
            MetricSummary.objects.filter(key_id=key_id, run__project_id=project_id)
            .order_by("run_id")
            .values_list("run_id", "last_value", "min_value", "max_value")
        )
    )
    summary_pks = np.array([row[0] for row in summary_rows], dtype=np.int64)
    summary_values = np.array([row[1:] for row in summary_rows], dtype=np.float64).reshape(-1, 3)

    explicit_all = [explicit_value(row[6]) for row in rows]
    all_pks = np.array([row[0] for row in rows], dtype=np.int64)
    has_metric = np.isin(all_pks, summary_pks) | np.array([v is not None for v in explicit_all], dtype=bool)
    # A variant takes part when any of its runs, in any state, has the metric.
    with_metric = {row[2] for row, has in zip(rows, has_metric.tolist(), strict=True) if has}
    kept = [i for i, row in enumerate(rows) if row[2] in with_metric and row[5] != Run.Status.RUNNING]
    rows = [rows[i] for i in kept]
    explicit = [explicit_all[i] for i in kept]

    run_pks = all_pks[kept]
    statuses = np.array([row[5] for row in rows], dtype=object)
    finished = statuses == Run.Status.FINISHED
    has_explicit = np.array([v is not None for v in explicit], dtype=bool)
    values = np.full(len(rows), np.nan)
    values[has_explicit] = [v for v in explicit if v is not None]
    by_rule = finished & ~has_explicit & np.isin(run_pks, summary_pks)
    rule_values, rule_found = _rule_values(run_pks[by_rule], summary_pks, summary_values, rule, key_id)
    values[by_rule] = rule_values
    found = has_explicit.copy()
    found[by_rule] = rule_found

    states = np.where(
        statuses == Run.Status.FAILED,
        State.FAILED,
        np.where(
            statuses == Run.Status.CRASHED,
            State.CRASHED,
            np.where(~found, State.MISSING, np.where(np.isfinite(values), State.OK, State.NONFINITE)),
        ),
    )
    values[~(finished & found)] = np.nan
    variants = {
        pk: VariantInfo(fingerprint, model, config)
        for pk, fingerprint, model, config in Variant.objects.filter(pk__in=with_metric).values_list(
            "pk", "fingerprint", "model", "config"
        )
    }
    return ScoreTable(
        run_pks=run_pks,
        run_ids=[str(row[1]) for row in rows],
        variant_ids=np.array([row[2] for row in rows], dtype=np.int64),
        tasks=[row[3] for row in rows],
        seeds=[row[4] for row in rows],
        states=[str(state) for state in states.tolist()],
        values=values,
        variants=variants,
    )


SUMMARY_COLUMNS = {Summary.LAST: 0, Summary.MIN: 1, Summary.MAX: 2}


def _rule_values(
    run_pks: npt.NDArray[np.int64],
    summary_pks: npt.NDArray[np.int64],
    summary_values: npt.NDArray[np.float64],
    rule: MetricRule,
    key_id: int | None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """(value, found) of each run, which all have a summary row of the metric."""
    if rule.summary in (Summary.MEAN_LAST_K, Summary.AT_STEP):
        assert key_id is not None
        found_values = _points_values(run_pks.tolist(), key_id, rule)
        values = np.array([found_values.get(pk, np.nan) for pk in run_pks.tolist()], dtype=np.float64)
        return values, np.isin(run_pks, np.fromiter(found_values, dtype=np.int64, count=len(found_values)))
    summary = rule.summary
    if summary == Summary.BEST:
        summary = Summary.MAX if rule.goal == "max" else Summary.MIN
    rows = np.searchsorted(summary_pks, run_pks)
    return summary_values[rows, SUMMARY_COLUMNS[Summary(summary)]], np.ones(len(run_pks), dtype=bool)


def _points_values(run_pks: Sequence[int], key_id: int, rule: MetricRule) -> dict[int, float]:
    """mean_last_k or at_step of each run that has points for it."""
    out: dict[int, float] = {}
    at_step = rule.summary == Summary.AT_STEP
    for start in range(0, len(run_pks), POINTS_CHUNK):
        chunk = run_pks[start : start + POINTS_CHUNK]
        if at_step:
            found = points.points_read(run_pks=chunk, key_id=key_id, min_step=rule.step, max_step=rule.step)
        else:
            found = points.points_read(run_pks=chunk, key_id=key_id)
        for run_pk, series in found.items():
            if not len(series):
                continue
            if at_step:
                out[run_pk] = float(series.values[-1])
                continue
            # One point per step, the one read last; then the mean of the last k.
            last_of_step = np.r_[series.steps[1:] != series.steps[:-1], True]
            window = series.values[last_of_step][-int(rule.k or 1) :]
            out[run_pk] = float(window.mean())
    return out
