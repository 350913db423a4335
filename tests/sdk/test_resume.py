"""Resuming a run from the SDK: a training process killed mid-run continues in a new process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import seedboard

from tests.sdk.conftest import SDK_SRC

TOTAL_STEPS = 3000
REWIND = 50  # the restarted loop goes back this many steps before the last stored one

TRAIN = """
import sys, time
import seedboard

project, total, rewind = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
# id and resume mode come from SEEDBOARD_RUN_ID and SEEDBOARD_RESUME
run = seedboard.init(project, model="mlp", config={"lr": 0.01, "layers": [64, 64]}, seed=3)
start = max(0, run.next_step - rewind)
print("start", start, run.resumed, flush=True)
for step in range(start, total):
    run.log({"loss": 1.0 / (step + 1), "acc": step / total}, step=step)
    time.sleep(0.001)
result = run.finish()
print("already_stored", result.points_already_stored, result.points_sent, flush=True)
"""


def _train(script: Path, project: str, run_id: str) -> subprocess.Popen[str]:
    env = {**os.environ, "SEEDBOARD_RUN_ID": run_id, "SEEDBOARD_RESUME": "allow"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SDK_SRC), env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, str(script), project, str(TOTAL_STEPS), str(REWIND)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_run_killed_mid_training_resumes_in_a_new_process_with_every_step_once(
    server: Any, project: str, tmp_path: Path
) -> None:
    script = tmp_path / "train.py"
    script.write_text(TRAIN)
    run_id = str(uuid.uuid4())
    api = seedboard.Api()

    first = _train(script, project, run_id)
    deadline = time.monotonic() + 30
    while True:  # kill it once some of its points are stored, in the middle of the loop
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline, "no points stored within 30 s"
        try:
            stored = api.run(run_id)["metrics"].get("loss", {}).get("count", 0)
        except seedboard.NotFoundError:
            stored = 0
        if stored >= 200:
            break
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    killed = api.run(run_id)
    assert killed["status"] == "running"  # nobody finished it
    last_stored = killed["metrics"]["loss"]["last_step"]
    assert last_stored < TOTAL_STEPS - 1

    second = _train(script, project, run_id)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    start = last_stored + 1 - REWIND
    assert f"start {start} True" in out
    # The rewound steps reached the server again and were counted, not stored: 2 keys each.
    assert f"already_stored {2 * REWIND} {2 * (TOTAL_STEPS - start)}" in out
    assert "were logged again at steps that resumed run" in err

    record = api.run(run_id)
    assert record["status"] == "finished"
    history = api.history(run_id, keys=["loss", "acc"])
    for key in ("loss", "acc"):
        assert history[key]["step"] == list(range(TOTAL_STEPS)), key
        assert record["metrics"][key]["count"] == TOTAL_STEPS
    assert history["loss"]["value"][-1] == pytest.approx(1.0 / TOTAL_STEPS)


def test_resume_modes_and_a_changed_config_are_clear_errors(server: Any, project: str) -> None:
    with pytest.raises(ValueError, match="needs the run's id"):
        seedboard.init(project, model="m", resume="must")
    with pytest.raises(ValueError, match="resume must be one of"):
        seedboard.init(project, model="m", resume="always")

    with seedboard.init(project, model="m", config={"lr": 0.1}, seed=1, resume="never") as run:
        run.log({"loss": 1.0}, step=7)
    with pytest.raises(seedboard.NotFoundError, match="needs an existing run"):
        seedboard.init(project, model="m", id=str(uuid.uuid4()), resume="must")
    with pytest.raises(seedboard.ConflictError, match="already exists"):
        seedboard.init(project, model="m", config={"lr": 0.1}, seed=1, id=run.id, resume="never")
    with pytest.raises(seedboard.ConflictError, match=re.escape("lr is 0.1 in the stored run and 0.2 now")):
        seedboard.init(project, model="m", config={"lr": 0.2}, seed=1, id=run.id, resume="must")
    with pytest.raises(seedboard.ConflictError, match="seed"):
        seedboard.init(project, model="m", config={"lr": 0.1}, seed=2, id=run.id, resume="must")
    assert seedboard.Api().run(run.id)["status"] == "finished"  # the refusals changed nothing


def test_the_environment_names_the_run_and_the_mode(server: Any, project: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with seedboard.init(project, model="m", seed=0) as run:
        run.log({"loss": 1.0, "acc": 0.1}, step=4)
        run.log({"loss": 0.5})
    monkeypatch.setenv("SEEDBOARD_RUN_ID", run.id)
    monkeypatch.setenv("SEEDBOARD_RESUME", "must")
    with seedboard.init(project, model="m", seed=0) as resumed:
        assert (resumed.id, resumed.resumed, resumed.next_step) == (run.id, True, 6)
        assert resumed.last_steps == {"acc": 4, "loss": 5}
        assert seedboard.Api().run(run.id)["status"] == "running"
        resumed.log({"loss": 0.25})
    assert seedboard.Api().history(run.id, keys=["loss"])["loss"]["step"] == [4, 5, 6]


def test_optional_arguments_of_init_accept_none(server: Any, project: str) -> None:
    with seedboard.init(
        project, model="m", config=None, seed=None, task=None, tags=None, name=None, notes=None,
        metadata=None, id=None, resume=None,
    ) as run:  # fmt: skip
        run.log({"loss": 1.0})
    record = seedboard.Api().run(run.id)
    assert (record["task"], record["tags"], record["notes"], record["config"]) == ("", [], "", {})
    assert record["name"].startswith("m-") and record["status"] == "finished"
