"""The real `mlflow` client logging into Seedboard: fluent API, MlflowClient, search, and what
Seedboard makes of it (config, seed, variant, points), read back through Seedboard's own API."""

from __future__ import annotations

import math
import time

import httpx
import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

from tests.mlflow_compat.conftest import Live


def _seedboard_run(live: Live, run_id: str) -> dict:
    with live.seedboard() as api:
        response = api.get(f"/runs/{run_id}/")
    assert response.status_code == 200, response.text
    return response.json()


def test_fluent_run_lands_as_a_seedboard_run_with_nested_config_seed_and_points(live: Live, experiment: str) -> None:
    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name="baseline") as run:
        mlflow.log_params({"optimizer.lr": "0.01", "optimizer.name": "adam", "layers": 4, "seed": 3, "model": "mlp"})
        for step in range(5):
            mlflow.log_metrics({"train/loss": 1.0 / (step + 1), "val/acc": 0.5 + step / 10}, step=step)
        mlflow.log_metric("diverged", float("nan"), step=0)
        mlflow.set_tag("team", "vision")
    run_id = run.info.run_id

    stored = _seedboard_run(live, run_id)
    assert stored["project"] == f"acme/{experiment}"
    assert stored["name"] == "baseline"
    assert stored["status"] == "finished"
    assert stored["config"] == {"optimizer": {"lr": 0.01, "name": "adam"}, "layers": 4}
    assert stored["seed"] == 3
    assert stored["model"] == "mlp"
    assert "team=vision" in stored["tags"]
    with live.seedboard() as api:
        history = api.get(f"/runs/{run_id}/metrics/", params={"key": ["val/acc", "diverged"]}).json()["metrics"]
    assert history["val/acc"]["step"] == [0, 1, 2, 3, 4]
    assert history["val/acc"]["value"] == pytest.approx([0.5, 0.6, 0.7, 0.8, 0.9])
    assert history["diverged"]["value"] == ["NaN"]

    # A second seed of the same hyperparameters is the same variant; another lr is another.
    variants = []
    for seed, lr in [(4, "0.01"), (5, "0.1")]:
        with mlflow.start_run() as other:
            mlflow.log_params({"optimizer.lr": lr, "optimizer.name": "adam", "layers": 4, "seed": seed, "model": "mlp"})
        variants.append(_seedboard_run(live, other.info.run_id)["variant"])
    assert variants[0] == stored["variant"]
    assert variants[1] != stored["variant"]

    # MLflow reads back exactly what it wrote.
    fetched = MlflowClient().get_run(run_id)
    assert fetched.data.params["optimizer.lr"] == "0.01"
    assert fetched.data.params["seed"] == "3"
    assert fetched.data.tags["team"] == "vision"
    assert fetched.data.metrics["val/acc"] == pytest.approx(0.9)
    assert math.isnan(fetched.data.metrics["diverged"])
    assert fetched.info.status == "FINISHED"
    assert fetched.info.run_name == "baseline"


def test_client_log_batch_search_and_history(live: Live, experiment: str) -> None:
    client = MlflowClient()
    experiment_id = client.create_experiment(experiment)
    assert client.get_experiment_by_name(experiment).experiment_id == experiment_id
    now = int(time.time() * 1000)
    run_ids = {}
    for lr in ("0.1", "0.01"):
        run = client.create_run(experiment_id)
        metrics = [Metric("loss", 1.0 / (step + 1) + float(lr), now + step, step) for step in range(100)]
        metrics.append(Metric("acc", 0.9 if lr == "0.1" else 0.8, now, 0))
        client.log_batch(run.info.run_id, metrics=metrics, params=[Param("lr", lr)], tags=[RunTag("kind", "sweep")])
        client.set_terminated(run.info.run_id)
        run_ids[lr] = run.info.run_id

    found = client.search_runs([experiment_id], filter_string="params.lr = '0.1'")
    assert [r.info.run_id for r in found] == [run_ids["0.1"]]
    found = client.search_runs([experiment_id], filter_string="metrics.acc > 0.85 and tags.kind = 'sweep'")
    assert [r.info.run_id for r in found] == [run_ids["0.1"]]
    found = client.search_runs(
        [experiment_id], filter_string="attributes.status = 'FINISHED'", order_by=["metrics.acc ASC"]
    )
    assert [r.info.run_id for r in found] == [run_ids["0.01"], run_ids["0.1"]]
    assert client.search_runs([experiment_id], filter_string="params.lr = '0.5'") == []

    history = client.get_metric_history(run_ids["0.01"], "loss")
    assert [m.step for m in history] == list(range(100))
    assert history[3].value == pytest.approx(0.26)
    assert history[3].timestamp == now + 3

    frame = mlflow.search_runs(experiment_ids=[experiment_id], order_by=["params.lr DESC"])
    assert list(frame["run_id"]) == [run_ids["0.1"], run_ids["0.01"]]
    assert list(frame["params.lr"]) == ["0.1", "0.01"]
    assert list(frame["metrics.acc"]) == pytest.approx([0.9, 0.8])
    assert list(frame["status"]) == ["FINISHED", "FINISHED"]


def test_a_retried_log_batch_is_stored_once(live: Live, experiment: str) -> None:
    client = MlflowClient()
    run = client.create_run(client.create_experiment(experiment))
    body = {
        "run_id": run.info.run_id,
        "metrics": [{"key": "loss", "value": v, "timestamp": "1700000000000", "step": str(i)}
                    for i, v in enumerate([0.5, "NaN", "Infinity"])],
    }  # fmt: skip
    with httpx.Client(headers={"Authorization": f"Bearer {live.token}"}) as http:
        for _ in range(2):  # the client's retry after a lost answer sends the very same request
            response = http.post(f"{live.mlflow_uri}/api/2.0/mlflow/runs/log-batch", json=body)
            assert response.status_code == 200, response.text
            assert response.json() == {}
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2]
    assert math.isnan(history[1].value) and history[2].value == math.inf
    assert _seedboard_run(live, run.info.run_id)["metrics"]["loss"]["count"] == 3


def test_params_keep_their_value_and_deleted_runs_leave_searches(live: Live, experiment: str) -> None:
    client = MlflowClient()
    experiment_id = client.create_experiment(experiment)
    run = client.create_run(experiment_id)
    client.log_param(run.info.run_id, "lr", "0.1")
    client.log_param(run.info.run_id, "lr", "0.1")  # the same value again is fine
    with pytest.raises(MlflowException) as refused:
        client.log_param(run.info.run_id, "lr", "0.2")
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE"
    client.delete_run(run.info.run_id)
    assert client.search_runs([experiment_id]) == []
    client.restore_run(run.info.run_id)
    assert [r.info.run_id for r in client.search_runs([experiment_id])] == [run.info.run_id]
    client.set_tag(run.info.run_id, "stage", "2")
    client.delete_tag(run.info.run_id, "stage")
    assert "stage" not in client.get_run(run.info.run_id).data.tags
