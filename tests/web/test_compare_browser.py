"""The compare page in Chromium against a live server: every chart draws, no error, the paper table's means."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.db import connections
from playwright.sync_api import Page

from server.accounts.models import Team
from server.stats import services as stats_services
from server.tracking import services as tracking_services
from tests.conftest import ServerProcess, broker_reset, celery_worker_thread
from tests.stats.conftest import eager_tasks  # noqa: F401  (a fixture)
from tests.web.compare_study import FINAL, MODEL_SCORES, TASKS, log_multitask_study, log_study, multitask_finals
from tests.web.test_browser import (  # noqa: F401
    CHROMIUM,
    SCREENSHOTS,
    Problems,
    _sign_in,
    browser_page,
    charts_drawn,
)

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
    charts_drawn(page, 5)  # curves, final scores, ranking, pairs, seeds needed

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


@pytest.fixture
def multitask_comparison(
    seedboard_server: ServerProcess,
    two_teams: object,
    eager_tasks: None,  # noqa: F811
) -> Iterator[str]:
    """4 variants on 3 tasks, compared over every task (none chosen), computed in this process."""
    project = tracking_services.project_get_or_create(team=Team.objects.get(slug="acme"), slug="bench")
    variants = log_multitask_study(project)
    comparison = stats_services.comparison_create(
        user=User.objects.get(username="alice"), metric="val/acc", projects=["acme/bench"], variants=None
    )
    assert comparison.status == "fresh", comparison.error
    assert comparison.task is None and len(variants) == 4
    yield str(comparison.uuid)


def test_a_comparison_over_several_tasks_draws_the_cd_diagram_and_rliable_intervals(
    multitask_comparison: str,
    browser_page: tuple[Page, Problems, str],  # noqa: F811
) -> None:
    page, problems, _ = browser_page
    _sign_in(page)
    response = page.goto(f"/compare/{multitask_comparison}/")
    assert response is not None and response.status == 200
    assert page.locator("#compare-status .status").inner_text() == "fresh"

    # Per task: a section with its charts and its pairs table.
    sections = page.locator("section.task-section")
    assert sections.count() == len(TASKS)
    for i, task in enumerate(TASKS):
        section = sections.nth(i)
        assert section.locator("h2").inner_text() == f"Task {task}"
        assert section.locator(".pairs-table tbody tr").count() == 6  # 4 variants: every pair
    # Across tasks: the table of the tasks' means and average ranks, best first.
    ranks = page.locator("#average-ranks")
    heads = ranks.locator("thead th").all_inner_texts()
    assert heads[1 : 1 + len(TASKS)] == list(TASKS) and "Average rank" in heads, heads
    rows = [row.locator("td, th").all_inner_texts() for row in ranks.locator("tbody tr").all()]
    models = [row[0].split(" (")[0] for row in rows]  # labels: "model (fingerprint)"
    assert models == list(MODEL_SCORES)  # ranked the same on every task
    rank_column = heads.index("Average rank")
    assert [float(row[rank_column]) for row in rows] == [1.0, 2.0, 3.0, 4.0]
    finals = multitask_finals()
    for model, row in zip(models, rows, strict=True):
        for j, task in enumerate(TASKS):
            assert row[1 + j].startswith(f"{np.mean(finals[task][model]):.3f}"), (row, task)

    marks = charts_drawn(page, 3 + 5 * len(TASKS))  # CD, intervals, improvement; 5 per task
    # The diagram itself, not the note that replaces it when Friedman's test does not reject.
    cd_marks, intervals_marks, improvement_marks = marks[:3]
    assert cd_marks >= 4 + 2 * 4, marks  # at least the dots and elbow lines of 4 variants
    cd = page.locator("[data-chart=chart-cd]").text_content() or ""
    assert "CD =" in cd and "Friedman's test does not reject" not in cd, cd
    assert intervals_marks >= 2 * 4 * 3 and improvement_marks >= 2 * 6, marks  # bar and tick per row
    assert "IQM" in (page.locator("[data-chart=chart-intervals]").text_content() or "")
    improvement = page.locator("[data-chart=chart-improvement]").text_content() or ""
    assert re.search(r"resnet50 [^v]*vs mlp|mlp [^v]*vs resnet50", improvement), improvement
    page.screenshot(path=SCREENSHOTS / "compare-multitask.png", full_page=True)
    assert not problems.items, problems.items


@pytest.fixture
def pending_comparison(seedboard_server: ServerProcess, two_teams: object) -> Iterator[str]:
    """The study logged and its comparison saved but not computed: its task waits in the broker."""
    from django.conf import settings

    if not settings.REDIS_URL:
        pytest.skip("needs a Redis broker (REDIS_URL): without one, tasks run in-process at once")
    broker_reset()
    project = tracking_services.project_get_or_create(team=Team.objects.get(slug="acme"), slug="study")
    variants = log_study(project)
    comparison = stats_services.comparison_create(
        user=User.objects.get(username="alice"),
        metric="val/acc",
        projects=["acme/study"],
        variants=list(variants.values()),
    )
    assert comparison.status == "computing"
    yield str(comparison.uuid)


class BackgroundWorker:
    """A real Celery worker started in its own thread: Playwright's loop runs in the test's thread,
    where Django refuses ORM calls, and the worker's start-up and tasks use the database."""

    def __init__(self) -> None:
        self.ready, self.stop = threading.Event(), threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, name="celery-worker", daemon=True)

    def _run(self) -> None:
        try:
            with celery_worker_thread():
                self.ready.set()
                self.stop.wait(120)
        except BaseException as exc:  # reported by the test's thread
            self.errors.append(exc)
            self.ready.set()
        finally:
            connections.close_all()

    def __enter__(self) -> BackgroundWorker:
        self.thread.start()
        assert self.ready.wait(30), "the worker did not start"
        assert not self.errors, self.errors
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(30)
        assert not self.errors, self.errors


def test_a_computing_comparison_says_so_and_shows_its_results_once_fresh_at_the_same_url(
    pending_comparison: str,
    browser_page: tuple[Page, Problems, str],  # noqa: F811
) -> None:
    page, problems, url = browser_page
    _sign_in(page)
    address = f"{url}/compare/{pending_comparison}/?smooth=0.6&seeds=1"
    response = page.goto(address)
    assert response is not None and response.status == 200
    status = page.locator("#compare-status")
    assert status.locator(".status").inner_text() in ("computing", "stale")
    assert "reloads when the new results are ready" in status.inner_text()
    assert "being computed" in page.locator("main").inner_text()
    assert page.locator("[data-chart]").count() == 0
    page.screenshot(path=SCREENSHOTS / "compare-computing.png", full_page=True)
    loads: list[str] = []
    page.on("load", lambda: loads.append(page.url))

    with BackgroundWorker():
        # No reload here: the page polls status.json and reloads itself once the comparison is fresh.
        page.wait_for_function(
            "() => document.querySelector('#compare-status .status').textContent.trim() === 'fresh'"
            " && document.querySelectorAll('[data-chart]').length === 5"
            " && Array.from(document.querySelectorAll('[data-chart]'))"
            ".every(el => el.querySelector('svg g.role-mark'))",
            timeout=30_000,
        )
    assert page.url == address and loads == [address], (page.url, loads)  # the same URL, query string kept
    charts_drawn(page, 5)
    assert "reloads when" not in status.inner_text()
    assert "is better than" in page.locator(".pairs-table").inner_text()
    page.screenshot(path=SCREENSHOTS / "compare-refreshed.png", full_page=True)
    assert not problems.items, problems.items
