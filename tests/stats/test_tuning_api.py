"""GET /api/v1/projects/{team}/{project}/tuning/: expected best score vs number of trials (Dodge et al. 2019).

The reference curves are brute force: every ordered tuple of n trials drawn with replacement
(itertools.product) and every set of n distinct trials (itertools.combinations), equally likely.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Callable, Sequence
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from server.stats.selectors import MAX_TUNING_RUNS
from server.tracking.models import Run
from tests.stats.conftest import log_run

URL = "/api/v1/projects/acme/study/tuning/"


def with_replacement(values: Sequence[float], n: int, best: Callable[..., float]) -> tuple[float, float]:
    """(mean, population sd) of the best of n draws with replacement, over all len(values)**n tuples."""
    draws = [best(draw) for draw in itertools.product(values, repeat=n)]
    mean = statistics.fmean(draws)
    return mean, math.sqrt(statistics.fmean((draw - mean) ** 2 for draw in draws))


def without_replacement(values: Sequence[float], n: int, best: Callable[..., float]) -> float:
    return statistics.fmean(best(draw) for draw in itertools.combinations(values, n))


def test_the_curve_is_the_expected_maximum_over_every_draw_of_n_trials(db, api, project):
    values = [0.71, 0.80, 0.80, 0.65, 0.92]  # one tie
    runs = [log_run(project, config={"lr": 0.01 * (i + 1)}, points={"val/acc": [0.1, v]}) for i, v in enumerate(values)]
    failed = log_run(project, config={"lr": 0.5}, points={"val/acc": [0.99]}, status=Run.Status.FAILED)

    body = api.get(URL, {"metric": "val/acc", "max_trials": 7}).json()
    assert (body["goal"], body["summary"], body["per"], body["task"]) == ("max", "last", "run", "")
    assert body["n"] == 5 and body["n_trials"] == [1, 2, 3, 4, 5, 6, 7]
    assert body["runs"] == [str(run.uuid) for run in runs]
    assert [trial["value"] for trial in body["trials"]] == pytest.approx(values)
    for n in body["n_trials"]:
        mean, sd = with_replacement(values, n, max)
        assert body["expected"][n - 1] == pytest.approx(mean, rel=1e-12)
        assert body["sd"][n - 1] == pytest.approx(sd, rel=1e-9, abs=1e-12)
        assert body["band_low"][n - 1] == pytest.approx(max(mean - sd, min(values)), rel=1e-9)
        assert body["band_high"][n - 1] == pytest.approx(min(mean + sd, max(values)), rel=1e-9)
    unbiased = [without_replacement(values, n, max) for n in range(1, 6)]
    assert body["expected_without_replacement"][:5] == pytest.approx(unbiased, rel=1e-12)
    assert body["expected_without_replacement"][5:] == [None, None]  # more trials than were run
    assert "expected_without_replacement" in body["reasons"]
    assert body["expected"][0] == pytest.approx(statistics.fmean(values))  # one trial: the mean
    assert body["expected_without_replacement"][4] == pytest.approx(max(values))  # all of them: the best

    # The failed run is no trial (its 0.99 would be the best) but it is accounted for.
    assert body["n_failed"] == 1
    assert body["failed_runs"] == [{"run": str(failed.uuid), "status": "failed", "reason": "failed"}]
    best = body["best"]
    assert (best["run"], best["value"], best["config"]) == (str(runs[4].uuid), pytest.approx(0.92), {"lr": 0.05})
    assert (best["variant"], best["runs"], best["n_seeds"]) == (runs[4].variant.fingerprint, [str(runs[4].uuid)], 1)


def test_a_loss_gives_the_expected_minimum_of_the_scores_its_definition_chooses(db, api, project):
    curves = [[0.9, 0.3, 0.5], [0.8, 0.6, 0.7], [0.4, 0.45, 0.2], [0.7, 0.35, 0.9]]
    runs = [log_run(project, config={"lr": i}, points={"val/loss": curve}) for i, curve in enumerate(curves)]
    explicit = log_run(project, config={"lr": 9}, points={"val/loss": [0.05]}, summary={"val/loss": 0.25})
    definition = {"key": "val/loss", "summary": "best"}  # goal: min by the key's name
    assert api.put("/api/v1/projects/acme/study/metric-definitions/", definition, format="json").status_code == 200

    body = api.get(URL, {"metric": "val/loss"}).json()
    scores = [min(curve) for curve in curves] + [0.25]  # best = min for a loss; summary[key] wins
    assert (body["goal"], body["summary"], body["n_trials"]) == ("min", "best", [1, 2, 3, 4, 5])
    assert [trial["value"] for trial in body["trials"]] == pytest.approx(scores)
    for n in body["n_trials"]:
        mean, sd = with_replacement(scores, n, min)
        assert body["expected"][n - 1] == pytest.approx(mean, rel=1e-12)
        assert (body["band_low"][n - 1], body["band_high"][n - 1]) == pytest.approx(
            (max(mean - sd, min(scores)), min(mean + sd, max(scores))), rel=1e-9
        )
        assert body["expected_without_replacement"][n - 1] == pytest.approx(without_replacement(scores, n, min))
    assert body["expected"] == sorted(body["expected"], reverse=True)  # more trials, lower expected loss
    assert body["best"]["run"] == str(runs[2].uuid) and body["best"]["value"] == pytest.approx(0.2)
    assert str(explicit.uuid) in body["runs"]


def test_per_variant_each_config_is_one_trial_scored_by_the_mean_of_its_finished_seeds(db, api, project):
    seeds = {0.1: [0.80, 0.84, 0.82], 0.2: [0.90, 0.86], 0.3: [0.75, 0.79, 0.77, 0.76]}
    for lr, values in seeds.items():
        for seed, value in enumerate(values):
            log_run(project, config={"lr": lr}, seed=seed, points={"val/acc": [value]})
    crashed = log_run(project, config={"lr": 0.2}, seed=7, points={"val/acc": [0.99]}, status=Run.Status.CRASHED)
    diverged = log_run(project, config={"lr": 0.2}, seed=8, points={"val/acc": ["NaN"]})

    body = api.get(URL, {"metric": "val/acc", "per": "variant"}).json()
    means = [statistics.fmean(values) for values in seeds.values()]
    assert (body["per"], body["n"], body["n_trials"]) == ("variant", 3, [1, 2, 3])
    assert [(t["config"], t["n_seeds"], t["run"]) for t in body["trials"]] == [
        ({"lr": 0.1}, 3, None),
        ({"lr": 0.2}, 2, None),
        ({"lr": 0.3}, 4, None),
    ]
    assert [t["value"] for t in body["trials"]] == pytest.approx(means, rel=1e-12)
    assert len(body["runs"]) == 9
    for n in body["n_trials"]:
        assert body["expected"][n - 1] == pytest.approx(with_replacement(means, n, max)[0], rel=1e-12)
        assert body["expected_without_replacement"][n - 1] == pytest.approx(without_replacement(means, n, max))
    assert body["best"]["config"] == {"lr": 0.2} and body["best"]["value"] == pytest.approx(0.88)
    reasons = {run["run"]: run["reason"] for run in body["failed_runs"]}
    assert reasons == {str(crashed.uuid): "crashed", str(diverged.uuid): "nonfinite"} and body["n_failed"] == 2

    # Per run, the same search has one trial per scored seed.
    per_run = api.get(URL, {"metric": "val/acc"}).json()
    assert per_run["n"] == 9 and sorted(per_run["runs"]) == sorted(body["runs"])


def test_runs_whose_variant_never_logged_the_metric_are_counted_not_dropped(db, api, project):
    ok = log_run(project, config={"lr": 0.1}, points={"val/acc": [0.7]})
    crashed_early = log_run(project, config={"lr": 0.2}, points={"train/loss": [2.3]}, status=Run.Status.CRASHED)
    finished_without = log_run(project, config={"lr": 0.3}, points={"train/loss": [2.1]})
    log_run(project, config={"lr": 0.4}, points={"val/acc": [0.8]}, status=Run.Status.RUNNING)  # not yet a trial

    body = api.get(URL, {"metric": "val/acc"}).json()
    assert body["runs"] == [str(ok.uuid)]
    assert body["failed_runs"] == [
        {"run": str(crashed_early.uuid), "status": "crashed", "reason": "crashed"},
        {"run": str(finished_without.uuid), "status": "finished", "reason": "missing"},
    ]


def test_the_run_filters_choose_the_search(db, api, project):
    chosen = [
        log_run(project, model="resnet18", config={"lr": lr, "opt": {"name": "sgd"}}, points={"val/acc": [v]})
        for lr, v in ((0.2, 0.7), (0.3, 0.9), (0.4, 0.8))
    ]
    log_run(project, model="resnet18", config={"lr": 0.1, "opt": {"name": "sgd"}}, points={"val/acc": [0.99]})
    log_run(project, model="vit", config={"lr": 0.3, "opt": {"name": "sgd"}}, points={"val/acc": [0.95]})
    log_run(project, model="resnet18", config={"lr": 0.3, "opt": {"name": "adam"}}, status=Run.Status.FAILED)

    params = {"metric": "val/acc", "model": "resnet18", "config.lr__gt": "0.15", "config.opt.name": "sgd"}
    body = api.get(URL, params).json()
    assert body["runs"] == [str(run.uuid) for run in chosen]
    assert body["failed_runs"] == [] and body["best"]["value"] == pytest.approx(0.9)
    assert body["expected"][0] == pytest.approx(statistics.fmean([0.7, 0.9, 0.8]))

    nothing = api.get(URL, {"metric": "val/acc", "model": "mlp"}).json()
    assert (nothing["n"], nothing["task"], nothing["best"], nothing["expected"]) == (0, None, None, [])


def test_runs_on_several_tasks_are_a_400_until_one_task_is_chosen(db, api, project):
    for task, value in (("cifar10", 0.9), ("cifar10", 0.8), ("imagenet", 0.7)):
        log_run(project, config={"lr": value}, task=task, points={"val/acc": [value]})
    response = api.get(URL, {"metric": "val/acc"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid", "task")
    assert "cifar10" in error["message"] and "imagenet" in error["message"]
    body = api.get(URL, {"metric": "val/acc", "task": "cifar10"}).json()
    assert (body["task"], body["n"]) == ("cifar10", 2)


def test_the_budget_axis_is_trials_times_the_mean_runtime_when_every_trial_has_one(db, api, project):
    durations = {0.1: [100, 140], 0.2: [60], 0.3: [300]}  # seconds per seed
    runs = []
    for lr, seconds in durations.items():
        for seed, duration in enumerate(seconds):
            run = log_run(project, config={"lr": lr}, seed=seed, points={"val/acc": [lr]})
            Run.objects.filter(pk=run.pk).update(ended_at=run.started_at + timedelta(seconds=duration))
            runs.append(run)

    per_run = api.get(URL, {"metric": "val/acc"}).json()
    assert [t["runtime"] for t in per_run["trials"]] == [100, 140, 60, 300]
    assert per_run["mean_runtime"] == pytest.approx(150)
    assert per_run["budget"] == pytest.approx([150.0 * n for n in per_run["n_trials"]])
    per_variant = api.get(URL, {"metric": "val/acc", "per": "variant"}).json()
    assert [t["runtime"] for t in per_variant["trials"]] == [240, 60, 300]  # a variant costs all its seeds
    assert per_variant["budget"] == pytest.approx([200.0 * n for n in per_variant["n_trials"]])

    # A run created already ended (an offline replay) has no observed runtime: no budget axis.
    Run.objects.filter(pk=runs[2].pk).update(ended_at=runs[2].started_at)
    body = api.get(URL, {"metric": "val/acc"}).json()
    assert (body["budget"], body["mean_runtime"], body["trials"][2]["runtime"]) == (None, None, None)
    assert "1 of 4 trials" in body["reasons"]["budget"]
    assert body["expected"] == per_run["expected"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "metric"),
        ({"metric": "val/bleu"}, "metric"),
        ({"metric": "val/acc", "per": "seed"}, "per"),
        ({"metric": "val/acc", "max_trials": 0}, "max_trials"),
        ({"metric": "val/acc", "max_trials": 10**6}, "max_trials"),
        ({"metric": "val/acc", "colour": "red"}, "colour"),
        ({"metric": "val/acc", "ordering": "name"}, "ordering"),  # a run-list parameter, not a filter
        ({"metric": "val/acc", "status": "finished"}, "status"),
        ({"metric": "val/acc", "seed": "three"}, "seed"),
        ({"metric": "val/acc", "config.lr__near": "0.1"}, "config.lr__near"),
        ({"metric": "val/acc", "config.lr__gt": "high"}, "config.lr__gt"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(db, api, project, params, field):
    log_run(project, config={"lr": 0.1}, points={"val/acc": [0.5]})
    response = api.get(URL, params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid", field) and error["message"]


def test_more_runs_than_the_cap_is_a_400_that_says_how_to_narrow_it(db, api, project):
    first = log_run(project, points={"val/acc": [0.5]})
    Run.objects.bulk_create(
        Run(project=project, variant=first.variant, model=first.model, status=Run.Status.FINISHED)
        for _ in range(MAX_TUNING_RUNS)
    )
    response = api.get(URL, {"metric": "val/acc"})
    assert response.status_code == 400 and "narrow the search with filters" in response.json()["error"]["message"]
    assert api.get(URL, {"metric": "val/acc", "seed": 0}).status_code == 200  # the filters narrow it


def test_another_teams_tuning_curve_is_not_found(db, client_for, project):
    log_run(project, points={"val/acc": [0.5]})
    response = client_for("rival", "mallory").get(URL, {"metric": "val/acc"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_the_queries_do_not_grow_with_the_number_of_trials(db, api, project):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(URL, {"metric": "val/acc", "per": "variant"}).status_code == 200
        return len(captured)

    api.get("/api/v1/auth/whoami/")  # the token's first use is recorded once, not counted here
    log_run(project, config={"lr": 0}, points={"val/acc": [0.5]})
    few = queries()
    for lr in range(1, 6):
        log_run(project, config={"lr": lr}, seed=lr, points={"val/acc": [0.5]})
        log_run(project, config={"lr": lr}, seed=lr + 10, status=Run.Status.FAILED)
    assert queries() == few
