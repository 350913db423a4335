"""`make run` as a new user runs it: `manage.py up` on the embedded default, demo study, leaderboard."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.contrib.auth.hashers import check_password

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_up_logs_the_demo_study_and_prints_a_leaderboard_with_verdicts(tmp_path: Path) -> None:
    # The embedded default: no DATABASE_URL or REDIS_URL, whatever the suite itself runs on.
    env = {**os.environ, "DATABASE_URL": "", "REDIS_URL": "", "SEEDBOARD_DATA_DIR": str(tmp_path)}
    port = _free_port()
    done = subprocess.run(
        [sys.executable, "manage.py", "up", "--port", str(port), "--exit-after-demo"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=540,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout

    assert f"Seedboard is up at http://127.0.0.1:{port} (SQLite; Celery in-process)" in out
    assert "Logged 45 runs" in out
    assert "Leaderboard on val/acc (last value of each run; 9 variants):" in out
    rows = re.findall(r"^\s+(\d+(?:\.5)?)\s+(\d+(?:\.5)?)-(\d+(?:\.5)?)\s+([01]\.\d\d)\s", out, re.MULTILINE)
    ranks = [float(rank) for rank, *_ in rows]
    assert sorted(ranks) == ranks and len(ranks) == 9 and sum(ranks) == sum(range(1, 10))
    for rank, low, high, _ in rows:
        assert float(low) <= float(rank) <= float(high)
    assert abs(sum(float(p_best) for *_, p_best in rows) - 1) < 0.03  # the shown P(best) are rounded

    verdicts = out.split("The leader against the others, in rank order:")[1].split("The whole comparison")[0]
    statements = [line for line in verdicts.splitlines() if line.startswith("  - ")]
    assert len(statements) == 8
    assert all(" is better than " in line or line.startswith("  - No verdict between ") for line in statements)
    assert re.search(r"comparisons/[0-9a-f-]{36}/", out)
    assert (tmp_path / "demo-token").read_text().startswith("sb_")

    # The demo benchmark: entries of the demo team and of a second team, ranked, with warnings.
    board = out.split("Benchmark cifar10-small: 4 submissions from 2 teams")[1].split("Its leaderboard")[0]
    assert board.count("[demo]") >= 2 and board.count("[vision-lab]") >= 2
    assert "! budget: tuning budgets differ" in board and "! seeds:" in board
    assert f"http://127.0.0.1:{port}/benchmarks/cifar10-small/" in out

    # The last line says where to sign in, with the password generated on this first start.
    last = out.strip().splitlines()[-1]
    match = re.fullmatch(rf"Open http://127\.0\.0\.1:{port}/ and sign in as demo / (\S+)", last)
    assert match, last
    with sqlite3.connect(tmp_path / "seedboard.sqlite3") as database:
        (stored,) = database.execute("SELECT password FROM auth_user WHERE username = 'demo'").fetchone()
    assert stored != match.group(1) and check_password(match.group(1), stored)  # kept hashed


def _embedded_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": "", "REDIS_URL": "", "SEEDBOARD_DATA_DIR": str(tmp_path)}


def test_up_on_a_busy_port_says_so_and_how_to_choose_another(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "manage.py", "up", "--port", str(port), "--no-demo"],
            cwd=REPO, env=_embedded_env(tmp_path), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode != 0
    assert "Seedboard is up" not in done.stdout and "Traceback" not in done.stderr
    assert f"Port {port} on 127.0.0.1 is already in use" in done.stderr
    assert "--port" in done.stderr and f"make run PORT={port + 1}" in done.stderr


def test_sigterm_stops_the_web_server_as_ctrl_c_does(tmp_path: Path) -> None:
    port = _free_port()
    up = subprocess.Popen(
        [sys.executable, "manage.py", "up", "--port", str(port), "--no-demo"],
        cwd=REPO, env=_embedded_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert up.stdout is not None
        for line in up.stdout:  # the line says the server answers
            if "Seedboard is up" in line:
                break
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=60) == 0
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    with pytest.raises(httpx.TransportError):  # gunicorn went with it: nothing answers there
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
