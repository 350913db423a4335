"""Reads for the compare pages: the form's choices, and a saved comparison's curves and seed lines.

Access is decided where the API decides it (`tracking.selectors.project_get` for a project,
`stats.selectors.comparison_get` for a comparison); the curves are the curves endpoint's
selector and the seed lines the metric-history endpoint's, both downsampled on the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from server.core.errors import InvalidInput
from server.stats.models import Comparison
from server.stats.selectors import curves_aggregate, metric_definitions_list
from server.tracking.labels import variant_labels
from server.tracking.models import Project, Run, Variant
from server.tracking.points import floats_to_wire
from server.tracking.selectors import MAX_RUNS_PER_HISTORY, metric_histories

CURVE_POINTS = 200  # grid points per mean curve
SEED_POINTS = 500  # at most, per seed line (min/max buckets)
SEED_ROWS = 4000  # all seed lines together: the chart builders refuse more than 5,000 rows


@dataclass(frozen=True)
class VariantChoice:
    fingerprint: str
    label: str
    model: str
    seeds: int  # finished runs


@dataclass(frozen=True)
class FormChoices:
    variants: list[VariantChoice]
    metrics: list[str]
    tasks: list[str]


def compare_form_choices(*, project: Project) -> FormChoices:
    """The project's variants (with labels as the comparison will name them), metrics and tasks."""
    rows = list(
        Variant.objects.filter(project=project)
        .annotate(seeds=Count("runs", filter=Q(runs__status=Run.Status.FINISHED)))
        .order_by("model", "fingerprint")
        .values_list("fingerprint", "model", "config", "seeds")
    )
    labels = variant_labels([(fingerprint, model, config) for fingerprint, model, config, _ in rows])
    variants = [VariantChoice(fp, labels[fp], model, seeds) for fp, model, _, seeds in rows]
    metrics = [definition["key"] for definition in metric_definitions_list(project=project)]
    tasks = sorted(
        task for task in Run.objects.filter(project=project).values_list("task", flat=True).distinct() if task
    )
    return FormChoices(variants=variants, metrics=metrics, tasks=tasks)


def comparison_curves(*, comparison: Comparison, seed_lines: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(curves, seed histories) of the comparison's variants, per project, of its task.

    Curves: the curves endpoint's records (CURVE_POINTS per curve). Seed histories: each finished
    run's metric history, downsampled so that all lines together stay under SEED_ROWS points, each
    with the `variant` and `run` it belongs to. A project whose runs never logged the metric
    (only a summary) or that has too many runs adds nothing: the chart says what is missing.
    """
    fingerprints = [block["variant"] for block in (comparison.payload or {}).get("variants", [])]
    curves: list[dict[str, Any]] = []
    histories: list[dict[str, Any]] = []
    for project in comparison.projects.all():
        present = list(
            Variant.objects.filter(project=project, fingerprint__in=set(fingerprints)).values_list(
                "fingerprint", flat=True
            )
        )
        if not present:
            continue
        try:
            curves += curves_aggregate(
                project=project,
                metric=comparison.metric,
                variants=present,
                task=comparison.task,
                points_per_curve=CURVE_POINTS,
            )
        except InvalidInput:
            continue
        if seed_lines:
            histories += _seed_histories(project=project, comparison=comparison, fingerprints=present)
    return curves, histories


def _seed_histories(*, project: Project, comparison: Comparison, fingerprints: list[str]) -> list[dict[str, Any]]:
    runs = Run.objects.filter(project=project, variant__fingerprint__in=fingerprints, status=Run.Status.FINISHED)
    if comparison.task is not None:
        runs = runs.filter(task=comparison.task)
    selected = list(runs.select_related("variant").order_by("pk")[: MAX_RUNS_PER_HISTORY + 1])
    if not selected or len(selected) > MAX_RUNS_PER_HISTORY:
        return []
    max_points = max(2, min(SEED_POINTS, SEED_ROWS // len(selected)))
    found = metric_histories(runs=selected, key=comparison.metric, max_points=max_points)
    return [
        {
            "variant": run.variant.fingerprint,
            "run": str(run.uuid),
            "step": found[run.pk].series.steps.tolist(),
            "value": floats_to_wire(found[run.pk].series.values),
        }
        for run in selected
    ]
