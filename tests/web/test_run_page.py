"""The run page and its status.json through Django's test client: access, header, charts, polling data."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.test import Client

from server.accounts.models import Team
from server.tracking import ingestion
from server.tracking import services as tracking_services
from server.tracking.batches import batch_parse
from server.tracking.models import Run
from server.web.page_selectors import RUN_MAX_CHART_KEYS, RUN_MAX_POINTS
from tests.stats.conftest import log_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_run(two_teams: object) -> Run:
    project = tracking_services.project_get_or_create(team=Team.objects.get(slug="acme"), slug="runs-study")
    return log_run(
        project,
        model="resnet18",
        config={"optimizer": {"lr": 0.1, "name": "sgd"}, "epochs": 3},
        seed=7,
        points={"train/loss": [1.0 / (1 + i) for i in range(3000)], "val/acc": [0.5, 0.7, 0.8]},
        summary={"val/acc": 0.8},
    )


def _chart(body: str, chart_id: str) -> dict[str, object]:
    match = re.search(rf'<script id="{chart_id}" type="application/json">(.*?)</script>', body, re.S)
    assert match, chart_id
    return dict(json.loads(match.group(1)))


def test_run_pages_need_a_signed_in_user(client: Client, two_teams: dict[str, dict[str, object]]) -> None:
    run_id = two_teams["acme"]["id"]
    for path in [f"/runs/{run_id}/", f"/runs/{run_id}/status.json"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next="), path


def test_another_teams_run_is_a_404_like_a_missing_one(alice: Client, two_teams: dict[str, dict[str, object]]) -> None:
    for run_id in [two_teams["rival"]["id"], "00000000-0000-0000-0000-000000000000", "not-a-uuid"]:
        assert alice.get(f"/runs/{run_id}/").status_code == 404
        assert alice.get(f"/runs/{run_id}/status.json").status_code == 404


def test_the_run_page_shows_header_config_tree_summaries_and_a_downsampled_chart(
    alice: Client, logged_run: Run
) -> None:
    response = alice.get(f"/runs/{logged_run.uuid}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "resnet18" in body and ">7<" in body and "finished" in body
    assert "<details open><summary><code>optimizer</code></summary>" in body
    assert "<code>lr</code>: <code>0.1</code>" in body
    assert '<td>train/loss</td><td class="num">3000</td>' in body
    spec = _chart(body, "chart-run-history")
    rows = spec.get("datasets", {})
    values = [row for data in dict(rows).values() for row in data]
    loss = [row for row in values if row["key"] == "train/loss"]
    assert 0 < len(loss) <= RUN_MAX_POINTS
    assert {row["key"] for row in values} == {"train/loss", "val/acc"}


def test_key_and_x_are_url_state(alice: Client, logged_run: Run) -> None:
    body = alice.get(f"/runs/{logged_run.uuid}/?key=val/acc&x=time").content.decode()
    spec = _chart(body, "chart-run-history")
    values = [row for data in dict(spec["datasets"]).values() for row in data]  # type: ignore[call-overload]
    assert {row["key"] for row in values} == {"val/acc"}
    assert '<option value="val/acc" selected>' in body and '<option value="time" selected>' in body


def test_more_keys_than_panels_are_cut_with_a_note(alice: Client, two_teams: object) -> None:
    project = tracking_services.project_get_or_create(team=Team.objects.get(slug="acme"), slug="many")
    run = log_run(project, points={f"k{i:02d}": [1.0, 2.0] for i in range(RUN_MAX_CHART_KEYS + 2)})
    body = alice.get(f"/runs/{run.uuid}/").content.decode()
    assert f"Showing the first {RUN_MAX_CHART_KEYS} of {RUN_MAX_CHART_KEYS + 2} keys" in body


def test_a_run_with_twenty_long_series_still_draws_them_all(alice: Client, two_teams: object) -> None:
    # Twenty keys at the per-series maximum would exceed the chart's 5,000 inline rows: a 500 before.
    project = tracking_services.project_get_or_create(team=Team.objects.get(slug="acme"), slug="wide")
    run = log_run(project, points={f"k{i:02d}": [float(step % 7) for step in range(2000)] for i in range(20)})
    response = alice.get(f"/runs/{run.uuid}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert all(f"k{i:02d}" in body for i in range(20))


def test_status_json_has_status_last_steps_and_count(alice: Client, logged_run: Run) -> None:
    body = alice.get(f"/runs/{logged_run.uuid}/status.json").json()
    assert body == {
        "run": str(logged_run.uuid),
        "status": "finished",
        "last_step": {"train/loss": 2999, "val/acc": 2},
        "count": 3003,
    }


def test_a_running_run_loads_the_polling_script(alice: Client, two_teams: dict[str, dict[str, object]]) -> None:
    body = alice.get(f"/runs/{two_teams['acme']['id']}/").content.decode()
    assert 'data-status="running"' in body and "web/run.js" in body
    assert "No metric points yet." in body


def test_the_project_runs_table_links_run_names_to_the_run_page(
    alice: Client, two_teams: dict[str, dict[str, object]]
) -> None:
    body = alice.get("/acme/vision/").content.decode()
    assert f'href="/runs/{two_teams["acme"]["id"]}/"' in body
    for tab in ["variants", "seeds", "hyperparameters"]:
        assert f'href="/acme/vision/{tab}/"' in body


def _rows(body: str, key: str) -> list[dict[str, object]]:
    spec = _chart(body, "chart-run-history")
    return [row for data in dict(spec["datasets"]).values() for row in data if row["key"] == key]  # type: ignore[call-overload]


def test_a_zoomed_run_page_draws_only_the_range_and_in_more_detail(alice: Client, logged_run: Run) -> None:
    unzoomed = _rows(alice.get(f"/runs/{logged_run.uuid}/").content.decode(), "train/loss")
    assert 0 < len(unzoomed) <= RUN_MAX_POINTS < 3000  # downsampled: min/max buckets over 3,000 steps
    response = alice.get(f"/runs/{logged_run.uuid}/?min_step=1000&max_step=1499")
    assert response.status_code == 200
    body = response.content.decode()
    zoomed = _rows(body, "train/loss")
    steps = sorted(int(row["step"]) for row in zoomed)  # type: ignore[call-overload]
    assert steps == list(range(1000, 1500))  # every logged step of the range, nothing outside it
    assert len(zoomed) > 2 * sum(1000 <= int(row["step"]) <= 1499 for row in unzoomed)  # type: ignore[call-overload]
    assert _rows(body, "val/acc") == []  # logged at steps 0-2 only
    assert 'value="1000"' in body and 'value="1499"' in body
    assert "Zoomed to steps 1000 to 1499" in body
    assert f'href="/runs/{logged_run.uuid}/">Reset zoom</a>' in body


def test_an_open_ended_zoom_keeps_the_other_choices_in_its_reset_link(alice: Client, logged_run: Run) -> None:
    body = alice.get(f"/runs/{logged_run.uuid}/?key=train/loss&min_step=2990&log=1").content.decode()
    assert sorted(int(row["step"]) for row in _rows(body, "train/loss")) == list(range(2990, 3000))  # type: ignore[call-overload]
    assert "Zoomed to steps 2990 to the last" in body
    assert f'href="/runs/{logged_run.uuid}/?key=train%2Floss&amp;log=1">Reset zoom</a>' in body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("min_step=abc", "From step must be a whole number"),
        ("max_step=-5", "To step must be a whole number"),
        ("min_step=1.5", "From step must be a whole number"),
        ("max_step=99999999999999999999", "To step must be a whole number"),
        ("min_step=20&max_step=10", "From step (20) is after To step (10)."),
    ],
)
def test_an_invalid_zoom_is_a_400_page_that_says_why_and_draws_every_step(
    alice: Client, logged_run: Run, query: str, message: str
) -> None:
    response = alice.get(f"/runs/{logged_run.uuid}/?{query}")
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and 'role="alert"' in body
    assert max(int(row["step"]) for row in _rows(body, "train/loss")) == 2999  # type: ignore[call-overload]


def test_log_scale_and_smoothing_are_url_state(alice: Client, logged_run: Run) -> None:
    body = alice.get(f"/runs/{logged_run.uuid}/?log=1&smooth=0.6").content.decode()
    spec = _chart(body, "chart-run-history")
    layers = spec["spec"]["layer"]  # type: ignore[index]
    assert [layer["encoding"]["y"]["field"] for layer in layers] == ["value", "smoothed"]
    assert all(layer["encoding"]["y"]["scale"]["type"] == "log" for layer in layers)
    assert all("smoothed" in row for row in _rows(body, "train/loss"))
    assert 'name="log" value="1" checked' in body and '<option value="0.6" selected>' in body
    assert spec["params"][0]["name"] == "zoom" and 'data-zoom-param="zoom"' in body  # type: ignore[index]

    # An unknown weight is no smoothing, as on the compare page; a wall-time axis has no brush.
    body = alice.get(f"/runs/{logged_run.uuid}/?smooth=0.5&x=time").content.decode()
    spec = _chart(body, "chart-run-history")
    assert "layer" not in spec["spec"] and "params" not in spec  # type: ignore[operator]
    assert "data-zoom-param" not in body


def test_another_teams_run_is_a_404_whatever_the_chart_choices(
    alice: Client, two_teams: dict[str, dict[str, object]]
) -> None:
    rival = two_teams["rival"]["id"]
    for query in ["min_step=0&max_step=10", "min_step=oops", "log=1&smooth=0.9"]:
        assert alice.get(f"/runs/{rival}/?{query}").status_code == 404, query


def test_the_run_page_shows_its_metadata_and_heartbeat(alice: Client, logged_run: Run) -> None:
    logged_run.metadata = {"git": {"commit": "0123abcd", "dirty": False}, "host": "gpu-node-3", "command": "train.py"}
    logged_run.save(update_fields=["metadata"])
    body = alice.get(f"/runs/{logged_run.uuid}/").content.decode()
    metadata = body[body.index('<section id="run-metadata">') : body.index('<section id="run-summary">')]
    for text in ("commit", "0123abcd", "gpu-node-3", "train.py"):
        assert text in metadata, text
    assert f'<time datetime="{logged_run.heartbeat_at.isoformat()}' in body


def test_the_chart_of_a_running_run_shows_the_points_logged_since_it_was_last_drawn(
    alice: Client, two_teams: object
) -> None:
    """The chart's spec is cached under a digest of what it is drawn from: new points redraw it."""
    project = tracking_services.project_get_or_create(team=Team.objects.get(slug="acme"), slug="live-study")
    running = log_run(project, points={"val/acc": [0.5, 0.6]}, status=Run.Status.RUNNING)

    def drawn_steps() -> list[int]:
        body = alice.get(f"/runs/{running.uuid}/?key=val/acc").content.decode()
        return sorted(row["step"] for row in _chart(body, "chart-run-history")["datasets"].popitem()[1])

    assert drawn_steps() == [0, 1]
    assert drawn_steps() == [0, 1]  # drawn again from the cache
    one_more = {"key": ["val/acc"], "step": [2], "value": [0.7]}
    batch = batch_parse({"batch_id": str(uuid.uuid4()), "points": one_more}, max_points=10)
    ingestion.metrics_ingest(run_pk=running.pk, batch=batch)
    assert drawn_steps() == [0, 1, 2]
