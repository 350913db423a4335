"""`seedboard import mlflow` on a real `mlruns` folder written by MLflow's own file store."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import seedboard
from seedboard.importers import import_mlflow

from tests.importers.conftest import run_cli

pytestmark = pytest.mark.django_db  # the test database (see conftest.py)

mlflow = pytest.importorskip("mlflow")
from mlflow.entities import Metric, Param, RunTag  # noqa: E402

STEPS = 40


def _values(seed: int) -> list[float]:
    values = [0.5 + seed / 10 + step / 1000 + 1 / 3 for step in range(STEPS)]
    values[7] = math.nan
    values[9] = math.inf
    return values


@pytest.fixture(autouse=True)
def _file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    # MLflow 3.7+ opens its file store (mlruns folders) only when told to; the importer sets it
    # itself, which is tested by the command line run (a child process without it).
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")


def _log_mlruns(root: Path) -> tuple[mlflow.MlflowClient, dict[int, str]]:
    """An experiment 'cifar' with a finished run per seed 0 and 1 (params as MLflow stores them:
    text), two metrics of STEPS points each, and an experiment 'other' that is not imported."""
    client = mlflow.MlflowClient(tracking_uri=root.as_uri())
    experiment = client.create_experiment("cifar")
    client.create_run(client.create_experiment("other"), run_name="elsewhere")
    run_ids = {}
    for seed in (0, 1):
        run = client.create_run(experiment, run_name=f"resnet-s{seed}", tags={"team": "vision", "baseline": ""})
        run_id = run.info.run_id
        params = {"optimizer.lr": "0.1", "optimizer.name": "sgd", "depth": "18", "model": "resnet18", "seed": str(seed)}
        metrics = [
            Metric(key, value if key == "val/acc" else -value, 1_700_000_000_000 + step * 1500, step)
            for key in ("val/acc", "train/loss")
            for step, value in enumerate(_values(seed))
        ]
        client.log_batch(
            run_id,
            metrics=metrics,
            params=[Param(k, v) for k, v in params.items()],
            tags=[RunTag("mlflow.source.git.commit", "abc123")],
        )
        client.set_terminated(run_id, "FINISHED")
        run_ids[seed] = run_id
    return client, run_ids


def test_an_mlruns_folder_imports_once_with_params_as_config_and_the_seed_param_as_seed(
    live, sdk_env, project, tmp_path
):
    mlruns = tmp_path / "mlruns"
    _log_mlruns(mlruns)

    first = run_cli(
        "import", "mlflow", "--tracking-uri", str(mlruns), "--experiment", "cifar", "--project", project,
        env=sdk_env, unset=("MLFLOW_ALLOW_FILE_STORE",),
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert f"imported 2 mlflow run(s) (2 new, 0 already there): {4 * STEPS} point(s) stored" in first.stdout

    again = import_mlflow(str(mlruns), project, experiment="cifar")
    assert again.ok, again.details()
    assert (again.runs_existing, again.points_stored, again.points_present) == (2, 0, 4 * STEPS)

    with seedboard.Api() as api:
        runs = sorted(api.runs(project), key=lambda r: r["seed"])
        assert [(r["name"], r["model"], r["seed"], r["status"]) for r in runs] == [
            ("resnet-s0", "resnet18", 0, "finished"),
            ("resnet-s1", "resnet18", 1, "finished"),
        ]
        assert runs[0]["config"] == {"depth": 18, "optimizer": {"lr": 0.1, "name": "sgd"}}
        assert runs[0]["variant"] == runs[1]["variant"]  # seeds of one variant
        assert runs[0]["tags"] == ["baseline", "team=vision"]
        assert runs[0]["metadata"]["mlflow"]["tags"]["mlflow.source.git.commit"] == "abc123"
        history = api.history(runs[1]["id"], ["val/acc"])["val/acc"]
    assert history["step"] == list(range(STEPS))
    expected = _values(1)
    assert [v for i, v in enumerate(history["value"]) if i != 7] == [v for i, v in enumerate(expected) if i != 7]
    assert math.isnan(history["value"][7])
    assert history["time"][:2] == [1_700_000_000.0, 1_700_000_001.5]


def test_a_run_that_went_on_adds_only_its_new_points_and_its_final_status(live, sdk_env, project, tmp_path):
    client = mlflow.MlflowClient(tracking_uri=(tmp_path / "mlruns").as_uri())
    run_id = client.create_run(client.create_experiment("live"), run_name="going").info.run_id
    client.log_batch(run_id, metrics=[Metric("loss", 1.0 / (s + 1), 1_700_000_000_000, s) for s in range(30)])

    first = import_mlflow(str(tmp_path / "mlruns"), project)
    assert (first.runs_created, first.points_stored) == (1, 30)

    client.log_batch(run_id, metrics=[Metric("loss", 1.0 / (s + 1), 1_700_000_000_000, s) for s in range(30, 45)])
    client.set_terminated(run_id, "FAILED")
    second = import_mlflow(str(tmp_path / "mlruns"), project)
    assert (second.runs_existing, second.points_stored, second.points_present) == (1, 15, 30)

    with seedboard.Api() as api:
        (run,) = api.runs(project)
        assert run["status"] == "failed" and run["model"] == "mlflow"
        assert api.history(run["id"], ["loss"])["loss"]["step"] == list(range(45))
