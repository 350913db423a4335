"""Celery tasks run by a real worker through the configured broker (Redis in CI)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.utils import timezone

from server.tracking.models import Run
from workers.celery import app
from workers.tasks import runs_mark_crashed

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs a Redis broker (REDIS_URL)")


@pytest.fixture
def worker(transactional_db):
    import celery.contrib.testing.tasks  # noqa: F401  (registers the ping task start_worker uses)

    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=True, shutdown_timeout=10):
        yield
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


def test_the_worker_marks_runs_with_a_stopped_heartbeat_as_crashed(worker, client_for):
    api = client_for()
    alive, silent, done = (
        api.post("/api/v1/runs/", {"project": "acme/p", "model": "m"}, format="json").json()["id"] for _ in range(3)
    )
    api.patch(f"/api/v1/runs/{done}/", {"status": "finished"}, format="json")
    long_ago = timezone.now() - timedelta(seconds=settings.SEEDBOARD_HEARTBEAT_TIMEOUT + 60)
    Run.objects.filter(uuid__in=[silent, done]).update(heartbeat_at=long_ago)

    app.send_task("seedboard.runs_mark_crashed")  # through the broker, not in-process
    marked = runs_mark_crashed.apply_async().get(timeout=30)

    statuses = dict(Run.objects.values_list("uuid", "status"))
    assert {str(k): v for k, v in statuses.items()} == {alive: "running", silent: "crashed", done: "finished"}
    assert marked == 0  # the first task already did it; running it again changes nothing
    # A heartbeat from a run that was only silent brings it back.
    assert api.patch(f"/api/v1/runs/{silent}/", {"heartbeat": True}, format="json").json()["status"] == "running"
