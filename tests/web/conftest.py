"""Fixtures for the web UI: a user of team acme with a password, and runs in acme's and rival's projects."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from rest_framework.test import APIClient

from server.accounts.services import user_set_password

PASSWORD = "a-long-test-password-7"


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
    assert client.login(username="alice", password=PASSWORD)
    return client
