"""Benchmarks through the SDK against a live server and a real worker: create, submit (too few
seeds refused), a fresh leaderboard checked against numpy, the other team's view, withdraw."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pytest
import seedboard

from .test_statistics import stats_worker

__all__ = ["stats_worker"]  # the fixture, for this module

SCORES = {"acme": [0.91, 0.93, 0.92], "rival": [0.85, 0.88, 0.86, 0.87]}


def _log(project: str, token: str, url: str, model: str, scores: list[float]) -> str:
    """Finished seeds of one variant with `scores` as their val/acc; returns its fingerprint."""
    for seed, score in enumerate(scores):
        with seedboard.init(
            project=project, model=model, config={"lr": 0.1}, seed=seed, task="cifar10", url=url, token=token
        ) as run:
            run.log({"val/acc": score - 0.1}, step=0)
            run.log({"val/acc": score}, step=1)
    with seedboard.Api(url=url, token=token) as api:
        return str(api.runs(project, model=model)[0]["variant"])


def test_two_teams_submit_and_read_a_fresh_leaderboard_through_the_sdk(
    server: Any, sdk_api: seedboard.Api, stats_worker: None
) -> None:
    slug = f"sdk-{uuid.uuid4().hex[:8]}"
    acme_project, rival_project = f"acme/{slug}", f"rival/{slug}"
    created = sdk_api.create_benchmark("acme", slug, "SDK benchmark", "cifar10", "val/acc", min_seeds=3)
    assert (created["slug"], created["tasks"], created["goal"]) == (slug, ["cifar10"], "max")
    assert slug in {b["slug"] for b in sdk_api.benchmarks()}
    assert sdk_api.benchmark(slug)["min_seeds"] == 3
    with pytest.raises(seedboard.ConflictError):
        sdk_api.create_benchmark("acme", slug, "again", ["cifar10"], "val/acc")

    ours = _log(acme_project, server.token, server.url, "resnet18", SCORES["acme"][:2])
    with pytest.raises(seedboard.BadRequestError, match="this variant has 2 on task 'cifar10'"):
        sdk_api.submit(slug, acme_project, ours)
    _log(acme_project, server.token, server.url, "resnet18", SCORES["acme"])  # the third seed
    submitted = sdk_api.submit(slug, acme_project, ours, budget={"trials": 8, "gpu_hours": 1.5})
    assert (submitted["team"], submitted["label"], submitted["budget"]) == (
        "acme",
        "resnet18",
        {"trials": 8, "gpu_hours": 1.5},
    )
    with pytest.raises(seedboard.ConflictError):
        sdk_api.submit(slug, acme_project, ours)

    with seedboard.Api(url=server.url, token=server.other_token) as rival:
        with pytest.raises(seedboard.NotFoundError):
            rival.submit(slug, acme_project, ours)  # not their project
        theirs = _log(rival_project, server.other_token, server.url, "vit", SCORES["rival"])
        rival.submit(slug, rival_project, theirs, label="ViT-S", budget={"trials": 40})
        board = rival.leaderboard(slug, wait=True, timeout=60)
        assert isinstance(board, seedboard.Leaderboard) and board.status == "fresh"
        shown = {s["team"]: s for s in board.submissions}
        assert shown["acme"]["project"] is None and shown["rival"]["project"] == rival_project
        blocks = {block["team"]: block for block in board.variants}
        assert blocks["acme"]["runs"] == [] and len(blocks["rival"]["runs"]) == 4
        for team, scores in SCORES.items():
            assert blocks[team]["mean"] == pytest.approx(np.mean(scores), rel=1e-12)  # summary "last"
            assert blocks[team]["std"] == pytest.approx(np.std(scores, ddof=1), rel=1e-12)
        assert board.ranking["leader"] == str(shown["acme"]["id"])
        assert any("(5x) in trials" in w for w in board.warnings), board.warnings
        with pytest.raises(seedboard.PermissionDeniedError):
            rival.withdraw(slug, shown["acme"]["id"])
        withdrawn = rival.withdraw(slug, shown["rival"]["id"])
        assert withdrawn["withdrawn_at"] is not None

    assert [s["team"] for s in sdk_api.submissions(slug)] == ["acme"]
    assert len(sdk_api.submissions(slug, withdrawn=True)) == 2
    board = sdk_api.leaderboard(slug, timeout=60)
    assert [s["team"] for s in board.submissions] == ["acme"] and board.pairs == []
