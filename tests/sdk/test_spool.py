"""The spool's file format, without a server."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import seedboard
from seedboard.batch import Batcher
from seedboard.spool import RunSpool, atomic_write, list_spooled_runs


def test_a_batch_file_holds_the_exact_request_body_named_by_its_batch_id(tmp_path: Path) -> None:
    batcher = Batcher(max_points=3)
    batcher.add(0, 10.5, {"a": 1, "b": float("nan")})
    batcher.add(1, 11.0, {"a": float("-inf"), "b": 2.5})
    (full,) = batcher.take_ready()
    spool = RunSpool(tmp_path, str(uuid.uuid4()))

    path = spool.write_batch(full.batch_id, full.body)

    assert path.name == f"{full.batch_id}.json"
    assert path.read_bytes() == full.body
    assert json.loads(path.read_bytes()) == {
        "batch_id": full.batch_id,
        "points": {
            "key": ["a", "b", "a"],
            "step": [0, 0, 1],
            "value": [1.0, "NaN", "-Infinity"],
            "time": [10.5, 10.5, 11.0],
        },
    }
    assert len(batcher) == 1  # "b" at step 1 waits for the next batch
    assert spool.batch_files() == [path]


def test_run_json_keeps_the_create_payload_and_the_latest_state(tmp_path: Path) -> None:
    spool = RunSpool(tmp_path, str(uuid.uuid4()))
    create = {"project": "acme/p", "id": spool.run_id, "model": "m"}
    spool.write_run(create=create, state={"status": "running", "summary": {}}, url=None)
    spool.write_run(create=create, state={"status": "finished", "summary": {"acc": 1}}, url="http://x")

    record = spool.read_run()
    assert record is not None
    assert record["create"] == create and record["state"] == {"status": "finished", "summary": {"acc": 1}}
    assert record["version"] == 1 and record["url"] == "http://x"
    assert [s.run_id for s in list_spooled_runs(tmp_path)] == [spool.run_id]
    assert not spool.in_progress()  # finished, even though this process is alive
    assert [p.name for p in spool.path.iterdir()] == ["run.json"]  # no temporary files left


def test_finish_keeps_the_directory_while_batches_or_rejected_values_remain(tmp_path: Path) -> None:
    spool = RunSpool(tmp_path, str(uuid.uuid4()))
    spool.write_run(create={}, state={}, url=None)
    batch = spool.write_batch(str(uuid.uuid4()), b"{}")
    spool.append_rejected([{"key": "a", "step": 1, "value": "'x'", "reason": "str"}])

    spool.finish()
    assert spool.has_run()  # a batch is still pending
    batch.unlink()
    spool.finish()
    assert not spool.has_run()
    assert [json.loads(line)["key"] for line in (spool.path / "rejected.jsonl").read_text().splitlines()] == ["a"]


def test_atomic_write_replaces_the_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    atomic_write(target, b"old")
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_values_that_are_not_numbers_are_kept_in_the_rejected_file_and_reported(tmp_path: Path) -> None:
    run = seedboard.init(project="acme/p", model="m", mode="offline", dir=str(tmp_path))
    run.log({"ok": 1, "text": "high", "none": None}, step=4)
    with pytest.warns(RuntimeWarning) as warned:
        result = run.finish()

    assert any("cannot be converted to float" in str(w.message) for w in warned)
    assert (result.points_logged, result.points_spooled, result.points_rejected) == (3, 1, 2)
    assert any("not numbers" in w for w in result.warnings)
    lines = (tmp_path / "spool" / run.id / "rejected.jsonl").read_text().splitlines()
    assert sorted((r["key"], r["step"], r["value"]) for r in map(json.loads, lines)) == [
        ("none", 4, "None"),
        ("text", 4, "'high'"),
    ]
