"""A change and its stale mark commit together: when the mark fails, the change is not kept either,
so the client's (or the task's) retry finds it undone and marks the statistics this time."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection
from django.utils import timezone

from server.stats import services
from server.stats.models import MetricStats, Status
from server.tracking.models import MetricSummary, Run
from tests.stats.conftest import log_run
from workers import tasks


@contextmanager
def marks_refused() -> Iterator[None]:
    """While inside, every UPDATE of a statistics row fails in the database (an outage of that table)."""
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(
                "CREATE FUNCTION test_refuse_marks() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'statistics unavailable'; END $$"
            )
            cursor.execute(
                "CREATE TRIGGER test_refuse_marks BEFORE UPDATE ON stats_metricstats "
                "FOR EACH ROW EXECUTE FUNCTION test_refuse_marks()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER test_refuse_marks BEFORE UPDATE ON stats_metricstats "
                "BEGIN SELECT RAISE(ABORT, 'statistics unavailable'); END"
            )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_refuse_marks" + (" ON stats_metricstats" if postgres else ""))
            if postgres:
                cursor.execute("DROP FUNCTION test_refuse_marks()")


def fresh_statistics(project, metric="val/acc") -> MetricStats:
    services.stats_mark_stale(project_id=project.pk, metrics=[metric])
    MetricStats.objects.update(pending=False, status=Status.FRESH)
    return MetricStats.objects.get(metric=metric)


def test_a_late_batch_whose_mark_failed_is_not_kept_and_its_retry_marks(db, api, project):
    run = log_run(project, points={"val/acc": [0.5]})
    stats = fresh_statistics(project)
    batch = {"batch_id": str(uuid.uuid4()), "points": {"key": ["val/acc"], "step": [1], "value": [0.9]}}
    with marks_refused(), pytest.raises(DatabaseError):
        api.post(f"/api/v1/runs/{run.uuid}/metrics/", batch, format="json")
    assert MetricSummary.objects.get(run=run, key__name="val/acc").count == 1  # the late point went too
    retried = api.post(f"/api/v1/runs/{run.uuid}/metrics/", batch, format="json").json()  # the SDK retries
    assert (retried["stored"], retried["duplicate"]) == (1, False)
    stats.refresh_from_db()
    assert (stats.status, stats.pending) == (Status.STALE, True)


def test_a_crash_sweep_whose_mark_failed_crashes_nothing_and_its_retry_marks(db, project):
    log_run(project, seed=0, points={"val/acc": [0.5]})
    silent = log_run(project, seed=1, points={"val/acc": [0.1]}, status="running")
    Run.objects.filter(pk=silent.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    stats = fresh_statistics(project)
    with marks_refused(), pytest.raises(DatabaseError):
        tasks.runs_mark_crashed()
    silent.refresh_from_db()
    assert silent.status == Run.Status.RUNNING
    assert tasks.runs_mark_crashed() == 1  # the task's retry
    stats.refresh_from_db()
    assert (stats.status, stats.pending) == (Status.STALE, True)


@pytest.mark.parametrize("change", [{"status": "failed"}, {"summary": {"val/acc": 0.99}}])
def test_a_run_update_whose_mark_failed_is_not_kept(db, api, project, change):
    run = log_run(project, points={"val/acc": [0.5]})
    fresh_statistics(project)
    with marks_refused(), pytest.raises(DatabaseError):
        api.patch(f"/api/v1/runs/{run.uuid}/", change, format="json")
    run.refresh_from_db()
    assert (run.status, run.summary) == (Run.Status.FINISHED, {})
