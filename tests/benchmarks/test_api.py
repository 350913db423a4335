"""The benchmarks API: who may create, edit, submit and withdraw, and what it refuses."""

from __future__ import annotations

from server.accounts.services import token_create_for
from server.benchmarks.models import Leaderboard, Submission
from tests.benchmarks.conftest import URL, log_variant

GOOD = {"cifar10": [0.90, 0.91, 0.92], "svhn": [0.80, 0.81, 0.82]}


def test_an_admin_of_the_owner_team_creates_a_benchmark_every_user_can_read(make_benchmark, lab):
    created = make_benchmark(description="Two small tasks", min_seeds=3, tasks=["svhn", "cifar10", "svhn"])
    assert created["team"] == "acme" and created["tasks"] == ["cifar10", "svhn"]  # sorted, no duplicates
    assert (created["goal"], created["summary"], created["min_seeds"], created["open"]) == ("max", "last", 3, True)
    assert created["n_submissions"] == 0 and created["status"] == "fresh"
    listed = lab.get(URL).json()
    assert [item["slug"] for item in listed["results"]] == ["small"] and listed["next"] is None
    assert lab.get(f"{URL}small/").json()["description"] == "Two small tasks"
    assert lab.get(f"{URL}small/leaderboard/").json()["submissions"] == []


def test_creating_needs_the_admin_role_in_the_owner_team(client_for, make_token):
    member = client_for("acme", "carol", "member")
    body = {"team": "acme", "slug": "x", "name": "X", "tasks": ["t"], "metric": "val/acc"}
    response = member.post(URL, body, format="json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    outsider = client_for("other", "dave", "admin")
    assert outsider.post(URL, body, format="json").status_code == 404  # a team one is not in is not found


def test_bad_benchmark_input_gets_a_clear_400(acme, make_benchmark):
    base = {"team": "acme", "slug": "b", "name": "B", "tasks": ["t"], "metric": "val/acc"}
    cases = [
        ({"slug": "Not A Slug"}, "slug"),
        ({"tasks": []}, "tasks"),
        ({"tasks": ["t"] * 101}, "tasks"),
        ({"min_seeds": 1}, "min_seeds"),
        ({"normalize": {"t": {"random": 0.1, "reference": 0.1}}}, "normalize.t.reference"),
        ({"normalize": {"other": {"random": 0.1, "reference": 0.9}}}, "normalize"),
        ({"summary": "mean_last_k"}, "k"),
        ({"summary": "last", "step": 3}, "step"),
        ({"teams": ["nobody-here"]}, "teams"),
        ({"tasks": ["a\x00b"]}, "tasks[0]"),
        ({"colour": "red"}, "colour"),
    ]
    for change, field in cases:
        response = acme.post(URL, {**base, **change}, format="json")
        assert response.status_code == 400, (change, response.json())
        assert response.json()["error"]["field"] == field, (change, response.json())
    make_benchmark(slug="b")
    again = acme.post(URL, base, format="json")
    assert again.status_code == 409 and again.json()["error"]["field"] == "slug"


def test_the_page_size_is_capped_and_pages_follow_the_cursor(acme, make_benchmark):
    for slug in ("one", "two", "three"):
        make_benchmark(slug=slug)
    assert acme.get(URL, {"page_size": 501}).status_code == 400
    assert acme.get(URL, {"cursor": "garbage"}).status_code == 400
    first = acme.get(URL, {"page_size": 2}).json()
    second = acme.get(first["next"]).json()
    assert [b["slug"] for b in first["results"] + second["results"]] == ["three", "two", "one"]
    assert second["next"] is None


def test_only_an_admin_of_the_owner_team_edits_and_a_rule_change_marks_the_leaderboard_stale(
    acme, lab, make_benchmark, acme_project
):
    make_benchmark()
    assert lab.patch(f"{URL}small/", {"name": "Mine"}, format="json").status_code == 403
    renamed = acme.patch(f"{URL}small/", {"name": "Renamed"}, format="json").json()
    assert renamed["name"] == "Renamed" and renamed["status"] == "fresh"  # a name is not a rule
    ruled = acme.patch(f"{URL}small/", {"summary": "mean_last_k", "k": 5}, format="json").json()
    assert (ruled["summary"], ruled["k"], ruled["status"]) == ("mean_last_k", 5, "stale")
    assert Leaderboard.objects.get(benchmark__slug="small").pending
    bad = acme.patch(f"{URL}small/", {"summary": "at_step"}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "step"
    assert acme.patch(f"{URL}missing/", {"name": "x"}, format="json").status_code == 404


def test_a_variant_with_too_few_finished_seeds_is_refused_saying_how_many_it_has(acme, make_benchmark, acme_project):
    make_benchmark(min_seeds=3)
    variant = log_variant(acme_project, model="resnet18", scores={"cifar10": [0.9, 0.91, 0.92], "svhn": [0.8, 0.81]})
    response = acme.post(f"{URL}small/submissions/", {"project": "acme/study", "variant": variant}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "variant"
    assert "needs 3 finished seeds" in error["message"] and "2 on task 'svhn'" in error["message"]
    assert not Submission.objects.exists()


def test_a_submission_is_recorded_with_its_config_budget_and_default_label(acme, make_benchmark, acme_project):
    make_benchmark()
    variant = log_variant(acme_project, model="resnet18", config={"lr": 0.1}, scores=GOOD)
    log_variant(acme_project, model="resnet18", config={"lr": 0.01}, scores={"cifar10": [0.5]})
    body = {"project": "acme/study", "variant": variant, "budget": {"trials": 20, "gpu_hours": 3.5}}
    response = acme.post(f"{URL}small/submissions/", body, format="json")
    assert response.status_code == 201, response.json()
    submission = response.json()
    assert submission["label"] == "resnet18 (lr=0.1)"  # as the project's own pages name it
    assert (submission["team"], submission["project"], submission["submitted_by"]) == ("acme", "acme/study", "alice")
    assert submission["config"] == {"lr": 0.1} and submission["budget"] == {"trials": 20, "gpu_hours": 3.5}
    assert acme.get(f"{URL}small/").json()["n_submissions"] == 1
    assert Leaderboard.objects.get(benchmark__slug="small").status == "stale"
    again = acme.post(f"{URL}small/submissions/", body, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_a_project_of_another_team_is_not_found_and_a_viewer_cannot_submit(
    acme, lab, client_for, make_benchmark, acme_project
):
    make_benchmark()
    variant = log_variant(acme_project, model="resnet18", scores=GOOD)
    body = {"project": "acme/study", "variant": variant}
    assert lab.post(f"{URL}small/submissions/", body, format="json").status_code == 404
    viewer = client_for("acme", "victor", "viewer")
    assert viewer.post(f"{URL}small/submissions/", body, format="json").status_code == 403
    unknown = acme.post(f"{URL}small/submissions/", {**body, "variant": "0" * 32}, format="json")
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "variant"
    bad = acme.post(f"{URL}small/submissions/", {**body, "budget": {"trials": 0}}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "budget.trials"


def test_a_variant_without_the_metric_is_refused(acme, make_benchmark, acme_project):
    make_benchmark(metric="val/f1")
    variant = log_variant(acme_project, model="resnet18", scores=GOOD)
    response = acme.post(f"{URL}small/submissions/", {"project": "acme/study", "variant": variant}, format="json")
    assert response.status_code == 400 and "val/f1" in response.json()["error"]["message"]


def test_a_closed_benchmark_takes_submissions_from_its_listed_teams_only(acme, lab, make_benchmark, lab_project):
    make_benchmark(open=False, teams=["acme"])
    variant = log_variant(lab_project, model="vit", scores=GOOD)
    body = {"project": "vision-lab/secret", "variant": variant}
    refused = lab.post(f"{URL}small/submissions/", body, format="json")
    assert refused.status_code == 403 and "listed teams" in refused.json()["error"]["message"]
    assert acme.patch(f"{URL}small/", {"teams": ["acme", "vision-lab"]}, format="json").json()["teams"] == [
        "acme",
        "vision-lab",
    ]
    assert lab.post(f"{URL}small/submissions/", body, format="json").status_code == 201


def test_only_the_submitting_team_withdraws_and_the_withdrawal_is_kept(acme, lab, make_benchmark, lab_project):
    make_benchmark()
    variant = log_variant(lab_project, model="vit", scores=GOOD)
    body = {"project": "vision-lab/secret", "variant": variant}
    submission = lab.post(f"{URL}small/submissions/", body, format="json").json()
    url = f"{URL}small/submissions/{submission['id']}/"
    assert acme.delete(url).status_code == 403  # the owner team cannot withdraw another team's entry
    withdrawn = lab.delete(url)
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"] is not None
    assert lab.delete(url).status_code == 404
    assert lab.get(f"{URL}small/submissions/").json()["results"] == []
    kept = lab.get(f"{URL}small/submissions/", {"withdrawn": "true"}).json()["results"]
    assert [item["id"] for item in kept] == [submission["id"]]
    row = Submission.objects.get(pk=submission["id"])
    assert row.withdrawn_by is not None and row.withdrawn_by.username == "bob"
    again = lab.post(f"{URL}small/submissions/", body, format="json")  # active again: a new entry
    assert again.status_code == 201 and again.json()["id"] != submission["id"]


def test_the_submission_list_hides_the_project_of_a_team_one_is_not_in(acme, lab, make_benchmark, lab_project):
    make_benchmark()
    variant = log_variant(lab_project, model="vit", scores=GOOD)
    lab.post(f"{URL}small/submissions/", {"project": "vision-lab/secret", "variant": variant}, format="json")
    [seen_by_acme] = acme.get(f"{URL}small/submissions/").json()["results"]
    [seen_by_lab] = lab.get(f"{URL}small/submissions/").json()["results"]
    assert seen_by_acme["project"] is None and seen_by_acme["team"] == "vision-lab"
    assert seen_by_lab["project"] == "vision-lab/secret"


def test_an_edit_with_an_incomplete_normalisation_is_a_400(acme, make_benchmark):
    make_benchmark()
    response = acme.patch(f"{URL}small/", {"normalize": {"cifar10": {"random": 0}}}, format="json")
    assert response.status_code == 400 and response.json()["error"]["field"] == "normalize.cifar10.reference"


def test_an_edit_with_a_null_goal_takes_the_default_of_the_metric_name(acme, make_benchmark):
    make_benchmark(goal="min")
    response = acme.patch(f"{URL}small/", {"goal": None, "metric": "val/loss"}, format="json")
    assert response.status_code == 200 and (response.json()["goal"], response.json()["metric"]) == ("min", "val/loss")
    response = acme.patch(f"{URL}small/", {"goal": None, "metric": "val/acc"}, format="json")
    assert response.json()["goal"] == "max"


def test_creations_submissions_and_withdrawals_are_in_the_audit_log(acme, lab, make_benchmark, lab_project):
    from server.accounts.models import AuditEvent

    make_benchmark()
    variant = log_variant(lab_project, model="vit", scores=GOOD)
    body = {"project": "vision-lab/secret", "variant": variant, "budget": {"trials": 3}}
    submission = lab.post(f"{URL}small/submissions/", body, format="json").json()
    lab.delete(f"{URL}small/submissions/{submission['id']}/")
    events = list(AuditEvent.objects.filter(action__startswith="benchmark.").order_by("id"))
    assert [(e.action, e.actor_name, e.team.slug) for e in events] == [
        ("benchmark.create", "alice", "acme"),
        ("benchmark.submit", "bob", "vision-lab"),
        ("benchmark.withdraw", "bob", "vision-lab"),
    ]
    assert events[1].detail == {"project": "vision-lab/secret", "variant": variant, "budget": {"trials": 3}}
    assert events[2].target == f"benchmark:small/submission:{submission['id']}"


def test_a_read_only_token_cannot_submit(make_benchmark, lab_project, make_token):
    from rest_framework.test import APIClient

    make_benchmark()
    variant = log_variant(lab_project, model="vit", scores=GOOD)
    reader = APIClient()
    token = token_create_for(team_slug="vision-lab", username="bob", role="member", scope="read")
    reader.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = {"project": "vision-lab/secret", "variant": variant}
    assert reader.get(f"{URL}small/leaderboard/").status_code == 200
    assert reader.post(f"{URL}small/submissions/", body, format="json").status_code == 403
