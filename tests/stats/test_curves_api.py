"""GET /api/v1/projects/{team}/{project}/curves/: learning curves aggregated over seeds."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from server.analysis import curve_aggregate
from server.tracking.models import Run
from tests.stats.conftest import log_run

URL = "/api/v1/projects/acme/study/curves/"


def test_each_variant_gets_its_mean_band_and_seed_count_per_step(db, api, project):
    curves = {0: [0.1, 0.4, 0.6, 0.7], 1: [0.2, 0.5, 0.7, 0.8], 2: [0.0, 0.3, 0.5]}  # seed 2 stopped early
    for seed, values in curves.items():
        log_run(project, config={"lr": 0.1}, seed=seed, points={"val/acc": ([0, 10, 20, 30][: len(values)], values)})
    log_run(project, config={"lr": 0.1}, seed=3, points={"val/acc": [0.9]}, status=Run.Status.FAILED)
    log_run(project, config={"lr": 0.2}, seed=0, points={"val/acc": ([0, 30], [0.0, 0.9])})

    body = api.get(URL, {"metric": "val/acc"}).json()
    assert body["metric"] == "val/acc" and len(body["curves"]) == 2
    curve = next(c for c in body["curves"] if c["n_runs"] == 3)  # finished runs only
    assert curve["steps"] == [0, 10, 20, 30]
    assert curve["n"] == [3, 3, 3, 2]  # never extrapolated past a run's last step
    assert curve["mean"][1] == pytest.approx(0.4)
    half = scipy_stats.t.ppf(0.975, 2) * np.std([0.4, 0.5, 0.3], ddof=1) / np.sqrt(3)
    assert (curve["ci_low"][1], curve["ci_high"][1]) == (pytest.approx(0.4 - half), pytest.approx(0.4 + half))
    assert (curve["intersection_low"], curve["intersection_high"]) == (0, 20)
    other = next(c for c in body["curves"] if c["n_runs"] == 1)
    expected = curve_aggregate([([0, 30], [0.0, 0.9])], n_points=200, max_union_points=200).to_dict()
    assert {key: other[key] for key in expected} == expected


def test_curves_can_be_limited_to_variants_and_a_task_on_a_coarser_grid(db, api, project):
    wanted = log_run(project, config={"lr": 0.1}, task="a", points={"val/acc": np.linspace(0, 1, 50).tolist()})
    log_run(project, config={"lr": 0.1}, task="b", points={"val/acc": [0.5] * 50})
    log_run(project, config={"lr": 0.2}, task="a", points={"val/acc": [0.5] * 50})
    params = {"metric": "val/acc", "variant": wanted.variant.fingerprint, "task": "a", "points": 10}
    body = api.get(URL, params).json()
    assert [(c["variant"], c["task"], c["runs"]) for c in body["curves"]] == [
        (wanted.variant.fingerprint, "a", [str(wanted.uuid)])
    ]
    assert len(body["curves"][0]["steps"]) == 10


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "metric"),
        ({"metric": "val/acc", "variant": "0" * 32}, "variant"),
        ({"metric": "val/acc", "variant": "not-a-fingerprint"}, "variant"),
        ({"metric": "val/acc", "points": 1}, "points"),
        ({"metric": "val/acc", "points": 10**6}, "points"),
    ],
)
def test_bad_parameters_are_a_400(db, api, project, params, field):
    log_run(project, points={"val/acc": [0.5]})
    response = api.get(URL, params)
    assert response.status_code == 400 and response.json()["error"]["field"].startswith(field)


def test_more_runs_than_the_cap_is_a_400_that_says_how_to_narrow_it(db, api, project):
    first = log_run(project, points={"val/acc": [0.5]})
    Run.objects.bulk_create(
        Run(project=project, variant=first.variant, model=first.model, status=Run.Status.FINISHED) for _ in range(200)
    )
    response = api.get(URL, {"metric": "val/acc"})
    assert response.status_code == 400 and "choose variants" in response.json()["error"]["message"]


def test_another_teams_curves_are_not_found(db, client_for, project):
    log_run(project, points={"val/acc": [0.5]})
    assert client_for("rival", "mallory").get(URL, {"metric": "val/acc"}).status_code == 404


def test_long_runs_read_around_the_grid_give_the_curves_of_their_whole_series(db, api, project):
    """Runs far longer than the grid are read only at the points around its steps (two index
    probes a step, not the whole series): the curves must equal those of the whole series."""
    rng = np.random.default_rng(3)
    whole = []
    for seed, (last, gap) in enumerate([(20_000, None), (18_000, (5_000, 9_000)), (20_000, None)]):
        steps = np.arange(0, last + 1, 2)  # logged every 2 steps
        if gap is not None:  # a stretch never logged: the run is absent there, not interpolated
            steps = steps[(steps < gap[0]) | (steps > gap[1])]
        values = np.cumsum(rng.normal(0.001, 0.01, steps.size))
        values[[7, 500]] = np.nan  # skipped by interpolation, in both reads
        log_run(project, config={"lr": 0.1}, seed=seed, points={"val/acc": (steps.tolist(), values.tolist())})
        whole.append((steps, values))
    log_run(project, config={"lr": 0.2}, points={"val/acc": [0.1, 0.2, 0.3]})  # short: read whole

    curves = api.get(URL, {"metric": "val/acc", "points": 50}).json()["curves"]
    long_curve = next(c for c in curves if c["n_runs"] == 3)
    expected = curve_aggregate(whole, n_points=50, max_union_points=50).to_dict()
    assert long_curve["n"] == list(expected["n"]) and min(expected["n"]) == 2  # the gap shows
    for key in ("steps", "mean", "std", "ci_low", "ci_high"):
        assert long_curve[key] == pytest.approx(list(expected[key]), rel=1e-12, abs=1e-12), key
    short = next(c for c in curves if c["n_runs"] == 1)
    assert short["steps"] == [0, 1, 2] and short["mean"] == pytest.approx([0.1, 0.2, 0.3])
