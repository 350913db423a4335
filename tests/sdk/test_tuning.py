"""`Api.tuning` against a live server: a small random search logged with `seedboard.init`, its
expected-best curve checked against brute force over every draw of n trials (not the server's numbers)."""

from __future__ import annotations

import itertools
import math
import statistics
from typing import Any

import pytest
import seedboard

METRIC = "val/acc"
# lr -> final val/acc of each seed; lr 0.01 has two seeds (one variant, two runs).
SEARCH = {0.001: [0.62], 0.003: [0.71], 0.01: [0.80, 0.76], 0.03: [0.84], 0.1: [0.69]}


def expected_best(values: list[float], n: int) -> float:
    """E[max of n draws with replacement], over all len(values)**n equally likely tuples."""
    return statistics.fmean(max(draw) for draw in itertools.product(values, repeat=n))


def expected_best_distinct(values: list[float], n: int) -> float:
    """E[max of n distinct trials], over all subsets of size n."""
    return statistics.fmean(max(draw) for draw in itertools.combinations(values, n))


def _log(project: str, *, model: str, lr: float, seed: int, value: float, status: str = "finished") -> str:
    run = seedboard.init(project=project, model=model, config={"lr": lr}, seed=seed, task="cifar10")
    for step, point in enumerate((0.1, 0.4, value)):
        run.log({METRIC: point}, step=step)
    run.finish(status)
    return run.id


def test_tuning_returns_the_expected_best_score_per_number_of_trials_with_a_frame_view(
    server: Any, project: str, sdk_api: seedboard.Api
) -> None:
    run_ids = {
        (lr, seed): _log(project, model="resnet18", lr=lr, seed=seed, value=value)
        for lr, values in SEARCH.items()
        for seed, value in enumerate(values)
    }
    failed = _log(project, model="resnet18", lr=0.3, seed=0, value=0.99, status="failed")
    _log(project, model="resnet18", lr=0.0001, seed=0, value=0.95)  # outside the config filter
    _log(project, model="vit", lr=0.01, seed=0, value=0.97)  # another model

    curve = sdk_api.tuning(project, METRIC, model="resnet18", config={"lr__gte": 0.001}, max_trials=7)
    values = [value for values in SEARCH.values() for value in values]  # run order
    assert isinstance(curve, seedboard.TuningCurve)
    assert (curve.metric, curve.goal, curve["per"], curve["task"], curve.n) == (METRIC, "max", "run", "cifar10", 6)
    assert curve["runs"] == list(run_ids.values())
    assert [(r["run"], r["reason"]) for r in curve.failed_runs] == [(failed, "failed")]
    assert curve.best is not None and (curve.best["run"], curve.best["config"]) == (run_ids[0.03, 0], {"lr": 0.03})
    assert curve["n_trials"] == [1, 2, 3, 4, 5, 6, 7]
    reference = [expected_best(values, n) for n in curve["n_trials"]]
    assert curve["expected"] == pytest.approx(reference, rel=1e-12)
    distinct = [expected_best_distinct(values, n) for n in range(1, 7)]
    assert curve["expected_without_replacement"][:6] == pytest.approx(distinct, rel=1e-12)
    assert curve["expected_without_replacement"][6] is None  # more trials than were run
    assert curve["mean_runtime"] > 0 and curve["budget"] == pytest.approx(
        [n * curve["mean_runtime"] for n in curve["n_trials"]]
    )

    per_variant = sdk_api.tuning(project, METRIC, per="variant", model="resnet18", config={"lr__gte": 0.001})
    means = [statistics.fmean(values) for values in SEARCH.values()]
    assert per_variant.n == 5 and [t["n_seeds"] for t in per_variant.trials] == [1, 1, 2, 1, 1]
    assert per_variant["expected"] == pytest.approx([expected_best(means, n) for n in range(1, 6)], rel=1e-12)

    pytest.importorskip("pandas")
    frame = curve.to_pandas()
    assert list(frame.columns) == [
        "n_trials", "budget", "expected", "sd", "band_low", "band_high", "expected_without_replacement",
    ]  # fmt: skip
    assert frame["n_trials"].tolist() == list(range(1, 8))
    assert frame["expected"].tolist() == pytest.approx(reference, rel=1e-12)
    assert frame["expected_without_replacement"].iloc[:6].tolist() == pytest.approx(distinct, rel=1e-12)
    assert math.isnan(frame["expected_without_replacement"].iloc[6])  # None beyond the 6 trials
    trials = per_variant.trials_frame()
    assert trials["config.lr"].tolist() == list(SEARCH) and trials["value"].tolist() == pytest.approx(means)


def test_tuning_errors_reach_the_caller_as_api_errors(server: Any, project: str, sdk_api: seedboard.Api) -> None:
    _log(project, model="resnet18", lr=0.01, seed=0, value=0.8)
    seedboard.init(project=project, model="resnet18", config={"lr": 0.01}, seed=1, task="imagenet").finish()
    with pytest.raises(seedboard.BadRequestError) as caught:
        sdk_api.tuning(project, METRIC)  # two tasks
    assert caught.value.field == "task"
    assert sdk_api.tuning(project, METRIC, task="cifar10").n == 1
    with pytest.raises(ValueError):
        sdk_api.tuning(project, METRIC, per="seed")  # nothing is sent
    with seedboard.Api(token=server.other_token) as rival, pytest.raises(seedboard.NotFoundError):
        rival.tuning(project, METRIC)
