"""One live server for each importer test module (a real gunicorn on the test database), and the
command line run as a user would run it.

The server outlives single tests, so what it writes is committed and stays until the module
ends (each test uses its own project); the module's data is removed when its server stops.
Test modules here carry the `django_db` mark: without a test asking for the database,
pytest-django would not create the test database at all.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.conftest import live_server_process
from tests.live_server import REPO, ServerProcess

SDK_SRC = REPO / "clients" / "python_sdk" / "src"


@pytest.fixture(scope="module")
def live(django_db_setup: None, django_db_blocker) -> Iterator[ServerProcess]:
    try:
        with live_server_process(django_db_blocker.unblock) as server:
            yield server
    finally:
        with django_db_blocker.unblock():  # what TransactionTestCase does after each test
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def sdk_env(live: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """SEEDBOARD_URL/TOKEN of the live server and a SEEDBOARD_DIR of the test's own."""
    env = {"SEEDBOARD_URL": live.url, "SEEDBOARD_TOKEN": live.token, "SEEDBOARD_DIR": str(tmp_path / "home")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def project() -> str:
    return f"acme/import-{uuid.uuid4().hex[:8]}"


def run_cli(
    *args: str, env: dict[str, str], unset: tuple[str, ...] = (), timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The ``seedboard`` command line in a child process (without the variables in `unset`)."""
    child_env = {**os.environ, **env, "PYTHONPATH": os.pathsep.join([str(SDK_SRC), str(REPO)])}
    for name in unset:
        child_env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "seedboard", *args],
        env=child_env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
