"""One live Seedboard server per test module, and the real `mlflow` client pointed at it.

The server outlives single tests, so what it writes is committed and stays until the module
ends (each test uses its own experiment); the module's data is removed when its server stops.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.management import call_command
from django.db import connection

from server.accounts.services import token_create_for
from tests.conftest import database_url
from tests.live_server import ServerProcess, free_port

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The mark makes pytest-django create the test database; the tests write through the
    # server process only, so no per-test flush is needed.
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.django_db)


class Live(ServerProcess):
    read_token: str = ""

    @property
    def mlflow_uri(self) -> str:
        return f"{self.url}/mlflow"

    def seedboard(self, token: str | None = None) -> httpx.Client:
        """A client of Seedboard's own API."""
        return httpx.Client(base_url=f"{self.url}/api/v1", headers={"Authorization": f"Bearer {token or self.token}"})


@pytest.fixture(scope="module")
def live(django_db_setup: None, django_db_blocker: Any) -> Iterator[Live]:
    with django_db_blocker.unblock():
        token = token_create_for(team_slug="acme", username="alice")
        other_token = token_create_for(team_slug="rival", username="mallory")
        read_token = token_create_for(team_slug="acme", username="reed", scope="read")
        url = database_url()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SEEDBOARD_THROTTLE_ENABLED": "false"}
    env["DJANGO_SETTINGS_MODULE"] = "server.settings"
    server = Live(url=f"http://127.0.0.1:{port}", token=token, other_token=other_token, port=port, env=env)
    server.read_token = read_token
    server.start()
    try:
        yield server
    finally:
        server.stop()
        with django_db_blocker.unblock():
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM tracking_metric_point")
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def mlflow_env(live: Live, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """MLflow's client logs into the module's server with alice's token (team acme)."""
    import mlflow
    from mlflow.tracking import fluent

    # The fluent API's current experiment is process state: each test starts from MLflow's default.
    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", live.mlflow_uri)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", live.token)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    mlflow.set_tracking_uri(live.mlflow_uri)
    yield
    while mlflow.active_run() is not None:
        mlflow.end_run()


@pytest.fixture
def experiment() -> str:
    """An experiment name (a project of team acme) no other test uses."""
    return f"mlf-{uuid.uuid4().hex[:10]}"
