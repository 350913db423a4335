"""A recompute that kills its worker twice is marked failed, not handed to the next worker forever.

A SIGKILL (the kernel's out-of-memory killer) runs no except clause: the row keeps its claim,
status computing, and the broker re-delivers the task (acks_late). Here the computation raises
a BaseException the service does not catch, which leaves the row exactly so, and the service
is called again as the re-delivered task calls it. The last test kills real workers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from server.stats import compute, services
from server.stats.models import Comparison, MetricStats, Status
from tests.conftest import broker_reset
from tests.stats.conftest import log_run
from tests.stats.test_comparisons_api import SCORES, URL, log_study
from tests.stats.test_workers_e2e import WorkerProcess, wait_for


class WorkerKilled(BaseException):
    """Stands for SIGKILL: not an Exception, so `_release` never records it."""


def _killed(*args: object, **kwargs: object) -> dict:
    raise WorkerKilled


def _inputs_changed(comparison: Comparison) -> None:
    """What a finished seed does to a comparison: stale, pending, a new fingerprint to compute."""
    Comparison.objects.filter(pk=comparison.pk).update(inputs_fingerprint="")
    project = comparison.projects.get()
    services.comparisons_mark_stale(project_id=project.pk, metric=comparison.metric)


@pytest.fixture
def comparison(db, api, project, eager_tasks, django_capture_on_commit_callbacks) -> Comparison:
    """A computed comparison of two variants."""
    log_study(project, models={m: SCORES[m] for m in ("resnet18", "resnet50")})
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(URL, {"metric": "val/acc", "projects": ["acme/study"]}, format="json")
    saved = Comparison.objects.get(uuid=response.json()["id"])
    assert saved.status == Status.FRESH
    return saved


def test_a_comparison_stopped_twice_is_failed_with_a_readable_error(
    comparison, api, monkeypatch, django_capture_on_commit_callbacks
):
    computed = []
    monkeypatch.setattr(compute, "comparison_payload", lambda *a, **k: computed.append(1) or _killed())
    with django_capture_on_commit_callbacks(execute=False):
        _inputs_changed(comparison)
    task_id = str(comparison.uuid)
    for _ in range(2):  # delivered, killed; re-delivered, killed
        with pytest.raises(WorkerKilled):
            services.comparison_recompute(comparison_id=task_id)
    assert Comparison.objects.get(pk=comparison.pk).status == Status.COMPUTING

    assert services.comparison_recompute(comparison_id=task_id) == "failed"  # the third delivery
    assert len(computed) == 2
    body = api.get(f"{URL}{task_id}/").json()
    assert body["status"] == "failed"
    assert body["error"].startswith("the computation was stopped 2 times before it finished (out of memory or killed)")
    assert body["pairs"]  # the last results are still served
    # A duplicate message finds nothing to do; the requeue sweep leaves the row alone.
    assert services.comparison_recompute(comparison_id=task_id) == "nothing"
    assert services.stats_requeue() == 0


def test_a_failed_comparison_is_computed_again_when_its_inputs_change(
    comparison, api, monkeypatch, django_capture_on_commit_callbacks
):
    task_id = str(comparison.uuid)
    with monkeypatch.context() as patch:
        patch.setattr(compute, "comparison_payload", _killed)
        with django_capture_on_commit_callbacks(execute=False):
            _inputs_changed(comparison)
        for _ in range(2):
            with pytest.raises(WorkerKilled):
                services.comparison_recompute(comparison_id=task_id)
        assert services.comparison_recompute(comparison_id=task_id) == "failed"
    with django_capture_on_commit_callbacks(execute=False) as queued:
        _inputs_changed(comparison)
    assert len(queued) == 1
    assert services.comparison_recompute(comparison_id=task_id) == "computed"
    body = api.get(f"{URL}{task_id}/").json()
    assert (body["status"], body["error"]) == ("fresh", None)


def test_a_change_between_two_kills_starts_the_count_again(comparison, monkeypatch, django_capture_on_commit_callbacks):
    """A claim after a change may run beside a live older one: only claims in a row count."""
    monkeypatch.setattr(compute, "comparison_payload", _killed)
    task_id = str(comparison.uuid)
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=False):
            _inputs_changed(comparison)
        with pytest.raises(WorkerKilled):
            services.comparison_recompute(comparison_id=task_id)
        assert Comparison.objects.get(pk=comparison.pk).interrupted == 0
    with pytest.raises(WorkerKilled):  # re-delivered once: one interrupted claim, still computed
        services.comparison_recompute(comparison_id=task_id)
    assert Comparison.objects.get(pk=comparison.pk).interrupted == 1


@pytest.fixture
def worker_processes() -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    broker_reset()
    yield started
    for worker in started:
        worker.stop()
    broker_reset()


@pytest.mark.slow
@pytest.mark.skipif(not settings.REDIS_URL, reason="needs a Redis broker (REDIS_URL)")
def test_a_recompute_that_killed_two_real_workers_is_failed_by_the_third(
    transactional_db: None, project: Any, api: Any, worker_processes: list[WorkerProcess]
) -> None:
    runs = [
        log_run(project, config={"lr": lr}, seed=seed, points={"val/acc": [0.5, 0.8 + 0.01 * seed]}, status="running")
        for lr in (0.1, 0.2)
        for seed in range(3)
    ]
    for run in runs:  # one recompute queued in Redis
        assert api.patch(f"/api/v1/runs/{run.uuid}/", {"status": "finished"}, format="json").status_code == 200
    stats = MetricStats.objects.get(metric="val/acc")

    # Two workers in turn claim it, sleep in it (a test hook) and are killed (SIGKILL, as the
    # kernel's out-of-memory killer does); acks_late hands the message to the next one each time.
    for claims in (1, 2):
        worker_processes.append(WorkerProcess(f"doomed{claims}", SEEDBOARD_STATS_TEST_DELAY_MS="60000"))
        wait_for(lambda n=claims: MetricStats.objects.get(pk=stats.pk).claims == n, 40, f"claim {claims}")
        worker_processes[-1].kill()

    worker_processes.append(WorkerProcess("third"))
    wait_for(lambda: MetricStats.objects.get(pk=stats.pk).status == Status.FAILED, 40, "the failed mark")
    stats.refresh_from_db()
    assert (stats.claims, stats.written_claim, stats.interrupted) == (3, 0, 2)
    body = api.get("/api/v1/projects/acme/study/variants/", {"metric": "val/acc"}).json()
    assert body["status"] == "failed" and "stopped 2 times" in body["error"]
