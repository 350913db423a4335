"""The export endpoints: every stored point of a project, a run selection or a comparison, streamed
as CSV or Parquet, bit for bit."""

from __future__ import annotations

import csv
import io
import json
import math
import struct
import uuid
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from django.db import connection

from server.stats.models import Comparison
from server.tracking import exports
from server.tracking.models import Project

# Values whose text forms are easy to get wrong: the shortest repr, subnormals, -0.0, extremes.
TRICKY = [0.1 + 0.2, 5e-324, -0.0, 1.7976931348623157e308, 1 / 3, -2.5e-310, 123456789.123456789]
NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def bits(values: Any) -> list[int]:
    return [struct.unpack("<q", struct.pack("<d", v))[0] for v in values]


def in_order(points: Any) -> list[tuple[Any, ...]]:
    """(step, value, ...) tuples by step, then by the value's bits: the order of two points logged
    at one step is not part of the export's promise."""
    return sorted(points, key=lambda p: (p[0], bits([p[1]])[0]))


def log(api, project: str, *, model: str = "m", config: dict | None = None, seed: int | None = 0, **fields) -> str:
    body = {"project": project, "model": model, "config": config or {}, "seed": seed, **fields}
    response = api.post("/api/v1/runs/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def ingest(api, run_id: str, key: str, steps: list[int], values: list[Any], times: list[float]) -> None:
    points = {"key": [key] * len(steps), "step": steps, "value": values, "time": times}
    response = api.post(
        f"/api/v1/runs/{run_id}/metrics/", {"batch_id": str(uuid.uuid4()), "points": points}, format="json"
    )
    assert response.status_code == 200, response.json()


def download(api, url: str) -> tuple[Any, bytes]:
    response = api.get(url)
    assert response.status_code == 200, response.content[:500]
    assert response.streaming
    return response, b"".join(response.streaming_content)


@pytest.fixture
def study(api) -> dict[str, Any]:
    """acme/exp: run A (config nested, seed 7, two keys, tricky and non-finite values, a huge step, a
    step logged twice) and run B of another model."""
    a = log(api, "acme/exp", config={"optimizer": {"lr": 0.1, "name": "sgd"}, "depth": 18}, seed=7, task="cifar")
    wire = [*TRICKY, "NaN", "Infinity", "-Infinity"]
    steps = [0, 1, 2, 3, 4, 5, 2**62, 2**62 + 1, 2**63 - 1, 3]  # step 3 twice
    times = [1.7e9 + i / 7 for i in range(len(wire))]
    ingest(api, a, "val/loss", steps, wire, times)
    ingest(api, a, "acc", [0, 1], [0.5, 0.75], [1.7e9, 1.7e9 + 1])
    b = log(api, "acme/exp", model="vit", seed=None)
    ingest(api, b, "acc", [0], [0.25], [1.7e9 + 2])
    return {"a": a, "b": b, "steps": steps, "values": [NON_FINITE.get(v, v) for v in wire], "times": times}


def _expected_rows(study: dict[str, Any]) -> list[tuple[str, int, float, float]]:
    """(key, step, value, time) of run A's val/loss by step, as the database stores them: SQLite
    (the embedded default) keeps -0.0 as 0."""
    values = [v + 0.0 if connection.vendor == "sqlite" else v for v in study["values"]]
    loss = sorted(zip(study["steps"], values, study["times"], strict=True), key=lambda p: p[0])
    return [("val/loss", *p) for p in loss]


def test_parquet_holds_every_point_bit_for_bit_with_the_runs_fields(api, study):
    response, body = download(api, "/api/v1/projects/acme/exp/export/?format=parquet")
    assert response["Content-Type"] == "application/vnd.apache.parquet"
    assert response["Content-Disposition"] == 'attachment; filename="acme-exp.parquet"'
    assert (response["X-Seedboard-Runs"], response["X-Seedboard-Points"]) == ("2", "13")
    table = pq.read_table(io.BytesIO(body))
    assert table.schema == exports.EXPORT_SCHEMA
    rows = table.to_pylist()
    assert len(rows) == 13
    a_rows = [r for r in rows if r["run_id"] == study["a"]]
    first = a_rows[0]
    assert (first["project"], first["model"], first["seed"], first["task"], first["status"]) == (
        "acme/exp", "m", 7, "cifar", "running",
    )  # fmt: skip
    assert json.loads(first["config"]) == {"depth": 18, "optimizer": {"lr": 0.1, "name": "sgd"}}
    loss = [r for r in a_rows if r["key"] == "val/loss"]
    # Steps in order; the step logged twice keeps both points (in either order).
    assert [r["step"] for r in loss] == sorted(study["steps"])
    expected = in_order((s, v, t) for _, s, v, t in _expected_rows(study))
    got = in_order((r["step"], r["value"], r["wall_time"]) for r in loss)
    assert bits(v for _, v, _ in got) == bits(v for _, v, _ in expected)
    assert [t for *_, t in got] == [t for *_, t in expected]
    b_rows = [r for r in rows if r["run_id"] == study["b"]]
    assert [(r["model"], r["seed"], r["key"], r["value"]) for r in b_rows] == [("vit", None, "acc", 0.25)]


def test_csv_reads_back_to_the_same_float64s_non_finite_included(api, study):
    response, body = download(api, "/api/v1/projects/acme/exp/export/?format=csv&key=val/loss")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    reader = csv.DictReader(io.StringIO(body.decode()))
    assert tuple(reader.fieldnames or ()) == exports.EXPORT_COLUMNS
    rows = list(reader)
    assert {r["key"] for r in rows} == {"val/loss"} and len(rows) == 10
    got = in_order((int(r["step"]), float(r["value"]), float(r["wall_time"])) for r in rows)
    expected = in_order((s, v, t) for _, s, v, t in _expected_rows(study))
    assert [s for s, _, _ in got] == [s for s, _, _ in expected]
    assert bits(v for _, v, _ in got) == bits(v for _, v, _ in expected)
    assert [t for *_, t in got] == [t for *_, t in expected]
    # pandas reads the same file to the same values.
    pandas = pytest.importorskip("pandas")
    frame = pandas.read_csv(io.BytesIO(body), float_precision="round_trip").sort_values(["step", "value"])
    assert frame["value"].isna().sum() == 1 and np.isinf(frame["value"]).sum() == 2


def test_filters_select_runs_and_keys_like_the_run_list(api, study):
    _, body = download(api, "/api/v1/projects/acme/exp/export/?format=parquet&model=vit")
    assert {r["run_id"] for r in pq.read_table(io.BytesIO(body)).to_pylist()} == {study["b"]}
    _, body = download(api, f"/api/v1/projects/acme/exp/export/?format=csv&run={study['a']}&key=acc")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [(r["run_id"], r["key"], r["step"]) for r in rows] == [(study["a"], "acc", "0"), (study["a"], "acc", "1")]
    _, body = download(api, "/api/v1/projects/acme/exp/export/?format=csv&task=none")
    assert list(csv.reader(io.StringIO(body.decode()))) == [list(exports.EXPORT_COLUMNS)]  # the header alone


def test_pages_are_cut_between_repeated_steps_and_every_point_comes_once(api, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_POINTS", 4)
    run_id = log(api, "acme/pages")
    # Step 2 logged 3 times, step 5 logged 6 times (more than a page), as two keys.
    steps = [0, 1, 2, 2, 2, 3, 4, 5, 5, 5, 5, 5, 5, 6]
    values = [float(i) for i in range(len(steps))]
    for key in ("a", "b"):
        ingest(api, run_id, key, steps, values, [1.7e9] * len(steps))
    _, body = download(api, "/api/v1/projects/acme/pages/export/?format=parquet")
    parquet = pq.ParquetFile(io.BytesIO(body))
    assert parquet.metadata.num_row_groups > 3
    rows = parquet.read().to_pylist()
    for key in ("a", "b"):
        got = [(r["step"], r["value"]) for r in rows if r["key"] == key]
        assert sorted(got) == sorted(zip(steps, values, strict=True))
        assert [s for s, _ in got] == steps


def test_a_comparison_exports_the_runs_of_its_variants(api, study):
    project = Project.objects.get(team__slug="acme", slug="exp")
    comparison = Comparison.objects.create(team=project.team, metric="acc", model_names=["vit"])
    comparison.projects.set([project])
    response, body = download(api, f"/api/v1/comparisons/{comparison.uuid}/export/?format=parquet")
    assert response["Content-Disposition"] == f'attachment; filename="comparison-{comparison.uuid}.parquet"'
    assert {r["run_id"] for r in pq.read_table(io.BytesIO(body)).to_pylist()} == {study["b"]}


def test_another_teams_project_and_comparison_are_not_found(api, client_for, study):
    rival = client_for("rival", "mallory")
    response = rival.get("/api/v1/projects/acme/exp/export/?format=parquet")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    project = Project.objects.get(team__slug="acme", slug="exp")
    comparison = Comparison.objects.create(team=project.team, metric="acc")
    comparison.projects.set([project])
    response = rival.get(f"/api/v1/comparisons/{comparison.uuid}/export/?format=csv")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("query", "field"),
    [("format=xlsx", "format"), ("format=csv&key=never-logged", "key"), ("format=csv&seed=x", "seed")],
)
def test_bad_parameters_are_a_400_naming_the_parameter(api, study, query, field):
    response = api.get(f"/api/v1/projects/acme/exp/export/?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
