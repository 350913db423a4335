"""Project visibility: private to its team, or internal (read by every signed-in user, written
only by its team). A project one may not read is a 404 everywhere, exactly like a missing one."""

from __future__ import annotations

import uuid

import pytest

from server.accounts.models import AuditEvent
from server.tracking.models import Project


@pytest.fixture
def study(client_for):
    """acme/shared (internal) and acme/secret (private), each with a finished run that logged."""
    alice = client_for("acme", "alice", "admin")
    runs = {}
    for slug, visibility in [("shared", "internal"), ("secret", "private")]:
        created = alice.post(
            "/api/v1/projects/", {"team": "acme", "slug": slug, "visibility": visibility}, format="json"
        )
        assert created.status_code == 201, created.json()
        run = alice.post("/api/v1/runs/", {"project": f"acme/{slug}", "model": "m", "seed": 1}, format="json").json()
        batch = {"batch_id": str(uuid.uuid4()), "points": {"key": ["acc"], "step": [0], "value": [0.5]}}
        assert alice.post(f"/api/v1/runs/{run['id']}/metrics/", batch, format="json").status_code in (200, 201)
        runs[slug] = run["id"]
    return {"alice": alice, "mallory": client_for("rival", "mallory", "admin"), "runs": runs}


def test_another_team_reads_an_internal_project_but_not_a_private_one(study):
    mallory, runs = study["mallory"], study["runs"]
    assert [p["path"] for p in mallory.get("/api/v1/projects/").json()["results"]] == ["acme/shared"]
    shared = mallory.get("/api/v1/projects/acme/shared/").json()
    assert (shared["visibility"], shared["role"]) == ("internal", "reader")
    assert mallory.get(f"/api/v1/runs/{runs['shared']}/").status_code == 200
    assert mallory.get("/api/v1/runs/?project=acme/shared").json()["results"][0]["id"] == runs["shared"]
    history = mallory.get(f"/api/v1/runs/{runs['shared']}/metrics/?key=acc")
    assert history.status_code == 200
    for path in [
        "/api/v1/projects/acme/secret/",
        f"/api/v1/runs/{runs['secret']}/",
        f"/api/v1/runs/{runs['secret']}/metrics/?key=acc",
        "/api/v1/runs/?project=acme/secret",
    ]:
        response = mallory.get(path)
        assert response.status_code == 404, path
        missing = mallory.get(
            path.replace("secret", "nothing-here").replace(runs["secret"], "0" * 8 + runs["secret"][8:])
        )
        assert response.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"


def test_a_reader_of_an_internal_project_cannot_write_to_it(study):
    mallory, runs = study["mallory"], study["runs"]
    attempts = [
        ("post", "/api/v1/runs/", {"project": "acme/shared", "model": "m"}),
        ("patch", f"/api/v1/runs/{runs['shared']}/", {"tags": ["x"]}),
        (
            "post",
            f"/api/v1/runs/{runs['shared']}/metrics/",
            {"batch_id": str(uuid.uuid4()), "points": {"key": ["acc"], "step": [1], "value": [1.0]}},
        ),
        ("patch", "/api/v1/projects/acme/shared/", {"description": "mine"}),
        ("delete", "/api/v1/projects/acme/shared/", None),
    ]
    for method, path, body in attempts:
        response = getattr(mallory, method)(path, body, format="json")
        assert response.status_code == 403, (method, path, response.json())
    assert Project.objects.get(slug="shared").description == ""


def test_only_an_admin_changes_visibility_and_it_is_audited(study, client_for):
    member = client_for("acme", "bob", "member")
    assert member.patch("/api/v1/projects/acme/secret/", {"visibility": "internal"}, format="json").status_code == 403
    assert member.patch("/api/v1/projects/acme/secret/", {"description": "ok"}, format="json").status_code == 200
    response = study["alice"].patch("/api/v1/projects/acme/secret/", {"visibility": "internal"}, format="json")
    assert response.json()["visibility"] == "internal"
    assert study["mallory"].get("/api/v1/projects/acme/secret/").status_code == 200
    event = AuditEvent.objects.get(action="project.visibility")
    assert (event.actor_name, event.target, event.detail) == (
        "alice",
        "acme/secret",
        {"from": "private", "to": "internal"},
    )


def test_a_member_cannot_create_an_internal_project(client_for):
    member = client_for("acme", "bob", "member")
    response = member.post("/api/v1/projects/", {"team": "acme", "slug": "p", "visibility": "internal"}, format="json")
    assert response.status_code == 403
    assert member.post("/api/v1/projects/", {"team": "acme", "slug": "p"}, format="json").status_code == 201


def test_an_admin_deletes_a_project_with_its_runs_and_points(study, client_for):
    from django.db import connection

    assert client_for("acme", "bob", "member").delete("/api/v1/projects/acme/secret/").status_code == 403
    assert study["alice"].delete("/api/v1/projects/acme/secret/").status_code == 204
    assert not Project.objects.filter(slug="secret").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tracking_metric_point")
        assert cursor.fetchone()[0] == 1  # the shared project's point only
    assert AuditEvent.objects.filter(action="project.delete", target="acme/secret").exists()


def test_comparisons_of_a_private_project_stay_private(study):
    alice, mallory = study["alice"], study["mallory"]
    made = {}
    for slug in ("shared", "secret"):
        response = alice.post("/api/v1/comparisons/", {"projects": [f"acme/{slug}"], "metric": "acc"}, format="json")
        assert response.status_code in (200, 201, 202), response.json()
        made[slug] = response.json()["id"]
    assert mallory.get(f"/api/v1/comparisons/{made['shared']}/").status_code == 200
    assert mallory.get(f"/api/v1/comparisons/{made['secret']}/").status_code == 404
    listed = mallory.get("/api/v1/comparisons/?project=acme/shared").json()["results"]
    assert [c["id"] for c in listed] == [made["shared"]]
