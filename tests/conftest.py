"""Shared fixtures: tokens, API clients, and a real Seedboard server process."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from server.accounts.services import token_create_for
from server.tracking import ingestion
from tests.live_server import REPO, ServerProcess, free_port

__all__ = ["REPO", "ServerProcess"]


@pytest.fixture(autouse=True)
def _fresh_key_cache() -> Iterator[None]:
    # Test transactions roll back metric keys that this process may have cached.
    ingestion._key_ids.clear()
    yield
    ingestion._key_ids.clear()


@pytest.fixture
def make_token(db: None) -> Callable[..., str]:
    """make_token(team, user, role="admin") -> token text."""

    def make(team: str = "acme", user: str = "alice", role: str = "admin") -> str:
        return token_create_for(team_slug=team, username=user, role=role)

    return make


@pytest.fixture
def client_for(make_token: Callable[..., str]) -> Callable[..., APIClient]:
    """client_for(team, user, role) -> an APIClient authenticated with a new token."""

    def make(team: str = "acme", user: str = "alice", role: str = "admin") -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(team, user, role)}")
        return client

    return make


@pytest.fixture
def api(client_for: Callable[..., APIClient]) -> APIClient:
    """A client of team 'acme'."""
    return client_for()


def database_url() -> str:
    """The test database as a DATABASE_URL, for child processes (servers, workers)."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings.get("PASSWORD") else "")
    return f"postgres://{auth}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"


@contextmanager
def live_server_process(db_access: Callable[[], AbstractContextManager[Any]] = nullcontext) -> Iterator[ServerProcess]:
    """A live server (real process, real database) with a token of team 'acme' and one of team
    'rival'; the points it stored are deleted when it stops (the points table has no model to
    flush). `db_access` opens the database to a fixture that outlives one test."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "SEEDBOARD_THROTTLE_ENABLED": "false",
        "DJANGO_SETTINGS_MODULE": "server.settings",
    }
    with db_access():
        token = token_create_for(team_slug="acme", username="alice")
        other_token = token_create_for(team_slug="rival", username="mallory")
    server = ServerProcess(url=f"http://127.0.0.1:{port}", token=token, other_token=other_token, port=port, env=env)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        with db_access(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM tracking_metric_point")


@pytest.fixture
def seedboard_server(transactional_db: None) -> Iterator[ServerProcess]:
    """A live server for one test (see live_server_process)."""
    with live_server_process() as server:
        yield server


@pytest.fixture(scope="session", autouse=True)
def _clean_cache(django_db_blocker: pytest.FixtureRequest) -> None:
    # Throttle counters of an earlier session (in a shared Redis) must not leak into this one.
    from django.core.cache import cache

    cache.clear()


def broker_reset() -> None:
    """Empty the test broker: queued messages and those a killed worker left unacknowledged.

    Tasks queued by earlier tests (a live server has no worker) must not run in a later one.
    """
    import redis
    from django.conf import settings

    from workers.celery import app

    app.control.purge()
    redis.Redis.from_url(settings.REDIS_URL).delete("unacked", "unacked_index")


@contextmanager
def celery_worker_thread() -> Iterator[None]:
    """A real Celery worker, in a thread of this process, consuming the Redis broker."""
    import celery.contrib.testing.tasks  # noqa: F401  (registers the ping task start_worker uses)
    from celery.contrib.testing.worker import start_worker

    from workers.celery import app

    with start_worker(app, pool="solo", perform_ping_check=True, shutdown_timeout=10):
        yield


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[None]:
    """A worker thread on an emptied broker for the test's duration; skips without Redis."""
    from django.conf import settings

    if not settings.REDIS_URL:
        pytest.skip("needs a Redis broker (REDIS_URL)")
    broker_reset()
    with celery_worker_thread():
        yield
