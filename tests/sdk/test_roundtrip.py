"""End to end against a live server: what a training script logs is what the read API returns."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import seedboard
from seedboard.sender import Sender


def test_a_run_round_trips_config_seed_tags_summary_status_and_every_point(server: Any, project: str) -> None:
    losses = [2.5 / (1 + s) for s in range(300)]
    losses[7] = float("nan")
    losses[8] = float("inf")
    losses[9] = float("-inf")
    with seedboard.init(
        project=project,
        model="resnet18",
        config={"lr": 0.1, "optimizer": {"name": "sgd", "momentum": 0.9}},
        seed=0,
        task="cifar10",
        tags=["baseline"],
        name="rt",
    ) as run:
        for step, loss in enumerate(losses):
            metrics: dict[str, Any] = {"train/loss": loss}
            if step % 10 == 0:
                metrics["val/acc"] = np.float32(step / 1000)  # numpy scalars are accepted
            run.log(metrics)  # step omitted: 0, 1, 2, ...
        run.log({"val/acc": 0.5}, step=2**62)
        run.log({"flag": True}, step=2**63 - 1)
        run.summary["test/acc"] = 0.93
    result = run.finish()  # a second call returns the first result

    assert result.status == "finished"
    assert result.points_logged == 300 + 30 + 2
    assert result.points_sent == result.points_logged
    assert result.points_spooled == 0 and result.spool_dir is None

    api = seedboard.Api()
    record = api.run(run.id)
    assert record["project"] == project
    assert record["config"] == {"lr": 0.1, "optimizer": {"name": "sgd", "momentum": 0.9}}
    assert (record["seed"], record["task"], record["model"]) == (0, "cifar10", "resnet18")
    assert record["tags"] == ["baseline"]
    assert record["summary"] == {"test/acc": 0.93}
    assert record["status"] == "finished"
    assert record["metadata"]["pid"] > 0 and "python" in record["metadata"]

    history = api.history(run.id)
    assert set(history) == {"train/loss", "val/acc", "flag"}
    loss = history["train/loss"]
    assert loss["step"] == list(range(300))
    assert math.isnan(loss["value"][7])
    assert loss["value"][8] == math.inf and loss["value"][9] == -math.inf
    assert [v for i, v in enumerate(loss["value"]) if i not in (7, 8, 9)] == [
        v for i, v in enumerate(losses) if i not in (7, 8, 9)
    ]
    acc = api.history(run.id, keys=["val/acc"])
    assert list(acc) == ["val/acc"]
    assert acc["val/acc"]["step"] == [*range(0, 300, 10), 2**62]
    assert acc["val/acc"]["value"] == [float(np.float32(s / 1000)) for s in range(0, 300, 10)] + [0.5]
    assert all(isinstance(t, float) for t in acc["val/acc"]["time"])
    assert history["flag"] == {"step": [2**63 - 1], "value": [1.0], "time": history["flag"]["time"]}


def test_an_exception_in_the_with_block_marks_the_run_failed_and_propagates(server: Any, project: str) -> None:
    with pytest.raises(ZeroDivisionError), seedboard.init(project=project, model="m") as run:
        run.log({"loss": 1.0})
        1 / 0  # noqa: B018

    assert run.finish().status == "failed"
    record = seedboard.Api().run(run.id)
    assert record["status"] == "failed"
    assert record["ended_at"] is not None
    with pytest.raises(RuntimeError):
        run.log({"loss": 2.0})

    # The same id resumes the run: it is running again, then finished, with both points.
    with seedboard.init(project=project, model="m", id=run.id) as resumed:
        assert seedboard.Api().run(run.id)["status"] == "running"
        resumed.log({"loss": 0.5}, step=1)
    assert seedboard.Api().run(run.id)["status"] == "finished"
    assert seedboard.Api().history(run.id)["loss"]["value"] == [1.0, 0.5]


def test_summary_changes_and_heartbeats_reach_the_server_while_the_run_is_going(
    server: Any, project: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Sender, "heartbeat_interval", 0.5)  # 15 s in real life
    api = seedboard.Api()

    def wait_for(check: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        deadline = time.monotonic() + 5
        while not check(record := api.run(run.id)):
            assert time.monotonic() < deadline, f"{what} not seen within 5 s"
            time.sleep(0.1)
        return record

    with seedboard.init(project=project, model="m") as run:
        run.summary["best/acc"] = 0.5
        first = wait_for(lambda r: r["summary"].get("best/acc") == 0.5, "the summary")
        assert first["status"] == "running"
        wait_for(lambda r: r["heartbeat_at"] != first["heartbeat_at"], "a new heartbeat")
        del run.summary["best/acc"]
    assert api.run(run.id)["summary"] == {}
