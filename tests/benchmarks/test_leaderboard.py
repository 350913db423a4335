"""The leaderboard, computed in-process (as the embedded mode does), checked against the analysis
functions fed the same scores and against numpy/scipy; what readers of other teams see; staleness."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats as scipy_stats

from server.analysis import benchmark_compare, pairs_compare, variants_rank
from server.benchmarks.models import Benchmark, Leaderboard
from server.stats import changes
from server.stats.compute import bootstrap_seed
from server.tracking.models import Run
from tests.benchmarks.conftest import URL, log_variant

ACME_RESNET = {"cifar10": [0.90, 0.91, 0.92, 0.93, 0.94], "svhn": [0.80, 0.82, 0.81, 0.83, 0.84]}
LAB_RESNET = {"cifar10": [0.88, 0.89, 0.90, 0.87, 0.91], "svhn": [0.85, 0.86, 0.84, 0.87, 0.88]}
LAB_VIT = {"cifar10": [0.70, 0.72, 0.71], "svhn": [0.60, 0.62, 0.61]}


@pytest.fixture
def board(acme, lab, acme_project, lab_project, make_benchmark, eager_tasks, django_capture_on_commit_callbacks):
    """Three entries: acme's resnet18, vision-lab's resnet18 with the same config, vision-lab's vit."""
    make_benchmark()
    config = {"lr": 0.1, "depth": 18}
    submissions = {}
    for client, project, path, model, scores, budget in (
        (acme, acme_project, "acme/study", "resnet18", ACME_RESNET, {"trials": 10, "gpu_hours": 2.0}),
        (lab, lab_project, "vision-lab/secret", "resnet18", LAB_RESNET, {"trials": 50}),
        (lab, lab_project, "vision-lab/secret", "vit", LAB_VIT, {"trials": 12}),
    ):
        variant = log_variant(project, model=model, config=config, scores=scores)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"{URL}small/submissions/", {"project": path, "variant": variant, "budget": budget}, format="json"
            )
        assert response.status_code == 201, response.json()
        submissions[(path, model)] = response.json()["id"]
    return submissions


def test_entries_are_submissions_and_their_statistics_match_the_analysis_functions(acme, board):
    body = acme.get(f"{URL}small/leaderboard/").json()
    assert body["status"] == "fresh" and body["error"] is None and body["tasks"] == ["cifar10", "svhn"]
    # The same model and config from two projects: two entries, not one pooled variant.
    assert len(body["variants"]) == 6 and len(body["submissions"]) == 3
    fingerprints = {block["fingerprint"] for block in body["variants"] if block["model"] == "resnet18"}
    assert len(fingerprints) == 1

    pk = Benchmark.objects.get(slug="small").pk
    seed = bootstrap_seed("benchmark", pk, "val/acc")
    assert body["bootstrap_seed"] == seed
    scores_of = {
        board[("acme/study", "resnet18")]: ACME_RESNET,
        board[("vision-lab/secret", "resnet18")]: LAB_RESNET,
        board[("vision-lab/secret", "vit")]: LAB_VIT,
    }
    for block in body["variants"]:
        expected = np.array(scores_of[block["submission"]][block["task"]])
        assert block["n"] == len(expected) and block["seeds"] == list(range(len(expected)))
        assert block["mean"] == pytest.approx(expected.mean(), rel=1e-12)
        assert block["std"] == pytest.approx(expected.std(ddof=1), rel=1e-12)
        half = scipy_stats.t.ppf(0.975, len(expected) - 1) * expected.std(ddof=1) / np.sqrt(len(expected))
        assert block["ci_low"] == pytest.approx(expected.mean() - half, rel=1e-9)

    for task in ("cifar10", "svhn"):
        scores = {str(pk): values[task] for pk, values in scores_of.items()}
        ranking = variants_rank(scores, goal="max", seed=seed).to_dict()
        entries = [entry for entry in body["ranking"]["entries"] if entry["task"] == task]
        assert [(e["variant"], e["rank"], e["p_best"]) for e in entries] == [
            (e["name"], e["rank"], e["p_best"]) for e in ranking["entries"]
        ]
        # Unpaired: a seed number of one team is no shared randomness with another team's.
        family = pairs_compare(scores, goal="max", seed=seed)
        pairs = [pair for pair in body["pairs"] if pair["task"] == task]
        assert len(pairs) == 3 and not any(pair["paired"] for pair in pairs)
        for pair, expected_pair in zip(pairs, family.pairs, strict=True):
            assert (pair["a"], pair["b"], pair["p_holm"], pair["verdict"]) == (
                expected_pair.a,
                expected_pair.b,
                expected_pair.p_holm,
                expected_pair.verdict,
            )
    statements = [pair["statement"] for pair in body["pairs"] if pair["task"] == "svhn"]
    assert "resnet18 [vision-lab] is better than resnet18 [acme] on val/acc" in statements[0]

    cells = {str(pk): {task: values[task] for task in values} for pk, values in scores_of.items()}
    expected_benchmark = benchmark_compare(cells, goal="max", seed=seed).to_dict()
    got = body["benchmark"]
    for key in ("average_ranks", "friedman_chi2", "friedman_p", "nemenyi_cd", "cliques"):
        assert json.dumps(got[key]) == json.dumps(expected_benchmark[key]), key
    vit = board[("vision-lab/secret", "vit")]
    assert got["aggregates"][str(vit)]["iqm"] == expected_benchmark["aggregates"][str(vit)]["iqm"]
    assert got["average_ranks"][str(vit)] == 3.0  # last on both tasks


def test_warnings_name_unequal_budgets_and_an_entry_with_fewer_seeds(acme, board):
    warnings = acme.get(f"{URL}small/leaderboard/").json()["warnings"]
    budget = [w for w in warnings if w.startswith("budget:")]
    assert any("(5x) in trials" in w and "resnet18 [vision-lab] declared 50" in w for w in budget), budget
    assert any("declared no GPU hours" in w and "vit [vision-lab]" in w for w in budget), budget
    seeds = [w for w in warnings if w.startswith("seeds:")]
    assert {w.split(" has")[0] for w in seeds} == {"seeds: vit [vision-lab]"}
    assert any("3 seeds on task 'cifar10', the others a median of 5" in w for w in seeds)
    submissions = {s["label"]: s for s in acme.get(f"{URL}small/leaderboard/").json()["submissions"]}
    assert submissions["vit"]["n_seeds"] == {"cifar10": 3, "svhn": 3}


def test_a_reader_of_another_team_sees_no_project_path_or_run_id_of_a_private_project(acme, lab, board):
    text = acme.get(f"{URL}small/leaderboard/").content.decode()
    hidden_runs = [str(uuid) for uuid in Run.objects.filter(project__slug="secret").values_list("uuid", flat=True)]
    assert hidden_runs and not any(run in text for run in hidden_runs)
    assert "vision-lab/secret" not in text
    body = json.loads(text)
    theirs = [block for block in body["variants"] if block["team"] == "vision-lab"]
    assert theirs and all(block["projects"] == [] and block["runs"] == [] for block in theirs)
    assert all(block["scores"] and block["mean"] is not None for block in theirs)  # the numbers stay public
    assert {s["project"] for s in body["submissions"] if s["team"] == "vision-lab"} == {None}
    ours = [block for block in body["variants"] if block["team"] == "acme"]
    assert all(block["projects"] == ["acme/study"] and len(block["runs"]) == 5 for block in ours)
    # And the other way round: vision-lab sees its own project, not acme's.
    lab_text = lab.get(f"{URL}small/leaderboard/").content.decode()
    assert "vision-lab/secret" in lab_text and "acme/study" not in lab_text


def test_a_new_seed_of_a_submitted_variant_marks_the_leaderboard_stale_and_joins_it(
    acme, lab_project, board, django_capture_on_commit_callbacks
):
    leaderboard = Leaderboard.objects.get(benchmark__slug="small")
    assert leaderboard.status == "fresh"
    run, _ = changes.run_create(
        project=lab_project, model="vit", config={"lr": 0.1, "depth": 18}, seed=3, task="cifar10"
    )
    with django_capture_on_commit_callbacks(execute=False) as queued:
        changes.run_update(run=run, fields={"status": "finished", "summary": {"val/acc": 0.73}})
    leaderboard.refresh_from_db()
    assert leaderboard.status == "stale" and leaderboard.pending  # in the transaction of the change
    for callback in queued:
        callback()
    body = acme.get(f"{URL}small/leaderboard/").json()
    assert body["status"] == "fresh"
    vit = next(s for s in body["submissions"] if s["label"] == "vit")
    assert vit["n_seeds"] == {"cifar10": 4, "svhn": 3}


def test_a_run_of_another_variant_or_task_changes_nothing_and_a_withdrawal_drops_the_entry(
    acme, lab, lab_project, board, django_capture_on_commit_callbacks
):
    leaderboard = Leaderboard.objects.get(benchmark__slug="small")
    before = leaderboard.payload
    with django_capture_on_commit_callbacks(execute=True):
        run, _ = changes.run_create(project=lab_project, model="other", config={}, seed=0, task="imagenet")
        changes.run_update(run=run, fields={"status": "finished", "summary": {"val/acc": 0.99}})
    leaderboard.refresh_from_db()
    assert leaderboard.payload == before  # recomputed with unchanged inputs: nothing written
    vit = board[("vision-lab/secret", "vit")]
    with django_capture_on_commit_callbacks(execute=True):
        assert lab.delete(f"{URL}small/submissions/{vit}/").status_code == 200
    body = acme.get(f"{URL}small/leaderboard/").json()
    assert body["status"] == "fresh" and {block["submission"] for block in body["variants"]} == set(board.values()) - {
        vit
    }
    assert not any(w.startswith("seeds:") for w in body["warnings"])


def test_withdrawing_entries_down_to_none_leaves_nothing_to_compare(
    acme, lab, board, django_capture_on_commit_callbacks
):
    url = f"{URL}small/submissions/"
    with django_capture_on_commit_callbacks(execute=True):
        assert lab.delete(f"{url}{board[('vision-lab/secret', 'resnet18')]}/").status_code == 200
        assert lab.delete(f"{url}{board[('vision-lab/secret', 'vit')]}/").status_code == 200
    body = lab.get(f"{URL}small/leaderboard/").json()
    assert body["status"] == "fresh" and len(body["submissions"]) == 1 and len(body["variants"]) == 2
    assert body["benchmark"] is None and body["pairs"] == [] and body["warnings"] == []
    with django_capture_on_commit_callbacks(execute=True):
        assert acme.delete(f"{url}{board[('acme/study', 'resnet18')]}/").status_code == 200
    body = lab.get(f"{URL}small/leaderboard/").json()
    assert (body["status"], body["submissions"], body["variants"]) == ("fresh", [], [])


def test_an_internal_project_is_named_to_every_reader(acme, lab_project, board):
    lab_project.visibility = "internal"
    lab_project.save(update_fields=["visibility"])
    body = acme.get(f"{URL}small/leaderboard/").json()
    theirs = [block for block in body["variants"] if block["team"] == "vision-lab"]
    assert theirs and all(block["projects"] == ["vision-lab/secret"] and block["runs"] for block in theirs)


def test_deleting_a_submitted_project_recomputes_the_leaderboard_without_its_entries(
    acme, lab_project, board, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        changes.project_delete(project=lab_project, actor=None)
    body = acme.get(f"{URL}small/leaderboard/").json()
    assert body["status"] == "fresh"
    assert [s["team"] for s in body["submissions"]] == ["acme"]
    assert {block["team"] for block in body["variants"]} == {"acme"} and body["pairs"] == []
