"""Bad input gets a clear 4xx JSON error, and nothing of a rejected batch is stored."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from server.tracking.models import IngestBatch, MetricKey, MetricSummary


@pytest.fixture
def run_id(api):
    return api.post("/api/v1/runs/", {"project": "acme/proj", "model": "m"}, format="json").json()["id"]


def good_points(n=3):
    return {"key": ["a"] * n, "step": list(range(n)), "value": [0.5] * n}


def stored_nothing():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tracking_metric_point")
        points = cursor.fetchone()[0]
    return points == 0 and not IngestBatch.objects.exists() and not MetricSummary.objects.exists()


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"points": good_points()}, 400, "invalid", "batch_id"),
        ({"batch_id": "not-a-uuid", "points": good_points()}, 400, "invalid", "batch_id"),
        ({"batch_id": 12, "points": good_points()}, 400, "invalid", "batch_id"),
        ({"batch_id": "B"}, 400, "invalid", "points"),
        ({"batch_id": "B", "points": [1, 2]}, 400, "invalid", "points"),
        ({"batch_id": "B", "points": {"step": [0], "value": [1]}}, 400, "invalid", "points.key"),
        ({"batch_id": "B", "points": {"key": ["a"], "value": [1]}}, 400, "invalid", "points.step"),
        ({"batch_id": "B", "points": {"key": ["a"], "step": [0]}}, 400, "invalid", "points.value"),
        ({"batch_id": "B", "points": {**good_points(), "colour": [1, 2, 3]}}, 400, "invalid", "points"),
        ({"batch_id": "B", "points": {**good_points(), "step": "0,1,2"}}, 400, "invalid", "points.step"),
        ({"batch_id": "B", "points": {**good_points(), "step": [0, 1]}}, 400, "invalid", "points.step"),
        ({"batch_id": "B", "points": {**good_points(), "time": [1.0]}}, 400, "invalid", "points.time"),
        ({"batch_id": "B", "points": {**good_points(), "step": [0, -1, 2]}}, 400, "invalid", "points.step"),
        ({"batch_id": "B", "points": {**good_points(), "step": [0, 1.5, 2]}}, 400, "invalid", "points.step"),
        ({"batch_id": "B", "points": {**good_points(), "step": [0, "1", 2]}}, 400, "invalid", "points.step"),
        ({"batch_id": "B", "points": {**good_points(), "step": [0, True, 2]}}, 400, "invalid", "points.step"),
        ({"batch_id": "B", "points": {**good_points(), "step": [0, 2**63, 2]}}, 400, "invalid", "points.step"),
        ({"batch_id": "B", "points": {**good_points(), "value": [1, "one", 2]}}, 400, "invalid", "points.value"),
        ({"batch_id": "B", "points": {**good_points(), "value": [1, None, 2]}}, 400, "invalid", "points.value"),
        ({"batch_id": "B", "points": {**good_points(), "value": [1, "nan", 2]}}, 400, "invalid", "points.value"),
        ({"batch_id": "B", "points": {**good_points(), "value": [1, [2], 2]}}, 400, "invalid", "points.value"),
        ({"batch_id": "B", "points": {**good_points(), "value": [1, False, 2]}}, 400, "invalid", "points.value"),
        ({"batch_id": "B", "points": {**good_points(), "time": [1, "NaN", 2]}}, 400, "invalid", "points.time"),
        ({"batch_id": "B", "points": {**good_points(), "key": ["a", 3, "b"]}}, 400, "invalid", "points.key"),
        ({"batch_id": "B", "points": {**good_points(), "key": ["a", "", "b"]}}, 400, "invalid", "points.key"),
        ({"batch_id": "B", "points": {**good_points(), "key": ["a", "k" * 251, "b"]}}, 400, "invalid", "points.key"),
        ({"batch_id": "B", "points": good_points(50_001)}, 413, "payload_too_large", "points"),
        ([1, 2, 3], 400, "invalid", None),
    ],
)
def test_a_bad_batch_is_rejected_whole_with_a_clear_error(api, run_id, body, status, code, field):
    if isinstance(body, dict) and body.get("batch_id") == "B":
        body["batch_id"] = str(uuid.uuid4())
    response = api.post(f"/api/v1/runs/{run_id}/metrics/", body, format="json")
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert error["message"]
    assert stored_nothing()


def test_a_key_of_exactly_250_characters_is_accepted(api, run_id):
    body = {"batch_id": str(uuid.uuid4()), "points": {"key": ["k" * 250], "step": [0], "value": [1.0]}}
    assert api.post(f"/api/v1/runs/{run_id}/metrics/", body, format="json").status_code == 200
    assert MetricKey.objects.filter(name="k" * 250).exists()


def test_malformed_json_is_a_parse_error(api, run_id):
    for raw in [b"{not json", b'{"batch_id": NaN}', b""]:
        response = api.generic("POST", f"/api/v1/runs/{run_id}/metrics/", raw, content_type="application/json")
        assert response.status_code == 400, raw
        assert response.json()["error"]["code"] in {"parse_error", "invalid"}
    assert stored_nothing()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_over_the_size_limit_is_413(api, run_id):
    body = {"batch_id": str(uuid.uuid4()), "points": good_points(200)}
    response = api.post(f"/api/v1/runs/{run_id}/metrics/", body, format="json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert stored_nothing()


def test_a_batch_for_an_unknown_or_malformed_run_is_404(api):
    body = {"batch_id": str(uuid.uuid4()), "points": good_points()}
    for run in [uuid.uuid4(), "not-a-uuid"]:
        response = api.post(f"/api/v1/runs/{run}/metrics/", body, format="json")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert stored_nothing()


def test_a_batch_for_another_teams_run_is_404_and_stores_nothing(api, run_id, client_for):
    rival = client_for("rival", "mallory")
    body = {"batch_id": str(uuid.uuid4()), "points": good_points()}
    response = rival.post(f"/api/v1/runs/{run_id}/metrics/", body, format="json")
    assert response.status_code == 404
    assert stored_nothing()


def test_a_batch_without_a_token_or_with_a_revoked_one_is_401(run_id, make_token):
    from django.core.management import call_command

    body = {"batch_id": str(uuid.uuid4()), "points": good_points()}
    client = APIClient()
    assert client.post(f"/api/v1/runs/{run_id}/metrics/", body, format="json").status_code == 401
    token = make_token()
    call_command("revoketoken", token)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.post(f"/api/v1/runs/{run_id}/metrics/", body, format="json").status_code == 401
    assert stored_nothing()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": "m"}, "project"),
        ({"project": "acme/p"}, "model"),
        ({"project": "acme", "model": "m"}, "project"),
        ({"project": "acme/p/q", "model": "m"}, "project"),
        ({"project": "acme/p", "model": "m", "config": [1, 2]}, "config"),
        ({"project": "acme/p", "model": "m", "config": "lr=0.1"}, "config"),
        ({"project": "acme/p", "model": "m", "seed": "zero"}, "seed"),
        ({"project": "acme/p", "model": "m", "seed": 2**64}, "seed"),
        ({"project": "acme/p", "model": "m", "tags": "a,b"}, "tags"),
        ({"project": "acme/p", "model": "m", "tags": [1, {"a": 1}]}, "tags[1]"),
        ({"project": "acme/p", "model": "m", "status": "paused"}, "status"),
        ({"project": "acme/p", "model": "m", "id": "x"}, "id"),
        ({"project": "acme/p", "model": "m", "confg": {}}, "confg"),
        ({"project": "acme/p", "model": "m" * 201}, "model"),
        ({"project": "acme/Bad Slug", "model": "m"}, "project"),
        ({"project": "nobody/p", "model": "m"}, None),
    ],
)
def test_a_bad_run_is_rejected_with_the_offending_field(api, body, field):
    response = api.post("/api/v1/runs/", body, format="json")
    assert response.status_code in (400, 404), response.content
    error = response.json()["error"]
    if field is not None:
        assert response.status_code == 400
        assert error["field"] == field, error
    assert error["message"]


def test_a_bad_run_update_is_rejected(api, run_id):
    for body, field in [
        ({"status": "done"}, "status"),
        ({"summary": [1]}, "summary"),
        ({"heartbeat": "often"}, "heartbeat"),
        ({"x": 1}, "x"),
    ]:
        response = api.patch(f"/api/v1/runs/{run_id}/", body, format="json")
        assert response.status_code == 400
        assert response.json()["error"]["field"] == field


def test_history_rejects_bad_parameters(api, run_id):
    for query, field in [("max_points=1", "max_points"), ("max_points=x", "max_points"), ("min_step=-1", "min_step")]:
        response = api.get(f"/api/v1/runs/{run_id}/metrics/?{query}")
        assert response.status_code == 400, query
        assert response.json()["error"]["field"] == field
    response = api.get("/api/v1/projects/acme/proj/metrics/?key=a&run=nope")
    assert (response.status_code, response.json()["error"]["field"]) == (400, "run")
    assert api.get("/api/v1/projects/acme/proj/metrics/").json()["error"]["field"] == "key"


def test_wrong_methods_and_unknown_urls_answer_in_json(api, run_id):
    response = api.delete(f"/api/v1/runs/{run_id}/metrics/")
    assert (response.status_code, response.json()["error"]["code"]) == (405, "method_not_allowed")
    response = api.get("/api/v1/nowhere/")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
