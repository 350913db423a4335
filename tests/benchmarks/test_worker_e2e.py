"""A leaderboard computed by a real Celery worker on Redis, and recomputed when a new seed finishes.

Skipped without REDIS_URL (the embedded default runs tasks in-process; test_leaderboard.py covers it).
"""

from __future__ import annotations

import numpy as np
import pytest
from django.conf import settings
from scipy import stats as scipy_stats

from server.benchmarks.models import Leaderboard
from server.stats import changes
from tests.benchmarks.conftest import URL, log_variant
from tests.stats.test_workers_e2e import wait_for

pytestmark = [pytest.mark.skipif(not settings.REDIS_URL, reason="needs a Redis broker (REDIS_URL)"), pytest.mark.slow]

ACME = {"cifar10": [0.90, 0.91, 0.93], "svhn": [0.80, 0.82, 0.81]}
LAB = {"cifar10": [0.85, 0.86, 0.84], "svhn": [0.86, 0.88, 0.87]}


def test_a_real_worker_computes_the_leaderboard_and_recomputes_it_when_a_seed_finishes(
    celery_worker, acme, lab, acme_project, lab_project, make_benchmark
):
    make_benchmark()
    for client, project, path, scores in (
        (acme, acme_project, "acme/study", ACME),
        (lab, lab_project, "vision-lab/secret", LAB),
    ):
        variant = log_variant(project, model="resnet18", config={"lr": 0.1}, scores=scores)
        response = client.post(f"{URL}small/submissions/", {"project": path, "variant": variant}, format="json")
        assert response.status_code == 201, response.json()

    def fresh(n_acme_cifar: int) -> dict | None:
        body = acme.get(f"{URL}small/leaderboard/").json()
        counts = {s["team"]: s["n_seeds"] for s in body["submissions"]}
        done = body["status"] == "fresh" and (counts.get("acme") or {}).get("cifar10") == n_acme_cifar
        return body if done else None

    body = wait_for(lambda: fresh(3), 60, "a fresh leaderboard")
    blocks = {(block["team"], block["task"]): block for block in body["variants"]}
    for (team, task), block in blocks.items():
        expected = np.array((ACME if team == "acme" else LAB)[task])
        assert block["mean"] == pytest.approx(expected.mean(), rel=1e-12)
    # Two entries on one task: the per-task pair is Welch's test (scipy), Holm over one pair each.
    [pair] = [pair for pair in body["pairs"] if pair["task"] == "svhn"]
    welch = scipy_stats.ttest_ind(ACME["svhn"], LAB["svhn"], equal_var=False)
    assert pair["welch_p"] == pytest.approx(welch.pvalue, rel=1e-9)
    assert body["benchmark"]["average_ranks"] == {
        str(s["id"]): 1.5 for s in body["submissions"]
    }  # each entry wins one task
    claims = Leaderboard.objects.get(benchmark__slug="small").claims

    # A fourth seed of acme's variant finishes: the leaderboard turns stale and the worker adds it.
    run, _ = changes.run_create(project=acme_project, model="resnet18", config={"lr": 0.1}, seed=3, task="cifar10")
    changes.run_update(run=run, fields={"status": "finished", "summary": {"val/acc": 0.95}})
    body = wait_for(lambda: fresh(4), 60, "the new seed on the leaderboard")
    block = next(b for b in body["variants"] if (b["team"], b["task"]) == ("acme", "cifar10"))
    assert block["mean"] == pytest.approx(np.mean(ACME["cifar10"] + [0.95]), rel=1e-12)
    assert Leaderboard.objects.get(benchmark__slug="small").claims > claims
