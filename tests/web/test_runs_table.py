"""The project page's runs table: filters in the API's language, sort, columns, cursor pages, live rows."""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from server.accounts.models import Team
from server.tracking import services as tracking_services
from server.tracking.models import Project, Run
from tests.stats.conftest import log_run
from tests.web.pages_study import FINAL, log_pages_study

pytestmark = pytest.mark.django_db
URL = "/acme/hp/"


@pytest.fixture
def study(two_teams: object) -> tuple[Project, dict[tuple[str, float], str]]:
    project = tracking_services.project_get_or_create(team=Team.objects.get(slug="acme"), slug="hp")
    return project, log_pages_study(project)


def _rows(body: str) -> list[str]:
    """The run ids of the table's rows, in order."""
    return re.findall(r'<tr data-run="([0-9a-f-]+)"', body)


def _cells(body: str, run_id: str) -> list[str]:
    row = re.search(rf'<tr data-run="{run_id}".*?</tr>', body, re.S)
    assert row, run_id
    return [
        unescape(re.sub(r"<[^>]+>", "", cell)).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    ]


def test_the_default_columns_are_the_first_metrics_and_the_config_paths_that_vary(alice: Client, study) -> None:
    body = alice.get(URL).content.decode()
    assert len(_rows(body)) == 18
    headers = [unescape(re.sub(r"<[^>]+>|[▲▼]", "", h)).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", body, re.S)]
    assert headers[-3:] == ["train/loss", "val/acc", "Created"]
    assert "optimizer.lr" in headers and "depth" in headers
    newest = Run.objects.filter(project=study[0]).latest("created_at", "id")
    cells = _cells(body, str(newest.uuid))
    assert cells[2] == "finished" and cells[4] == "—"  # status; no task
    assert cells[-2] == f"{FINAL[('vit', 0.1)][2] * 1.0:.4g}"  # val/acc's last value
    assert "vit (optimizer.lr=0.1)" in cells[3]


def test_sorting_by_a_metric_orders_the_rows_and_its_header_says_so(alice: Client, study) -> None:
    body = alice.get(URL, {"ordering": "-metric:val/acc"}).content.decode()
    ids = _rows(body)
    best = max((v, k) for k, values in FINAL.items() for v in values)
    first = Run.objects.get(uuid=ids[0])
    assert (first.model, first.config["optimizer"]["lr"]) == best[1]
    assert 'aria-sort="descending"><a href="?ordering=metric%3Aval%2Facc">val/acc ▼' in body  # a click sorts ascending
    ascending = _rows(alice.get(URL, {"ordering": "metric:val/acc"}).content.decode())
    assert ascending == ids[::-1] or Run.objects.get(uuid=ascending[-1]).pk == first.pk


def test_filters_in_the_apis_language_and_the_where_box_narrow_the_rows(alice: Client, study) -> None:
    body = alice.get(URL, {"model": "vit", "where": "config.optimizer.lr__gte=0.01 seed=2"}).content.decode()
    runs = Run.objects.filter(uuid__in=_rows(body))
    assert sorted((r.model, r.config["optimizer"]["lr"], r.seed) for r in runs) == [("vit", 0.01, 2), ("vit", 0.1, 2)]
    assert "(filtered)" in body
    assert "No run matches these filters." in alice.get(URL, {"model": "nope"}).content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"where": "config.lr__regex=x"}, "config.lr__regex"),
        ({"where": "lr 0.1"}, "is not name=value"),
        ({"where": 'name="open'}, "where:"),
        ({"ordering": "loss"}, "ordering:"),
        ({"cursor": "garbage"}, "cursor"),
        ({"status": "exploded"}, "status:"),
    ],
)
def test_a_filter_the_api_would_refuse_is_a_400_page_that_says_why(alice: Client, study, params, message) -> None:
    response = alice.get(URL, params)
    assert response.status_code == 400
    assert message in unescape(response.content.decode())


def test_cursor_pages_cover_every_run_once_with_a_constant_number_of_queries(alice: Client, study) -> None:
    seen: list[str] = []
    queries: list[int] = []
    params = {"page_size": "50", "metrics": "val/acc", "ordering": "seed"}
    body = alice.get(URL, params).content.decode()
    assert len(_rows(body)) == 18 and 'rel="next"' not in body
    for seed in range(60):  # more runs than a page
        tracking_services.run_create(project=study[0], model="mlp", config={"width": seed % 3}, seed=100 + seed)
    url: str | None = URL + "?page_size=50&metrics=val/acc&ordering=seed"
    while url:
        with CaptureQueriesContext(connection) as captured:
            body = alice.get(url).content.decode()
        queries.append(len(captured))
        seen += _rows(body)
        link = re.search(r'<a href="([^"]+)" rel="next"', body)
        url = URL + unescape(link.group(1)) if link else None
    assert len(seen) == len(set(seen)) == 78
    seeds = [Run.objects.get(uuid=run_id).seed for run_id in seen]
    assert seeds == sorted(seeds)
    assert queries[0] == queries[1]


def test_chosen_columns_stay_chosen_and_an_emptied_chooser_stays_empty(alice: Client, study) -> None:
    body = alice.get(URL, {"metrics": "train/loss", "columns": "depth"}).content.decode()
    assert re.search(r'<input type="checkbox" name="metrics" value="train/loss" checked>', body)
    assert not re.search(r'name="metrics" value="val/acc" checked', body)
    assert re.search(r'name="columns" value="depth" checked', body)
    empty = alice.get(URL + "?metrics=").content.decode()
    assert not re.search(r'name="metrics" value="[^"]+" checked', empty)


def test_the_next_link_keeps_the_filters_and_columns(alice: Client, study) -> None:
    body = alice.get(URL, {"page_size": "50", "model": "vit", "metrics": "val/acc"}).content.decode()
    assert 'rel="next"' not in body  # 9 runs
    for seed in range(60):
        tracking_services.run_create(project=study[0], model="vit", config={"x": seed}, seed=seed)
    body = alice.get(URL, {"page_size": "50", "model": "vit", "metrics": "val/acc"}).content.decode()
    link = unescape(re.search(r'<a href="([^"]+)" rel="next"', body).group(1))
    query = parse_qs(urlparse(link).query)
    assert query["model"] == ["vit"] and query["metrics"] == ["val/acc"] and query["cursor"]


def test_the_compare_button_sends_the_ticked_runs_variants(alice: Client, study) -> None:
    body = alice.get(URL, {"metrics": "val/acc"}).content.decode()
    assert '<form id="compare-runs" method="get" action="/compare/new/">' in body
    assert '<input type="hidden" name="metric" value="val/acc">' in body
    picks = re.findall(r'form="compare-runs" name="variant" value="([0-9a-f]+)"', body)
    assert set(picks) == set(study[1].values())
    form = alice.get("/compare/new/", {"project": "acme/hp", "metric": "val/acc", "variant": picks[:2]})
    assert form.status_code == 200


def test_logged_text_in_the_rows_is_escaped(alice: Client, two_teams) -> None:
    project = tracking_services.project_get_or_create(team=Team.objects.get(slug="acme"), slug="hostile")
    hostile = '<img src=x onerror="alert(1)">'
    run = log_run(project, model=hostile, config={"note": hostile}, task=hostile, points={"val/acc": [0.5]})
    Run.objects.filter(pk=run.pk).update(name=hostile, tags=[hostile])
    body = alice.get("/acme/hostile/", {"metrics": "val/acc", "columns": "note"}).content.decode()
    assert "<img" not in body
    cells = _cells(body, str(run.uuid))
    assert cells[1] == hostile  # the name, as logged
    assert cells.count(hostile) == 5  # name, variant label (the model), task, tags, config column
    assert cells[-2] == "0.5"


def test_live_rows_give_status_and_summaries_of_running_runs(alice: Client, study, two_teams) -> None:
    run = log_run(study[0], model="mlp", points={"val/acc": [0.5, "NaN"], "train/loss": [1.0]}, status="running")
    body = alice.get(URL).content.decode()
    assert 'data-running="true"' in body and "web/runs.js" in body
    live = alice.get("/acme/hp/runs.json", {"run": [str(run.uuid)], "metrics": "val/acc"}).json()
    run.refresh_from_db()
    assert live["runs"] == [
        {
            "id": str(run.uuid),
            "status": "running",
            "heartbeat_at": run.heartbeat_at.isoformat(),
            "metrics": {
                "val/acc": {"count": 2, "first_step": 0, "last_step": 1, "last_value": "NaN", "min": 0.5, "max": 0.5}
            },
        }
    ]
    rival = alice.get("/acme/hp/runs.json", {"run": [two_teams["rival"]["id"]]}).json()
    assert rival["runs"] == []  # another team's run is not in this project
    bad = alice.get("/acme/hp/runs.json", {"run": ["not-a-uuid"]})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "run"
    assert alice.get("/rival/secret/runs.json").status_code == 404


def test_the_table_downloads_as_csv_and_links_its_api_request(alice: Client, study, api) -> None:
    params = {"model": "vit", "ordering": "-metric:val/acc", "metrics": "val/acc", "columns": "optimizer.lr"}
    body = alice.get(URL, params).content.decode()
    csv_link = unescape(re.search(r'<a href="([^"]+)" download>Download CSV</a>', body).group(1))
    response = alice.get(URL + csv_link)
    assert response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    assert lines[0][-2:] == ["config.optimizer.lr", "val/acc"]
    expected = sorted((v for (model, _), values in FINAL.items() if model == "vit" for v in values), reverse=True)
    assert [float(line[-1]) for line in lines[1:]] == pytest.approx(expected)
    api_link = unescape(re.search(r'<a href="([^"]+)">JSON \(REST API\)</a>', body).group(1))
    results = api.get(api_link).json()["results"]
    assert [r["metrics"]["val/acc"]["last_value"] for r in results] == pytest.approx(expected)
    assert alice.get(URL, {"format": "csv", "where": "nonsense"}).status_code == 400
