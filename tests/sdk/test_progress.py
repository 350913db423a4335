"""The progress bars of `sync`, `import` and `export`: drawn on a terminal only, with rates and the
time left."""

from __future__ import annotations

import time

import pytest
from seedboard.progress import Progress, rate


def test_the_bars_show_runs_points_rates_and_the_time_left(capsys: pytest.CaptureFixture[str]) -> None:
    with Progress(enabled=True) as progress:
        progress.runs_total(4)
        progress.points_total(10_000)
        progress.run("resnet-s0")
        time.sleep(0.15)  # tqdm redraws at most every 0.1 s
        progress.points(2_500)
        progress.run_done()
    bars = capsys.readouterr().err
    assert "runs:  25%" in bars and "1/4" in bars and "resnet-s0" in bars
    assert "points:  25%" in bars and "2.50k/10.0k" in bars
    assert "<" in bars and "/s]" in bars  # [elapsed<left, rate]


def test_without_a_terminal_nothing_is_drawn(capsys: pytest.CaptureFixture[str]) -> None:
    with Progress() as progress:  # stderr is captured: not a terminal
        progress.runs_total(1)
        progress.points(10)
    assert capsys.readouterr().err == ""
    assert rate(1_234_567, 2.0) == "617,284 points/s"
