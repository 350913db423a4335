"""`seedboard.Api`: filters, pagination, pandas frames, and who may read what."""

from __future__ import annotations

from typing import Any

import pytest
import seedboard

# (model, lr, seed, tags, status) of the runs the listing tests create.
RUNS = [
    ("resnet18", 0.1, 0, ["baseline"], "finished"),
    ("resnet18", 0.1, 1, ["baseline"], "finished"),
    ("resnet18", 0.01, 0, [], "finished"),
    ("resnet18", 0.01, 1, [], "failed"),
    ("vit", 0.1, 0, ["baseline"], "finished"),
    ("vit", 0.001, 1, [], "finished"),
    ("vit", 0.001, 2, ["wide"], "failed"),
]


@pytest.fixture
def logged_runs(server: Any, project: str) -> list[seedboard.Run]:
    runs = []
    for model, lr, seed, tags, status in RUNS:
        run = seedboard.init(
            project=project, model=model, seed=seed, tags=tags, config={"optimizer": {"lr": lr, "name": "sgd"}}
        )
        run.log({"val/acc": lr * 10 + seed}, step=0)
        run.finish(status)
        runs.append(run)
    return runs


def test_runs_follows_every_page_and_applies_the_filters(
    logged_runs: list[seedboard.Run], project: str, sdk_api: seedboard.Api
) -> None:
    everything = sdk_api.runs(project, page_size=2)  # 4 pages
    assert sorted(r["id"] for r in everything) == sorted(run.id for run in logged_runs)

    def seeds(**filters: Any) -> list[tuple[str, int]]:
        return sorted((r["model"], r["seed"]) for r in sdk_api.runs(project, page_size=2, **filters))

    assert seeds(model="vit") == [("vit", 0), ("vit", 1), ("vit", 2)]
    assert seeds(status="failed") == [("resnet18", 1), ("vit", 2)]
    assert seeds(tag="baseline") == [("resnet18", 0), ("resnet18", 1), ("vit", 0)]
    assert seeds(seed=2) == [("vit", 2)]
    assert seeds(model="resnet18", config={"optimizer.lr__gt": 0.05}) == [("resnet18", 0), ("resnet18", 1)]
    assert seeds(config={"optimizer.lr__in": [0.001, 0.01]}) == [
        ("resnet18", 0),
        ("resnet18", 1),
        ("vit", 1),
        ("vit", 2),
    ]
    assert seeds(config={"optimizer.name": "adam"}) == []

    # Seeds of one variant share model and config: resnet18 at lr 0.1 has seeds 0 and 1.
    (baseline,) = [
        r for r in everything if r["model"] == "resnet18" and r["seed"] == 0 and r["config"]["optimizer"]["lr"] == 0.1
    ]
    assert seeds(variant=baseline["variant"]) == [("resnet18", 0), ("resnet18", 1)]

    assert [r["seed"] for r in sdk_api.runs(project, model="vit", ordering="-seed")] == [2, 1, 0]
    best = sdk_api.runs(project, ordering="-metric:val/acc", limit=2)
    assert [(r["model"], r["seed"]) for r in best] == [("vit", 2), ("resnet18", 1)]  # 2.01, 2.0

    projects = {p["path"]: p for p in sdk_api.projects()}
    assert projects[project]["run_count"] == len(RUNS)


def test_run_lists_and_histories_become_data_frames(
    logged_runs: list[seedboard.Run], project: str, sdk_api: seedboard.Api
) -> None:
    pytest.importorskip("pandas")
    frame = sdk_api.runs(project, model="resnet18").to_pandas()
    assert len(frame) == 4
    assert sorted(frame["config.optimizer.lr"]) == [0.01, 0.01, 0.1, 0.1]
    assert {"id", "model", "seed", "status", "created_at"} <= set(frame.columns)
    assert not any(column.startswith("metric") for column in frame.columns)
    scored = sdk_api.runs(project, model="vit", metrics=["val/acc"], ordering="seed").to_pandas()
    assert scored["metric.val/acc"].tolist() == pytest.approx([1.0, 1.01, 2.01])

    history = sdk_api.history(logged_runs[0].id).to_pandas()
    assert list(history.columns) == ["key", "step", "value", "time"]
    assert history[["key", "step", "value"]].values.tolist() == [["val/acc", 0, 1.0]]


def test_runs_carry_the_summaries_of_the_named_metrics_on_every_page(
    logged_runs: list[seedboard.Run], project: str, sdk_api: seedboard.Api
) -> None:
    listed = sdk_api.runs(project, metrics=["val/acc", "never/logged"], ordering="-metric:val/acc", page_size=2)

    assert len(listed) == len(RUNS)  # 4 pages
    for record in listed:
        detail = sdk_api.run(record["id"])["metrics"]
        assert record["metrics"] == {"val/acc": detail["val/acc"]}
    assert [r["metrics"]["val/acc"]["last_value"] for r in listed[:2]] == pytest.approx([2.01, 2.0])
    assert listed[0]["metrics"]["val/acc"]["count"] == 1
    assert list(sdk_api.runs(project, metrics="val/acc", limit=1)[0]["metrics"]) == ["val/acc"]
    assert "metrics" not in sdk_api.runs(project, limit=1)[0]


def test_runs_refuses_metric_keys_the_server_could_not_read_as_given(
    logged_runs: list[seedboard.Run], project: str, sdk_api: seedboard.Api
) -> None:
    with pytest.raises(ValueError, match="empty"):
        sdk_api.runs(project, metrics=[])
    with pytest.raises(ValueError, match="comma"):
        sdk_api.runs(project, metrics=["val/acc,train/loss"])
    with pytest.raises(seedboard.BadRequestError) as caught:
        sdk_api.runs(project, metrics=[f"k{i}" for i in range(101)])
    assert caught.value.status == 400 and caught.value.field == "metrics"


def test_another_teams_token_cannot_see_or_write_a_run(server: Any, project: str) -> None:
    with seedboard.init(project=project, model="m") as run:
        run.log({"loss": 1.0})
    with seedboard.Api(token=server.other_token) as rival:
        with pytest.raises(seedboard.NotFoundError) as caught:
            rival.run(run.id)
        assert caught.value.status == 404 and caught.value.code == "not_found"
        with pytest.raises(seedboard.NotFoundError):
            rival.history(run.id)
        with pytest.raises(seedboard.NotFoundError):
            rival.runs(project)
    with pytest.raises((seedboard.NotFoundError, seedboard.PermissionDeniedError)):
        seedboard.init(project=project, model="m", token=server.other_token)


def test_a_bad_token_raises_authentication_error_at_init_and_in_the_read_api(server: Any, project: str) -> None:
    with pytest.raises(seedboard.AuthenticationError) as caught:
        seedboard.init(project=project, model="m", token="sb_not-a-real-token")
    assert caught.value.status == 401 and caught.value.code == "not_authenticated"
    with seedboard.Api(token="sb_not-a-real-token") as api, pytest.raises(seedboard.AuthenticationError):
        api.projects()


def test_online_mode_without_a_url_fails_at_init_with_a_clear_message(project: str) -> None:
    with pytest.raises(seedboard.ConfigurationError, match="SEEDBOARD_URL"):
        seedboard.init(project=project, model="m")
    with pytest.raises(seedboard.ConfigurationError, match="seedboard login"):
        seedboard.Api()
