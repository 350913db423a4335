"""PUT/GET /api/v1/projects/{team}/{project}/metric-definitions/."""

from __future__ import annotations

import pytest

from server.stats.models import MetricDefinition, MetricStats
from tests.stats.conftest import log_run

URL = "/api/v1/projects/acme/study/metric-definitions/"


def test_a_declared_metric_is_listed_with_the_logged_keys_and_their_defaults(db, api, project):
    log_run(project, points={"val/acc": [0.5], "train/loss": [1.0]})
    response = api.put(URL, {"key": "val/acc", "goal": "max", "summary": "best"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "key": "val/acc", "goal": "max", "summary": "best", "k": None, "step": None, "declared": True,
    }  # fmt: skip

    listed = api.get(URL).json()["results"]
    assert listed == [
        {"key": "train/loss", "goal": "min", "summary": "last", "k": None, "step": None, "declared": False},
        {"key": "val/acc", "goal": "max", "summary": "best", "k": None, "step": None, "declared": True},
    ]


def test_a_metric_can_be_declared_before_it_is_logged_and_redeclared(db, api, project):
    api.put(URL, {"key": "eval/return", "summary": "mean_last_k", "k": 10}, format="json")
    response = api.put(URL, {"key": "eval/return", "goal": "min", "summary": "at_step", "step": 0}, format="json")
    assert response.json()["goal"] == "min" and response.json()["step"] == 0 and response.json()["k"] is None
    assert MetricDefinition.objects.get(key="eval/return").summary == "at_step"


def test_the_goal_defaults_from_the_key_name(db, api, project):
    assert api.put(URL, {"key": "val/perplexity"}, format="json").json()["goal"] == "min"
    assert api.put(URL, {"key": "val/f1", "goal": None}, format="json").json()["goal"] == "max"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"key": "val/acc", "goal": "up"}, "goal"),
        ({"key": "val/acc", "summary": "median"}, "summary"),
        ({"key": "val/acc", "summary": "mean_last_k"}, "k"),
        ({"key": "val/acc", "summary": "mean_last_k", "k": 0}, "k"),
        ({"key": "val/acc", "summary": "mean_last_k", "k": 2.5}, "k"),
        ({"key": "val/acc", "summary": "last", "k": 3}, "k"),
        ({"key": "val/acc", "summary": "at_step"}, "step"),
        ({"key": "val/acc", "summary": "at_step", "step": -1}, "step"),
        ({"key": "val/acc", "summary": "at_step", "step": 2**63}, "step"),
        ({"key": "val/acc", "summary": "best", "step": 3}, "step"),
        ({"key": ""}, "key"),
        ({"key": "x" * 251}, "key"),
        ({"goal": "max"}, "key"),
        ({"key": "val/acc", "direction": "max"}, "direction"),
    ],
)
def test_a_bad_definition_is_a_400_naming_its_field_and_changes_nothing(db, api, project, body, field):
    response = api.put(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert not MetricDefinition.objects.exists()


def test_a_viewer_cannot_declare_and_another_team_cannot_see(db, client_for, project):
    viewer = client_for("acme", "victor", "viewer")
    assert viewer.get(URL).status_code == 200
    assert viewer.put(URL, {"key": "val/acc"}, format="json").status_code == 403
    rival = client_for("rival", "mallory")
    assert rival.get(URL).status_code == 404
    assert rival.put(URL, {"key": "val/acc"}, format="json").status_code == 404
    assert not MetricDefinition.objects.exists()


def test_only_a_changed_rule_queues_a_recompute(db, api, project, django_capture_on_commit_callbacks):
    log_run(project, points={"val/acc": [0.5]})
    with django_capture_on_commit_callbacks() as queued:
        api.put(URL, {"key": "val/acc", "goal": "max", "summary": "last"}, format="json")  # the default rule
    assert queued == [] and not MetricStats.objects.exists()
    with django_capture_on_commit_callbacks() as queued:
        api.put(URL, {"key": "val/acc", "goal": "max", "summary": "best"}, format="json")
        api.put(URL, {"key": "val/acc", "goal": "max", "summary": "max"}, format="json")
    assert len(queued) == 1  # the second change found the recompute still queued
    assert MetricStats.objects.get(metric="val/acc").pending
