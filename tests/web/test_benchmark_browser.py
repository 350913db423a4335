"""The benchmark pages in Chromium under the real CSP: the list links the leaderboard, whose
charts draw (no inline script: the status poll and the charts come from static files)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.conftest import ServerProcess
from tests.web.benchmark_study import log_benchmark_study
from tests.web.test_browser import SCREENSHOTS, Problems, _sign_in, browser_page, charts_drawn

__all__ = ["browser_page"]  # the fixture, for this module


@pytest.fixture
def study(seedboard_server: ServerProcess, two_teams: object, eager_tasks: None) -> None:
    """Before the browser starts: the ORM may not run in Playwright's event-loop thread."""
    log_benchmark_study()


def test_the_leaderboard_draws_its_charts_and_tables(study: None, browser_page: tuple[Page, Problems, str]) -> None:
    page, problems, _ = browser_page
    _sign_in(page)
    assert page.locator("header nav").get_by_role("link", name="Benchmarks").count() == 1
    page.goto("/benchmarks/")
    assert "Small vision" in page.locator("#benchmarks").inner_text()
    page.get_by_role("link", name="Small vision").click()
    page.wait_for_url("**/benchmarks/small/")
    # Across tasks: ranks, CD diagram, intervals; per task (2): scores and ranks.
    marks = charts_drawn(page, 7)
    assert len(marks) == 7
    rows = page.locator("#leaderboard tbody tr")
    assert rows.count() == 3 and "resnet18" in rows.first.inner_text()
    assert page.locator("#leaderboard tr.top-group").count() >= 1
    assert "tuning budgets differ" in page.locator("main").inner_text()
    assert "private-study" not in page.content()
    page.screenshot(path=SCREENSHOTS / "benchmark.png", full_page=True)
    assert not problems.items, problems.items
