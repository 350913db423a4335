"""The run page and the project tabs in Chromium against a live server: charts draw, no errors,
another team's run is 404, and a running run's page updates by itself when points are logged."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from server.accounts.models import Team
from server.stats import services as stats_services
from server.tracking import services as tracking_services
from tests.conftest import ServerProcess
from tests.stats.conftest import eager_tasks  # noqa: F401  (a fixture)
from tests.web.pages_study import log_pages_study
from tests.web.test_browser import CHROMIUM, COUNT_MARKS, SCREENSHOTS, Problems, _sign_in, browser_page  # noqa: F401

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
)


@pytest.fixture
def study(
    seedboard_server: ServerProcess,
    two_teams: dict[str, dict[str, Any]],
    make_token: Callable[..., str],
    eager_tasks: None,  # noqa: F811
) -> Iterator[dict[str, Any]]:
    """The study logged and its statistics computed in this process (the live server has no worker);
    a token of alice's to log points to the running run while the browser watches it."""
    project = tracking_services.project_get_or_create(team=Team.objects.get(slug="acme"), slug="hp")
    log_pages_study(project)
    stats = stats_services.metric_stats_ensure(project=project, metric="val/acc")
    assert stats.status == "fresh", stats.error
    yield {"token": make_token("acme", "alice"), "running": two_teams["acme"]["id"], "rival": two_teams["rival"]["id"]}


def _log(url: str, token: str, run_id: str, steps: range) -> None:
    body = {
        "batch_id": str(uuid.uuid4()),
        "points": {
            "key": ["train/loss"] * len(steps),
            "step": list(steps),
            "value": [1.0 / (1 + s) for s in steps],
        },
    }
    response = httpx.post(
        f"{url}/api/v1/runs/{run_id}/metrics/", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text


def _charts_drawn(page: Page, expected: int) -> None:
    charts = page.locator("[data-chart]")
    assert charts.count() == expected
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('[data-chart]')).every(el => el.querySelector('svg g.role-mark'))",
        timeout=20_000,
    )
    marks = page.eval_on_selector_all("[data-chart]", COUNT_MARKS)
    assert all(count > 0 for count in marks), marks
    assert not page.locator(".chart-error").count()


def test_the_project_tabs_draw_every_chart(
    study: dict[str, Any],
    browser_page: tuple[Page, Problems, str],  # noqa: F811
) -> None:
    page, problems, _ = browser_page
    _sign_in(page)
    for name, path, charts in [
        ("variants", "/acme/hp/variants/?metric=val/acc", 1),
        ("seeds", "/acme/hp/seeds/?metric=val/acc&delta=0.01", 1),
        ("hyperparameters", "/acme/hp/hyperparameters/?metric=val/acc&param=optimizer.lr", 3),
    ]:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert page.locator("#stats-status .status").inner_text() == "fresh"
        _charts_drawn(page, charts)
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)

    page.goto("/acme/hp/variants/?metric=val/acc")
    page.locator("input[name=variant]").nth(0).check()
    page.locator("input[name=variant]").nth(1).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Compare selected variants").click()
    assert "/compare/new/?project=acme%2Fhp&metric=val%2Facc&variant=" in page.url
    assert page.url.count("variant=") == 2
    assert not problems.items, problems.items


def test_the_run_page_draws_updates_while_running_and_hides_other_teams(
    study: dict[str, Any],
    browser_page: tuple[Page, Problems, str],  # noqa: F811
) -> None:
    page, problems, url = browser_page
    run_id = study["running"]
    _log(url, study["token"], run_id, range(0, 50))
    _sign_in(page)
    page.goto("/acme/vision/")
    page.get_by_role("link", name="baseline-seed0").click()
    page.wait_for_url(f"**/runs/{run_id}/")
    _charts_drawn(page, 1)
    assert page.locator("#run-live").get_attribute("data-count") == "50"

    _log(url, study["token"], run_id, range(50, 120))  # the page reloads itself within ~3 s
    page.wait_for_selector('#run-live[data-count="120"]', timeout=15_000)
    _charts_drawn(page, 1)
    assert "119" in page.locator("#run-metrics").inner_text()
    page.screenshot(path=SCREENSHOTS / "run.png", full_page=True)

    rival = f"/runs/{study['rival']}/"
    problems.expected_404.add(url + rival)
    response = page.goto(rival)
    assert response is not None and response.status == 404
    assert not problems.items, problems.items
