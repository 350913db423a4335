"""GET /api/v1/projects/{team}/{project}/variants/: per-variant statistics kept by the workers."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from scipy import stats as scipy_stats

from server.analysis import METHOD_VERSION, variants_describe
from server.stats import services
from server.stats.compute import bootstrap_seed
from server.stats.models import MetricStats, VariantStatsResult
from server.tracking.models import Run
from tests.stats.conftest import log_run

URL = "/api/v1/projects/acme/study/variants/"
GOOD = [0.90, 0.91, 0.925, 0.93, 0.95]
WORSE = [0.85, 0.88, 0.86, 0.87, 0.80]


def study(project, *, task=""):
    """Two variants of five seeds (last values GOOD and WORSE) and one failed seed, all still running."""
    runs = []
    for config, finals in (({"lr": 0.1}, GOOD), ({"lr": 0.2}, WORSE)):
        for seed, final in enumerate(finals):
            curve = [0.5, final]
            runs.append(
                log_run(project, config=config, seed=seed, task=task, points={"val/acc": curve}, status="running")
            )
    runs.append(log_run(project, config={"lr": 0.2}, seed=9, task=task, points={"val/acc": [0.1]}, status="running"))
    return runs


def finish(api, runs, capture, statuses=None):
    """PATCH each run to its final status, then run the queued tasks in-process (as eager Celery does)."""
    with capture(execute=True):
        for i, run in enumerate(runs):
            status = (statuses or {}).get(i, "finished")
            assert api.patch(f"/api/v1/runs/{run.uuid}/", {"status": status}, format="json").status_code == 200


@pytest.fixture
def finished_study(db, api, project, eager_tasks, django_capture_on_commit_callbacks):
    runs = study(project)
    finish(api, runs, django_capture_on_commit_callbacks, statuses={len(runs) - 1: "failed"})
    return runs


def test_the_statistics_are_what_server_analysis_computes_on_the_same_scores(finished_study, api, project):
    body = api.get(URL, {"metric": "val/acc"}).json()
    assert (body["metric"], body["goal"], body["summary"], body["status"]) == ("val/acc", "max", "last", "fresh")
    seed = bootstrap_seed("project", project.pk, "val/acc")
    assert (body["bootstrap_seed"], body["method_version"]) == (seed, METHOD_VERSION) and body["computed_at"]

    results = {tuple(block["config"].items()): block for block in body["results"]}
    good, worse = results[(("lr", 0.1),)], results[(("lr", 0.2),)]
    # The server groups variants in (task, model, fingerprint) order; so does this call.
    order = sorted([good, worse], key=lambda block: block["variant"])
    expected = variants_describe(
        {"0": [*order[0]["scores"]], "1": [*order[1]["scores"]]},
        n_failed={"0": len(order[0]["failed_runs"]), "1": len(order[1]["failed_runs"])},
        seed=seed,
    )
    for name, block in zip(("0", "1"), order, strict=True):
        assert {key: block[key] for key in expected[name].to_dict()} == expected[name].to_dict()
    assert sorted(good["scores"]) == GOOD and sorted(worse["scores"]) == sorted(WORSE)
    assert (good["n"], good["n_failed"], worse["n"], worse["n_failed"]) == (5, 0, 5, 1)
    assert worse["failed_runs"] == [{"run": str(finished_study[-1].uuid), "status": "failed", "reason": "failed"}]
    assert len(good["runs"]) == 5 and good["seeds"] == sorted(good["seeds"])


def test_the_headline_numbers_agree_with_scipy(finished_study, api):
    block = next(b for b in api.get(URL, {"metric": "val/acc"}).json()["results"] if b["config"] == {"lr": 0.1})
    x = np.array(GOOD)
    low, high = scipy_stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=scipy_stats.sem(x))
    assert block["mean"] == pytest.approx(x.mean(), rel=1e-12)
    assert block["std"] == pytest.approx(x.std(ddof=1), rel=1e-12)
    assert block["sem"] == pytest.approx(scipy_stats.sem(x), rel=1e-12)
    assert (block["ci_low"], block["ci_high"]) == (pytest.approx(low, rel=1e-12), pytest.approx(high, rel=1e-12))
    assert block["median"] == pytest.approx(np.median(x)) and block["iqm"] == pytest.approx(
        scipy_stats.trim_mean(x, 0.25)
    )


def test_a_new_metric_is_stale_and_empty_until_its_first_recompute_ran(
    db, api, project, eager_tasks, django_capture_on_commit_callbacks
):
    log_run(project, points={"val/acc": [0.5]})
    with django_capture_on_commit_callbacks() as queued:
        body = api.get(URL, {"metric": "val/acc"}).json()  # the first read queues the computation
    assert (body["status"], body["results"], body["computed_at"], len(queued)) == ("stale", [], None, 1)
    queued[0]()
    body = api.get(URL, {"metric": "val/acc"}).json()
    assert body["status"] == "fresh" and body["results"][0]["n"] == 1


def test_results_can_be_limited_to_one_task(db, api, project, eager_tasks, django_capture_on_commit_callbacks):
    runs = study(project, task="cifar10") + study(project, task="svhn")
    finish(api, runs, django_capture_on_commit_callbacks)
    everything = api.get(URL, {"metric": "val/acc"}).json()["results"]
    assert [block["task"] for block in everything] == ["cifar10", "cifar10", "svhn", "svhn"]
    only = api.get(URL, {"metric": "val/acc", "task": "svhn"}).json()["results"]
    assert only == everything[2:]
    assert api.get(URL, {"metric": "val/acc", "task": "imagenet"}).json()["results"] == []
    assert VariantStatsResult.objects.count() == 2  # one result row per task


def test_a_changed_definition_recomputes_with_the_new_rule(finished_study, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api.put("/api/v1/projects/acme/study/metric-definitions/", {"key": "val/acc", "summary": "min"}, format="json")
    body = api.get(URL, {"metric": "val/acc"}).json()
    assert (body["summary"], body["status"]) == ("min", "fresh")
    assert [block["mean"] for block in body["results"]] == [pytest.approx(0.5)] * 2  # every curve starts at 0.5


def test_a_recompute_with_unchanged_inputs_is_bit_identical_and_writes_nothing(finished_study, project):
    stats = MetricStats.objects.get(metric="val/acc")
    payloads = list(VariantStatsResult.objects.order_by("task").values_list("payload", flat=True))
    assert stats.claims == 1 and stats.written_claim == 1

    services.stats_mark_stale(project_id=project.pk, metrics=["val/acc"])
    assert services.stats_recompute(project_id=project.pk, metric="val/acc") == "unchanged"
    after = MetricStats.objects.get(metric="val/acc")
    assert (after.status, after.claims, after.computed_at) == ("fresh", 2, stats.computed_at)
    assert list(VariantStatsResult.objects.order_by("task").values_list("payload", flat=True)) == payloads

    # Recomputing from scratch gives the same bytes: the bootstrap seed is fixed by (project, metric).
    MetricStats.objects.filter(pk=stats.pk).update(inputs_fingerprint="")
    services.stats_mark_stale(project_id=project.pk, metrics=["val/acc"])
    assert services.stats_recompute(project_id=project.pk, metric="val/acc") == "computed"
    assert list(VariantStatsResult.objects.order_by("task").values_list("payload", flat=True)) == payloads


def test_a_run_finishing_later_makes_the_statistics_stale_then_fresh_again(
    finished_study, api, project, django_capture_on_commit_callbacks
):
    late = log_run(project, config={"lr": 0.1}, seed=7, points={"val/acc": [0.97]}, status=Run.Status.RUNNING)
    with django_capture_on_commit_callbacks() as queued:
        api.patch(f"/api/v1/runs/{late.uuid}/", {"status": "finished"}, format="json")
    assert api.get(URL, {"metric": "val/acc"}).json()["status"] == "stale"
    for task in queued:
        task()
    body = api.get(URL, {"metric": "val/acc"}).json()
    assert body["status"] == "fresh" and sorted(block["n"] for block in body["results"]) == [5, 6]


@pytest.mark.parametrize(
    ("params", "field"),
    [({}, "metric"), ({"metric": "val/accuracy"}, "metric"), ({"metric": "val/acc", "colour": "red"}, "colour")],
)
def test_a_missing_unknown_or_extra_parameter_is_a_400(db, api, project, params, field):
    log_run(project, points={"val/acc": [0.5]})
    response = api.get(URL, params)
    assert response.status_code == 400 and response.json()["error"]["field"] == field
    assert not MetricStats.objects.exists()


def test_another_teams_project_is_not_found(db, client_for, project):
    log_run(project, points={"val/acc": [0.5]})
    response = client_for("rival", "mallory").get(URL, {"metric": "val/acc"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_reading_statistics_costs_the_same_queries_for_few_or_many_variants(
    db, api, project, eager_tasks, django_capture_on_commit_callbacks
):
    def queries() -> int:
        with django_capture_on_commit_callbacks(execute=True):  # (re)computed before counting
            services.stats_mark_stale(project_id=project.pk, metrics=["val/acc"])
        with CaptureQueriesContext(connection) as captured:
            assert api.get(URL, {"metric": "val/acc"}).json()["status"] == "fresh"
        return len(captured)

    api.get("/api/v1/auth/whoami/")  # the token's first use is recorded once, not counted here
    log_run(project, config={"lr": 0}, points={"val/acc": [0.5]})
    few = queries()
    for lr in range(1, 6):
        log_run(project, config={"lr": lr}, points={"val/acc": [0.5]})
    assert queries() == few
