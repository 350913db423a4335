"""`define_metric`: argument checks in the caller's thread, the spool record, the sync replay."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import seedboard
from seedboard.definitions import metric_definition


def _offline_run(home: Path, **kwargs: Any) -> seedboard.Run:
    return seedboard.init(project="acme/p", model="m", mode="offline", dir=str(home), **kwargs)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("val/acc", "up"), {}, ValueError, "goal must be one of"),
        (("val/acc", "max", "median"), {}, ValueError, "summary must be one of"),
        (("val/acc", "max", "mean_last_k"), {}, ValueError, "needs k"),
        (("val/acc", "max", "mean_last_k"), {"k": 0}, ValueError, "k must be an int >= 1"),
        (("val/acc", "max", "mean_last_k"), {"k": 2.5}, TypeError, "k must be an int"),
        (("val/acc", "max", "mean_last_k"), {"k": True}, TypeError, "k must be an int"),
        (("val/acc", "max", "at_step"), {}, ValueError, "needs step"),
        (("val/acc", "max", "at_step"), {"step": -1}, ValueError, "step must be an int >= 0"),
        (("val/acc", "max", "at_step"), {"step": 2**63}, ValueError, "step must be an int >= 0"),
        (("val/acc", "max", "best"), {"k": 3}, ValueError, "k is only used with"),
        (("val/acc", "max", "last"), {"step": 3}, ValueError, "step is only used with"),
        (("", "max"), {}, ValueError, "1 to 250 characters"),
        (("x" * 251, "max"), {}, ValueError, "1 to 250 characters"),
        ((7, "max"), {}, TypeError, "must be a str"),
    ],
)
def test_a_bad_definition_raises_at_once_in_the_run_and_in_the_api(
    tmp_path: Path, args: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    run = _offline_run(tmp_path)
    with pytest.raises(error, match=match):
        run.define_metric(*args, **kwargs)
    # The Api checks before any request: the address below would refuse a connection.
    with seedboard.Api(url="http://127.0.0.1:9", token="t") as api, pytest.raises(error, match=match):
        api.define_metric("acme/p", *args, **kwargs)
    with pytest.warns(RuntimeWarning, match="offline run kept"):
        run.finish()
    record = json.loads((tmp_path / "spool" / run.id / "run.json").read_text())
    assert "metric_definitions" not in record  # nothing was recorded


def test_a_definition_body_names_every_field_and_accepts_numpy_integers() -> None:
    assert metric_definition("val/acc", goal="max", summary="best") == {
        "key": "val/acc",
        "goal": "max",
        "summary": "best",
        "k": None,
        "step": None,
    }
    # Without a goal, null asks the server for the key's default direction.
    assert metric_definition("val/err")["goal"] is None
    body = metric_definition("loss", goal="min", summary="mean_last_k", k=np.int64(5))
    assert body["k"] == 5 and type(body["k"]) is int
    assert metric_definition("loss", goal="min", summary="at_step", step=np.uint32(0))["step"] == 0


def test_the_statistics_calls_check_their_arguments_before_sending() -> None:
    with seedboard.Api(url="http://127.0.0.1:9", token="t") as api:
        with pytest.raises(ValueError, match="team/project"):
            api.define_metric("acme", "val/acc", "max")
        with pytest.raises(ValueError, match="team/project"):
            api.variants("acme/p/x", "val/acc")
        with pytest.raises(ValueError, match="team/project"):
            api.compare(["acme/p", "rival"], "val/acc")
        with pytest.raises(ValueError, match="variants is empty"):
            api.compare("acme/p", "val/acc", variants=[])
        with pytest.raises(TypeError, match="metric must be a str"):
            api.curves("acme/p", None)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="points"):
            api.curves("acme/p", "val/acc", points=1)
        with pytest.raises(TypeError, match="points"):
            api.curves("acme/p", "val/acc", points=2.5)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="timeout"):
            api.compare("acme/p", "val/acc", timeout=-1)


def test_an_offline_run_keeps_its_latest_definitions_in_the_spool_record(tmp_path: Path) -> None:
    run = _offline_run(tmp_path)
    run.define_metric("val/acc", "max", "last")
    run.define_metric("train/loss", "min", "mean_last_k", k=10)
    run.define_metric("val/acc", "max", summary="best")  # replaces the first one
    run_json = tmp_path / "spool" / run.id / "run.json"

    # Written by the background thread while the run is live (at its first flush here): a
    # process killed mid-training still leaves them for `seedboard sync`.
    deadline = time.monotonic() + 5
    while "metric_definitions" not in json.loads(run_json.read_text()):
        assert time.monotonic() < deadline, "definitions not spooled while the run is live"
        time.sleep(0.05)
    with pytest.warns(RuntimeWarning, match="offline run kept"):
        run.finish()

    record = json.loads(run_json.read_text())
    assert record["version"] == 1 and record["state"]["status"] == "finished"
    assert record["metric_definitions"] == [
        {"key": "train/loss", "goal": "min", "summary": "mean_last_k", "k": 10, "step": None},
        {"key": "val/acc", "goal": "max", "summary": "best", "k": None, "step": None},
    ]
    with pytest.raises(RuntimeError, match="finished"):
        run.define_metric("val/acc", "max")


def _definition(api: seedboard.Api, project: str, key: str) -> dict[str, Any]:
    (definition,) = [d for d in api.metric_definitions(project) if d["key"] == key]
    return definition


def test_sync_replays_the_definitions_of_an_offline_run_after_creating_it(
    server: Any, project: str, sdk_api: seedboard.Api
) -> None:
    with (
        pytest.warns(RuntimeWarning, match="offline run kept"),
        seedboard.init(project=project, model="m", mode="offline") as run,
    ):
        run.define_metric("val/err", summary="at_step", step=1)  # goal: the key's default
        run.log({"val/err": 0.5, "val/acc": 0.5}, step=0)
        run.log({"val/err": 0.2, "val/acc": 0.8}, step=1)

    report = seedboard.sync()

    assert report.ok, report.summary()
    assert _definition(sdk_api, project, "val/err") == {
        "key": "val/err",
        "goal": "min",
        "summary": "at_step",
        "k": None,
        "step": 1,
        "declared": True,
    }
    assert _definition(sdk_api, project, "val/acc")["declared"] is False
    assert sdk_api.run(run.id)["status"] == "finished"


def test_a_definition_the_server_could_not_take_is_spooled_and_sent_by_sync(
    server: Any, project: str, seedboard_dir: Path, sdk_api: seedboard.Api
) -> None:
    run = seedboard.init(project=project, model="m")
    run.log({"score": 1.0}, step=0)
    with pytest.warns(RuntimeWarning) as warned:
        server.stop()
        run.define_metric("score", "min", "mean_last_k", k=2)
        result = run.finish(timeout=1)
    assert any("1 metric definition(s)" in str(w.message) for w in warned)
    assert result.spool_dir is not None
    record = json.loads((Path(result.spool_dir) / "run.json").read_text())
    assert record["metric_definitions"] == [
        {"key": "score", "goal": "min", "summary": "mean_last_k", "k": 2, "step": None}
    ]

    server.start()
    report = seedboard.sync()

    assert report.ok, report.summary()
    definition = _definition(sdk_api, project, "score")
    assert (definition["goal"], definition["summary"], definition["k"]) == ("min", "mean_last_k", 2)
    assert not Path(result.spool_dir).exists()
