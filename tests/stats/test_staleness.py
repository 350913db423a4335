"""What makes statistics stale, and how recomputes are queued: one per (project, metric), coalesced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from server.stats import recompute, services
from server.stats.models import Comparison, MetricDefinition, MetricStats, Status
from server.tracking import services as tracking_services
from server.tracking.models import Run
from tests.stats.conftest import log_run
from workers import tasks

RUNS = "/api/v1/runs/"


def stats_of(metric="val/acc"):
    return MetricStats.objects.get(metric=metric)


def test_a_burst_of_finishing_runs_queues_one_recompute_per_metric(
    db, api, project, eager_tasks, django_capture_on_commit_callbacks
):
    runs = [
        log_run(project, config={"lr": lr}, seed=seed, points={"val/acc": [0.5], "train/loss": [1.0]}, status="running")
        for lr in (0.1, 0.2)
        for seed in range(100)
    ]
    with django_capture_on_commit_callbacks() as queued:
        for run in runs:
            assert api.patch(f"{RUNS}{run.uuid}/", {"status": "finished"}, format="json").status_code == 200
    assert len(queued) == 2  # 200 runs finished, one recompute queued for each of the two metrics
    assert set(MetricStats.objects.values_list("metric", "pending", "status")) == {
        ("val/acc", True, "stale"),
        ("train/loss", True, "stale"),
    }
    for task in queued:
        task()
    for stats in MetricStats.objects.all():
        assert (stats.status, stats.pending, stats.claims) == (Status.FRESH, False, 1)
    assert (
        sum(block["n"] for block in api.get("/api/v1/projects/acme/study/variants/?metric=val/acc").json()["results"])
        == 200
    )


def test_heartbeats_and_live_summaries_of_a_running_run_queue_nothing(
    db, api, project, django_capture_on_commit_callbacks
):
    run = log_run(project, points={"val/acc": [0.5]}, status="running")
    with django_capture_on_commit_callbacks() as queued:
        api.patch(f"{RUNS}{run.uuid}/", {"heartbeat": True, "summary": {"val/acc": 0.6}}, format="json")
        api.post(f"{RUNS}{run.uuid}/metrics/", {"batch_id": "5f0e7a3c-0000-4000-8000-000000000001",
                 "points": {"key": ["val/acc"], "step": [1], "value": [0.7]}}, format="json")  # fmt: skip
    assert queued == [] and not MetricStats.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"status": "failed"},
        {"status": "crashed"},
        {"summary": {"val/acc": 0.99}},  # a finished run's summary
        {"status": "running"},  # finished, then resumed: it no longer counts
    ],
)
def test_a_change_that_touches_a_finished_or_failed_run_marks_its_metrics_stale(
    db, api, project, django_capture_on_commit_callbacks, change
):
    run = log_run(project, points={"val/acc": [0.5], "train/loss": [1.0]}, summary={"test/acc": 0.4})
    with django_capture_on_commit_callbacks() as queued:
        api.patch(f"{RUNS}{run.uuid}/", change, format="json")
    assert len(queued) == 3
    assert set(MetricStats.objects.values_list("metric", flat=True)) == {"val/acc", "train/loss", "test/acc"}


def test_points_uploaded_after_the_run_ended_mark_it_stale(db, api, project, django_capture_on_commit_callbacks):
    run = log_run(project, points={"val/acc": [0.5]})
    with django_capture_on_commit_callbacks() as queued:
        response = api.post(f"{RUNS}{run.uuid}/metrics/", {"batch_id": "5f0e7a3c-0000-4000-8000-000000000002",
                            "points": {"key": ["val/acc"], "step": [1], "value": [0.7]}}, format="json")  # fmt: skip
        assert response.json()["stored"] == 1
    assert len(queued) == 1 and stats_of().pending


def test_a_run_created_already_finished_counts_at_once(db, api, project, django_capture_on_commit_callbacks):
    services.stats_mark_stale(project_id=project.pk, metrics=["val/acc"])
    MetricStats.objects.update(pending=False, status=Status.FRESH)
    with django_capture_on_commit_callbacks() as queued:
        api.post(RUNS, {"project": "acme/study", "model": "m", "status": "finished"}, format="json")
    assert len(queued) == 1 and stats_of().status == Status.STALE


def test_new_noise_keys_regroup_variants_and_mark_every_metric_stale(
    db, api, project, django_capture_on_commit_callbacks
):
    log_run(project, config={"lr": 0.1, "workers": 4}, points={"val/acc": [0.5]})
    with django_capture_on_commit_callbacks() as queued:
        api.patch("/api/v1/projects/acme/study/", {"description": "only words"}, format="json")
    assert queued == []
    with django_capture_on_commit_callbacks() as queued:
        api.patch("/api/v1/projects/acme/study/", {"noise_keys": ["workers"]}, format="json")
    assert len(queued) == 1 and stats_of().pending


def test_the_crash_sweep_marks_the_statistics_of_crashed_runs_stale(
    db, project, eager_tasks, django_capture_on_commit_callbacks
):
    log_run(project, seed=0, points={"val/acc": [0.5]})
    silent = log_run(project, seed=1, points={"val/acc": [0.1]}, status="running")
    Run.objects.filter(pk=silent.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.runs_mark_crashed.delay().get() == 1
    assert tasks.runs_mark_crashed.delay().get() == 0
    [block] = MetricStats.objects.get(metric="val/acc").results.get().payload
    assert (block["n"], block["n_failed"], block["failed_runs"][0]["status"]) == (1, 1, "crashed")


def test_a_change_during_a_recompute_queues_exactly_one_more(db, project, django_capture_on_commit_callbacks):
    log_run(project, points={"val/acc": [0.5]})
    with django_capture_on_commit_callbacks() as queued:
        services.stats_mark_stale(project_id=project.pk, metrics=["val/acc"])
    stats = stats_of()
    claim = recompute.claim(MetricStats, stats.pk)  # a worker started the recompute...
    assert (claim, stats_of().status, stats_of().pending) == (1, Status.COMPUTING, False)
    with django_capture_on_commit_callbacks() as again:
        services.stats_mark_stale(project_id=project.pk, metrics=["val/acc"])  # ...when a run finished
        services.stats_mark_stale(project_id=project.pk, metrics=["val/acc"])
    assert (len(queued), len(again)) == (1, 1)
    recompute.finish(MetricStats, stats.pk, claim, {}, lambda: None)
    assert stats_of().status == Status.STALE  # the result is out of date: the next recompute is queued
    assert services.stats_recompute(project_id=project.pk, metric="val/acc") == "computed"
    assert (stats_of().status, stats_of().claims, stats_of().written_claim) == (Status.FRESH, 2, 2)
    assert services.stats_recompute(project_id=project.pk, metric="val/acc") == "nothing"  # a duplicate message


def test_an_older_recompute_finishing_last_does_not_replace_newer_results(db, project):
    log_run(project, points={"val/acc": [0.5]})
    services.stats_mark_stale(project_id=project.pk, metrics=["val/acc"])
    pk = stats_of().pk
    older = recompute.claim(MetricStats, pk)
    services.stats_mark_stale(project_id=project.pk, metrics=["val/acc"])
    newer = recompute.claim(MetricStats, pk)
    assert (older, newer) == (1, 2)
    assert stats_of().status == Status.COMPUTING
    assert recompute.finish(MetricStats, pk, newer, {"inputs_fingerprint": "new"}, lambda: None)
    assert not recompute.finish(MetricStats, pk, older, {"inputs_fingerprint": "old"}, lambda: None)
    assert (stats_of().inputs_fingerprint, stats_of().status) == ("new", Status.FRESH)


def test_a_failed_recompute_leaves_the_statistics_stale_with_its_error(db, project):
    log_run(project, points={"val/acc": [0.5]})
    # A definition the API would refuse, written straight to the table: the recompute fails.
    MetricDefinition.objects.create(project=project, key="val/acc", goal="max", summary="median")
    services.stats_mark_stale(project_id=project.pk, metrics=["val/acc"])
    with pytest.raises(ValueError, match="median"):
        services.stats_recompute(project_id=project.pk, metric="val/acc")
    assert stats_of().status == Status.STALE and "median" in stats_of().error


def test_the_requeue_sweep_sends_again_what_was_never_picked_up(db, project, django_capture_on_commit_callbacks):
    log_run(project, points={"val/acc": [0.5], "train/loss": [1.0]})
    services.stats_mark_stale(project_id=project.pk, metrics=["val/acc", "train/loss"])
    long_ago = timezone.now() - timedelta(seconds=settings.SEEDBOARD_STATS_REQUEUE_AFTER + 1)
    MetricStats.objects.filter(metric="val/acc").update(marked_at=long_ago)  # its message was lost
    lost_worker = long_ago - timedelta(seconds=settings.SEEDBOARD_CELERY_VISIBILITY_TIMEOUT)
    MetricStats.objects.filter(metric="train/loss").update(
        pending=False, status=Status.COMPUTING, claimed_at=lost_worker
    )
    with django_capture_on_commit_callbacks() as queued:
        assert services.stats_requeue() == 2
        assert services.stats_requeue() == 0  # once per interval
    assert len(queued) == 2 and all(stats.pending for stats in MetricStats.objects.all())


def test_a_recompute_of_something_deleted_returns_quietly(db, project):
    assert services.stats_recompute(project_id=10**9, metric="val/acc") == "gone"
    assert services.comparison_recompute(comparison_id="not-a-uuid") == "gone"
    log_run(project, summary={"val/acc": 0.5})
    services.stats_mark_stale(project_id=project.pk, metrics=["val/acc"])
    tracking_services.runs_delete(runs=project.runs.all())
    project.delete()
    assert services.stats_recompute(project_id=project.pk, metric="val/acc") == "gone"
    assert not Comparison.objects.exists()


def test_editing_the_tags_notes_or_name_of_a_finished_run_queues_nothing(
    db, api, project, django_capture_on_commit_callbacks
):
    run = log_run(project, points={"val/acc": [0.5]})
    with django_capture_on_commit_callbacks() as queued:
        api.patch(f"{RUNS}{run.uuid}/", {"tags": ["best"], "notes": "n", "name": "x"}, format="json")
    assert queued == []
    with django_capture_on_commit_callbacks() as queued:
        api.patch(f"{RUNS}{run.uuid}/", {"status": "finished"}, format="json")  # a retried finish marks again
    assert len(queued) == 1
