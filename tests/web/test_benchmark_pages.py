"""The benchmark pages, server-rendered: the list, the leaderboard, the submit form, withdrawing."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from server.benchmarks.models import Leaderboard, Submission
from server.tracking.models import Run
from tests.web.benchmark_study import PASSWORD, log_benchmark_study
from tests.web.conftest import sign_in


@pytest.fixture
def study(db, eager_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return log_benchmark_study()


def signed_in(username: str) -> Client:
    client = Client()
    sign_in(client, username, PASSWORD)
    return client


def test_the_list_shows_tasks_metric_submissions_and_leader_and_is_linked_from_the_top_bar_and_home(study):
    alice = signed_in("alice")
    home = alice.get("/").content.decode()
    assert 'href="/benchmarks/"' in home and 'href="/benchmarks/small/"' in home
    page = alice.get("/benchmarks/")
    assert page.status_code == 200
    html = page.content.decode()
    row = re.search(r'<table id="benchmarks">.*</table>', html, re.S).group(0)
    assert "Small vision" in row and "cifar10, svhn" in row and "val/acc" in row
    assert re.search(r'<td class="num">3</td>', row)
    assert "resnet18 [acme]" in row  # best average rank: first on cifar10, second on svhn


def test_the_leaderboard_ranks_entries_with_intervals_warnings_and_charts(study):
    alice = signed_in("alice")
    response = alice.get("/benchmarks/small/")
    assert response.status_code == 200
    html = response.content.decode()
    table = re.search(r'<table class="ranks-table" id="leaderboard">.*?</table>', html, re.S).group(0)
    names = re.findall(r'<th scope="row">([^<]+)', table)
    assert [name.strip() for name in names] == ["resnet18", "vit", "convnext"]
    assert table.count('class="top-group"') >= 1 and "vision-lab" in table
    assert "60 trials, 12.0 GPU h" in table
    assert "budget: tuning budgets differ (7.5x) in trials" in html
    assert "seeds:" not in html  # 3 seeds against 3 and 4 is no news
    # Across tasks: ranks, the CD diagram and intervals; per task: scores and ranks.
    specs = {
        m.group(1): json.loads(m.group(2))
        for m in re.finditer(r'<script id="([^"]+)" type="application/json">(.*?)</script>', html, re.S)
    }
    assert {"chart-across-ranking", "chart-cd", "chart-intervals", "chart-t0-final", "chart-t0-ranking"} <= set(specs)
    assert html.count('data-chart="') == 7
    assert 'data-status="fresh"' in html


def test_a_reader_of_another_team_sees_no_project_path_or_run_id_of_a_private_project(study):
    html = signed_in("alice").get("/benchmarks/small/").content.decode()
    assert "private-study" not in html
    hidden = [str(u) for u in Run.objects.filter(project__slug="private-study").values_list("uuid", flat=True)]
    assert hidden and not any(run in html for run in hidden)
    assert "acme/vision" in html  # her own project is named
    bob_html = signed_in("bob").get("/benchmarks/small/").content.decode()
    assert "vision-lab/private-study" in bob_html and "acme/vision" not in bob_html


def test_withdraw_buttons_are_shown_for_the_own_teams_entries_only(study):
    html = signed_in("bob").get("/benchmarks/small/").content.decode()
    ids = {name: s.pk for name, s in study["submissions"].items()}
    assert f"/submissions/{ids['vit']}/withdraw/" in html and f"/submissions/{ids['resnet18']}/withdraw/" not in html


def test_a_member_submits_through_the_form_and_withdraws(study, django_capture_on_commit_callbacks):
    from server.tracking.models import Project
    from tests.benchmarks.conftest import log_variant

    bob = signed_in("bob")
    project = Project.objects.get(slug="private-study")
    variant = log_variant(project, model="deit", scores={"cifar10": [0.8, 0.81, 0.82], "svhn": [0.7, 0.71, 0.72]})
    form = bob.get("/benchmarks/small/").content.decode()
    assert f'value="vision-lab/private-study|{variant}"' in form
    with django_capture_on_commit_callbacks(execute=True):
        response = bob.post(
            "/benchmarks/small/submit/",
            {"entry": f"vision-lab/private-study|{variant}", "trials": "5", "gpu_hours": ""},
        )
    assert response.status_code == 302 and response["Location"] == "/benchmarks/small/"
    submission = Submission.objects.get(variant=variant)
    assert (submission.label, submission.budget, submission.submitted_by.username) == ("deit", {"trials": 5}, "bob")
    again = bob.post("/benchmarks/small/submit/", {"entry": f"vision-lab/private-study|{variant}"})
    assert again.status_code == 409 and "entered in" in again.content.decode()
    bad = bob.post("/benchmarks/small/submit/", {"entry": f"vision-lab/private-study|{variant}", "trials": "many"})
    assert bad.status_code == 400 and "not a number" in bad.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = bob.post(f"/benchmarks/small/submissions/{submission.pk}/withdraw/")
    assert done.status_code == 302
    assert Submission.objects.get(pk=submission.pk).withdrawn_at is not None
    assert Leaderboard.objects.get(benchmark__slug="small").status == "fresh"


def test_another_team_cannot_withdraw_and_unknown_pages_are_404(study):
    alice = signed_in("alice")
    vit = study["submissions"]["vit"].pk
    response = alice.post(f"/benchmarks/small/submissions/{vit}/withdraw/")
    assert response.status_code == 403 and "Only members of team" in response.content.decode()
    assert Submission.objects.get(pk=vit).withdrawn_at is None
    assert alice.get("/benchmarks/nope/").status_code == 404
    assert alice.get("/benchmarks/small/status.json").json()["status"] == "fresh"
    assert Client().get("/benchmarks/small/").status_code == 302  # sign in first
