"""Set-up shared by the benchmarks: a scratch database, gunicorn and a Celery worker on it.

Servers are started in their own session (process group), so that stopping one stops its
workers too, and Ctrl-C in the terminal reaches only the benchmark, which stops them itself.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx

REPO = Path(__file__).resolve().parent.parent


def scratch_database(suffix: str = "_bench") -> str:
    """A fresh database named after the one DATABASE_URL names plus `suffix` (dropped and
    created again), as a URL."""
    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL server (the benchmark creates its own scratch database)")
    parsed = urlparse(base_url)
    url = urlunparse(parsed._replace(path=parsed.path + suffix))
    database_drop(url)
    import psycopg

    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{urlparse(url).path.lstrip("/")}"')
    return url


def database_drop(url: str) -> None:
    """Drop the database `url` names, if it exists, disconnecting its sessions."""
    import psycopg

    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{urlparse(url).path.lstrip("/")}" WITH (FORCE)')


def _admin_url(url: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/postgres"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, attempts: int = 150, process: subprocess.Popen[bytes] | None = None) -> None:
    """Until the server at `url` answers /healthz; SystemExit if it never does (or `process` exits)."""
    for _ in range(attempts):
        if process is not None and process.poll() is not None:
            sys.exit(f"the server for {url} exited with code {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    sys.exit(f"the server at {url} did not start")


def migrate_and_token(env: dict[str, str], *, team: str = "bench", user: str = "bench") -> str:
    """Migrate the database `env` names and return a new API token of `user`, an admin of `team`."""
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
    return subprocess.run(
        [sys.executable, "manage.py", "createtoken", "--team", team, "--user", user],
        cwd=REPO, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def gunicorn_start(
    env: dict[str, str], *, port: int, workers: int | None = None, flags: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    """gunicorn with the repository's gunicorn.conf.py (read from the working directory), bound to
    127.0.0.1:`port`; `workers` and `flags` override the file's settings."""
    argv = [sys.executable, "-m", "gunicorn", "server.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    if workers is not None:
        argv += ["--workers", str(workers)]
    return subprocess.Popen([*argv, *flags], cwd=REPO, env=env, start_new_session=True)


def celery_worker_start(env: dict[str, str], *, concurrency: int = 1, logfile: Path) -> subprocess.Popen[bytes]:
    """A Celery worker (prefork pool) on the broker `env` names, as `manage.py up` starts one, logging to
    `logfile`."""
    with logfile.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers", "worker", "--loglevel", "warning",
             "--concurrency", str(concurrency), "--without-gossip", "--without-mingle"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM to the process's group (a gunicorn master or a Celery worker and their children),
    SIGKILL after `timeout` seconds."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


@contextmanager
def bench_server(env: dict[str, str], *, port: int, workers: int) -> Iterator[tuple[str, str, subprocess.Popen[bytes]]]:
    """The scratch database migrated, a token of team bench, and gunicorn serving it:
    (url, token, gunicorn process), stopped on exit."""
    token = migrate_and_token(env)
    server = gunicorn_start(env, port=port, workers=workers)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process=server)
        yield url, token, server
    finally:
        stop(server)
