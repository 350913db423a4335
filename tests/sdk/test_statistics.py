"""Statistics through the SDK against a live server: a small study logged with `seedboard.init`,
checked against numbers computed here with numpy/scipy (not copied from the server's output)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import seedboard
from scipy import stats

from .conftest import STANDALONE

REPO = Path(__file__).resolve().parents[2]
METRIC = "val/acc"
STEPS = 12
# model -> (level of its curve, seeds); "vit" also has a failed seed, which must be counted.
STUDY = {"resnet18": (0.93, (0, 1, 2)), "vit": (0.86, (0, 1, 2))}  # a gap well above the noise
OVERRIDE = ("vit", 2, 0.8725)  # this run writes summary[METRIC]: the value wins over the rule


@dataclass
class Study:
    project: str
    curves: dict[tuple[str, int], np.ndarray]  # (model, seed) -> values at steps 0..STEPS-1
    run_ids: dict[tuple[str, int], str]

    def scores(self, model: str, rule: Callable[[np.ndarray], float]) -> np.ndarray:
        """The one number per finished seed the server should use, computed here."""
        values = []
        for (m, seed), curve in sorted(self.curves.items()):
            if m == model:
                values.append(OVERRIDE[2] if (m, seed) == OVERRIDE[:2] else rule(curve))
        return np.array(values)


@pytest.fixture
def stats_worker(seedboard_server: Any) -> Iterator[None]:
    """A real Celery worker when the server enqueues to Redis; embedded (SQLite, no REDIS_URL),
    Celery is eager and the server computes in-process."""
    if not seedboard_server.env.get("REDIS_URL"):
        yield
        return
    worker = subprocess.Popen(
        [seedboard_server.python, "-m", "celery", "-A", "workers", "worker", "--pool", "solo", "-l", "warning"],
        cwd=REPO,
        env=seedboard_server.env,  # same database and broker as the server
    )
    try:
        yield
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


@pytest.fixture
def study(server: Any, project: str, stats_worker: None) -> Study:
    rng = np.random.default_rng(20240601)
    curves, run_ids = {}, {}
    for model, (level, seeds) in STUDY.items():
        for seed in seeds:
            # A rising curve with seed noise; "best" (the max) and "last" differ.
            curve = level - 0.2 * np.exp(-np.arange(STEPS) / 3) + rng.normal(0, 0.01, STEPS)
            with seedboard.init(project=project, model=model, config={"lr": 0.1}, seed=seed, task="cifar10") as run:
                if not run_ids:
                    run.define_metric(METRIC, goal="max", summary="best")  # sent by the background thread
                for step, value in enumerate(curve):
                    run.log({METRIC: float(value), "train/loss": float(1 - value)}, step=step)
                if (model, seed) == OVERRIDE[:2]:
                    run.summary[METRIC] = OVERRIDE[2]
            curves[model, seed] = curve
            run_ids[model, seed] = run.id
    failed = seedboard.init(project=project, model="vit", config={"lr": 0.1}, seed=3, task="cifar10")
    failed.log({METRIC: 0.1}, step=0)
    failed.finish("failed")
    return Study(project=project, curves=curves, run_ids=run_ids)


def _fresh_variants(api: seedboard.Api, project: str, *, summary: str, timeout: float = 30) -> seedboard.VariantList:
    """Poll until the per-variant statistics are fresh and use `summary` (they are recomputed
    after commit, by the worker)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = api.variants(project, METRIC, task="cifar10")
        if rows.status == "fresh" and rows.summary == summary and sum(r["n"] or 0 for r in rows) == 6:
            return rows
        assert time.monotonic() < deadline, f"not fresh after {timeout} s: {rows.status} {rows.summary} {rows}"
        time.sleep(0.2)


def _t_interval(x: np.ndarray) -> tuple[float, float]:
    half = stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return x.mean() - half, x.mean() + half


def _check_variant(record: dict[str, Any], x: np.ndarray, *, n_failed: int) -> None:
    assert (record["n"], record["n_failed"]) == (x.size, n_failed)
    assert record["mean"] == pytest.approx(x.mean(), rel=1e-9)
    assert record["std"] == pytest.approx(x.std(ddof=1), rel=1e-9)
    assert record["median"] == pytest.approx(np.median(x), rel=1e-9)
    assert (record["ci_low"], record["ci_high"]) == pytest.approx(_t_interval(x), rel=1e-9)


def test_variant_statistics_follow_the_metric_definition_and_count_failed_seeds(
    study: Study, sdk_api: seedboard.Api
) -> None:
    definitions = {d["key"]: d for d in sdk_api.metric_definitions(study.project)}
    assert (definitions[METRIC]["goal"], definitions[METRIC]["summary"]) == ("max", "best")
    assert definitions[METRIC]["declared"] is True
    assert (definitions["train/loss"]["goal"], definitions["train/loss"]["declared"]) == ("min", False)

    rows = _fresh_variants(sdk_api, study.project, summary="best")
    assert (rows.metric, rows.goal, rows.computed_at is not None) == (METRIC, "max", True)
    by_model = {r["model"]: r for r in rows}
    assert sorted(by_model) == ["resnet18", "vit"]
    _check_variant(by_model["resnet18"], study.scores("resnet18", np.max), n_failed=0)
    _check_variant(by_model["vit"], study.scores("vit", np.max), n_failed=1)
    assert sorted(by_model["resnet18"]["runs"]) == sorted(v for (m, _), v in study.run_ids.items() if m == "resnet18")

    # A definition changed through the Api is applied by a recompute of the same variants.
    stored = sdk_api.define_metric(study.project, METRIC, "max", "mean_last_k", k=3)
    assert (stored["summary"], stored["k"]) == ("mean_last_k", 3)
    rows = _fresh_variants(sdk_api, study.project, summary="mean_last_k")
    by_model = {r["model"]: r for r in rows}
    _check_variant(by_model["vit"], study.scores("vit", lambda c: c[-3:].mean()), n_failed=1)

    frame = rows.to_pandas()
    assert {"variant", "model", "n", "mean", "std", "ci_low", "ci_high", "config.lr"} <= set(frame.columns)


def test_compare_waits_for_fresh_statistics_that_match_welch_and_the_curves_match_a_t_band(
    study: Study, sdk_api: seedboard.Api, server: Any
) -> None:
    rows = _fresh_variants(sdk_api, study.project, summary="best")
    fingerprint = {r["model"]: r["variant"] for r in rows}

    started = time.monotonic()
    result = sdk_api.compare(study.project, METRIC, models=["resnet18", "vit"], task="cifar10", timeout=30)
    assert time.monotonic() - started < 30
    assert result.status == "fresh" and result.computed_at
    assert result.url == f"{server.url}/api/v1/comparisons/{result.id}/"
    again = sdk_api.comparison(result.id)
    assert again.id == result.id and again["pairs"] == result["pairs"]

    # Seed scores in seed order (both models ran seeds 0, 1, 2), oriented as the server's pair.
    a, b = study.scores("resnet18", np.max), study.scores("vit", np.max)
    (pair,) = result.pairs
    assert {pair["a"], pair["b"]} == set(fingerprint.values())
    if pair["a"] == fingerprint["vit"]:  # the server chooses the order
        a, b = b, a
    welch = stats.ttest_ind(a, b, equal_var=False)
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = stats.t.ppf(0.975, df) * np.sqrt(va + vb)
    assert pair["diff"] == pytest.approx(a.mean() - b.mean(), rel=1e-9)
    assert (pair["welch_t"], pair["welch_df"]) == pytest.approx((welch.statistic, df), rel=1e-6)
    assert pair["welch_p"] == pytest.approx(welch.pvalue, rel=1e-6)
    assert (pair["diff_ci_low"], pair["diff_ci_high"]) == pytest.approx(
        (a.mean() - b.mean() - half, a.mean() - b.mean() + half), rel=1e-6
    )
    # Same seeds on the same task: the paired t-test is the one that enters the family.
    paired = stats.ttest_rel(a, b)
    assert (pair["paired"], pair["p_method"]) == (True, "paired_t")
    assert pair["paired_p"] == pytest.approx(paired.pvalue, rel=1e-6)
    assert pair["p_holm"] == pytest.approx(paired.pvalue, rel=1e-6)  # a family of one pair
    wins = (a[:, None] > b[None, :]).mean() + 0.5 * (a[:, None] == b[None, :]).mean()  # goal max
    assert pair["prob_improvement"] == pytest.approx(wins, rel=1e-9)
    if paired.pvalue < 0.05 and (a.mean() > b.mean()) == (wins > 0.5):
        expected = "a_better" if a.mean() > b.mean() else "b_better"
    else:
        expected = "inconclusive"
    assert expected != "inconclusive", "the study is meant to have a clear winner"
    assert pair["verdict"] == expected
    assert {v["variant"]: v["n"] for v in result.variants} == {fingerprint["resnet18"]: 3, fingerprint["vit"]: 3}
    assert result.benchmark is None  # one task
    ranks = {e["variant"]: e["rank"] for e in result.ranking["entries"]}
    leader = max(STUDY, key=lambda model: study.scores(model, np.max).mean())  # goal max
    assert ranks[fingerprint[leader]] == 1.0 and result.ranking["leader"] == fingerprint[leader]

    pytest.importorskip("pandas")
    assert result.pairs_frame()["verdict"].tolist() == [expected]
    assert sorted(result.variants_frame()["variant"]) == sorted(fingerprint.values())

    # Curves: every seed logged steps 0..STEPS-1, so n is 3 on the whole grid and the band is
    # the t-interval of the seeds' values interpolated at each grid step.
    curves = sdk_api.curves(study.project, METRIC, variants=[r for r in rows if r["model"] == "vit"], task="cifar10")
    (curve,) = curves
    assert curve["variant"] == fingerprint["vit"] and curve["n_runs"] == 3
    grid = np.array(curve["steps"], dtype=float)
    assert grid.size >= 2 and grid[0] == 0 and grid[-1] == STEPS - 1
    seeds = np.array([np.interp(grid, np.arange(STEPS), study.curves["vit", s]) for s in (0, 1, 2)])
    low, high = _t_interval_columns(seeds)
    assert curve["n"] == [3] * grid.size
    assert curve["mean"] == pytest.approx(seeds.mean(axis=0).tolist(), rel=1e-9)
    assert curve["ci_low"] == pytest.approx(low.tolist(), rel=1e-9)
    assert curve["ci_high"] == pytest.approx(high.tolist(), rel=1e-9)
    frame = curves.to_pandas()
    assert len(frame) == grid.size and set(frame["n"]) == {3}

    both = sdk_api.curves(study.project, METRIC, task="cifar10", points=20)
    assert sorted(c["variant"] for c in both) == sorted(fingerprint.values())

    # Benchmark normalisation travels as {"random", "reference"} per task, from pairs or mappings.
    normalized = sdk_api.compare(study.project, METRIC, task="cifar10", normalize={"cifar10": (0.5, 1)}, wait=False)
    assert normalized["normalize"] == {"cifar10": {"random": 0.5, "reference": 1.0}}
    with pytest.raises(TypeError, match="normalize"):
        sdk_api.compare(study.project, METRIC, normalize={"cifar10": {"random": 0.5}}, wait=False)


def _t_interval_columns(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    half = stats.t.ppf(0.975, x.shape[0] - 1) * x.std(axis=0, ddof=1) / np.sqrt(x.shape[0])
    return x.mean(axis=0) - half, x.mean(axis=0) + half


def test_another_teams_token_gets_not_found_for_every_statistics_call(study: Study, server: Any) -> None:
    with seedboard.Api() as api:
        comparison = api.compare(study.project, METRIC, wait=False)
    with seedboard.Api(token=server.other_token) as rival:
        calls: list[Callable[[], Any]] = [
            lambda: rival.metric_definitions(study.project),
            lambda: rival.define_metric(study.project, METRIC, "min"),
            lambda: rival.variants(study.project, METRIC),
            lambda: rival.curves(study.project, METRIC),
            lambda: rival.compare(study.project, METRIC),
            lambda: rival.compare(["rival/own", study.project], METRIC),
            lambda: rival.comparison(comparison.id),
        ]
        for call in calls:
            with pytest.raises(seedboard.NotFoundError) as caught:
                call()
            assert caught.value.code == "not_found"
    with seedboard.Api() as api:  # the definition attempt changed nothing
        (definition,) = [d for d in api.metric_definitions(study.project) if d["key"] == METRIC]
        assert definition["goal"] == "max"


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="embedded mode computes a comparison during the POST: it cannot time out"
)
def test_compare_raises_comparison_timeout_while_no_worker_computes_it(server: Any, project: str) -> None:
    with seedboard.init(project=project, model="m", seed=0) as run:  # no worker in this test
        run.log({METRIC: 0.5}, step=0)
    with seedboard.Api() as api:
        started = time.monotonic()
        with pytest.raises(seedboard.ComparisonTimeout) as caught:
            api.compare(project, METRIC, timeout=1.0, poll_interval=0.2)
        assert 1.0 <= time.monotonic() - started < 5
        assert isinstance(caught.value, TimeoutError)
        assert caught.value.comparison.status in ("computing", "stale")
        # It stays saved: the same id can be fetched later.
        assert api.comparison(caught.value.comparison_id).id == caught.value.comparison_id
        assert caught.value.comparison_id in str(caught.value)
        assert [c.id for c in api.comparisons(project)] == [caught.value.comparison_id]


@pytest.mark.skipif(
    STANDALONE or not os.environ.get("REDIS_URL"),
    reason="needs the test database in this process and a broker with no worker (nothing computes it meanwhile)",
)
def test_compare_raises_comparison_failed_when_the_server_gives_up(server: Any, project: str) -> None:
    from django.db import connection

    from server.stats.models import Comparison, Status

    with seedboard.init(project=project, model="m", seed=0) as run:
        run.log({METRIC: 0.5}, step=0)
    slug = project.split("/")[1]

    def give_up() -> None:
        # What the server does to a recompute whose worker was killed twice (server/stats/services.py).
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if Comparison.objects.filter(projects__slug=slug).update(status=Status.FAILED, error="killed twice"):
                    return
                time.sleep(0.05)
        finally:
            connection.close()

    helper = threading.Thread(target=give_up)
    helper.start()
    with seedboard.Api() as api, pytest.raises(seedboard.ComparisonFailed) as caught:
        api.compare(project, METRIC, timeout=30, poll_interval=0.1)
    helper.join()
    assert "killed twice" in str(caught.value) and caught.value.comparison.status == "failed"
