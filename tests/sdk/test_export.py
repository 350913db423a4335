"""`Api.export`, `Api.export_comparison`, `Api.export_frame` and `seedboard export` against a live server."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import pytest
import seedboard

from tests.sdk.conftest import run_cli

pq = pytest.importorskip("pyarrow.parquet")

VALUES = [0.1 + 0.2, math.nan, math.inf, -math.inf, 5e-324, -0.0, 1 / 3]


def _same(got: list[float], expected: list[float]) -> bool:
    return [repr(v) for v in got] == [repr(v) for v in expected]  # NaN == NaN, -0.0 != 0.0


def test_a_project_exports_to_parquet_csv_and_pandas_with_every_value_exact(
    server: Any, project: str, sdk_api: seedboard.Api, tmp_path: Path
) -> None:
    runs = []
    for model, seed in (("resnet18", 0), ("vit", 1)):
        with seedboard.init(project=project, model=model, seed=seed, config={"opt": {"lr": 0.1}}) as run:
            for step, value in enumerate(VALUES):
                run.log({"val/acc": value, "train/loss": float(step)}, step=step)
        runs.append(run)

    result = sdk_api.export(project, tmp_path / "all.parquet")
    assert (result.runs, result.points, result.format) == (2, 28, "parquet")
    assert "exported 28 point(s) of 2 run(s)" in result.summary()
    rows = pq.read_table(result.path).to_pylist()
    acc = [r for r in rows if r["run_id"] == runs[0].id and r["key"] == "val/acc"]
    assert [r["step"] for r in acc] == list(range(len(VALUES))) and _same([r["value"] for r in acc], VALUES)
    assert (acc[0]["model"], acc[0]["seed"], json.loads(acc[0]["config"])) == ("resnet18", 0, {"opt": {"lr": 0.1}})

    subset = sdk_api.export(project, tmp_path / "vit.csv", format="csv", model="vit", keys=["val/acc"])
    assert subset.points == len(VALUES)
    with open(subset.path, newline="") as handle:
        csv_rows = list(csv.DictReader(handle))
    assert {r["run_id"] for r in csv_rows} == {runs[1].id}
    assert _same([float(r["value"]) for r in csv_rows], VALUES)

    frame = sdk_api.export_frame(project, runs=[runs[0].id])
    assert len(frame) == 2 * len(VALUES) and set(frame["model"]) == {"resnet18"}
    assert _same(frame[frame["key"] == "val/acc"].sort_values("step")["value"].tolist(), VALUES)

    comparison = sdk_api.compare(project, "val/acc", models=["vit"], wait=False)
    from_comparison = sdk_api.export_comparison(comparison.id, tmp_path / "comparison.parquet")
    assert {r["run_id"] for r in pq.read_table(from_comparison.path).to_pylist()} == {runs[1].id}

    # The command line: a summary line, the file under the name asked for, nothing else left.
    out = tmp_path / "cli" / "export.csv"
    out.parent.mkdir()
    done = run_cli("export", project, "--format", "csv", "--key", "train/loss", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"exported 14 point(s) of 2 run(s) to {out}")
    assert list(out.parent.iterdir()) == [out]


def test_another_teams_project_is_not_found_and_no_file_is_left(server: Any, project: str, tmp_path: Path) -> None:
    with seedboard.init(project=project, model="m") as run:
        run.log({"x": 1.0})
    with seedboard.Api(token=server.other_token) as rival, pytest.raises(seedboard.NotFoundError):
        rival.export(project, tmp_path / "stolen.parquet")
    assert [path.name for path in tmp_path.iterdir() if "stolen" in path.name] == []
