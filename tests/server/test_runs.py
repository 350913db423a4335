from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from server.accounts.models import Team
from server.tracking import ingestion, services
from server.tracking.batches import batch_parse
from server.tracking.models import Project, Run


def create_run(api, **fields):
    body = {"project": "acme/proj", "model": "resnet18", **fields}
    response = api.post("/api/v1/runs/", body, format="json")
    assert response.status_code in (200, 201), response.json()
    return response.json()


def test_creating_a_run_creates_its_project_on_first_use(api):
    run = create_run(
        api,
        config={"lr": 0.1, "optimizer": {"name": "sgd", "momentum": 0.9}},
        seed=3,
        task="cifar10",
        tags=["baseline"],
        metadata={"git": {"commit": "abc"}},
    )
    assert run["project"] == "acme/proj"
    assert run["status"] == "running"
    assert run["config"] == {"lr": 0.1, "optimizer": {"name": "sgd", "momentum": 0.9}}
    assert (run["seed"], run["task"], run["tags"]) == (3, "cifar10", ["baseline"])
    assert run["started_at"] and run["heartbeat_at"] and run["ended_at"] is None
    assert Project.objects.filter(team__slug="acme", slug="proj").exists()


def test_a_run_cannot_be_created_in_a_team_the_user_is_not_in(api):
    response = api.post("/api/v1/runs/", {"project": "rival/proj", "model": "m"}, format="json")
    assert response.status_code == 404
    assert not Project.objects.filter(slug="proj").exists()


def test_repeating_a_client_run_id_returns_the_same_run(api):
    run_id = str(uuid.uuid4())
    first = api.post("/api/v1/runs/", {"project": "acme/proj", "model": "m", "id": run_id}, format="json")
    again = api.post("/api/v1/runs/", {"project": "acme/proj", "model": "m", "id": run_id}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] == run_id
    assert Run.objects.count() == 1


def test_a_client_run_id_used_in_another_project_is_a_conflict(api):
    run_id = str(uuid.uuid4())
    create_run(api, id=run_id)
    response = api.post("/api/v1/runs/", {"project": "acme/other", "model": "m", "id": run_id}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_seeds_of_one_config_share_a_variant_regardless_of_key_order_and_seed(api):
    a = create_run(api, config={"lr": 0.1, "opt": {"name": "sgd", "m": 0.9}}, seed=0)
    b = create_run(api, config={"opt": {"m": 0.9, "name": "sgd"}, "lr": 0.1, "seed": 1})
    c = create_run(api, config={"lr": 0.2, "opt": {"name": "sgd", "m": 0.9}}, seed=0)
    d = create_run(api, config={"lr": 0.1, "opt": {"name": "sgd", "m": 0.9}}, seed=0, model="vit")
    assert a["variant"] == b["variant"]
    assert len({a["variant"], c["variant"], d["variant"]}) == 3
    assert b["seed"] == 1  # taken from config when not given


def test_declaring_noise_keys_regroups_existing_runs(api):
    a = create_run(api, config={"lr": 0.1, "data": {"num_workers": 4}})
    b = create_run(api, config={"lr": 0.1, "data": {"num_workers": 8}})
    assert a["variant"] != b["variant"]
    response = api.patch("/api/v1/projects/acme/proj/", {"noise_keys": ["data.num_workers"]}, format="json")
    assert response.status_code == 200
    variants = {r["variant"] for r in api.get("/api/v1/runs/?project=acme/proj").json()["results"]}
    assert len(variants) == 1
    c = create_run(api, config={"lr": 0.1, "data": {"num_workers": 2}})
    assert c["variant"] in variants


def test_patch_updates_status_summary_tags_notes_and_heartbeat(api):
    run = create_run(api)
    url = f"/api/v1/runs/{run['id']}/"
    response = api.patch(
        url, {"summary": {"test/acc": 0.9, "x": 1}, "tags": ["a", "b"], "notes": "hi", "heartbeat": True}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["heartbeat_at"] > run["heartbeat_at"]
    response = api.patch(url, {"summary": {"x": None, "y": "NaN"}, "status": "finished"}, format="json")
    body = response.json()
    assert body["summary"] == {"test/acc": 0.9, "y": "NaN"}
    assert (body["tags"], body["notes"], body["status"]) == (["a", "b"], "hi", "finished")
    assert body["ended_at"] is not None


@pytest.fixture
def study(api):
    runs = []
    for model in ["resnet18", "vit"]:
        for lr in [0.001, 0.1]:
            for seed in range(3):
                runs.append(
                    create_run(
                        api,
                        model=model,
                        config={"lr": lr, "optimizer": {"name": "sgd" if lr < 0.01 else "adam"}},
                        seed=seed,
                        tags=["baseline"] if seed == 0 else [],
                        task="cifar10",
                    )
                )
    return runs


def list_runs(api, query):
    response = api.get(f"/api/v1/runs/?project=acme/proj&{query}")
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def test_the_run_list_filters_by_fields_tags_variants_and_config(api, study):
    assert len(list_runs(api, "model=vit")) == 6
    assert len(list_runs(api, "tag=baseline")) == 4
    assert len(list_runs(api, "seed=2&model=resnet18")) == 2
    assert len(list_runs(api, f"variant={study[0]['variant']}")) == 3
    assert len(list_runs(api, "config.lr__gt=0.01")) == 6
    assert len(list_runs(api, "config.lr__lte=0.001")) == 6
    assert len(list_runs(api, "config.optimizer.name=adam&model=vit")) == 3
    assert len(list_runs(api, "config.optimizer.name__ne=adam")) == 6
    assert len(list_runs(api, "config.optimizer.name__in=adam,sgd")) == 12
    assert len(list_runs(api, "status=finished")) == 0


def test_the_run_list_rejects_unknown_filters_and_bad_operators(api, study):
    for query, field in [
        ("colour=red", "colour"),
        ("config.lr__like=1", "config.lr__like"),
        ("config.lr__gt=abc", "config.lr__gt"),
        ("status=sleeping", "status"),
        ("ordering=banana", "ordering"),
        ("seed=x", "seed"),
        ("cursor=%%%", "cursor"),
        ("page_size=0", "page_size"),
    ]:
        response = api.get(f"/api/v1/runs/?project=acme/proj&{query}")
        assert response.status_code == 400, query
        assert response.json()["error"]["field"] == field


def test_cursor_pagination_visits_every_run_once(api, study):
    seen, url = [], "/api/v1/runs/?project=acme/proj&page_size=5"
    while url:
        body = api.get(url).json()
        seen += [r["id"] for r in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(r["id"] for r in study)
    created = [r["created_at"] for r in list_runs(api, "page_size=50")]
    assert created == sorted(created, reverse=True)


def test_ordering_by_a_metric_summary_puts_runs_without_it_last(api, study):
    for value, run in zip([0.5, 0.9, 0.7], study[:3], strict=True):
        api.post(
            f"/api/v1/runs/{run['id']}/metrics/",
            {"batch_id": str(uuid.uuid4()), "points": {"key": ["val/acc"], "step": [1], "value": [value]}},
            format="json",
        )
    ids, url = [], "/api/v1/runs/?project=acme/proj&ordering=-metric:val/acc&page_size=2"
    while url:
        body = api.get(url).json()
        ids += [r["id"] for r in body["results"]]
        url = body["next"]
    assert ids[:3] == [study[1]["id"], study[2]["id"], study[0]["id"]]
    assert len(ids) == len(set(ids)) == 12
    ascending = [r["id"] for r in list_runs(api, "ordering=metric:val/acc:max")][:3]
    assert ascending == [study[0]["id"], study[2]["id"], study[1]["id"]]


def post_points(api, run_id, series):
    """Store `series`, {key: values at steps 0, 1, ...}, in one batch."""
    points = {"key": [], "step": [], "value": []}
    for key, values in series.items():
        points["key"] += [key] * len(values)
        points["step"] += list(range(len(values)))
        points["value"] += list(values)
    body = {"batch_id": str(uuid.uuid4()), "points": points}
    assert api.post(f"/api/v1/runs/{run_id}/metrics/", body, format="json").status_code == 200


def test_the_run_list_carries_the_named_summaries_as_the_run_detail_shows_them(api, study):
    post_points(api, study[0]["id"], {"val/acc": [0.5, 0.7, "NaN"], "train/loss": [2.0, "Infinity"], "lr": [0.1]})
    post_points(api, study[1]["id"], {"val/acc": [0.9]})
    listed = {r["id"]: r for r in list_runs(api, "metrics=val/acc,train/loss,never/logged")}

    assert len(listed) == 12
    for run in study:
        detail = api.get(f"/api/v1/runs/{run['id']}/").json()["metrics"]
        assert listed[run["id"]]["metrics"] == {k: v for k, v in detail.items() if k in ("val/acc", "train/loss")}
    first = listed[study[0]["id"]]["metrics"]
    assert list(first) == ["val/acc", "train/loss"]  # in the order asked for
    assert first["val/acc"] == {
        "count": 3,
        "first_step": 0,
        "last_step": 2,
        "last_value": "NaN",
        "min": 0.5,
        "max": 0.7,
    }
    assert (first["train/loss"]["min"], first["train/loss"]["max"]) == (2.0, "Infinity")
    assert listed[study[1]["id"]]["metrics"] == {
        "val/acc": {"count": 1, "first_step": 0, "last_step": 0, "last_value": 0.9, "min": 0.9, "max": 0.9}
    }
    assert listed[study[2]["id"]]["metrics"] == {}


def test_metrics_may_be_repeated_and_are_absent_unless_asked_for(api, study):
    post_points(api, study[0]["id"], {"val/acc": [0.5], "train/loss": [2.0]})
    repeated = list_runs(api, "metrics=train/loss&metrics=val/acc,train/loss")
    (shown,) = [r for r in repeated if r["id"] == study[0]["id"]]
    assert list(shown["metrics"]) == ["train/loss", "val/acc"]
    assert all("metrics" not in r for r in list_runs(api, "ordering=-metric:val/acc"))


def test_metric_summaries_follow_a_metric_ordering_across_pages(api, study):
    for value, run in zip([0.5, 0.9, 0.7], study[:3], strict=True):
        post_points(api, run["id"], {"val/acc": [value], "train/loss": [1 - value]})
    ids, losses, url = [], [], "/api/v1/runs/?project=acme/proj&ordering=-metric:val/acc&metrics=train/loss&page_size=2"
    while url:
        body = api.get(url).json()
        ids += [r["id"] for r in body["results"]]
        losses += [r["metrics"].get("train/loss", {}).get("last_value") for r in body["results"]]
        url = body["next"]
    assert ids[:3] == [study[1]["id"], study[2]["id"], study[0]["id"]]
    assert losses[:3] == pytest.approx([0.1, 0.3, 0.5])
    assert losses[3:] == [None] * 9  # every page carries `metrics`, {} for runs without the key


def test_listing_runs_with_metrics_costs_one_query_more_for_10_or_200_runs(api):
    api.get("/api/v1/auth/whoami/")  # the token's first use is recorded once, not counted here
    project = services.project_get_or_create(team=Team.objects.get(slug="acme"), slug="wide")
    url = "/api/v1/runs/?project=acme/wide&page_size=200&ordering=-metric:val/acc"

    def queries(query):
        with CaptureQueriesContext(connection) as captured:
            response = api.get(url + query)
        assert response.status_code == 200
        return len(captured), response.json()["results"]

    def log_runs(n):
        for _ in range(n):
            run, _ = services.run_create(project=project, model="m", config={})
            body = {"batch_id": str(uuid.uuid4()), "points": {"key": ["val/acc", "train/loss"], "step": [0, 0]}}
            body["points"]["value"] = [0.5, 1.5]
            ingestion.metrics_ingest(run_pk=run.pk, batch=batch_parse(body, max_points=10))

    log_runs(10)
    few, _ = queries("&metrics=val/acc,train/loss")
    plain, _ = queries("")
    log_runs(190)
    many, results = queries("&metrics=val/acc,train/loss")
    assert many == few == plain + 1
    assert len(results) == 200
    assert all(r["metrics"]["train/loss"]["last_value"] == 1.5 and len(r["metrics"]) == 2 for r in results)


@pytest.mark.parametrize(
    "query",
    [
        "metrics=",
        "metrics=val/acc,,train/loss",
        "metrics=val/acc&metrics=",
        "metrics=val/acc,",
        "metrics=" + "k" * 251,
        "metrics=" + ",".join(f"k{i}" for i in range(101)),
        "metrics=val/a%00cc",
    ],
)
def test_a_bad_metrics_parameter_gets_a_400_naming_it(api, study, query):
    response = api.get(f"/api/v1/runs/?project=acme/proj&{query}")
    assert response.status_code == 400, query
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid", "metrics")


def test_a_hundred_distinct_keys_are_accepted_once_repeats_are_dropped(api, study):
    keys = [f"k{i}" for i in range(100)]
    assert len(list_runs(api, "metrics=" + ",".join(keys + keys[:5]))) == 12


def test_another_teams_runs_and_summaries_stay_unreachable(api, client_for, study):
    rival = client_for("rival", "mallory")
    theirs = create_run(rival, project="rival/proj")
    post_points(rival, theirs["id"], {"val/acc": [0.99]})
    post_points(api, study[0]["id"], {"val/acc": [0.5]})
    assert rival.get("/api/v1/runs/?project=acme/proj&metrics=val/acc").status_code == 404
    assert api.get("/api/v1/runs/?project=rival/proj&metrics=val/acc").status_code == 404
    mine = list_runs(api, "metrics=val/acc&ordering=-metric:val/acc")
    assert theirs["id"] not in {r["id"] for r in mine}
    assert [r["metrics"] for r in mine[:2]] == [
        {"val/acc": {"count": 1, "first_step": 0, "last_step": 0, "last_value": 0.5, "min": 0.5, "max": 0.5}},
        {},
    ]


def test_another_teams_run_is_not_found(api, client_for):
    run = create_run(api)
    rival = client_for("rival", "mallory")
    assert rival.get(f"/api/v1/runs/{run['id']}/").status_code == 404
    assert rival.patch(f"/api/v1/runs/{run['id']}/", {"notes": "x"}, format="json").status_code == 404
    assert rival.get("/api/v1/runs/?project=acme/proj").status_code == 404
    assert rival.get("/api/v1/projects/acme/proj/").status_code == 404
    assert [p["path"] for p in rival.get("/api/v1/projects/").json()["results"]] == []


def test_projects_can_be_created_listed_and_fetched(api):
    response = api.post(
        "/api/v1/projects/", {"team": "acme", "slug": "vision", "noise_keys": ["data.workers"]}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["path"] == "acme/vision"
    assert api.post("/api/v1/projects/", {"team": "acme", "slug": "vision"}, format="json").status_code == 409
    assert api.post("/api/v1/projects/", {"team": "rival", "slug": "x"}, format="json").status_code == 404
    assert api.post("/api/v1/projects/", {"team": "acme", "slug": "Bad Slug"}, format="json").status_code == 400
    listed = api.get("/api/v1/projects/").json()["results"]
    assert [(p["path"], p["run_count"]) for p in listed] == [("acme/vision", 0)]
    assert api.get("/api/v1/projects/acme/vision/").json()["noise_keys"] == ["data.workers"]
