"""The project page's runs table in Chromium against a live server: sorting by a header, the
filter box, the column chooser, the compare selection, and a running run's row updating in place."""

from __future__ import annotations

import csv
import io
import statistics
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.stats.conftest import eager_tasks  # noqa: F401  (a fixture)
from tests.web.pages_study import FINAL
from tests.web.test_browser import (  # noqa: F401
    CHROMIUM,
    SCREENSHOTS,
    Problems,
    _sign_in,
    browser_page,
    tick_two_and_compare,
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
)


def _column(page: Page, index: int) -> list[str]:
    return page.eval_on_selector_all(
        "#runs-table tbody tr", f"rows => rows.map(r => r.cells[{index}].textContent.trim())"
    )


def _header_index(page: Page, title: str) -> int:
    headers = page.eval_on_selector_all("#runs-table thead th", "ths => ths.map(th => th.textContent.trim())")
    return next(i for i, text in enumerate(headers) if text.rstrip(" ▲▼") == title)


def test_the_runs_table_sorts_filters_chooses_columns_and_selects_for_comparison(
    hp_study: dict[str, Any],
    browser_page: tuple[Page, Problems, str],  # noqa: F811
) -> None:
    page, problems, _ = browser_page
    _sign_in(page)
    page.goto("/acme/hp/")
    expect(page.locator("#runs-table tbody tr")).to_have_count(19)
    page.screenshot(path=SCREENSHOTS / "project-runs.png", full_page=True)

    # A header click sorts by that metric, best first; a second click reverses.
    page.get_by_role("link", name="val/acc").click()
    page.wait_for_url("**ordering=-metric%3Aval%2Facc**")
    acc = _header_index(page, "val/acc")
    values = [float(v) for v in _column(page, acc) if v != "—"]
    assert values == sorted(values, reverse=True) and values[0] == pytest.approx(
        max(max(v) for v in FINAL.values()), abs=5e-4
    )
    page.get_by_role("link", name="val/acc ▼").click()
    page.wait_for_url("**ordering=metric%3Aval%2Facc**")
    assert [float(v) for v in _column(page, acc) if v != "—"] == sorted(values)

    # The filter box takes the API's syntax; the sort stays.
    page.get_by_label("More filters").fill("config.optimizer.lr__gte=0.01 seed=0")
    page.get_by_label("Model").fill("vit")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**where=**")
    expect(page.locator("#runs-table tbody tr")).to_have_count(2)
    assert "ordering=metric%3Aval%2Facc" in page.url
    page.get_by_label("More filters").fill("config.optimizer.lr__between=1")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("alert")).to_contain_text("config.optimizer.lr__between")
    # That page is meant to answer 400 (the request and its console line); nothing else failed.
    assert problems.items and all("400" in item for item in problems.items), problems.items
    problems.items.clear()

    # The column chooser: drop train/loss, add depth.
    page.goto("/acme/hp/")
    page.get_by_text("Columns", exact=True).click()
    page.get_by_label("train/loss").uncheck()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**metrics=**")
    headers = page.eval_on_selector_all("#runs-table thead th", "ths => ths.map(th => th.textContent.trim())")
    assert "val/acc" in headers and "train/loss" not in headers

    # Ticking two runs opens the comparison form with their variants.
    boxes = page.locator("#runs-table tbody input[type=checkbox]")
    tick_two_and_compare(page, boxes, "Compare the variants of the ticked runs")
    assert not problems.items, problems.items


def test_a_running_runs_row_updates_in_place(
    hp_study: dict[str, Any],
    browser_page: tuple[Page, Problems, str],  # noqa: F811
) -> None:
    page, problems, url = browser_page
    _sign_in(page)
    page.goto("/acme/hp/?metrics=val/acc")
    row = page.locator(f"#runs-table tr[data-run='{hp_study['hp_running']}']")
    expect(row.locator("[data-cell=status]")).to_have_text("running")
    row.locator("input[type=checkbox]").check()  # a reload would lose it
    headers = {"Authorization": f"Bearer {hp_study['token']}"}
    body = {
        "batch_id": str(uuid.uuid4()),
        "points": {"key": ["val/acc"] * 3, "step": [0, 1, 2], "value": [0.1, 0.2, 0.625]},
    }
    assert (
        httpx.post(f"{url}/api/v1/runs/{hp_study['hp_running']}/metrics/", json=body, headers=headers).status_code
        == 200
    )
    expect(row.locator("[data-metric='0']")).to_have_text("0.625", timeout=10_000)
    finished = httpx.patch(f"{url}/api/v1/runs/{hp_study['hp_running']}/", json={"status": "finished"}, headers=headers)
    assert finished.status_code == 200
    expect(row.locator("[data-cell=status]")).to_have_text("finished", timeout=10_000)
    assert row.locator("input[type=checkbox]").is_checked()
    assert not problems.items, problems.items


def test_a_table_downloads_as_the_csv_of_what_it_shows(
    hp_study: dict[str, Any],
    browser_page: tuple[Page, Problems, str],  # noqa: F811
) -> None:
    page, problems, _ = browser_page
    _sign_in(page)
    page.goto("/acme/hp/variants/?metric=val/acc")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    assert download.value.suggested_filename == "acme-hp-variants-valacc.csv"
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0][:3] == ["Compare", "Variant", "Model"] and len(rows) == 1 + len(FINAL)
    means = {row[1]: float(row[rows[0].index("Mean")]) for row in rows[1:]}
    assert means["vit (optimizer.lr=0.01)"] == pytest.approx(statistics.fmean(FINAL[("vit", 0.01)]), abs=5e-5)
    assert not problems.items, problems.items
