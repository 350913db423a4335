"""A two-team study: acme (owner of the benchmarks) and vision-lab, each with a project and variants."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest
from rest_framework.test import APIClient

from server.accounts.models import Team
from server.tracking import services as tracking_services
from server.tracking.models import Project
from tests.stats.conftest import eager_tasks, log_run

__all__ = ["eager_tasks"]  # the fixture, for these tests

URL = "/api/v1/benchmarks/"
TASKS = ("cifar10", "svhn")


def log_variant(
    project: Project, *, model: str, scores: Mapping[str, Sequence[float]], config: Mapping[str, Any] | None = None
) -> str:
    """Finished seeds of one variant, `scores[task]` as the val/acc summary of seeds 0, 1, ...; its fingerprint."""
    fingerprint = ""
    for task, values in scores.items():
        for seed, value in enumerate(values):
            run = log_run(project, model=model, config=config, seed=seed, task=task, summary={"val/acc": value})
            fingerprint = run.variant.fingerprint
    return fingerprint


@pytest.fixture
def acme(client_for: Callable[..., APIClient]) -> APIClient:
    """alice, an admin of acme."""
    return client_for("acme", "alice", "admin")


@pytest.fixture
def lab(client_for: Callable[..., APIClient]) -> APIClient:
    """bob, a member of vision-lab."""
    return client_for("vision-lab", "bob", "member")


@pytest.fixture
def acme_project(acme: APIClient) -> Project:
    return tracking_services.project_get_or_create(team=Team.objects.get(slug="acme"), slug="study")


@pytest.fixture
def lab_project(lab: APIClient) -> Project:
    return tracking_services.project_get_or_create(team=Team.objects.get(slug="vision-lab"), slug="secret")


@pytest.fixture
def make_benchmark(acme: APIClient) -> Callable[..., dict[str, Any]]:
    def make(**fields: Any) -> dict[str, Any]:
        body = {"team": "acme", "slug": "small", "name": "Small", "tasks": list(TASKS), "metric": "val/acc", **fields}
        response = acme.post(URL, body, format="json")
        assert response.status_code == 201, response.json()
        return dict(response.json())

    return make
