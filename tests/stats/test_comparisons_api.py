"""POST/GET /api/v1/comparisons/: saved comparisons that keep themselves current."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from scipy import stats as scipy_stats

from server.accounts.models import Team
from server.analysis import METHOD_VERSION, pairs_compare, variants_rank
from server.stats.compute import bootstrap_seed
from server.stats.models import Comparison
from server.tracking import services as tracking_services
from server.tracking.models import Run
from tests.stats.conftest import log_run

URL = "/api/v1/comparisons/"
SCORES = {
    "resnet18": [0.90, 0.91, 0.92, 0.93, 0.94],
    "resnet50": [0.80, 0.81, 0.82, 0.83, 0.84],
    "vit": [0.85, 0.90, 0.95, 0.80, 0.88],
}


def log_study(project, tasks=("cifar10",), models=SCORES):
    """Five seeds of each model on each task; on task i, scores shift by -0.01 i."""
    variants = {}
    for i, task in enumerate(tasks):
        for model, values in models.items():
            for seed, value in enumerate(values):
                run = log_run(project, model=model, seed=seed, task=task, summary={"val/acc": value - 0.01 * i})
                variants[model] = run.variant.fingerprint
    return variants


@pytest.fixture
def compare(api, eager_tasks, django_capture_on_commit_callbacks):
    """POST a comparison, let its task run (after commit, in-process), GET it."""

    def post(body):
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(URL, body, format="json")
        assert response.status_code == 202, response.json()
        assert response.json()["status"] == "computing"  # as saved, before the task ran
        return api.get(f"{URL}{response.json()['id']}/").json()

    return post


def test_a_comparison_is_accepted_then_served_with_variants_pairs_and_ranking(db, api, project, compare):
    variants = log_study(project, models={m: SCORES[m] for m in ("resnet18", "resnet50")})
    body = compare({"metric": "val/acc", "projects": ["acme/study"]})
    comparison_id = body["id"]
    assert (body["status"], body["metric"], body["goal"], body["projects"]) == (
        "fresh",
        "val/acc",
        "max",
        ["acme/study"],
    )
    assert body["tasks"] == ["cifar10"] and body["benchmark"] is None and body["warnings"] == []
    seed = bootstrap_seed("comparison", uuid.UUID(comparison_id), "val/acc")
    assert body["bootstrap_seed"] == seed

    assert {block["model"]: block["n"] for block in body["variants"]} == {"resnet18": 5, "resnet50": 5}
    [pair] = body["pairs"]
    scores = {block["variant"]: block["scores"] for block in body["variants"]}
    seeds = {block["variant"]: block["seeds"] for block in body["variants"]}
    expected = pairs_compare(scores, goal="max", seeds=seeds, seed=seed).pairs[0].to_dict()
    assert {key: pair[key] for key in expected} == expected
    assert pair["paired"] is True  # both ran seeds 0-4 on the same task
    winner = "a_better" if pair["a"] == variants["resnet18"] else "b_better"
    assert pair["verdict"] == winner
    assert {block["label"] for block in body["variants"]} == {"resnet18", "resnet50"}
    assert pair["statement"].startswith("resnet18 is better than resnet50 on val/acc: 0.1 higher")

    ranking = body["ranking"]
    expected_ranking = variants_rank(scores, goal="max", seed=seed).to_dict()
    assert ranking["leader"] == variants["resnet18"] == expected_ranking["leader"]
    assert [(e["variant"], e["rank"], e["p_best"]) for e in ranking["entries"]] == [
        (e["name"], e["rank"], e["p_best"]) for e in expected_ranking["entries"]
    ]
    assert ranking["tasks"] == {
        "cifar10": {"leader": variants["resnet18"], "top_group": [variants["resnet18"]], "k": 2}
    }


def test_every_ranking_entry_has_a_rank_set_that_agrees_with_the_pair_verdicts(db, api, project, compare):
    variants = log_study(project)
    log_run(project, model="lone", seed=0, task="cifar10", summary={"val/acc": 0.99})  # one seed
    body = compare({"metric": "val/acc", "projects": ["acme/study"]})
    entries = {entry["variant"]: entry for entry in body["ranking"]["entries"]}
    assert len(entries) == 4 and "not simultaneous" in body["ranking"]["rank_ci_method"]
    lone = next(entry for entry in entries.values() if entry["n"] == 1)
    assert lone["rank_set"] is None and lone["reasons"]["rank_set"].startswith("needs 2 seeds")
    assert lone["rank_ci_low"] is None and lone["rank_ci_high"] is None
    # [1 + verdicts that another is better, k - verdicts that another is worse], k = 4 ranked variants.
    for model in SCORES:
        variant = variants[model]
        beaten = sum(
            (pair["verdict"], pair["b"]) == ("a_better", variant)
            or (pair["verdict"], pair["a"]) == ("b_better", variant)
            for pair in body["pairs"]
        )
        beats = sum(
            (pair["verdict"], pair["a"]) == ("a_better", variant)
            or (pair["verdict"], pair["b"]) == ("b_better", variant)
            for pair in body["pairs"]
        )
        rank_set = entries[variant]["rank_set"]
        assert (rank_set["lower"], rank_set["upper"]) == (1 + beaten, 4 - beats)
        assert rank_set["lower"] <= entries[variant]["rank"] <= rank_set["upper"]
        assert rank_set["level"] == 0.95 and not rank_set["complete"] and "one seed" in rank_set["note"]
    assert entries[variants["resnet18"]]["rank_set"]["lower"] == 1


def test_several_tasks_add_a_benchmark_and_per_task_pairs_and_ranks(db, api, project, compare):
    log_study(project, tasks=("a", "b", "c"))
    body = compare({"metric": "val/acc", "projects": ["acme/study"]})
    assert body["tasks"] == ["a", "b", "c"] and len(body["variants"]) == 9
    assert {pair["task"] for pair in body["pairs"]} == {"a", "b", "c"} and len(body["pairs"]) == 9
    assert body["ranking"]["leader"] is None and set(body["ranking"]["tasks"]) == {"a", "b", "c"}
    assert all(entry["rank_set"]["lower"] <= entry["rank"] for entry in body["ranking"]["entries"])
    benchmark = body["benchmark"]
    assert benchmark["tasks"] == ["a", "b", "c"] and len(benchmark["variants"]) == 3
    assert benchmark["friedman_p"] is not None and benchmark["nemenyi_cd"] > 0
    assert min(benchmark["average_ranks"].values()) == 1.0  # resnet18 wins every task


NORM = {"random": 0.5, "reference": 1.0}


def test_normalize_puts_the_benchmark_on_a_common_scale_and_leaves_per_task_units(db, api, project, compare):
    log_study(project, tasks=("a", "b", "c"))
    normalize = {"a": {"random": 0.5, "reference": 1.0}, "b": {"random": 0.0, "reference": 0.5}}
    body = compare({"metric": "val/acc", "projects": ["acme/study"], "normalize": normalize})
    assert body["normalize"] == normalize
    benchmark = body["benchmark"]
    assert benchmark["normalized"] is True and benchmark["tasks"] == ["a", "b"]
    assert benchmark["dropped_tasks"] == {"c": "no normalisation baseline"}
    # rliable's IQM: the 25 % trimmed mean of every run's normalised score across tasks.
    for model, values in SCORES.items():
        normalised = [(v - 0.5) / 0.5 for v in values] + [(v - 0.01 - 0.0) / 0.5 for v in values]
        block = next(b for b in body["variants"] if b["model"] == model and b["task"] == "a")
        iqm = scipy_stats.trim_mean(normalised, 0.25)
        assert benchmark["aggregates"][block["variant"]]["iqm"] == pytest.approx(iqm)
        assert block["mean"] == pytest.approx(sum(values) / len(values))  # per-task blocks keep raw units


def test_variants_can_be_chosen_by_fingerprint_or_by_model_with_a_baseline(db, api, project, compare):
    variants = log_study(project)
    by_model = compare({"metric": "val/acc", "projects": ["acme/study"], "models": ["vit", "resnet50"]})
    assert sorted(block["model"] for block in by_model["variants"]) == ["resnet50", "vit"]
    chosen = [variants["resnet18"], variants["vit"], variants["resnet50"]]
    body = compare({"metric": "val/acc", "projects": ["acme/study"], "variants": chosen, "baseline": variants["vit"]})
    assert body["selection"] == {"variants": chosen, "models": None} and body["baseline"] == variants["vit"]
    assert sorted((pair["a"], pair["b"]) for pair in body["pairs"]) == sorted(
        [(variants["resnet18"], variants["vit"]), (variants["resnet50"], variants["vit"])]
    )


def test_a_comparison_updates_itself_when_a_new_seed_finishes(
    db, api, project, compare, django_capture_on_commit_callbacks
):
    log_study(project, models={"resnet18": SCORES["resnet18"], "vit": SCORES["vit"]})
    comparison_id = compare({"metric": "val/acc", "projects": ["acme/study"]})["id"]
    late = log_run(project, model="vit", seed=5, task="cifar10", summary={"val/acc": 0.99}, status=Run.Status.RUNNING)
    with django_capture_on_commit_callbacks(execute=True):
        api.patch(f"/api/v1/runs/{late.uuid}/", {"status": "finished"}, format="json")
    body = api.get(f"{URL}{comparison_id}/").json()
    assert body["status"] == "fresh"
    assert {block["model"]: block["n"] for block in body["variants"]} == {"resnet18": 5, "vit": 6}


def test_a_comparison_computed_by_an_older_method_version_is_recomputed_when_read(
    db, api, project, compare, django_capture_on_commit_callbacks
):
    log_study(project, models={m: SCORES[m] for m in ("resnet18", "resnet50")})
    body = compare({"metric": "val/acc", "projects": ["acme/study"]})
    Comparison.objects.filter(uuid=body["id"]).update(method_version="0.9")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        stale = api.get(f"{URL}{body['id']}/").json()
    assert stale["status"] == "stale" and len(callbacks) == 1  # one recompute queued
    again = api.get(f"{URL}{body['id']}/").json()
    assert again["status"] == "fresh" and again["method_version"] == METHOD_VERSION
    assert again["pairs"] == body["pairs"]


def test_comparisons_are_listed_newest_first_by_project_and_paged(db, api, project, compare, client_for):
    log_study(project, models={"resnet18": SCORES["resnet18"]})
    other = tracking_services.project_get_or_create(team=project.team, slug="other")
    log_run(other, summary={"val/acc": 0.5})
    ids = [compare({"metric": "val/acc", "projects": ["acme/study"]})["id"] for _ in range(3)]
    compare({"metric": "val/acc", "projects": ["acme/other"]})

    page = api.get(URL, {"project": "acme/study", "page_size": 2}).json()
    assert [item["id"] for item in page["results"]] == ids[::-1][:2] and "variants" not in page["results"][0]
    rest = api.get(page["next"]).json()
    assert [item["id"] for item in rest["results"]] == ids[:1] and rest["next"] is None
    assert len(api.get(URL).json()["results"]) == 4
    assert api.get(URL, {"project": "rival/study"}).status_code == 404


def test_another_team_sees_none_of_them(db, api, project, compare, client_for):
    log_study(project, models={"resnet18": SCORES["resnet18"]})
    comparison_id = compare({"metric": "val/acc", "projects": ["acme/study"]})["id"]
    mallory = client_for("rival", "mallory")
    assert mallory.get(f"{URL}{comparison_id}/").status_code == 404
    assert mallory.get(URL).json()["results"] == []
    response = mallory.post(URL, {"metric": "val/acc", "projects": ["acme/study"]}, format="json")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_a_comparison_across_teams_is_hidden_from_members_of_only_one(db, api, project, compare, client_for):
    log_run(project, summary={"val/acc": 0.9})
    client_for("rival", "alice")  # alice joins rival too
    rival = tracking_services.project_get_or_create(team=Team.objects.get(slug="rival"), slug="p")
    log_run(rival, summary={"val/acc": 0.8})
    comparison_id = compare({"metric": "val/acc", "projects": ["acme/study", "rival/p"]})["id"]
    assert api.get(f"{URL}{comparison_id}/").status_code == 200
    assert client_for("acme", "bob").get(f"{URL}{comparison_id}/").status_code == 404  # not in rival


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"projects": ["acme/study"]}, 400, "metric"),
        ({"metric": "val/accuracy", "projects": ["acme/study"]}, 400, "metric"),
        ({"metric": "val/acc", "projects": []}, 400, "projects"),
        ({"metric": "val/acc", "projects": ["acme"]}, 400, "projects"),
        ({"metric": "val/acc", "projects": ["acme/nope"]}, 404, None),
        ({"metric": "val/acc", "projects": ["acme/study"], "variants": ["f" * 32]}, 400, "variants"),
        ({"metric": "val/acc", "projects": ["acme/study"], "variants": ["xyz"]}, 400, "variants[0]"),
        ({"metric": "val/acc", "projects": ["acme/study"], "variants": []}, 400, "variants"),
        ({"metric": "val/acc", "projects": ["acme/study"], "models": ["gpt"]}, 400, "models"),
        ({"metric": "val/acc", "projects": ["acme/study"], "models": ["vit"], "variants": ["f" * 32]}, 400, None),
        ({"metric": "val/acc", "projects": ["acme/study"], "baseline": "f" * 32}, 400, "baseline"),
        ({"metric": "val/acc", "projects": ["acme/study"], "task": "imagenet"}, 400, "task"),
        ({"metric": "val/acc", "projects": ["acme/study"], "colour": "red"}, 400, "colour"),
        ({"metric": "val/acc", "projects": ["acme/study"], "normalize": {"imagenet": NORM}}, 400, "normalize"),
        ({"metric": "val/acc", "projects": ["acme/study"], "normalize": {}}, 400, "normalize"),
        (
            {"metric": "val/acc", "projects": ["acme/study"], "normalize": {"cifar10": {"random": 1, "reference": 1}}},
            400,
            "normalize.cifar10.reference",
        ),
        (
            {"metric": "val/acc", "projects": ["acme/study"], "normalize": {"cifar10": {"random": 0}}},
            400,
            "normalize.cifar10.reference",
        ),
    ],
)
def test_bad_input_is_a_clear_4xx_and_saves_nothing(db, api, project, body, status, field):
    log_study(project, models={"vit": SCORES["vit"]})
    response = api.post(URL, body, format="json")
    assert response.status_code == status, response.json()
    if field is not None:
        assert response.json()["error"]["field"] == field
    assert not Comparison.objects.exists()


@pytest.mark.parametrize("comparison_id", ["nope", str(uuid.uuid4()), "1"])
def test_an_unknown_or_malformed_comparison_id_is_not_found(db, api, comparison_id):
    response = api.get(f"{URL}{comparison_id}/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_listing_costs_the_same_queries_for_few_or_many_comparisons(db, api, project, compare):
    log_study(project, models={"resnet18": SCORES["resnet18"]})

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(URL, {"project": "acme/study"}).status_code == 200
        return len(captured)

    compare({"metric": "val/acc", "projects": ["acme/study"]})
    few = queries()
    for _ in range(4):
        compare({"metric": "val/acc", "projects": ["acme/study"]})
    assert queries() == few
