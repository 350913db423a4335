"""Loss-free logging under faults: a server that goes away, a sync cut short."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import seedboard

from .conftest import run_cli


def _wait_for_points(api: seedboard.Api, run_id: str, key: str, count: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout

    def stored() -> int:
        try:
            return len(api.history(run_id, keys=[key]).get(key, {}).get("step", []))
        except seedboard.errors.NotFoundError:  # unknown_metric: no point of the key has arrived yet
            return 0

    while stored() < count:
        assert time.monotonic() < deadline, f"{count} points of {key} not stored within {timeout} s"
        time.sleep(0.1)


def test_points_logged_while_the_server_is_down_are_stored_exactly_once_after_sync(
    server: Any, project: str, seedboard_dir: Path, sdk_api: seedboard.Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A small memory bound, so that log() itself must spool while the sender is stuck retrying.
    monkeypatch.setattr("seedboard.run.MAX_PENDING_POINTS", 2_000)
    run = seedboard.init(project=project, model="resnet18", seed=1, flush_timeout=2)
    for step in range(100):
        run.log({"a": step, "b": -step}, step=step)
    _wait_for_points(sdk_api, run.id, "b", 100)  # the first points went out online

    server.stop()
    durations = []
    with pytest.warns(RuntimeWarning) as warned:
        for step in range(100, 6100):
            if step == 3000:
                time.sleep(1.5)  # the sender now retries against a dead port
            started = time.perf_counter()
            run.log({"a": step, "b": -step}, step=step)
            durations.append(time.perf_counter() - started)
        spooled_before_finish = list(seedboard_dir.glob(f"spool/{run.id}/*-*.json"))
        run.summary["best"] = 1.0
        started = time.monotonic()
        result = run.finish()
        finish_seconds = time.monotonic() - started

    durations.sort()
    assert durations[len(durations) // 2] < 50e-6, "log() must not wait for the network"
    assert durations[-1] < 0.25
    assert spooled_before_finish, "the queue must not grow past its bound while the server is away"
    assert finish_seconds < 2 + 3, "finish() must respect the flush timeout"
    assert result.points_logged == 12_200
    assert (result.points_sent, result.points_spooled) == (200, 12_000)
    assert result.spool_dir is not None and (Path(result.spool_dir) / "run.json").exists()
    assert any("cannot reach the server" in str(w.message) for w in warned)
    assert any("run `seedboard sync`" in str(w.message) for w in warned)
    assert any("seedboard sync" in w for w in result.warnings)

    server.start()
    env = {"SEEDBOARD_DIR": str(seedboard_dir), "SEEDBOARD_URL": server.url, "SEEDBOARD_TOKEN": server.token}
    synced = run_cli("sync", env=env)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert "12000 point(s) stored" in synced.stdout

    history = sdk_api.history(run.id)
    assert history["a"]["step"] == list(range(6100))
    assert history["a"]["value"] == [float(s) for s in range(6100)]
    assert history["b"]["value"] == [-float(s) for s in range(6100)]
    record = sdk_api.run(run.id)
    assert record["status"] == "finished"
    assert record["summary"] == {"best": 1.0}
    assert not Path(result.spool_dir).exists()

    again = run_cli("sync", env=env)
    assert again.returncode == 0 and "synced 0 run(s)" in again.stdout


def test_a_sync_after_a_partial_upload_stores_every_point_exactly_once(
    server: Any, project: str, seedboard_dir: Path, sdk_api: seedboard.Api
) -> None:
    with (
        pytest.warns(RuntimeWarning, match="offline run kept"),
        seedboard.init(project=project, model="vit", mode="offline") as run,
    ):
        for step in range(25_000):
            run.log({"x": step * 0.5, "y": step}, step=step)
    spool = seedboard_dir / "spool" / run.id
    batches = sorted(p for p in spool.glob("*.json") if p.name != "run.json")
    assert len(batches) == 3  # 50,000 points in batches of at most 20,000

    # An earlier sync got the run and two batches to the server, then died before
    # deleting their files.
    headers = {"Authorization": f"Bearer {server.token}", "Content-Type": "application/json"}
    create_payload = json.loads((spool / "run.json").read_text())["create"]
    create = httpx.post(f"{server.url}/api/v1/runs/", json=create_payload, headers=headers)
    assert create.status_code == 201
    uploaded = 0
    for path in batches[:2]:
        uploaded += len(json.loads(path.read_bytes())["points"]["key"])
        answer = httpx.post(f"{server.url}/api/v1/runs/{run.id}/metrics/", content=path.read_bytes(), headers=headers)
        assert answer.json()["duplicate"] is False

    report = seedboard.sync()
    assert report.ok, report.summary()
    assert (report.runs_synced, report.batches_sent, report.batches_duplicate) == (1, 3, 2)
    assert report.points_stored == 50_000 - uploaded

    history = sdk_api.history(run.id)
    assert history["y"]["step"] == list(range(25_000))
    assert history["x"]["value"] == [s * 0.5 for s in range(25_000)]
    assert sdk_api.run(run.id)["metrics"]["x"]["count"] == 25_000
    assert sdk_api.run(run.id)["status"] == "finished"
    assert not spool.exists()


def test_sync_keeps_a_batch_the_server_refuses_and_still_uploads_the_others(
    server: Any, project: str, seedboard_dir: Path, sdk_api: seedboard.Api
) -> None:
    with (
        pytest.warns(RuntimeWarning, match="offline run kept"),
        seedboard.init(project=project, model="m", mode="offline") as run,
    ):
        run.log({"ok": 1.0}, step=0)
    spool = seedboard_dir / "spool" / run.id
    bad_id = str(uuid.uuid4())  # a damaged file: a negative step can never be stored
    bad = {"batch_id": bad_id, "points": {"key": ["ok"], "step": [-1], "value": [2.0]}}
    (spool / f"{bad_id}.json").write_text(json.dumps(bad))

    synced = run_cli("sync", env={"SEEDBOARD_URL": server.url, "SEEDBOARD_TOKEN": server.token})

    assert synced.returncode == 1, synced.stdout
    assert f"batch {bad_id} refused" in synced.stdout and "step" in synced.stdout
    assert sdk_api.history(run.id)["ok"]["step"] == [0]
    assert sdk_api.run(run.id)["status"] == "finished"
    assert [p.name for p in spool.iterdir()] == [f"{bad_id}.invalid"]  # kept, never replayed
