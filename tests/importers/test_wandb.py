"""`seedboard import wandb` on W&B's history exports (CSV, Parquet) and on an offline run folder
written by the real `wandb` package."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import seedboard
from seedboard.importers import import_wandb

from tests.importers.conftest import run_cli

pytestmark = pytest.mark.django_db  # the test database (see conftest.py)

HISTORY_CSV = """\
_step,_runtime,_timestamp,train/loss,val/acc,sample
0,1.5,1700000000.25,2.5,,a
1,2.5,1700000001.25,2.25,0.5,
2,3.5,1700000002.25,NaN,,
3,4.5,1700000003.25,inf,0.75,
"""

CHART_CSV = """\
"Step","resnet-s0 - val/acc","resnet-s0 - val/acc__MIN","resnet-s0 - val/acc__MAX","resnet-s1 - val/acc"
"0","0.5","0.5","0.5","0.25"
"10","0.625","0.6","0.7",""
"""


def test_a_history_csv_export_imports_once_with_empty_cells_left_out(live, sdk_env, project, tmp_path):
    export = tmp_path / "run-7x2k.csv"
    export.write_text(HISTORY_CSV)

    first = run_cli("import", "wandb", str(export), "--project", project, "--model", "mlp", env=sdk_env)
    assert first.returncode == 0, first.stderr
    assert "imported 1 wandb run(s) (1 new, 0 already there): 6 point(s) stored" in first.stdout
    assert "1 value(s) skipped" in first.stdout  # the text "a"

    again = import_wandb(export, project, model="mlp")
    assert (again.runs_existing, again.points_stored, again.points_present) == (1, 0, 6)

    with seedboard.Api() as api:
        (run,) = api.runs(project)
        assert (run["name"], run["model"], run["config"], run["seed"]) == ("run-7x2k", "mlp", {}, None)
        history = api.history(run["id"])
    assert history["val/acc"]["step"] == [1, 3] and history["val/acc"]["value"] == [0.5, 0.75]
    loss = history["train/loss"]
    assert loss["step"] == [0, 1, 2, 3] and loss["value"][:2] == [2.5, 2.25]
    assert math.isnan(loss["value"][2]) and loss["value"][3] == math.inf
    assert loss["time"][0] == 1700000000.25


def test_a_chart_csv_export_gives_one_run_per_run_name(live, sdk_env, project, tmp_path):
    export = tmp_path / "chart.csv"
    export.write_text(CHART_CSV)
    report = import_wandb(export, project, model="resnet18")
    assert (report.runs_created, report.points_stored) == (2, 3), report.details()
    with seedboard.Api() as api:
        runs = {run["name"]: run for run in api.runs(project)}
        assert sorted(runs) == ["resnet-s0", "resnet-s1"]
        assert api.history(runs["resnet-s0"]["id"])["val/acc"]["value"] == [0.5, 0.625]


def test_a_parquet_history_export_imports_nulls_as_not_logged(live, sdk_env, project, tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    export = tmp_path / "history.parquet"
    table = pa.table({"_step": [0, 1, 2], "_timestamp": [1.7e9, 1.7e9 + 1, 1.7e9 + 2], "loss": [1.0, None, math.nan]})
    pq.write_table(table, export)
    report = import_wandb(export, project)
    assert report.points_stored == 2
    assert import_wandb(export, project).points_stored == 0


def _offline_run(root: Path) -> None:
    """A W&B run in offline mode, in a child process as a training script would make it."""
    script = """
import math, wandb
run = wandb.init(project="cifar", dir=".", config={"lr": 0.1, "seed": 3, "model": "mlp", "opt": {"name": "adam"}},
                 tags=["baseline"], notes="first try", name="mlp-s3")
for step in range(25):
    run.log({"loss": 1 / (step + 1), "val": {"acc": step / 25}, "weird": "text"}, step=step)
run.log({"loss": math.nan}, step=25)
run.summary["test/acc"] = 0.875
run.finish()
"""
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DISABLE_GIT": "true"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_an_offline_run_folder_imports_once_with_its_config_seed_and_summary(live, sdk_env, project, tmp_path):
    pytest.importorskip("wandb")
    _offline_run(tmp_path)
    (folder,) = (tmp_path / "wandb").glob("offline-run-*")

    first = import_wandb(tmp_path / "wandb", project)
    assert first.ok, first.details()
    assert (first.runs_created, first.points_stored) == (1, 51)
    assert first.skipped == {"W&B values that are not numbers (media, tables, text)": 25}
    again = import_wandb(folder, project)
    assert (again.runs_existing, again.points_stored, again.points_present) == (1, 0, 51)

    with seedboard.Api() as api:
        (run,) = api.runs(project)
        assert (run["name"], run["model"], run["seed"], run["status"]) == ("mlp-s3", "mlp", 3, "finished")
        assert run["config"] == {"lr": 0.1, "opt": {"name": "adam"}}
        assert (run["tags"], run["notes"], run["summary"]) == (["baseline"], "first try", {"test/acc": 0.875})
        history = api.history(run["id"])
    assert history["val.acc"]["step"] == list(range(25))
    assert math.isnan(history["loss"]["value"][-1]) and history["loss"]["step"][-1] == 25


def test_a_path_that_is_not_a_wandb_source_is_a_clear_error_and_nothing_is_created(live, sdk_env, project, tmp_path):
    (tmp_path / "notes.txt").write_text("not a run")
    done = run_cli("import", "wandb", str(tmp_path), "--project", project, env=sdk_env)
    assert done.returncode == 1 and done.stderr.startswith("error: ") and "no .wandb run file" in done.stderr
    with seedboard.Api() as api, pytest.raises(seedboard.NotFoundError):
        api.runs(project)  # not even the project
