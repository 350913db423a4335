"""What a new user trips on first: a misspelt metric key is a 404 `unknown_metric` naming the closest keys
(a key that exists but has no points in range stays a 200), and `limit` works like `page_size`."""

from __future__ import annotations

import uuid
from typing import Any


def _run_with_points(api: Any, project: str) -> str:
    run_id = api.post("/api/v1/runs/", {"project": project, "model": "m"}, format="json").json()["id"]
    points = {"key": ["val/acc", "val/loss", "train/loss"], "step": [0, 0, 0], "value": [0.5, 0.7, 0.9]}
    body = {"batch_id": str(uuid.uuid4()), "points": points}
    assert api.post(f"/api/v1/runs/{run_id}/metrics/", body, format="json").status_code == 200
    return str(run_id)


def test_run_history_of_a_misspelt_key_is_a_404_with_close_matches(api: Any) -> None:
    run_id = _run_with_points(api, "acme/unknown-keys")

    response = api.get(f"/api/v1/runs/{run_id}/metrics/", {"key": "val/accuracy"})

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "unknown_metric" and error["field"] == "key"
    assert "'val/accuracy'" in error["message"] and "did you mean 'val/acc'" in error["message"]
    # The key exists: beyond its last step, the answer is an empty series, not an error.
    empty = api.get(f"/api/v1/runs/{run_id}/metrics/", {"key": "val/acc", "min_step": 10})
    assert empty.status_code == 200 and empty.json()["metrics"]["val/acc"]["step"] == []


def test_a_run_that_has_not_yet_logged_a_key_its_project_knows_answers_an_empty_series(api: Any) -> None:
    _run_with_points(api, "acme/polled")
    running = api.post("/api/v1/runs/", {"project": "acme/polled", "model": "m"}, format="json").json()["id"]

    polled = api.get(f"/api/v1/runs/{running}/metrics/", [("key", "val/acc"), ("key", "train/loss")])

    assert polled.status_code == 200, polled.content
    assert {key: series["count"] for key, series in polled.json()["metrics"].items()} == {"val/acc": 0, "train/loss": 0}
    misspelt = api.get(f"/api/v1/runs/{running}/metrics/", {"key": "val/accuracy"})
    assert misspelt.status_code == 404 and misspelt.json()["error"]["code"] == "unknown_metric"


def test_project_history_of_an_unknown_key_is_a_404_but_a_silent_run_is_not(api: Any) -> None:
    _run_with_points(api, "acme/unknown-project")
    api.post("/api/v1/runs/", {"project": "acme/unknown-project", "model": "m"}, format="json")  # logs nothing
    url = "/api/v1/projects/acme/unknown-project/metrics/"

    unknown = api.get(url, {"key": "val/los"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_metric"
    assert "'val/loss'" in unknown.json()["error"]["message"]

    known = api.get(url, {"key": "val/loss"})
    assert known.status_code == 200
    assert sorted(len(run["step"]) for run in known.json()["runs"]) == [0, 1]


def test_curves_of_an_unknown_metric_are_a_404_that_names_no_other_projects_keys(api: Any) -> None:
    _run_with_points(api, "acme/curves")
    elsewhere = api.post("/api/v1/runs/", {"project": "acme/elsewhere", "model": "m"}, format="json").json()["id"]
    body = {"batch_id": str(uuid.uuid4()), "points": {"key": ["grad/norm"], "step": [0], "value": [1.0]}}
    api.post(f"/api/v1/runs/{elsewhere}/metrics/", body, format="json")

    for metric, hint in (("grad/norm", None), ("val/acc_", "'val/acc'")):
        response = api.get("/api/v1/projects/acme/curves/curves/", {"metric": metric})
        assert response.status_code == 404
        error = response.json()["error"]
        assert error["code"] == "unknown_metric" and error["field"] == "metric"
        assert ("did you mean" in error["message"]) == (hint is not None)
        assert hint is None or hint in error["message"]


def test_limit_is_an_alias_of_page_size_in_the_run_list(api: Any) -> None:
    for _ in range(3):
        _run_with_points(api, "acme/limited")
    page = api.get("/api/v1/runs/", {"project": "acme/limited", "limit": 2}).json()
    assert len(page["results"]) == 2 and page["next"] is not None
    assert len(api.get("/api/v1/runs/", {"project": "acme/limited", "limit": 2, "page_size": 3}).json()["results"]) == 3
    assert api.get("/api/v1/runs/", {"project": "acme/limited", "limit": 0}).status_code == 400


def test_the_variant_list_names_each_variant_by_the_keys_that_differ(api: Any) -> None:
    demo = {"batch_size": 128, "data": {"augment": "crop+flip"}}
    for lr in (0.01, 0.1):
        for seed in range(2):
            body = {"project": "acme/variants", "model": "resnet18", "seed": seed, "config": {"lr": lr, **demo}}
            api.post("/api/v1/runs/", body, format="json")
    api.post("/api/v1/runs/", {"project": "acme/variants", "model": "vit", "config": {"lr": 0.1}}, format="json")

    first = api.get("/api/v1/variants/", {"project": "acme/variants", "limit": 2}).json()
    rest = api.get(first["next"]).json()
    variants = first["results"] + rest["results"]

    assert [v["label"] for v in variants] == ["resnet18 (lr=0.01)", "resnet18 (lr=0.1)", "vit"]
    assert [v["n_runs"] for v in variants] == [2, 2, 1] and rest["next"] is None
    only = api.get("/api/v1/variants/", {"project": "acme/variants", "model": "vit"}).json()["results"]
    assert [v["model"] for v in only] == ["vit"]
