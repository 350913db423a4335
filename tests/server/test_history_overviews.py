"""Histories of finished runs served from their overviews: exact, current, built off the request path."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from server.tracking import ingestion, points, services
from server.tracking.batches import batch_parse
from server.tracking.models import MetricOverview, OverviewBuild, Run
from server.tracking.overviews import OVERVIEW_LEVELS, Overview
from tests.server.history_reference import minmax_reference
from workers import tasks
from workers.celery import app

N = 30_000  # points of the long series: overviews start above 8,192


def curve(seed: int, n: int = N, start: int = 0) -> tuple[list[int], list[float], list[float]]:
    """Steps with gaps, a noisy curve with ties, a NaN, infinities and huge spikes."""
    rng = np.random.default_rng(seed)
    steps = start + np.sort(rng.choice(2 * n, size=n, replace=False))
    values = np.round(np.cumsum(rng.normal(size=n)), 1)
    for special in (np.nan, np.inf, -np.inf, 1e300, -1e300):
        values[rng.integers(n)] = special
    return steps.tolist(), values.tolist(), (1.7e9 + rng.random(n)).tolist()


def wire(values: list[float]) -> list[float | str]:
    return [v if math.isfinite(v) else "NaN" if v != v else "Infinity" if v > 0 else "-Infinity" for v in values]


NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def from_wire(values: list[float | str]) -> list[float]:
    return [NON_FINITE[v] if isinstance(v, str) else v for v in values]


def new_run(api: Any, project: str = "acme/hist") -> str:
    return api.post("/api/v1/runs/", {"project": project, "model": "m"}, format="json").json()["id"]


def log(api: Any, run_id: str, steps: list[int], values: list[float], times: list[float], key: str = "val/acc") -> None:
    for lo in range(0, len(steps), 50_000):
        hi = lo + 50_000
        points_ = {"key": [key] * len(steps[lo:hi]), "step": steps[lo:hi], "value": wire(values[lo:hi]),
                   "time": times[lo:hi]}  # fmt: skip
        response = api.post(
            f"/api/v1/runs/{run_id}/metrics/", {"batch_id": str(uuid.uuid4()), "points": points_}, format="json"
        )
        assert response.status_code == 200, response.json()


def batch(steps: list[int], values: list[float], key: str = "val/acc") -> Any:
    return batch_parse(
        {"batch_id": str(uuid.uuid4()), "points": {"key": [key] * len(steps), "step": steps, "value": wire(values)}},
        max_points=50_000,
    )


def assert_history_equals(got: dict[str, Any], expected: tuple[list[tuple[int, float, float]], int]) -> None:
    expected_points, count = expected
    assert got["count"] == count
    assert got["step"] == [p[0] for p in expected_points]
    np.testing.assert_array_equal(from_wire(got["value"]), [p[1] for p in expected_points])  # NaN equals NaN here
    assert got["time"] == [p[2] for p in expected_points]


def run_history(api: Any, run_id: str, **query: Any) -> dict[str, Any]:
    params = "&".join(f"{name}={value}" for name, value in query.items() if value is not None)
    response = api.get(f"/api/v1/runs/{run_id}/metrics/?key=val/acc&{params}")
    assert response.status_code == 200, response.json()
    return response.json()["metrics"]["val/acc"]


def pk_of(run_id: str) -> int:
    return Run.objects.get(uuid=run_id).pk


@pytest.fixture
def eager() -> Iterator[None]:
    """Tasks run in-process when their on-commit callbacks run, as in the embedded default."""
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = settings.CELERY_TASK_ALWAYS_EAGER, False


@pytest.fixture
def raw_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Every read of the raw points table (run pks, or edge ranges), recorded and passed through.

    A read of keys of one run (the run history endpoint) is recorded as a read of that run."""
    calls: list[tuple[str, Any]] = []
    read, read_ranges = points.points_read_grouped, points.points_read_ranges_grouped

    def points_read_grouped(**kwargs: Any) -> Any:
        if kwargs["ids"]:
            calls.append(("runs", sorted(kwargs["ids"]) if kwargs["by"] == "run_id" else [kwargs["other"]]))
        return read(**kwargs)

    def points_read_ranges_grouped(**kwargs: Any) -> Any:
        if kwargs["ranges"]:
            calls.append(("ranges", kwargs["ranges"]))
        return read_ranges(**kwargs)

    monkeypatch.setattr(points, "points_read_grouped", points_read_grouped)
    monkeypatch.setattr(points, "points_read_ranges_grouped", points_read_ranges_grouped)
    return calls


@pytest.fixture
def finished_run(
    api: Any, eager: None, django_capture_on_commit_callbacks: Callable[..., Any]
) -> tuple[str, list[int], list[float], list[float]]:
    """A run of N points of val/acc, finished through the API; its overviews built by the queued task."""
    run_id = new_run(api)
    steps, values, times = curve(seed=1)
    log(api, run_id, steps, values, times)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.patch(f"/api/v1/runs/{run_id}/", {"status": "finished"}, format="json").status_code == 200
    return run_id, steps, values, times


@pytest.mark.parametrize("max_points", [2, 4, 100, 1000, 3000])
def test_a_finished_run_is_answered_from_its_overviews_with_every_buckets_true_extremes(
    api, finished_run, raw_reads, max_points
):
    run_id, steps, values, times = finished_run
    assert MetricOverview.objects.filter(run_id=pk_of(run_id)).count() == OVERVIEW_LEVELS
    got = run_history(api, run_id, max_points=max_points)
    assert raw_reads == []  # not one raw point read
    assert got["downsampled"] is True
    assert_history_equals(got, minmax_reference(steps, values, times, max_points=max_points))
    assert len(got["step"]) <= max_points
    assert {"NaN", "-Infinity"} <= set(got["value"])  # the highest (NaN ranks above all) and the lowest
    if max_points >= 1000:
        assert {"Infinity", 1e300, -1e300} <= set(got["value"])  # each its bucket's extreme: every spike survives


@pytest.mark.parametrize(
    ("min_step", "max_step", "reads"),
    [
        (7_777, 52_221, "edges"),  # cuts through stored buckets at both ends
        (16_384, 32_767, "edges"),  # on bucket boundaries
        (None, 20_001, "edges"),
        (20_001, None, "edges"),
        (30_000, 31_200, "raw"),  # finer than the finest overview
        (100, 160, "raw"),  # fewer points than max_points: returned untouched
        (70_000, 90_000, "none"),  # after the last step
    ],
)
def test_zoomed_histories_equal_the_reference_and_read_raw_points_only_at_their_edges(
    api, finished_run, raw_reads, min_step, max_step, reads
):
    run_id, steps, values, times = finished_run
    got = run_history(api, run_id, max_points=500, min_step=min_step, max_step=max_step)
    expected = minmax_reference(steps, values, times, max_points=500, min_step=min_step, max_step=max_step)
    assert_history_equals(got, expected)
    assert got["downsampled"] is (expected[1] > 500)
    if reads == "edges":
        [(kind, ranges)] = raw_reads
        widths = [last - first + 1 for _, first, last in ranges]
        assert kind == "ranges" and len(ranges) == (min_step is not None) + (max_step is not None)
        assert sum(widths) < 0.05 * (max(steps) - min(steps))  # a few stored buckets' worth
    elif reads == "raw":
        assert raw_reads == [("runs", [pk_of(run_id)])]
    else:
        assert raw_reads == [] and got["count"] == 0


def test_an_overview_built_before_late_points_is_not_used_until_it_is_rebuilt(
    api, finished_run, raw_reads, django_capture_on_commit_callbacks
):
    run_id, steps, values, times = finished_run
    late_steps, late_values = [65_000, 65_001, 65_002], [1e308, -1e308, 0.5]
    with django_capture_on_commit_callbacks() as queued:
        log(api, run_id, late_steps, late_values, [1.8e9] * 3)
    everything = (steps + late_steps, values + late_values, times + [1.8e9] * 3)
    assert OverviewBuild.objects.filter(run_id=pk_of(run_id)).exists()  # a rebuild is queued...
    assert set(MetricOverview.objects.filter(run_id=pk_of(run_id)).values_list("count", flat=True)) == {N}

    got = run_history(api, run_id, max_points=1000)  # ...and until it runs, reads use the raw points
    assert_history_equals(got, minmax_reference(*everything, max_points=1000))
    assert got["count"] == N + 3 and {1e308, -1e308} <= set(got["value"])
    assert raw_reads == [("runs", [pk_of(run_id)])]

    for callback in queued:
        callback()  # the queued tasks run (eagerly): statistics, and the overview rebuild
    assert set(MetricOverview.objects.filter(run_id=pk_of(run_id)).values_list("count", flat=True)) == {N + 3}
    raw_reads.clear()
    assert run_history(api, run_id, max_points=1000) == got
    assert raw_reads == []


def test_one_request_mixes_runs_answered_from_overviews_and_from_raw_points(api, finished_run, raw_reads):
    done, steps, values, times = finished_run
    running = new_run(api)  # still receiving points: no overview
    running_curve = curve(seed=2, start=1_000)
    log(api, running, *running_curve)
    short = new_run(api)  # finished, but too short for an overview
    short_curve = curve(seed=3, n=2_000)
    log(api, short, *short_curve)
    api.patch(f"/api/v1/runs/{short}/", {"status": "finished"}, format="json")
    silent = new_run(api)  # never logged the key
    runs = "&".join(f"run={run_id}" for run_id in (done, running, short, silent))

    body = api.get(f"/api/v1/projects/acme/hist/metrics/?key=val/acc&{runs}&max_points=700").json()
    by_run = {entry["run"]: entry for entry in body["runs"]}
    assert_history_equals(by_run[done], minmax_reference(steps, values, times, max_points=700))
    assert_history_equals(by_run[running], minmax_reference(*running_curve, max_points=700))
    assert_history_equals(by_run[short], minmax_reference(*short_curve, max_points=700))
    assert by_run[silent]["step"] == [] and by_run[silent]["count"] == 0
    assert raw_reads == [("runs", sorted([pk_of(running), pk_of(short)]))]  # one query, without the finished run


def test_a_finish_and_a_burst_of_late_batches_queue_one_build(api, eager, django_capture_on_commit_callbacks):
    run_id = new_run(api)
    log(api, run_id, *curve(seed=4, n=10_000))
    run = Run.objects.get(uuid=run_id)
    with django_capture_on_commit_callbacks() as queued:
        services.run_update(run=run, status=Run.Status.FINISHED)
        for step in range(50_000, 50_020):
            ingestion.metrics_ingest(run_pk=run.pk, batch=batch([step], [0.5]), run_ended=True)
    assert len(queued) == 1 and OverviewBuild.objects.filter(run=run).exists()

    queued[0]()  # the build starts: it takes the run off the queue...
    assert not OverviewBuild.objects.exists()
    assert set(MetricOverview.objects.filter(run=run).values_list("count", flat=True)) == {10_020}
    with django_capture_on_commit_callbacks() as again:
        ingestion.metrics_ingest(run_pk=run.pk, batch=batch([60_000], [0.25]), run_ended=True)
        ingestion.metrics_ingest(run_pk=run.pk, batch=batch([60_001], [0.75]), run_ended=True)
    assert len(again) == 1  # ...so later points queue exactly one more


def test_a_repeated_build_finds_the_overviews_current_and_writes_nothing(api, finished_run):
    run_pk = pk_of(finished_run[0])
    before = list(MetricOverview.objects.filter(run_id=run_pk).order_by("level").values_list("level", "built_at"))
    assert tasks.overviews_build.delay(run_pk).get() == 0  # a duplicate message, as acks_late may deliver
    after = list(MetricOverview.objects.filter(run_id=run_pk).order_by("level").values_list("level", "built_at"))
    assert after == before and len(after) == OVERVIEW_LEVELS


def test_an_older_build_finishing_last_does_not_replace_a_newer_one(api, finished_run):
    run_pk = pk_of(finished_run[0])
    key_id = MetricOverview.objects.filter(run_id=run_pk).values_list("key_id", flat=True).first()
    stored = MetricOverview.objects.filter(run_id=run_pk).order_by("level")
    older = [Overview.from_bytes(payload) for payload in stored.values_list("payload", flat=True)]
    ingestion.metrics_ingest(run_pk=run_pk, batch=batch([70_000], [1.0]))
    assert services.metric_overviews_build(run_pk=run_pk) == 1
    assert services._overviews_store(run_pk, key_id, older) == 0  # the stale result arrives late
    assert set(MetricOverview.objects.filter(run_id=run_pk).values_list("count", flat=True)) == {N + 1}


def test_runs_with_only_short_series_queue_no_build(api, django_capture_on_commit_callbacks):
    run_id = new_run(api)
    log(api, run_id, *curve(seed=5, n=5_000))
    with django_capture_on_commit_callbacks() as queued:
        services.run_update(run=Run.objects.get(uuid=run_id), status=Run.Status.FINISHED)
    assert queued == [] and not OverviewBuild.objects.exists()


def test_the_crash_sweep_queues_builds_for_the_runs_it_marks(api, django_capture_on_commit_callbacks):
    run_id = new_run(api)
    log(api, run_id, *curve(seed=6, n=10_000))
    long_ago = timezone.now() - timedelta(seconds=settings.SEEDBOARD_HEARTBEAT_TIMEOUT + 60)
    Run.objects.filter(uuid=run_id).update(heartbeat_at=long_ago)
    with django_capture_on_commit_callbacks() as queued:
        assert [run.uuid for run in services.runs_mark_crashed()] == [uuid.UUID(run_id)]
    assert len(queued) == 1 and OverviewBuild.objects.filter(run_id=pk_of(run_id)).exists()


def test_builds_whose_message_was_lost_are_queued_again_once(api, django_capture_on_commit_callbacks):
    run_id = new_run(api)
    log(api, run_id, *curve(seed=7, n=10_000))
    with django_capture_on_commit_callbacks() as lost:  # the enqueue after commit never happens
        services.run_update(run=Run.objects.get(uuid=run_id), status=Run.Status.FINISHED)
    assert len(lost) == 1
    assert services.overviews_requeue() == 0  # not overdue yet
    later = timezone.now() + services.OVERVIEW_REQUEUE_AFTER + timedelta(seconds=1)
    with django_capture_on_commit_callbacks() as queued:
        assert services.overviews_requeue(now=later) == 1
        assert services.overviews_requeue(now=later) == 0
    assert len(queued) == 1


def test_a_long_series_is_read_for_its_build_in_pieces(api, finished_run, monkeypatch, raw_reads):
    run_pk = pk_of(finished_run[0])
    whole = list(MetricOverview.objects.filter(run_id=run_pk).order_by("level").values_list("payload", flat=True))
    MetricOverview.objects.filter(run_id=run_pk).delete()
    monkeypatch.setattr(services, "OVERVIEW_READ_POINTS", 4_000)
    assert services.metric_overviews_build(run_pk=run_pk) == 1
    assert len(raw_reads) >= 5  # about N / 4,000 reads
    pieces = list(MetricOverview.objects.filter(run_id=run_pk).order_by("level").values_list("payload", flat=True))
    assert [bytes(p) for p in pieces] == [bytes(p) for p in whole]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not settings.REDIS_URL, reason="needs a Redis broker (REDIS_URL)")
def test_a_real_worker_builds_the_overviews_of_a_run_finished_through_the_api(api, celery_worker, raw_reads):
    try:
        run_id = new_run(api)
        steps, values, times = curve(seed=8)
        log(api, run_id, steps, values, times)
        assert api.patch(f"/api/v1/runs/{run_id}/", {"status": "finished"}, format="json").status_code == 200
        deadline = time.monotonic() + 30
        while MetricOverview.objects.filter(run_id=pk_of(run_id)).count() < OVERVIEW_LEVELS:
            assert time.monotonic() < deadline, "the worker did not build the overviews"
            time.sleep(0.2)
        assert not OverviewBuild.objects.exists()
        raw_reads.clear()
        got = run_history(api, run_id, max_points=1000)
        assert raw_reads == []
        assert_history_equals(got, minmax_reference(steps, values, times, max_points=1000))
    finally:
        with connection.cursor() as cursor:  # the points table is not a model: the flush leaves it
            cursor.execute("DELETE FROM tracking_metric_point")
