"""Fixtures of the SDK tests: an isolated SEEDBOARD_DIR, env for the live server, the CLI.

Run with the server's interpreter (`make test`), the live server comes from tests/conftest.py,
on the test database. On the SDK's oldest Python (`make test-sdk-oldest`), which cannot import
the server, pytest runs with `--confcutdir tests/sdk` and this module starts the server itself
with the interpreter named by SEEDBOARD_SERVER_PYTHON, on the database of DATABASE_URL (made
anew) or on SQLite, and on the Redis of REDIS_URL when it is set.
"""

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

from tests.live_server import REPO, ServerProcess, free_port

SDK_SRC = Path(__file__).resolve().parents[2] / "clients" / "python_sdk" / "src"
STANDALONE = bool(os.environ.get("SEEDBOARD_SERVER_PYTHON"))


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


def _manage(python: str, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [python, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _database_recreate(python: str, url: str) -> None:
    """Drop and create the PostgreSQL database of `url`, through the server's interpreter (psycopg)."""
    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    code = (
        "import sys, psycopg; conn = psycopg.connect(sys.argv[1], autocommit=True); "
        f"conn.execute('DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)'); conn.execute('CREATE DATABASE \"{name}\"')"
    )
    subprocess.run([python, "-c", code, admin], check=True, timeout=60)


if STANDALONE:

    @pytest.fixture(scope="session")
    def _standalone_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
        python = os.environ["SEEDBOARD_SERVER_PYTHON"]
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "server.settings",
            "SEEDBOARD_THROTTLE_ENABLED": "false",
            "SEEDBOARD_LOCAL_SECRET_KEY": "true",
            "SEEDBOARD_DATA_DIR": str(tmp_path_factory.mktemp("server-data")),
        }
        if env.get("DATABASE_URL", "").startswith("postgres"):
            _database_recreate(python, env["DATABASE_URL"])
        _manage(python, env, "migrate", "--noinput")
        port = free_port()
        server = ServerProcess(
            url=f"http://127.0.0.1:{port}",
            token=_manage(python, env, "createtoken", "--team", "acme", "--user", "alice"),
            other_token=_manage(python, env, "createtoken", "--team", "rival", "--user", "mallory"),
            port=port,
            env=env,
            python=python,
        )
        server.start()
        yield server
        server.stop()

    @pytest.fixture
    def seedboard_server(_standalone_server: ServerProcess) -> ServerProcess:
        """The session's server, running again if a fault test left it stopped."""
        if _standalone_server.process is None:
            _standalone_server.start()
        return _standalone_server
