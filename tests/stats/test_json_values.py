"""Statistics endpoints show numbers of any float magnitude that a run or a comparison accepted."""

from __future__ import annotations

import pytest

from server.stats.models import Comparison
from tests.stats.conftest import log_run

SCORES = [1e21, 2e21, 3e21]


@pytest.fixture
def huge_study(db, api, project, eager_tasks, django_capture_on_commit_callbacks):
    """Three seeds of one variant whose summaries hold diverged scores, finished through the API."""
    runs = [
        log_run(project, config={"lr": 1e20}, seed=seed, task="t", summary={"val/loss": value}, status="running")
        for seed, value in enumerate(SCORES)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        for run in runs:
            assert api.patch(f"/api/v1/runs/{run.uuid}/", {"status": "finished"}, format="json").status_code == 200
    return runs


def test_variant_statistics_of_seed_summaries_of_1e21_are_served(huge_study, api):
    response = api.get("/api/v1/projects/acme/study/variants/", {"metric": "val/loss"})
    assert response.status_code == 200, response.content
    [block] = response.json()["results"]
    assert sorted(block["scores"]) == SCORES
    assert block["config"] == {"lr": 1e20}


def test_a_comparison_normalised_by_a_reference_of_1e308_is_served_alone_and_in_the_list(
    huge_study, api, django_capture_on_commit_callbacks
):
    normalize = {"t": {"random": 0.0, "reference": 1e308}}
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/comparisons/",
            {"metric": "val/loss", "projects": ["acme/study"], "normalize": normalize},
            format="json",
        )
    assert response.status_code == 202, response.content
    detail = api.get(f"/api/v1/comparisons/{response.json()['id']}/")
    assert detail.status_code == 200, detail.content
    assert detail.json()["normalize"] == normalize
    listed = api.get("/api/v1/comparisons/", {"project": "acme/study"})
    assert listed.status_code == 200, listed.content
    assert [row["normalize"] for row in listed.json()["results"]] == [normalize]


def test_a_normalisation_task_name_with_a_nul_is_refused_naming_it(huge_study, api):
    body = {"metric": "val/loss", "projects": ["acme/study"], "normalize": {"t\x00": {"random": 0, "reference": 1}}}
    response = api.post("/api/v1/comparisons/", body, format="json")
    assert (response.status_code, response.json()["error"]["field"]) == (400, "normalize.t\\u0000")
    assert not Comparison.objects.exists()
