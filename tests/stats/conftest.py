"""Helpers of the statistics tests: studies logged through tracking's services, tasks run in-process."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pytest
from django.conf import settings

from server.accounts.models import Team
from server.tracking import ingestion
from server.tracking import services as tracking_services
from server.tracking.batches import batch_parse
from server.tracking.models import Project, Run
from workers.celery import app


def log_run(
    project: Project,
    *,
    model: str = "resnet18",
    config: Mapping[str, Any] | None = None,
    seed: int | None = 0,
    task: str = "",
    points: Mapping[str, Sequence[float | str] | tuple[Sequence[int], Sequence[float | str]]] | None = None,
    status: str = Run.Status.FINISHED,
    summary: Mapping[str, Any] | None = None,
) -> Run:
    """A run as the SDK would leave it: created, points stored, then its final state.

    `points[key]` is a list of values at steps 0, 1, 2... or a (steps, values) pair; values may
    be the non-finite strings of the wire format.
    """
    run, _ = tracking_services.run_create(project=project, model=model, config=dict(config or {}), seed=seed, task=task)
    columns: dict[str, list[Any]] = {"key": [], "step": [], "value": []}
    for key, series in (points or {}).items():
        steps, values = series if isinstance(series, tuple) else (range(len(series)), series)
        for step, value in zip(steps, values, strict=True):
            columns["key"].append(key)
            columns["step"].append(step)
            columns["value"].append(value)
    if columns["key"]:
        batch = batch_parse({"batch_id": str(uuid.uuid4()), "points": columns}, max_points=50_000)
        ingestion.metrics_ingest(run_pk=run.pk, batch=batch)
    if status != Run.Status.RUNNING or summary:
        tracking_services.run_update(run=run, status=status, summary=dict(summary) if summary else None)
    return run


@pytest.fixture
def project(make_token: Callable[..., str]) -> Project:
    """acme/study, with alice an admin of team acme (`api` is her client)."""
    make_token("acme", "alice")
    return tracking_services.project_get_or_create(team=Team.objects.get(slug="acme"), slug="study")


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Celery tasks run in-process, as in the embedded default (and errors propagate)."""
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = settings.CELERY_TASK_ALWAYS_EAGER, False
