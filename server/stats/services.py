"""Writes of the statistics app: metric definitions, staleness, recomputes, comparisons.

How statistics stay current. Tracking changes runs and knows nothing of statistics (the
dependency goes stats -> tracking). The use cases that change what statistics read
(`changes.py`: run create and update, metric points of an ended run, the crash sweep, a
project's noise keys) call tracking's service and the mark here in one transaction:
`run_changed`, `run_points_added`, `runs_changed`, `project_changed`; and a metric
definition marks through `metric_definition_set`. They mark the (project, metric) rows stale
and queue one recompute per row after commit, coalesced by the `pending` flag (see
models.py). The recompute of a (project, metric) then marks the comparisons that include it,
the same way. The `stats_requeue` beat task queues again what a broker outage failed to
enqueue.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from server.accounts.selectors import ROLES_FOR
from server.analysis import METHOD_VERSION
from server.core.errors import InvalidInput, PermissionDenied
from server.stats import compute, recompute, scores, selectors
from server.stats.models import (
    Comparison,
    MetricDefinition,
    MetricStats,
    Recomputed,
    Status,
    VariantStatsResult,
)
from server.tracking import selectors as tracking_selectors
from server.tracking.models import MetricSummary, Project, Run
from workers.queue import enqueue

logger = logging.getLogger(__name__)

MAX_KEY_LENGTH = 250

# ---------------------------------------------------------------------------- queueing


def _enqueue_stats(project_id: int, metric: str, countdown: float = 0.0) -> None:
    enqueue("seedboard.stats_recompute", project_id, metric, countdown=countdown)


def _enqueue_comparison(comparison_id: uuid.UUID, countdown: float = 0.0) -> None:
    enqueue("seedboard.comparison_recompute", str(comparison_id), countdown=countdown)


# ---------------------------------------------------------------------------- staleness


def stats_mark_stale(*, project_id: int, metrics: Iterable[str]) -> int:
    """Mark the statistics of these metrics of a project stale, queueing one recompute each (coalesced)."""
    names = sorted({name for name in metrics if 0 < len(name) <= MAX_KEY_LENGTH})
    if not names:
        return 0
    missing = set(names) - set(
        MetricStats.objects.filter(project_id=project_id, metric__in=names).values_list("metric", flat=True)
    )
    if missing:
        # New rows show the current rule until their first computation stores the one it used.
        definitions = MetricDefinition.objects.filter(project_id=project_id, key__in=missing)
        declared = {definition.key: definition for definition in definitions}
        MetricStats.objects.bulk_create(
            [
                MetricStats(project_id=project_id, metric=name, **scores.rule_of(name, declared.get(name)).to_dict())
                for name in sorted(missing)
            ],
            ignore_conflicts=True,
        )
    queued = recompute.mark(
        MetricStats.objects.filter(project_id=project_id, metric__in=names), _enqueue_stats, "project_id", "metric"
    )
    # Other apps' results that read these scores (benchmark leaderboards) turn stale in this
    # same transaction; saved comparisons follow the recompute of these rows instead.
    for dependent in recompute.dependents():
        queued += dependent.mark_stale(project_id, names)
    return queued


def _project_metrics(project_id: int) -> set[str]:
    """The metrics of a project that have statistics or a definition."""
    return set(MetricStats.objects.filter(project_id=project_id).values_list("metric", flat=True)) | set(
        MetricDefinition.objects.filter(project_id=project_id).values_list("key", flat=True)
    )


def runs_changed(*, runs: Sequence[Run]) -> int:
    """Mark stale every metric these runs can affect: their logged keys, their numeric summary
    entries, and the metrics their projects already have statistics or definitions for (a run
    without a value still counts as missing there)."""
    by_project: dict[int, list[Run]] = {}
    for run in runs:
        by_project.setdefault(run.project_id, []).append(run)
    queued = 0
    for project_id, members in by_project.items():
        metrics = _project_metrics(project_id)
        metrics |= set(
            MetricSummary.objects.filter(run_id__in=[run.pk for run in members]).values_list("key__name", flat=True)
        )
        metrics |= {
            key for run in members for key, value in run.summary.items() if scores.explicit_value(value) is not None
        }
        queued += stats_mark_stale(project_id=project_id, metrics=metrics)
    return queued


def run_changed(*, run: Run, previous_status: str, fields: Iterable[str]) -> int:
    """After a run was created or updated with `fields`: mark what it affects stale.

    Statistics read a run's status and summary (points: `run_points_added`), not its tags,
    notes or name; and only runs that are, or were, out of `running` take part, so heartbeats
    and live summary updates of a running run cost nothing here. A status that was sent
    marks even when unchanged, so a client retrying a finish marks again.
    """
    if run.status == Run.Status.RUNNING and previous_status == Run.Status.RUNNING:
        return 0
    if run.status == previous_status and not {"status", "summary"} & set(fields):
        return 0
    return runs_changed(runs=[run])


def run_points_added(*, run_pk: int) -> int:
    """After points were stored for a run that is no longer running: its scores may have changed."""
    run = Run.objects.filter(pk=run_pk).only("pk", "project_id", "summary").first()
    return 0 if run is None else runs_changed(runs=[run])


def project_changed(*, project: Project) -> int:
    """After a project's variants were regrouped (new noise keys): every metric is stale."""
    logged = MetricSummary.objects.filter(run__project=project).values_list("key__name", flat=True).distinct()
    return stats_mark_stale(project_id=project.pk, metrics=_project_metrics(project.pk) | set(logged))


def project_removing(*, project: Project) -> int:
    """Before a project is deleted: the comparisons and other apps' results (leaderboards) that
    read it turn stale, marked while their links to it still exist (the deletion cascades them)."""
    queued = recompute.mark(Comparison.objects.filter(projects__id=project.pk), _enqueue_comparison, "uuid")
    for dependent in recompute.dependents():
        queued += dependent.mark_stale(project.pk, None)
    return queued


# ---------------------------------------------------------------------------- metric definitions


def metric_definition_set(
    *, project: Project, key: str, goal: str | None, summary: str, k: int | None = None, step: int | None = None
) -> MetricDefinition:
    """Declare a metric's goal and summary rule; a change of rule marks its statistics stale."""
    before = scores.metric_rule(project_id=project.pk, metric=key)
    goal = goal or scores.metric_rule_default(key).goal
    definition, _ = MetricDefinition.objects.update_or_create(
        project=project, key=key, defaults={"goal": goal, "summary": summary, "k": k, "step": step}
    )
    if (before.goal, before.summary, before.k, before.step) != (goal, summary, k, step):
        stats_mark_stale(project_id=project.pk, metrics=[key])
    return definition


# ---------------------------------------------------------------------------- per-variant statistics


def metric_stats_ensure(*, project: Project, metric: str) -> MetricStats:
    """The statistics row of a project's metric, queueing a computation when it has none yet
    (or was computed by another method version). InvalidInput for a metric the project lacks."""
    stats = MetricStats.objects.filter(project=project, metric=metric).first()
    if stats is not None and (stats.pending or stats.method_version in ("", METHOD_VERSION)):
        return stats
    if stats is None and not selectors.metric_exists(project_id=project.pk, metric=metric):
        raise InvalidInput(
            f"metric: no run of {project.path} logged {metric!r} or has it in its summary, and it is not defined",
            field="metric",
        )
    stats_mark_stale(project_id=project.pk, metrics=[metric])
    return MetricStats.objects.get(project=project, metric=metric)


def stats_recompute(*, project_id: int, metric: str) -> str:
    """Recompute the per-variant statistics of one metric of a project, for every task.

    Idempotent (tasks are acks_late): the same inputs give bit-identical results, and equal
    inputs (by fingerprint) write nothing. Returns what happened: computed, unchanged,
    superseded (a later recompute stored first), nothing (already fresh) or gone.
    """
    pk = MetricStats.objects.filter(project_id=project_id, metric=metric).values_list("pk", flat=True).first()
    if pk is None:
        return "gone"
    claim = recompute.claim(MetricStats, pk)
    if isinstance(claim, str):
        return claim
    try:
        recompute.delay_for_tests()
        rule = scores.metric_rule(project_id=project_id, metric=metric)
        table = scores.metric_scores(project_id=project_id, metric=metric, rule=rule)
        seed = compute.bootstrap_seed("project", project_id, metric)
        fingerprint = compute.inputs_fingerprint([table], {"rule": rule.to_dict(), "seed": seed})
        if MetricStats.objects.filter(pk=pk, inputs_fingerprint=fingerprint, method_version=METHOD_VERSION).exists():
            recompute.finish(MetricStats, pk, claim, {}, lambda: None)
            return "unchanged"
        payloads = compute.project_payloads(compute.groups_build([("", table)]), seed=seed)
    except Exception as exc:
        recompute.release(MetricStats, pk, claim, exc)
        raise

    def write() -> None:
        VariantStatsResult.objects.filter(stats_id=pk).delete()
        VariantStatsResult.objects.bulk_create(
            [VariantStatsResult(stats_id=pk, task=task, payload=payload) for task, payload in payloads.items()]
        )
        # In the same transaction as the results: a retry after a failure here finds the
        # inputs unchanged and would not mark the comparisons again.
        comparisons_mark_stale(project_id=project_id, metric=metric)

    fields = {
        "computed_at": timezone.now(),
        "inputs_fingerprint": fingerprint,
        "method_version": METHOD_VERSION,
        "bootstrap_seed": seed,
        **rule.to_dict(),
    }
    return "computed" if recompute.finish(MetricStats, pk, claim, fields, write) else "superseded"


# ---------------------------------------------------------------------------- comparisons


def comparisons_mark_stale(*, project_id: int, metric: str) -> int:
    """Mark the comparisons that include this project's metric stale (one recompute each, coalesced)."""
    return recompute.mark(
        Comparison.objects.filter(projects__id=project_id, metric=metric), _enqueue_comparison, "uuid"
    )


def comparison_create(
    *,
    user: User,
    metric: str,
    projects: list[str],
    variants: list[str] | None = None,
    models: list[str] | None = None,
    task: str | None = None,
    baseline: str | None = None,
    normalize: dict[str, dict[str, float]] | None = None,
) -> Comparison:
    """Save a comparison and queue its computation. Every project must be readable by `user` (404
    otherwise); it belongs to the team of the first project where `user` is a member or an admin
    (403 when there is none: viewers and readers of internal projects do not save comparisons)."""
    found: list[Project] = []
    for path in dict.fromkeys(projects):
        team_slug, project_slug = tracking_selectors.project_path_split(path, field="projects")
        found.append(tracking_selectors.project_get(user=user, team_slug=team_slug, project_slug=project_slug))
    owner = next((project.team for project in found if project.role in ROLES_FOR["write"]), None)  # type: ignore[attr-defined]
    if owner is None:
        raise PermissionDenied("Saving a comparison takes the member or admin role in the team of one of its projects.")
    selectors.comparison_selection_check(
        projects=found,
        metric=metric,
        variants=variants,
        models=models,
        task=task,
        baseline=baseline,
        normalize=normalize,
    )
    with transaction.atomic():
        comparison = Comparison.objects.create(
            team=owner,
            created_by=user,
            metric=metric,
            variants=variants,
            model_names=models,
            task=task,
            baseline=baseline,
            normalize=normalize,
            status=Status.COMPUTING,
            pending=True,
            marked_at=timezone.now(),
        )
        comparison.projects.set(found)
        recompute.enqueue_on_commit(_enqueue_comparison, comparison.uuid)
    # Read again: embedded (eager) mode computed it on commit already.
    return selectors.comparison_with_projects(pk=comparison.pk)


def comparison_current(*, comparison: Comparison) -> Comparison:
    """The comparison, with a recompute queued when an older method version computed it (it is
    shown as stale meanwhile), as `metric_stats_ensure` does for project statistics."""
    if comparison.pending or comparison.method_version in ("", METHOD_VERSION):
        return comparison
    recompute.mark(Comparison.objects.filter(pk=comparison.pk), _enqueue_comparison, "uuid")
    return selectors.comparison_with_projects(pk=comparison.pk)


def comparison_recompute(*, comparison_id: str) -> str:
    """Recompute a saved comparison; outcomes as for `stats_recompute`."""
    try:
        comparison = Comparison.objects.filter(uuid=uuid.UUID(comparison_id)).first()
    except ValueError:
        comparison = None
    if comparison is None:
        return "gone"
    claim = recompute.claim(Comparison, comparison.pk)
    if isinstance(claim, str):
        return claim
    try:
        recompute.delay_for_tests()
        fields = _comparison_compute(comparison)
    except Exception as exc:
        recompute.release(Comparison, comparison.pk, claim, exc)
        raise
    if fields is None:
        recompute.finish(Comparison, comparison.pk, claim, {}, lambda: None)
        return "unchanged"
    return "computed" if recompute.finish(Comparison, comparison.pk, claim, fields, lambda: None) else "superseded"


def _comparison_compute(comparison: Comparison) -> dict[str, Any] | None:
    """The stored fields of a comparison's new results, or None when its inputs did not change."""
    projects = list(comparison.projects.select_related("team").order_by("team__slug", "slug"))
    rules = [scores.metric_rule(project_id=project.pk, metric=comparison.metric) for project in projects]
    tables = [
        (project.path, scores.metric_scores(project_id=project.pk, metric=comparison.metric, rule=rule))
        for project, rule in zip(projects, rules, strict=True)
    ]
    seed = compute.bootstrap_seed("comparison", comparison.uuid, comparison.metric)
    context = {
        "rules": [rule.to_dict() for rule in rules],
        "projects": [path for path, _ in tables],
        "selection": [comparison.variants, comparison.model_names, comparison.task, comparison.baseline],
        "normalize": comparison.normalize,
        "seed": seed,
    }
    fingerprint = compute.inputs_fingerprint([table for _, table in tables], context)
    if comparison.inputs_fingerprint == fingerprint and comparison.method_version == METHOD_VERSION:
        return None
    rule = rules[0] if rules else scores.metric_rule_default(comparison.metric)
    warnings = [
        f"{path} defines {comparison.metric!r} as goal {other.goal}, summary {other.summary}; "
        f"the comparison uses goal {rule.goal}"
        for (path, _), other in zip(tables[1:], rules[1:], strict=True)
        if (other.goal, other.summary, other.k, other.step) != (rule.goal, rule.summary, rule.k, rule.step)
    ]
    chosen_variants = set(comparison.variants or [])
    chosen_models = set(comparison.model_names or [])

    def select(info: scores.VariantInfo) -> bool:
        if chosen_variants:
            return info.fingerprint in chosen_variants
        return not chosen_models or info.model in chosen_models

    groups = compute.groups_build(tables, select=select, task=comparison.task)
    payload = compute.comparison_payload(
        groups,
        metric=comparison.metric,
        goal=rule.goal,
        baseline=comparison.baseline,
        normalize=comparison.normalize,
        seed=seed,
    )
    payload["warnings"] = warnings + payload["warnings"]
    payload.update(rule.to_dict())
    return {
        "payload": payload,
        "computed_at": timezone.now(),
        "inputs_fingerprint": fingerprint,
        "method_version": METHOD_VERSION,
        "bootstrap_seed": seed,
    }


# ---------------------------------------------------------------------------- housekeeping


def stats_requeue(*, now: datetime | None = None) -> int:
    """Queue again the recomputes that were marked but never ran, or started and never ended.

    Pending too long: the enqueue after commit failed (broker down) or the message was lost.
    Computing too long: the worker died and its message did not come back. Each row is queued
    at most once per SEEDBOARD_STATS_REQUEUE_AFTER; a duplicate costs one fingerprint check.
    """
    now = now or timezone.now()
    waited = now - timedelta(seconds=settings.SEEDBOARD_STATS_REQUEUE_AFTER)
    lost = waited - timedelta(seconds=settings.SEEDBOARD_CELERY_VISIBILITY_TIMEOUT)
    stuck = Q(pending=True, marked_at__lt=waited) | Q(pending=False, status=Status.COMPUTING, claimed_at__lt=lost)
    queued = 0
    targets: list[tuple[type[Recomputed], Callable[..., None], tuple[str, ...]]] = [
        (MetricStats, _enqueue_stats, ("project_id", "metric")),
        (Comparison, _enqueue_comparison, ("uuid",)),
        *[(dependent.model, dependent.enqueue, dependent.fields) for dependent in recompute.dependents()],
    ]
    for model, enqueue_row, fields in targets:
        for pk, *args in model._default_manager.filter(stuck).order_by("pk").values_list("pk", *fields)[:1000]:
            # Conditional on the same state, so two sweeps never queue a row twice.
            if model._default_manager.filter(stuck, pk=pk).update(pending=True, marked_at=now):
                recompute.enqueue_on_commit(enqueue_row, *args)
                queued += 1
    return queued
