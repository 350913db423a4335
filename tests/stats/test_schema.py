"""The statistics endpoints are in the OpenAPI schema, and real answers (degenerate cases included) match it."""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core.management import call_command
from schemathesis.core.failures import Failure, FailureGroup
from werkzeug.test import EnvironBuilder, TestResponse
from werkzeug.wrappers import Request

from server.tracking.models import Run
from tests.stats.conftest import log_run


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory, django_db_blocker) -> schemathesis.BaseSchema:
    out = tmp_path_factory.mktemp("schema") / "schema.json"
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(out))
    return schemathesis.openapi.from_dict(json.loads(out.read_text()))


def conforms(openapi, operation_id: str, response) -> None:
    assert response.status_code < 300, response.json()
    request = Request(
        EnvironBuilder(method=response.request["REQUEST_METHOD"], path=response.request["PATH_INFO"]).get_environ()
    )
    as_wsgi = TestResponse(
        response.content,
        status=response.status_code,
        headers={"Content-Type": response["Content-Type"]},
        request=request,
    )
    openapi.find_operation_by_id(operation_id).validate_response(as_wsgi)


def test_every_statistics_answer_matches_its_documented_schema(
    db, api, project, openapi, eager_tasks, django_capture_on_commit_callbacks
):
    for task in ("a", "b"):
        for seed, value in enumerate([0.9, 0.91, 0.95]):
            log_run(project, model="good", seed=seed, task=task, points={"val/acc": [0.1, value]})
        for seed in range(3):  # zero variance: intervals and tests are null with a reason
            log_run(project, model="flat", seed=seed, task=task, points={"val/acc": [0.1, 0.5]})
        log_run(project, model="lone", task=task, points={"val/acc": [0.1, 0.7]})  # one seed
        log_run(project, model="lone", seed=1, task=task, summary={"val/acc": "NaN"})
        log_run(project, model="lone", seed=2, task=task, status=Run.Status.CRASHED)
    study = "/api/v1/projects/acme/study/"
    with django_capture_on_commit_callbacks(execute=True):
        conforms(openapi, "variant_stats_list", api.get(f"{study}variants/", {"metric": "val/acc"}))
        created = api.post("/api/v1/comparisons/", {"metric": "val/acc", "projects": ["acme/study"]}, format="json")
        conforms(openapi, "comparisons_create", created)
    conforms(openapi, "variant_stats_list", api.get(f"{study}variants/", {"metric": "val/acc"}))
    comparison = api.get(f"/api/v1/comparisons/{created.json()['id']}/")
    assert comparison.json()["benchmark"] is not None and comparison.json()["status"] == "fresh"
    conforms(openapi, "comparisons_retrieve", comparison)
    conforms(openapi, "comparisons_list", api.get("/api/v1/comparisons/", {"project": "acme/study"}))
    curves = api.get(f"{study}curves/", {"metric": "val/acc"})
    conforms(openapi, "curves_aggregate", curves)
    with pytest.raises((Failure, FailureGroup)):  # the check has teeth: curves are not a comparison
        conforms(openapi, "comparisons_retrieve", curves)
    conforms(openapi, "tuning_budget", api.get(f"{study}tuning/", {"metric": "val/acc", "task": "a"}))
    conforms(openapi, "tuning_budget", api.get(f"{study}tuning/", {"metric": "val/acc", "task": "b", "per": "variant"}))
    conforms(openapi, "tuning_budget", api.get(f"{study}tuning/", {"metric": "val/acc", "model": "none"}))  # empty
    conforms(openapi, "metric_definitions_list", api.get(f"{study}metric-definitions/"))
    definition = {"key": "val/acc", "summary": "mean_last_k", "k": 2}
    conforms(openapi, "metric_definitions_set", api.put(f"{study}metric-definitions/", definition, format="json"))


def test_each_operation_documents_its_errors(openapi):
    for operation_id in (
        "metric_definitions_list", "metric_definitions_set", "variant_stats_list", "curves_aggregate",
        "comparisons_list", "comparisons_create", "comparisons_retrieve", "tuning_budget",
    ):  # fmt: skip
        responses = openapi.find_operation_by_id(operation_id).definition.raw["responses"]
        assert {"400", "401", "403", "404"} <= set(responses), operation_id
