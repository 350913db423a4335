"""The run page and the project tabs in Chromium against a live server: charts draw, no errors,
another team's run is 404, and a running run's page updates by itself when points are logged."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Page

from server.accounts.models import Team
from server.tracking import services as tracking_services
from tests.conftest import ServerProcess
from tests.stats.conftest import eager_tasks, log_run  # noqa: F401  (eager_tasks: a fixture)
from tests.web.test_browser import (  # noqa: F401
    CHROMIUM,
    COUNT_MARKS,
    SCREENSHOTS,
    Problems,
    _sign_in,
    browser_page,
    charts_drawn,
    tick_two_and_compare,
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
)


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


def test_the_project_tabs_draw_every_chart(
    hp_study: dict[str, Any],
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
        charts_drawn(page, charts)
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)

    page.goto("/acme/hp/variants/?metric=val/acc")
    tick_two_and_compare(page, page.locator("input[name=variant]"), "Compare selected variants")
    assert not problems.items, problems.items


def test_the_run_page_draws_updates_while_running_and_hides_other_teams(
    hp_study: dict[str, Any],
    browser_page: tuple[Page, Problems, str],  # noqa: F811
) -> None:
    page, problems, url = browser_page
    run_id = hp_study["running"]
    _log(url, hp_study["token"], run_id, range(0, 50))
    _sign_in(page)
    page.goto("/acme/vision/")
    page.get_by_role("link", name="baseline-seed0").click()
    page.wait_for_url(f"**/runs/{run_id}/")
    charts_drawn(page, 1)
    assert page.locator("#run-live").get_attribute("data-count") == "50"

    _log(url, hp_study["token"], run_id, range(50, 120))  # the page reloads itself within ~3 s
    page.wait_for_selector('#run-live[data-count="120"]', timeout=15_000)
    charts_drawn(page, 1)
    assert "119" in page.locator("#run-metrics").inner_text()
    page.screenshot(path=SCREENSHOTS / "run.png", full_page=True)

    rival = f"/runs/{hp_study['rival']}/"
    problems.expected_404.add(url + rival)
    response = page.goto(rival)
    assert response is not None and response.status == 404
    assert not problems.items, problems.items


@pytest.fixture
def long_run(seedboard_server: ServerProcess, two_teams: dict[str, dict[str, Any]]) -> str:
    """A finished run of 3,000 steps (downsampled on the page), one key with values <= 0 at its start."""
    project = tracking_services.project_get_or_create(team=Team.objects.get(slug="acme"), slug="long")
    run = log_run(
        project,
        points={
            "train/loss": [1.0 / (1 + s) + 0.05 * (s % 7) for s in range(3000)],
            "val/margin": [s / 100 - 1.0 for s in range(300)],  # steps 0-100 are <= 0
        },
    )
    return str(run.uuid)


X_AXIS_LABELS = """
element => Array.from(element.querySelectorAll("g.role-axis"))
    .filter(axis => (axis.getAttribute("aria-label") || "").startsWith("X-axis"))
    .slice(0, 1)
    .flatMap(axis => Array.from(axis.querySelectorAll(".role-axis-label text")))
    .map(text => Number(text.textContent.replace(/,/g, "")))
"""
LINE_PATHS = "element => element.querySelectorAll('g.mark-line.role-mark path').length"


def test_the_run_charts_toggle_log_and_smoothing_and_zoom_by_brushing(
    long_run: str,
    browser_page: tuple[Page, Problems, str],  # noqa: F811
) -> None:
    page, problems, _ = browser_page
    _sign_in(page)
    page.goto(f"/runs/{long_run}/")
    charts_drawn(page, 1)
    chart = page.locator("[data-chart]")
    assert chart.evaluate(LINE_PATHS) == 2  # one line per panel

    page.get_by_label("log y").check()
    page.get_by_label("Smoothing").select_option("0.6")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    assert "log=1" in page.url and "smooth=0.6" in page.url
    charts_drawn(page, 1)
    assert chart.evaluate(LINE_PATHS) == 4  # the smoothed line over the faint raw one, per panel
    text = chart.inner_text() + " ".join(chart.locator("svg text").all_text_contents())
    assert "y on a log scale" in text and "debiased EMA, weight 0.6" in text
    assert "(101 ≤ 0 left out)" in text
    page.screenshot(path=SCREENSHOTS / "run-log-smooth.png", full_page=True)

    before = chart.evaluate(X_AXIS_LABELS)
    assert before and max(before) >= 2500, before
    # Drag across the middle third of the first panel's plot (its line spans the x axis).
    line = chart.locator("g.mark-line.role-mark path").first
    line.scroll_into_view_if_needed()
    box = line.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 3, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, y, steps=5)
    with page.expect_navigation():
        page.mouse.move(box["x"] + 2 * box["width"] / 3, y, steps=5)
        page.mouse.up()
    query = parse_qs(urlsplit(page.url).query)
    low, high = int(query["min_step"][0]), int(query["max_step"][0])
    assert 700 < low < 1300 and 1700 < high < 2300, (low, high)
    assert query["log"] == ["1"] and query["smooth"] == ["0.6"]  # the other choices are kept
    charts_drawn(page, 1)
    after = chart.evaluate(X_AXIS_LABELS)
    # The axis spans the brushed steps, give or take the nice tick values Vega rounds out to.
    assert after and low - 250 <= min(after) and max(after) <= high + 250, (low, high, after)
    assert max(after) - min(after) < (max(before) - min(before)) / 2
    assert page.locator("#run-min-step").input_value() == str(low)
    assert "Zoomed to steps" in page.locator("#run-zoom").inner_text()
    page.screenshot(path=SCREENSHOTS / "run-zoomed.png", full_page=True)

    with page.expect_navigation():
        page.get_by_role("link", name="Reset zoom").click()
    query = parse_qs(urlsplit(page.url).query)
    assert "min_step" not in query and "max_step" not in query and query["log"] == ["1"]
    charts_drawn(page, 1)
    assert max(chart.evaluate(X_AXIS_LABELS)) >= 2500
    assert not problems.items, problems.items
