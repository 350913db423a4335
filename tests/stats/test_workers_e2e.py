"""End to end on real services: a live server, Redis, PostgreSQL and real Celery workers.

Skipped without REDIS_URL (the embedded default runs tasks in-process; the other tests cover it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import redis
from django.conf import settings

from server.stats.models import MetricStats, Status
from tests.conftest import REPO, broker_reset, celery_worker_thread, database_url
from tests.stats.conftest import log_run

pytestmark = [
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs a Redis broker (REDIS_URL)"),
    pytest.mark.slow,
]

# Final val/loss of each seed: the statistics use summary "min" (declared below).
CURVES = {0.1: [0.30, 0.32, 0.29], 0.01: [0.45, 0.40, 0.50]}


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def test_runs_logged_through_the_sdk_are_recomputed_by_a_real_worker(
    seedboard_server: Any, celery_worker: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import seedboard

    for name in ("MODE", "FLUSH_TIMEOUT", "TOKEN_FILE"):
        monkeypatch.delenv(f"SEEDBOARD_{name}", raising=False)
    monkeypatch.setenv("SEEDBOARD_DIR", str(tmp_path))
    http = httpx.Client(
        base_url=f"{seedboard_server.url}/api/v1/", headers={"Authorization": f"Bearer {seedboard_server.token}"}
    )
    for lr, finals in CURVES.items():
        for seed, final in enumerate(finals):
            with seedboard.init(
                project="acme/e2e", model="mlp", config={"lr": lr}, seed=seed, task="toy",
                url=seedboard_server.url, token=seedboard_server.token,
            ) as run:  # fmt: skip
                for step in range(50):
                    run.log({"val/loss": final + 1.0 / (1 + step) - 0.02}, step=step)  # its minimum: the last step
    definition = {"key": "val/loss", "goal": "min", "summary": "min"}
    assert http.put("projects/acme/e2e/metric-definitions/", json=definition).status_code == 200

    def fresh() -> dict[str, Any] | None:
        body = http.get("projects/acme/e2e/variants/", params={"metric": "val/loss"}).json()
        return body if body["status"] == "fresh" and body["summary"] == "min" else None

    body = wait_for(fresh, 30, "fresh statistics")
    by_lr = {block["config"]["lr"]: block for block in body["results"]}
    for lr, finals in CURVES.items():
        expected = np.array(finals) + 1.0 / 50 - 0.02
        assert by_lr[lr]["n"] == 3 and by_lr[lr]["n_failed"] == 0
        assert by_lr[lr]["mean"] == pytest.approx(expected.mean(), rel=1e-9)
        assert by_lr[lr]["std"] == pytest.approx(expected.std(ddof=1), rel=1e-9)

    comparison = http.post("comparisons/", json={"metric": "val/loss", "projects": ["acme/e2e"]})
    assert comparison.status_code == 202
    url = f"comparisons/{comparison.json()['id']}/"
    result = wait_for(lambda: (r := http.get(url).json())["status"] == "fresh" and r, 30, "a fresh comparison")
    assert result["ranking"]["leader"] == by_lr[0.1]["variant"]  # lower loss is better
    means = {block["variant"]: block["mean"] for block in result["variants"]}
    [pair] = result["pairs"]
    assert pair["diff"] == pytest.approx(means[pair["a"]] - means[pair["b"]])


def test_500_runs_finishing_at_once_queue_one_recompute_per_metric(seedboard_server: Any) -> None:
    from server.accounts.models import Team
    from server.tracking.services import project_get_or_create

    broker_reset()
    project = project_get_or_create(team=Team.objects.get(slug="acme"), slug="burst")
    runs = [
        log_run(project, config={"lr": lr}, seed=seed, status="running",
                points={"val/acc": [0.5, 0.8 + 0.0001 * seed], "train/loss": [1.0, 0.3]})
        for lr in (0.1, 0.2) for seed in range(250)
    ]  # fmt: skip
    headers = {"Authorization": f"Bearer {seedboard_server.token}"}
    with httpx.Client(base_url=f"{seedboard_server.url}/api/v1/", headers=headers, timeout=30) as http:

        def finish(run: Any) -> int:
            return http.patch(f"runs/{run.uuid}/", json={"status": "finished"}).status_code

        # Eight clients against two server processes: the marks really race.
        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(finish, runs)) == {200}
    broker = redis.Redis.from_url(settings.REDIS_URL)
    assert broker.llen("celery") == 2  # one message per metric, not 1,000

    with celery_worker_thread():
        wait_for(lambda: not MetricStats.objects.exclude(status=Status.FRESH).exists(), 60, "fresh statistics")
    for stats in MetricStats.objects.filter(project=project):
        assert (stats.claims, stats.pending) == (1, False), stats.metric
        assert sum(block["n"] for block in stats.results.get().payload) == 500


class WorkerProcess:
    """`celery -A workers worker` in a child process, as deployed."""

    def __init__(self, name: str, pool: str = "solo", **env: str) -> None:
        child_env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "DJANGO_SETTINGS_MODULE": "server.settings",
            "SEEDBOARD_CELERY_VISIBILITY_TIMEOUT": "2",  # a killed worker's task comes back after 2 s
            **env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers", "worker", "--pool", pool, "--concurrency", "1",
             "--loglevel", "warning",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--hostname", f"{name}@%h"],
            cwd=REPO, env=child_env,
        )  # fmt: skip

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def workers() -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    broker_reset()
    yield started
    for worker in started:
        worker.stop()
    broker_reset()


def test_a_worker_killed_in_the_middle_of_a_recompute_loses_nothing(
    transactional_db: None, project: Any, api: Any, workers: list[WorkerProcess]
) -> None:
    runs = [
        log_run(project, config={"lr": lr}, seed=seed, points={"val/acc": [0.5, 0.8 + 0.01 * seed]}, status="running")
        for lr in (0.1, 0.2)
        for seed in range(4)
    ]
    for run in runs:  # committed at once: each finish queues (at most) one recompute in Redis
        assert api.patch(f"/api/v1/runs/{run.uuid}/", {"status": "finished"}, format="json").status_code == 200
    stats = MetricStats.objects.get(metric="val/acc")
    assert stats.pending and stats.claims == 0

    # The first worker claims the recompute, then sleeps in it (a test hook) until it is killed.
    workers.append(WorkerProcess("doomed", SEEDBOARD_STATS_TEST_DELAY_MS="60000"))
    wait_for(lambda: MetricStats.objects.get(pk=stats.pk).status == Status.COMPUTING, 30, "the first claim")
    workers[0].kill()

    # acks_late: the message was never acknowledged, so Redis hands it to the next worker.
    workers.append(WorkerProcess("rescuer"))
    wait_for(lambda: MetricStats.objects.get(pk=stats.pk).status == Status.FRESH, 40, "the recompute")
    stats.refresh_from_db()
    assert (stats.claims, stats.written_claim, stats.pending) == (2, 2, False)
    body = api.get("/api/v1/projects/acme/study/variants/", {"metric": "val/acc"}).json()
    assert body["status"] == "fresh" and [block["n"] for block in body["results"]] == [4, 4]


def test_a_recompute_past_the_task_time_limit_is_stopped_and_records_why(
    transactional_db: None, project: Any, api: Any, workers: list[WorkerProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    from workers import tasks

    # Every task has the configured limits; they travel in each task message from the process
    # that queues it (here, this one), so this test shortens them here.
    assert (tasks.stats_recompute.time_limit, tasks.comparison_recompute.soft_time_limit) == (
        settings.SEEDBOARD_TASK_TIME_LIMIT,
        settings.CELERY_TASK_SOFT_TIME_LIMIT,
    )
    monkeypatch.setattr(tasks.stats_recompute, "time_limit", 4)
    monkeypatch.setattr(tasks.stats_recompute, "soft_time_limit", 2)
    monkeypatch.setattr(tasks.stats_recompute, "_exec_options", None)  # Celery caches them at first send
    run = log_run(project, points={"val/acc": [0.5]}, status="running")
    assert api.patch(f"/api/v1/runs/{run.uuid}/", {"status": "finished"}, format="json").status_code == 200
    stats = MetricStats.objects.get(metric="val/acc")
    # The recompute would take 60 s (a test hook); it is allowed 4 s, 2 s before the soft limit.
    workers.append(
        WorkerProcess(
            "bounded",
            pool="prefork",
            SEEDBOARD_STATS_TEST_DELAY_MS="60000",
            SEEDBOARD_CELERY_VISIBILITY_TIMEOUT="60",  # above the time limit, as it must be
        )
    )
    started = time.monotonic()
    wait_for(lambda: "SoftTimeLimitExceeded" in MetricStats.objects.get(pk=stats.pk).error, 40, "the time limit")
    stats.refresh_from_db()
    assert stats.status == Status.STALE and stats.claims == 1
    assert time.monotonic() - started < 30
