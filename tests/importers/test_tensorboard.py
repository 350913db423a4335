"""`seedboard import tensorboard` on event files written by tensorboard's own writers."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import seedboard
from seedboard.importers import import_tensorboard

from tests.importers.conftest import run_cli

pytestmark = pytest.mark.django_db  # the test database (see conftest.py)

pytest.importorskip("tensorboard")
from tensorboard.compat.proto import event_pb2, summary_pb2  # noqa: E402
from tensorboard.plugins.hparams import summary_v2 as hparams_summary  # noqa: E402
from tensorboard.summary import Writer  # noqa: E402
from tensorboard.summary.writer.event_file_writer import EventFileWriter  # noqa: E402

STEPS = 30


def _loss(seed: int, step: int) -> float:
    return 2.0 / (step + 1) + seed / 100 + 1 / 3


def _log(logdir: Path) -> None:
    """Two seeds of one configuration: seed 0 written as TF2 scalars by `tensorboard.summary.Writer`,
    seed 1 as TF1 `simple_value` summaries; each with its hyperparameters (hparams plugin), a NaN and
    an image summary, which is no scalar."""
    for seed in (0, 1):
        path = logdir / f"sgd/seed{seed}"
        hparams = hparams_summary.hparams_pb(
            {"optimizer.lr": 0.1, "optimizer.name": "sgd", "depth": 18, "model": "resnet18", "seed": seed},
            start_time_secs=1_700_000_000,
        )
        raw = EventFileWriter(str(path))
        raw.add_event(event_pb2.Event(wall_time=1_700_000_000, step=0, summary=hparams))
        if seed == 0:
            raw.close()
            writer = Writer(str(path))
            for step in range(STEPS):
                wall_time = 1_700_000_000 + step * 0.5
                writer.add_scalar("train/loss", _loss(seed, step) if step != 5 else math.nan, step, wall_time=wall_time)
                writer.add_scalar("val/acc", step / STEPS, step, wall_time=wall_time)
            writer.close()
            continue
        for step in range(STEPS):
            loss = _loss(seed, step) if step != 5 else math.nan
            summary = summary_pb2.Summary(
                value=[
                    summary_pb2.Summary.Value(tag="train/loss", simple_value=loss),
                    summary_pb2.Summary.Value(tag="val/acc", simple_value=step / STEPS),
                    summary_pb2.Summary.Value(tag="sample", image=summary_pb2.Summary.Image(height=1, width=1)),
                ]
            )
            raw.add_event(event_pb2.Event(wall_time=1_700_000_000 + step * 0.5, step=step, summary=summary))
        raw.close()


def test_a_logdir_imports_once_with_hparams_as_config_and_the_seed_as_seed(live, sdk_env, project, tmp_path):
    _log(tmp_path / "logs")

    first = run_cli("import", "tensorboard", str(tmp_path / "logs"), "--project", project, env=sdk_env)
    assert first.returncode == 0, first.stderr
    assert f"imported 2 tensorboard run(s) (2 new, 0 already there): {4 * STEPS} point(s) stored" in first.stdout
    assert "skipped: 1 TensorBoard series that are not scalars" in first.stderr

    again = import_tensorboard(tmp_path / "logs", project)
    assert again.ok, again.details()
    assert (again.runs_existing, again.points_stored, again.points_present) == (2, 0, 4 * STEPS)

    with seedboard.Api() as api:
        runs = sorted(api.runs(project), key=lambda r: r["seed"])
        assert [(r["name"], r["model"], r["seed"], r["status"]) for r in runs] == [
            ("sgd/seed0", "resnet18", 0, "finished"),
            ("sgd/seed1", "resnet18", 1, "finished"),
        ]
        assert runs[0]["config"] == {"depth": 18, "optimizer": {"lr": 0.1, "name": "sgd"}}
        assert runs[0]["variant"] == runs[1]["variant"]
        histories = [api.history(run["id"], ["train/loss"])["train/loss"] for run in runs]
    for seed, history in enumerate(histories):
        assert history["step"] == list(range(STEPS))
        assert math.isnan(history["value"][5])
        # TensorBoard keeps scalars as float32: the stored value is the float32 that was logged.
        expected = [float(_float32(_loss(seed, step))) for step in range(STEPS) if step != 5]
        assert [v for i, v in enumerate(history["value"]) if i != 5] == expected
        assert history["time"][1] == 1_700_000_000.5


def _float32(value: float) -> float:
    import numpy as np

    return float(np.float32(value))
