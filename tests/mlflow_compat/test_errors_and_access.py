"""MLflow's error shape and codes, and Seedboard's access rules behind the MLflow endpoints."""

from __future__ import annotations

import httpx
import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from tests.mlflow_compat.conftest import Live


def _call(live: Live, method: str, path: str, token: str | None, **kwargs: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, f"{live.mlflow_uri}/api/2.0/mlflow/{path}", headers=headers, **kwargs)


@pytest.mark.parametrize(
    ("method", "path", "token", "body", "status", "code"),
    [
        ("GET", "experiments/get?experiment_id=999999", "token", None, 404, "RESOURCE_DOES_NOT_EXIST"),
        ("GET", "runs/get?run_id=0123456789abcdef0123456789abcdef", "token", None, 404, "RESOURCE_DOES_NOT_EXIST"),
        ("POST", "runs/create", "token", {"experiment_id": "nope"}, 404, "RESOURCE_DOES_NOT_EXIST"),
        ("POST", "runs/search", "token", {"experiment_ids": ["0"], "filter": "params.lr >>> 1"}, 400,
         "INVALID_PARAMETER_VALUE"),
        ("POST", "experiments/create", "token", {}, 400, "INVALID_PARAMETER_VALUE"),
        ("POST", "experiments/search", None, {}, 401, "UNAUTHENTICATED"),
        ("POST", "model-versions/create", "token", {}, 404, "ENDPOINT_NOT_FOUND"),
        ("GET", "artifacts/list?run_id=x", "token", None, 404, "ENDPOINT_NOT_FOUND"),
        ("POST", "runs/create", "read_token", {"experiment_id": "0"}, 403, "PERMISSION_DENIED"),
    ],
)  # fmt: skip
def test_errors_have_mlflow_shape_code_and_status(
    live: Live, method: str, path: str, token: str | None, body: object, status: int, code: str
) -> None:
    response = _call(live, method, path, getattr(live, token) if token else None, json=body)
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error_code", "message"}
    assert response.json()["error_code"] == code


def test_an_existing_experiment_name_is_resource_already_exists(live: Live, experiment: str) -> None:
    client = MlflowClient()
    client.create_experiment(experiment)
    with pytest.raises(MlflowException) as refused:
        client.create_experiment(experiment)
    assert refused.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert refused.value.get_http_status_code() == 400


def test_default_experiment_and_team_prefixed_names(live: Live, experiment: str) -> None:
    with mlflow.start_run() as run:  # no experiment set: MLflow's "0", Default
        mlflow.log_param("lr", "0.5")
    client = MlflowClient()
    assert client.get_experiment("0").name == "Default"
    assert client.get_run(run.info.run_id).info.experiment_id == "0"
    named = client.create_experiment(f"acme/{experiment}")
    assert client.get_experiment(named).name == experiment  # the caller's own team: no prefix
    with live.seedboard() as api:
        assert api.get(f"/runs/{run.info.run_id}/").json()["project"] == "acme/default"
        assert api.get(f"/projects/acme/{experiment}/").status_code == 200


def test_read_token_reads_but_never_writes(live: Live, experiment: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = MlflowClient()
    experiment_id = client.create_experiment(experiment)
    run = client.create_run(experiment_id)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", live.read_token)
    reader = MlflowClient()
    assert reader.get_run(run.info.run_id).info.run_id == run.info.run_id
    assert [r.info.run_id for r in reader.search_runs([experiment_id])] == [run.info.run_id]
    with pytest.raises(MlflowException) as refused:
        reader.log_metric(run.info.run_id, "loss", 1.0)
    assert refused.value.error_code == "PERMISSION_DENIED"
    assert reader.get_metric_history(run.info.run_id, "loss") == []


def test_another_teams_private_experiment_does_not_exist_for_it(live: Live, experiment: str) -> None:
    client = MlflowClient()
    experiment_id = client.create_experiment(experiment)
    run = client.create_run(experiment_id)
    cases = [
        ("GET", f"experiments/get?experiment_id={experiment_id}", None),
        ("GET", f"experiments/get-by-name?experiment_name=acme/{experiment}", None),
        ("GET", f"runs/get?run_id={run.info.run_id}", None),
        ("POST", "runs/create", {"experiment_id": experiment_id}),
        ("POST", "runs/log-batch", {"run_id": run.info.run_id, "params": [{"key": "a", "value": "1"}]}),
        ("POST", "runs/search", {"experiment_ids": [experiment_id]}),
    ]
    for method, path, body in cases:
        response = _call(live, method, path, live.other_token, json=body)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
        if "experiment_name" not in path:  # a name the caller sent may be echoed, nothing else
            assert experiment not in response.json()["message"]
    listed = _call(live, "POST", "experiments/search", live.other_token, json={}).json().get("experiments", [])
    assert all(experiment not in e["name"] for e in listed)
