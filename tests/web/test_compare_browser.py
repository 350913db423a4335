"""The compare page in Chromium against a live server: every chart draws, no error, the paper table's means."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page

from server.accounts.models import Team
from server.stats import services as stats_services
from server.tracking import services as tracking_services
from tests.conftest import ServerProcess
from tests.stats.conftest import eager_tasks  # noqa: F401  (a fixture)
from tests.web.compare_study import FINAL, log_study
from tests.web.test_browser import CHROMIUM, COUNT_MARKS, SCREENSHOTS, Problems, _sign_in, browser_page  # noqa: F401

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
)


@pytest.fixture
def computed_comparison(
    seedboard_server: ServerProcess,
    two_teams: object,
    eager_tasks: None,  # noqa: F811
) -> Iterator[str]:
    """The study logged and its comparison computed in this process (the live server has no worker)."""
    project = tracking_services.project_get_or_create(team=Team.objects.get(slug="acme"), slug="study")
    variants = log_study(project)
    comparison = stats_services.comparison_create(
        user=User.objects.get(username="alice"),
        metric="val/acc",
        projects=["acme/study"],
        variants=list(variants.values()),
    )
    assert comparison.status == "fresh", comparison.error
    yield str(comparison.uuid)


def test_the_compare_page_draws_every_chart_and_the_paper_table(
    computed_comparison: str,
    browser_page: tuple[Page, Problems, str],  # noqa: F811
) -> None:
    page, problems, _ = browser_page
    _sign_in(page)
    response = page.goto(f"/compare/{computed_comparison}/?seeds=1&smooth=0.6")
    assert response is not None and response.status == 200
    assert page.locator("#compare-status .status").inner_text() == "fresh"
    charts = page.locator("[data-chart]")
    assert charts.count() == 5  # curves, final scores, ranking, pairs, seeds needed
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('[data-chart]')).every(el => el.querySelector('svg g.role-mark'))",
        timeout=20_000,
    )
    marks = page.eval_on_selector_all("[data-chart]", COUNT_MARKS)
    assert all(count > 0 for count in marks), marks
    assert not page.locator(".chart-error").count()

    latex = page.locator("#table-latex").input_value()
    for model, finals in FINAL.items():
        assert re.search(rf"{model} & (\\textbf{{)?{np.mean(finals):.3f} ", latex), (model, latex)
    assert "is better than" in page.locator(".pairs-table").inner_text()
    page.screenshot(path=SCREENSHOTS / "compare.png", full_page=True)

    csv = page.request.get(f"/compare/{computed_comparison}/pairs.csv")
    assert csv.status == 200 and csv.text().startswith("task,a,b,")
    status = page.request.get(f"/compare/{computed_comparison}/status.json").json()
    assert status["status"] == "fresh"

    page.goto("/compare/new/?project=acme/study&metric=val/acc")
    assert page.locator("input[name=variant]").count() == 3
    page.screenshot(path=SCREENSHOTS / "compare-new.png", full_page=True)
    assert not problems.items, problems.items
