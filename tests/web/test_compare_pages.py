"""The compare pages through Django's test client: access, the form, a saved comparison, CSV, status.json."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from django.test import Client

from server.accounts.models import Team
from server.stats.models import Comparison
from server.tracking import services as tracking_services
from server.tracking.models import Project
from tests.stats.conftest import eager_tasks  # noqa: F401  (a fixture)
from tests.web.compare_study import FINAL, log_study
from tests.web.conftest import PASSWORD, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(two_teams: object) -> tuple[Project, dict[str, str]]:
    project = tracking_services.project_get_or_create(team=Team.objects.get(slug="acme"), slug="study")
    return project, log_study(project)


@pytest.fixture
def saved(
    alice: Client,
    study: tuple[Project, dict[str, str]],
    eager_tasks: None,  # noqa: F811
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> str:
    """A comparison of the study's three variants, created through the form and computed in-process."""
    _, variants = study
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post(
            "/compare/new/", {"project": "acme/study", "metric": "val/acc", "variant": list(variants.values())}
        )
    assert response.status_code == 302
    match = re.fullmatch(r"/compare/([0-9a-f-]{36})/", response["Location"])
    assert match, response["Location"]
    return match.group(1)


def test_compare_pages_need_a_signed_in_user(client: Client) -> None:
    some = uuid.uuid4()
    for path in ["/compare/new/", f"/compare/{some}/", f"/compare/{some}/status.json", f"/compare/{some}/pairs.csv"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next="), path


def test_the_form_lists_variants_metrics_and_prefills_from_the_query_string(
    alice: Client, study: tuple[Project, dict[str, str]]
) -> None:
    _, variants = study
    response = alice.get(f"/compare/new/?project=acme/study&metric=val/acc&variant={variants['vit']}")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="csrfmiddlewaretoken"' in body
    for model in FINAL:
        assert f">{model}<" in body
    assert re.search(rf'value="{variants["vit"]}" checked', body)
    assert not re.search(rf'value="{variants["resnet18"]}" checked', body)
    assert '<option value="val/acc" selected>' in body


def test_the_form_of_another_teams_project_is_not_found(alice: Client, two_teams: object) -> None:
    assert alice.get("/compare/new/?project=rival/secret").status_code == 404
    assert alice.post("/compare/new/", {"project": "rival/secret", "metric": "val/acc"}).status_code == 404


def test_a_bad_selection_reshows_the_form_with_the_reason(alice: Client, study: object) -> None:
    response = alice.post("/compare/new/", {"project": "acme/study", "metric": "no/such"})
    assert response.status_code == 400
    assert "no run of acme/study has" in response.content.decode()
    assert not Comparison.objects.exists()


def test_posting_without_the_csrf_token_is_refused(study: object) -> None:
    client = Client(enforce_csrf_checks=True)
    sign_in(client, "alice")
    response = client.post("/compare/new/", {"project": "acme/study", "metric": "val/acc"})
    assert response.status_code == 403


def test_a_saved_comparison_shows_every_chart_and_the_tables(alice: Client, saved: str) -> None:
    response = alice.get(f"/compare/{saved}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "status-fresh" in body
    for name in ("curves", "final", "ranking", "pairs", "seeds"):
        assert f'id="chart-t0-{name}" type="application/json"' in body
        assert f'data-chart="chart-t0-{name}"' in body
    assert "<script>" not in body  # no inline script: data only
    latex = re.search(r'<textarea id="table-latex"[^>]*>(.*?)</textarea>', body, re.S)
    assert latex
    for model, finals in FINAL.items():
        assert f"{np.mean(finals):.3f}" in latex.group(1), model
    assert "is better than" in body  # the pairs table's statements


def test_query_string_state_switches_the_table_and_draws_seed_lines(alice: Client, saved: str) -> None:
    body = alice.get(f"/compare/{saved}/?smooth=0.6&seeds=1&table=std").content.decode()
    assert "std over seeds" in body
    assert '<option value="0.6" selected>' in body and 'name="seeds" value="1" checked' in body
    # Each of the nine runs is a seed line in the curves chart's data.
    spec = re.search(r'<script id="chart-t0-curves" type="application/json">(.*?)</script>', body, re.S)
    assert spec and spec.group(1).count('"run":') >= 9 * 2


def test_another_teams_comparison_is_not_found(saved: str) -> None:
    mallory = Client()
    from server.accounts.services import user_set_password

    user_set_password(username="mallory", password=PASSWORD)
    sign_in(mallory, "mallory")
    for path in [f"/compare/{saved}/", f"/compare/{saved}/status.json", f"/compare/{saved}/pairs.csv", "/compare/x/"]:
        assert mallory.get(path).status_code == 404, path


def test_status_json_says_how_fresh_the_comparison_is(alice: Client, saved: str) -> None:
    body = alice.get(f"/compare/{saved}/status.json").json()
    assert set(body) == {"id", "status", "computed_at", "error"}
    assert (body["id"], body["status"], body["error"]) == (saved, "fresh", None)
    assert body["computed_at"]
    Comparison.objects.filter(uuid=saved).update(status="computing", pending=True)
    assert alice.get(f"/compare/{saved}/status.json").json()["status"] == "computing"
    page = alice.get(f"/compare/{saved}/").content.decode()
    assert "status-computing" in page and "compare.js" in page


def test_the_pairs_csv_has_a_row_per_pair_with_labels(alice: Client, saved: str) -> None:
    response = alice.get(f"/compare/{saved}/pairs.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 3  # all pairs of three variants
    assert {frozenset((row["a"], row["b"])) for row in rows} == {
        frozenset(pair) for pair in [("resnet18", "resnet50"), ("resnet18", "vit"), ("resnet50", "vit")]
    }
    for row in rows:
        means = {model: np.mean(finals) for model, finals in FINAL.items()}
        assert float(row["diff"]) == pytest.approx(means[row["a"]] - means[row["b"]])
        assert row["statement"] and row["verdict"] in ("a_better", "b_better", "inconclusive")


def test_the_project_page_links_to_the_compare_form(alice: Client) -> None:
    body = alice.get("/acme/vision/").content.decode()
    assert 'href="/compare/new/?project=acme/vision"' in body


def test_the_pairs_table_shows_the_interval_the_statement_names(alice: Client, saved: str) -> None:
    payload = Comparison.objects.get(uuid=saved).payload
    body = alice.get(f"/compare/{saved}/").content.decode()
    for pair in payload["pairs"]:
        assert pair["paired"]  # seeds 0-2 of every variant
        assert f"{pair['paired_diff_ci_low']:.4f}".rstrip("0") in body
