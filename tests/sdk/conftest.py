"""Fixtures of the SDK tests: an isolated SEEDBOARD_DIR, env for the live server, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import seedboard

SDK_SRC = Path(__file__).resolve().parents[2] / "clients" / "python_sdk" / "src"


# The SDK's own settings; other SEEDBOARD_* variables configure the server and stay.
SDK_VARIABLES = ("URL", "TOKEN", "TOKEN_FILE", "MODE", "DIR", "FLUSH_TIMEOUT")


@pytest.fixture(autouse=True)
def seedboard_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own SEEDBOARD_DIR and no SDK settings from outside."""
    for name in SDK_VARIABLES:
        monkeypatch.delenv(f"SEEDBOARD_{name}", raising=False)
    home = tmp_path / "seedboard-home"
    monkeypatch.setenv("SEEDBOARD_DIR", str(home))
    return home


@pytest.fixture
def server(seedboard_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The live server, with SEEDBOARD_URL/SEEDBOARD_TOKEN pointing at it (team 'acme')."""
    monkeypatch.setenv("SEEDBOARD_URL", seedboard_server.url)
    monkeypatch.setenv("SEEDBOARD_TOKEN", seedboard_server.token)
    return seedboard_server


@pytest.fixture
def project() -> str:
    """A project path of team 'acme' that no other test uses."""
    return f"acme/sdk-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def sdk_api(server: Any) -> Iterator[seedboard.Api]:
    """A read client of team 'acme'."""
    with seedboard.Api() as api:
        yield api


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the ``seedboard`` command line in a child process, as a user would."""
    child_env = {**os.environ, **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SDK_SRC), child_env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "seedboard", *args],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
