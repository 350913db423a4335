"""Offline mode: nothing touches the network until `sync`; exit paths still save the run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import seedboard
from seedboard.progress import Progress
from seedboard.spool import RunSpool

from .conftest import SDK_SRC


def test_an_offline_run_is_spooled_then_sync_uploads_it_with_its_state(
    server: Any,
    project: str,
    seedboard_dir: Path,
    sdk_api: seedboard.Api,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # No URL or token is needed offline: the test takes them away from this part.
    monkeypatch.delenv("SEEDBOARD_URL")
    monkeypatch.delenv("SEEDBOARD_TOKEN")
    monkeypatch.setenv("SEEDBOARD_MODE", "offline")
    with (
        pytest.warns(RuntimeWarning, match="offline run kept"),
        seedboard.init(project=project, model="mlp", config={"lr": 0.01}, seed=3, tags=["offline"]) as run,
    ):
        assert run.url is None and run.mode == "offline"
        for step in range(1000):
            run.log({"loss": 1 / (step + 1), "nan": float("nan")})
        run.summary["final/loss"] = 0.001
    result = run.finish()
    assert (result.points_sent, result.points_spooled) == (0, 2000)
    spool = RunSpool(seedboard_dir / "spool", run.id)
    assert spool.read_run()["state"] == {"status": "finished", "summary": {"final/loss": 0.001}}  # type: ignore[index]

    monkeypatch.setenv("SEEDBOARD_URL", server.url)
    monkeypatch.setenv("SEEDBOARD_TOKEN", server.token)
    monkeypatch.delenv("SEEDBOARD_MODE")
    with Progress(enabled=True) as progress:  # bars as a terminal shows them
        report = seedboard.sync(progress=progress)
    assert report.ok and report.points_stored == 2000, report.summary()
    assert "synced 1 run(s)" in report.summary() and "points/s" in report.summary().splitlines()[0]
    bars = capsys.readouterr().err
    # The totals are known before the first batch (tqdm redraws at most 10 times a second).
    assert "runs:   0%" in bars and "0/1" in bars and "points:   0%" in bars and "/2.00k" in bars

    record = sdk_api.run(run.id)
    assert (record["status"], record["seed"], record["tags"]) == ("finished", 3, ["offline"])
    assert record["config"] == {"lr": 0.01} and record["summary"] == {"final/loss": 0.001}
    history = sdk_api.history(run.id)
    assert history["loss"]["value"] == [1 / (s + 1) for s in range(1000)]
    assert len(history["nan"]["value"]) == 1000 and all(v != v for v in history["nan"]["value"])
    assert not spool.path.exists()


def _child(script: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SEEDBOARD_DIR": str(home), "SEEDBOARD_MODE": "offline", "PYTHONPATH": str(SDK_SRC)}
    code = "import seedboard, os, signal\n" + textwrap.dedent(script)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def _only_run(home: Path) -> tuple[dict[str, Any], int]:
    (run_dir,) = (home / "spool").iterdir()
    record = json.loads((run_dir / "run.json").read_text())
    points = sum(len(json.loads(p.read_bytes())["points"]["key"]) for p in run_dir.glob("*-*.json"))
    return record, points


def test_sigterm_finishes_the_run_as_crashed_and_keeps_every_point(tmp_path: Path) -> None:
    child = _child(
        """
        run = seedboard.init(project="acme/p", model="m")
        for step in range(5000):
            run.log({"loss": step})
        os.kill(os.getpid(), signal.SIGTERM)
        """,
        tmp_path,
    )
    assert child.returncode == -signal.SIGTERM, child.stderr  # the default action still ends it
    record, points = _only_run(tmp_path)
    assert record["state"]["status"] == "crashed"
    assert points == 5000


def test_leaving_the_interpreter_without_finish_saves_the_run_at_exit(tmp_path: Path) -> None:
    child = _child(
        """
        run = seedboard.init(project="acme/p", model="m")
        run.log({"loss": 1.0})
        run.summary["note"] = "done"
        """,
        tmp_path,
    )
    assert child.returncode == 0, child.stderr
    record, points = _only_run(tmp_path)
    assert record["state"] == {"status": "finished", "summary": {"note": "done"}}
    assert points == 1


def test_an_uncaught_exception_outside_a_with_block_saves_the_run_as_failed(tmp_path: Path) -> None:
    child = _child(
        """
        run = seedboard.init(project="acme/p", model="m")
        run.log({"loss": 1.0})
        raise SystemError("boom")
        """,
        tmp_path,
    )
    assert child.returncode == 1 and "boom" in child.stderr
    record, _ = _only_run(tmp_path)
    assert record["state"]["status"] == "failed"
