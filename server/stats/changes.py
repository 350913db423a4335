"""Use cases that change what statistics read: the tracking write and its stale mark, together.

Each function here is one use case, called once by its view or task: it runs tracking's
service and the statistics' stale mark in ONE transaction. If the mark fails, the change
rolls back with it and the client's retry (or the task's) finds everything as it was, so
statistics can never stay `fresh` after a committed change. (Two separate transactions lost
the mark for good: a retried metric batch came back as a duplicate and marked nothing; a
retried crash sweep found no running runs left.)

Tracking knows nothing of statistics (the dependency goes stats -> tracking), which is why
these live here and not in tracking's services. Recomputes are queued on commit, so a
rolled-back change queues nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from rest_framework.request import Request

from server.stats import services as stats_services
from server.tracking import ingestion, resume
from server.tracking import services as tracking_services
from server.tracking.batches import MetricBatch
from server.tracking.ingestion import IngestResult
from server.tracking.models import Project, Run
from server.tracking.selectors import RunRef


def run_create(*, project: Project, run_id: uuid.UUID | None = None, **fields: Any) -> tuple[Run, bool]:
    """Create a run (or find the client's retry of it); a run created already ended counts at once."""
    with transaction.atomic():
        run, created = tracking_services.run_create(project=project, run_id=run_id, **fields)
        if created:
            stats_services.run_changed(run=run, previous_status=Run.Status.RUNNING, fields=["status"])
    return run, created


def run_resume(*, project: Project, run_id: uuid.UUID, mode: str, **fields: Any) -> resume.ResumeResult:
    """Resume a run (or create it, as `mode` allows); an ended run that runs again leaves the
    statistics it counted for, so they turn stale in the same transaction."""
    with transaction.atomic():
        result = resume.run_resume(project=project, run_id=run_id, mode=mode, **fields)
        stats_services.run_changed(run=result.run, previous_status=result.previous_status, fields=["status"])
    return result


def run_update(*, run: Run, fields: dict[str, Any]) -> Run:
    """Apply a partial update and mark the statistics the run feeds stale when it counts for them."""
    with transaction.atomic():
        previous_status = run.status
        run = tracking_services.run_update(run=run, **fields)
        stats_services.run_changed(run=run, previous_status=previous_status, fields=fields.keys())
    return run


def run_definition_set(*, run: Run, model: str, config: dict[str, Any], seed: int | None) -> Run:
    """Move a run to the variant of a new model, config or seed; an ended run leaves the
    statistics of its old variant and joins those of its new one, so they turn stale."""
    with transaction.atomic():
        before = (run.model, run.config, run.seed)
        run = tracking_services.run_definition_set(run=run, model=model, config=config, seed=seed)
        if run.status != Run.Status.RUNNING and before != (run.model, run.config, run.seed):
            stats_services.runs_changed(runs=[run])
    return run


def metrics_ingest(*, run: RunRef, batch: MetricBatch) -> IngestResult:
    """Store a metric batch exactly once; points of an ended run (a late upload or a replay)
    change its scores, so the same transaction marks them stale."""
    ended = run.status != Run.Status.RUNNING
    with transaction.atomic():
        result = ingestion.metrics_ingest(run_pk=run.pk, batch=batch, run_ended=ended, resumed=run.resumed)
        if ended and not result.duplicate:
            stats_services.run_points_added(run_pk=run.pk)
    return result


def project_update(*, project: Project, fields: dict[str, Any]) -> Project:
    """Update a project; new noise keys regroup its variants, so every metric turns stale."""
    with transaction.atomic():
        previous_noise_keys = project.noise_keys
        updated = tracking_services.project_update(project=project, **fields)
        if updated.noise_keys != previous_noise_keys:
            stats_services.project_changed(project=updated)
    return updated


def project_delete(*, project: Project, actor: User | None, request: HttpRequest | Request | None = None) -> int:
    """Delete a project with its runs; what read it (comparisons, benchmark leaderboards) turns
    stale in the same transaction. Returns the number of runs deleted."""
    with transaction.atomic():
        stats_services.project_removing(project=project)
        return tracking_services.project_delete(project=project, actor=actor, request=request)


def runs_mark_crashed() -> list[Run]:
    """Mark silent running runs crashed and their statistics stale; returns the runs."""
    with transaction.atomic():
        crashed = tracking_services.runs_mark_crashed()
        stats_services.runs_changed(runs=crashed)
    return crashed
