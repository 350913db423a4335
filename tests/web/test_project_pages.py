"""A project's variants, seeds and hyperparameters tabs through Django's test client."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from server.accounts.models import Team
from server.stats.models import MetricStats
from server.tracking import services as tracking_services
from server.tracking.models import Project
from server.web.page_selectors import variant_rows
from tests.stats.conftest import eager_tasks  # noqa: F401  (a fixture)
from tests.web.pages_study import FINAL, log_pages_study

pytestmark = pytest.mark.django_db
TABS = ["variants", "seeds", "hyperparameters"]


@pytest.fixture
def study(two_teams: object) -> tuple[Project, dict[tuple[str, float], str]]:
    project = tracking_services.project_get_or_create(team=Team.objects.get(slug="acme"), slug="hp")
    return project, log_pages_study(project)


@pytest.fixture
def computed(
    alice: Client,
    study: tuple[Project, dict[tuple[str, float], str]],
    eager_tasks: None,  # noqa: F811
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> tuple[Project, dict[tuple[str, float], str]]:
    """The first visit queues the statistics, as the API does; here the task runs in-process."""
    with django_capture_on_commit_callbacks(execute=True):
        assert alice.get("/acme/hp/variants/?metric=val/acc").status_code == 200
    assert MetricStats.objects.get(project=study[0], metric="val/acc").status == "fresh"
    return study


def _chart(body: str, chart_id: str) -> dict[str, Any]:
    match = re.search(rf'<script id="{chart_id}" type="application/json">(.*?)</script>', body, re.S)
    assert match, chart_id
    return dict(json.loads(match.group(1)))


def test_the_tabs_need_a_signed_in_user(client: Client, two_teams: object) -> None:
    for tab in TABS:
        response = client.get(f"/acme/vision/{tab}/")
        assert response.status_code == 302 and response["Location"].startswith("/login/?next="), tab


def test_another_teams_project_tabs_are_404(alice: Client) -> None:
    for tab in TABS:
        for path in [f"/rival/secret/{tab}/", f"/acme/missing/{tab}/"]:
            assert alice.get(path).status_code == 404, path


def test_the_first_visit_queues_the_statistics_like_the_api(
    alice: Client, study: tuple[Project, dict[tuple[str, float], str]]
) -> None:
    body = alice.get("/acme/hp/variants/?metric=val/acc").content.decode()
    stats = MetricStats.objects.get(project=study[0], metric="val/acc")
    assert stats.status in ("stale", "computing") and stats.pending
    assert f'data-status="{stats.status}"' in body


def test_an_unknown_metric_is_a_400_with_the_apis_message(alice: Client, study: object) -> None:
    response = alice.get("/acme/hp/variants/?metric=nope")
    assert response.status_code == 400 and "nope" in response.content.decode()


def test_the_variants_tab_lists_statistics_and_opens_compare(
    alice: Client, computed: tuple[Project, dict[tuple[str, float], str]]
) -> None:
    _, variants = computed
    body = alice.get("/acme/hp/variants/?metric=val/acc").content.decode()
    assert 'data-status="fresh"' in body
    assert 'action="/compare/new/"' in body and 'name="project" value="acme/hp"' in body
    for fingerprint in variants.values():
        assert f'name="variant" value="{fingerprint}"' in body
    mean = sum(FINAL[("resnet18", 0.01)]) / 3
    assert f">{mean:.4f}".rstrip("0") in body
    assert _chart(body, "chart-final-scores")["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert '<option value="val/acc" selected>' in body and '<option value="train/loss">' in body


def test_the_seeds_tab_answers_how_many_seeds(
    alice: Client, computed: tuple[Project, dict[tuple[str, float], str]]
) -> None:
    body = alice.get("/acme/hp/seeds/?metric=val/acc").content.decode()
    assert "chart-seed-spread" in body and "Detectable now" in body and "Seeds for D" not in body
    body = alice.get("/acme/hp/seeds/?metric=val/acc&delta=0.01").content.decode()
    assert "Seeds for D=0.01" in body and "More to run" in body
    assert alice.get("/acme/hp/seeds/?metric=val/acc&delta=abc").content.decode().count("must be a positive") == 1


def test_the_hyperparameters_tab_draws_three_charts(
    alice: Client, computed: tuple[Project, dict[tuple[str, float], str]]
) -> None:
    body = alice.get("/acme/hp/hyperparameters/?metric=val/acc&model=vit&param=optimizer.lr").content.decode()
    assert '<option value="optimizer.lr" selected>' in body and '<option value="vit" selected>' in body
    for chart in ["chart-parallel", "chart-effect", "chart-tuning"]:
        assert _chart(body, chart)
    tuning = json.dumps(_chart(body, "chart-tuning"))
    assert "from the 9 trials run" in tuning  # vit's runs only


def test_variant_rows_share_one_axis_for_the_interval_bars_and_name_outlier_seeds() -> None:
    blocks = [
        {"variant": "a", "mean": 0.5, "ci_low": 0.4, "ci_high": 0.6, "seeds": [10, 11, 12, 13], "outliers": [2]},
        {"variant": "b", "mean": 0.9, "ci_low": 0.8, "ci_high": 1.0, "seeds": [1, 2], "outliers": []},
        {"variant": "c", "mean": 0.7, "ci_low": None, "ci_high": None, "seeds": [5], "outliers": []},
    ]
    rows = {row["variant"]: row for row in variant_rows(blocks)}
    # The axis spans 0.4..1.0: a's interval is its first third, b's the last third.
    assert rows["a"]["bar"] == {
        "x": 0.0,
        "width": pytest.approx(33.33, abs=0.01),
        "mean": pytest.approx(16.67, abs=0.01),
    }
    assert rows["b"]["bar"]["x"] == pytest.approx(66.67, abs=0.01) and rows["b"]["bar"]["mean"] == pytest.approx(
        83.33, abs=0.01
    )
    assert rows["c"]["bar"] is None  # one seed: no interval to draw
    assert rows["a"]["outlier_seeds"] == [12] and rows["b"]["outlier_seeds"] == []


def test_the_variants_tab_draws_an_interval_bar_per_variant(alice: Client, computed) -> None:
    body = alice.get("/acme/hp/variants/?metric=val/acc").content.decode()
    assert body.count('<svg class="interval-bar"') == len(FINAL)
    assert "Outlier seeds" in body
