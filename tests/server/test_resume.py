"""Resuming a run through the API: modes, the same-experiment check, and steps stored once."""

from __future__ import annotations

import uuid
from typing import Any

from server.tracking.models import Run

BODY = {"project": "acme/proj", "model": "resnet18", "config": {"lr": 0.1, "opt": {"name": "sgd"}}, "seed": 1}


def resume(api: Any, run_id: str, **fields: Any) -> Any:
    return api.post(f"/api/v1/runs/{run_id}/resume/", {**BODY, **fields}, format="json")


def send(api: Any, run_id: str, steps: list[int], key: str = "loss") -> dict[str, Any]:
    batch = {
        "batch_id": str(uuid.uuid4()),
        "points": {"key": [key] * len(steps), "step": steps, "value": [float(s) for s in steps]},
    }
    response = api.post(f"/api/v1/runs/{run_id}/metrics/", batch, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_allow_creates_the_run_then_resumes_it_with_its_last_steps(api):
    run_id = str(uuid.uuid4())
    created = resume(api, run_id, mode="allow")
    assert created.status_code == 201
    assert (created.json()["id"], created.json()["resumed"], created.json()["metrics"]) == (run_id, False, {})
    send(api, run_id, [0, 1, 2, 3])
    assert api.patch(f"/api/v1/runs/{run_id}/", {"status": "crashed"}, format="json").status_code == 200

    resumed = resume(api, run_id, mode="allow")
    assert resumed.status_code == 200
    body = resumed.json()
    assert (body["resumed"], body["status"], body["ended_at"]) == (True, "running", None)
    assert body["metrics"]["loss"]["last_step"] == 3
    assert Run.objects.get(uuid=run_id).resumed_at is not None


def test_a_resumed_run_rejects_steps_already_stored_and_counts_them(api):
    run_id = str(uuid.uuid4())
    resume(api, run_id, mode="allow")
    # Before any resume the plain append path stores whatever comes, repeats included.
    assert send(api, run_id, [0, 1, 2])["already_stored"] == 0
    resume(api, run_id, mode="must")
    answer = send(api, run_id, [1, 2, 3, 4])  # the restarted loop went back two steps
    assert (answer["stored"], answer["already_stored"], answer["duplicate"]) == (2, 2, False)
    assert send(api, run_id, [5], key="acc")["already_stored"] == 0  # a new key has nothing stored
    history = api.get(f"/api/v1/runs/{run_id}/metrics/", {"key": "loss"}).json()["metrics"]["loss"]
    assert history["step"] == [0, 1, 2, 3, 4]
    assert api.get(f"/api/v1/runs/{run_id}/").json()["metrics"]["loss"]["count"] == 5


def test_must_needs_an_existing_run_and_creates_nothing(api):
    resume(api, str(uuid.uuid4()), mode="allow")  # makes the project
    response = resume(api, str(uuid.uuid4()), mode="must")
    assert response.status_code == 404
    assert response.json()["error"]["field"] == "id"
    assert "needs an existing run" in response.json()["error"]["message"]
    assert resume(api, str(uuid.uuid4()), mode="must", project="acme/never-made").status_code == 404
    assert api.get("/api/v1/projects/acme/never-made/").status_code == 404
    assert Run.objects.count() == 1


def test_never_refuses_an_existing_run(api):
    run_id = str(uuid.uuid4())
    assert resume(api, run_id, mode="never").status_code == 201
    response = resume(api, run_id, mode="never")
    assert response.status_code == 409
    assert (response.json()["error"]["code"], response.json()["error"]["field"]) == ("conflict", "id")


def test_a_changed_config_model_or_seed_is_a_clear_conflict(api):
    run_id = str(uuid.uuid4())
    resume(api, run_id, mode="allow")
    api.patch(f"/api/v1/runs/{run_id}/", {"status": "crashed"}, format="json")
    changed = resume(api, run_id, config={"lr": 0.1, "opt": {"name": "adam"}})
    assert changed.status_code == 409
    error = changed.json()["error"]
    assert error["field"] == "config"
    assert "opt.name is 'sgd' in the stored run and 'adam' now" in error["message"]
    assert resume(api, run_id, model="vit").json()["error"]["field"] == "model"
    assert resume(api, run_id, seed=2).json()["error"]["field"] == "seed"
    assert resume(api, run_id, config={"lr": 0.1, "opt": {"name": "sgd"}, "wd": 0}).status_code == 409
    # Nothing was resumed by the refused attempts.
    assert api.get(f"/api/v1/runs/{run_id}/").json()["status"] == "crashed"


def test_an_id_that_is_not_a_uuid_is_bad_input(api):
    response = resume(api, "not-a-uuid", mode="allow")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "id"
