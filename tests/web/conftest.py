"""Fixtures for the web UI: a user of team acme with a password, and runs in acme's and rival's projects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.http import HttpRequest
from django.test import Client
from rest_framework.test import APIClient

from server.accounts.models import Team
from server.accounts.services import user_set_password
from server.stats import services as stats_services
from server.tracking import services as tracking_services
from tests.conftest import ServerProcess
from tests.stats.conftest import eager_tasks  # noqa: F401  (a fixture)
from tests.web.pages_study import log_pages_study

PASSWORD = "a-long-test-password-7"


def sign_in(client: Client, username: str, password: str = PASSWORD) -> None:
    """Sign `client` in with the password. The sign-in lockout's backend (django-axes) needs the
    request the credentials came with, which Client.login does not pass on its own."""
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = "127.0.0.1"
    assert client.login(request=request, username=username, password=password)


def create_run(api: APIClient, project: str, **fields: object) -> dict[str, object]:
    body = {"project": project, "model": "resnet18", **fields}
    response = api.post("/api/v1/runs/", body, format="json")
    assert response.status_code in (200, 201), response.json()
    return dict(response.json())


@pytest.fixture
def two_teams(client_for: Callable[..., APIClient]) -> dict[str, dict[str, object]]:
    """alice (team acme, with PASSWORD) has acme/vision with two runs; mallory (team rival) has rival/secret."""
    acme, rival = client_for("acme", "alice"), client_for("rival", "mallory")
    runs = {
        "acme": create_run(acme, "acme/vision", name="baseline-seed0", seed=0),
        "acme_finished": create_run(acme, "acme/vision", name="wide-seed1", seed=1, model="wrn"),
        "rival": create_run(rival, "rival/secret", name="baseline-rival", seed=0),
    }
    user_set_password(username="alice", password=PASSWORD)
    return runs


@pytest.fixture
def alice(two_teams: object) -> Client:
    """alice signed in through the sign-in form's backend (a session, as a browser holds)."""
    client = Client()
    sign_in(client, "alice")
    return client


@pytest.fixture
def hp_study(
    seedboard_server: ServerProcess,
    two_teams: dict[str, dict[str, Any]],
    make_token: Callable[..., str],
    eager_tasks: None,  # noqa: F811
) -> dict[str, Any]:
    """For the browser tests: acme/hp with the 18-run study and one running run ("hp_running"),
    its val/acc statistics computed in this process (the live server has no worker), alice's
    token, acme/vision's running run ("running") and rival's run ("rival")."""
    project = tracking_services.project_get_or_create(team=Team.objects.get(slug="acme"), slug="hp")
    log_pages_study(project)
    running, _ = tracking_services.run_create(project=project, model="mlp", config={"optimizer": {"lr": 0.5}}, seed=9)
    stats = stats_services.metric_stats_ensure(project=project, metric="val/acc")
    assert stats.status == "fresh", stats.error
    return {
        "token": make_token("acme", "alice"),
        "hp_running": str(running.uuid),
        "running": two_teams["acme"]["id"],
        "rival": two_teams["rival"]["id"],
    }
