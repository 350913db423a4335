"""Query parameters, cursors and URLs: crafted input gets a 400 JSON error naming the field, never a 500."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from django.test import override_settings

from server.core.pagination import cursor_encode
from server.tracking.filters import MAX_IN_VALUES
from server.tracking.selectors import MAX_KEYS_PER_HISTORY


@pytest.fixture
def run_id(api):
    body = {"project": "acme/proj", "model": "m", "config": {"lr": 0.1, "opt": {"name": "sgd"}}}
    return api.post("/api/v1/runs/", body, format="json").json()["id"]


def raw_cursor(*parts):
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


def assert_error(response, status, field):
    assert response.status_code == status, response.content[:300]
    error = response.json()["error"]
    assert set(error) == {"code", "message", "field"}
    assert error["field"] == field


RUNS = "/api/v1/runs/?project=acme/proj&"
HISTORY = "/api/v1/projects/acme/proj/metrics/?"
STATS = "/api/v1/projects/acme/proj/"


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (RUNS + "config.lr__gt=NaN", "config.lr__gt"),
        (RUNS + "config.lr__gt=Infinity", "config.lr__gt"),
        (RUNS + "config.lr__lt=-Infinity", "config.lr__lt"),
        (RUNS + "config.lr__gte=1e309", "config.lr__gte"),
        (RUNS + 'config.opt.name="sg\\u0000d"', "config.opt.name"),
        (RUNS + "config.lr=" + "[" * 500 + "]" * 500, "config.lr"),
        (RUNS + "config.lr=" + '{"a":' * 40 + "1" + "}" * 40, "config.lr"),
        (RUNS + "config.lr__in=" + ",".join(["1"] * (MAX_IN_VALUES + 1)), "config.lr__in"),
        (RUNS + "model=a%00b", "model"),
        (RUNS + "name=%00", "name"),
        (RUNS + "tag=x%00", "tag"),
        (RUNS + "variant=%00", "variant"),
        (RUNS + "config.opt.name=sg%00d", "config.opt.name"),
        (RUNS + "config.o%00pt=1", "config.o\x00pt"),
        (RUNS + "ordering=metric:lo%00ss", "ordering"),
        (RUNS + "page_size=%C2%B2", "page_size"),
        (RUNS + "page_size=%EF%BC%91", "page_size"),
        (RUNS + "seed=%C2%B2", "seed"),
        (RUNS + "seed=99999999999999999999", "seed"),
        (RUNS + "cursor=" + raw_cursor("plain", "garbage", 5), "cursor"),
        (RUNS + "cursor=" + raw_cursor("float", "1.5", 5), "cursor"),
        (RUNS + "cursor=" + raw_cursor("datetime", "2024-01-01T00:00:00", 5), "cursor"),
        (RUNS + "cursor=" + raw_cursor("datetime", "2024-01-01T00:00:00+00:00", 2**70), "cursor"),
        (RUNS + "cursor=" + raw_cursor("null", None, True), "cursor"),
        (RUNS + "ordering=seed&cursor=" + raw_cursor("plain", 2**64, 5), "cursor"),
        (RUNS + "ordering=name&cursor=" + raw_cursor("plain", "a\x00", 5), "cursor"),
        (RUNS + "ordering=metric:loss&cursor=" + raw_cursor("plain", "x", 5), "cursor"),
        (RUNS + "ordering=metric:loss&cursor=" + raw_cursor("float", "1.5", 5), "cursor"),
        (RUNS + "cursor=%FF%FE", "cursor"),
        (HISTORY + "key=lo%00ss", "key"),
        (HISTORY + "key=loss&model=%00", "model"),
        (STATS + "tuning/?metric=loss&task=%00", "task"),
        (STATS + "variants/?metric=loss&task=%00", "task"),
        (STATS + "curves/?metric=lo%00ss", "metric"),
        ("/api/v1/comparisons/?cursor=" + raw_cursor("float", "1.5", 5), "cursor"),
        ("/api/v1/comparisons/?cursor=" + raw_cursor("plain", "garbage", 5), "cursor"),
    ],
)
def test_crafted_query_parameters_get_a_400_naming_the_field(api, run_id, url, field):
    assert_error(api.get(url), 400, field)


def test_a_path_segment_named_like_a_lookup_is_a_json_key(api, run_id):
    # A config key may be called "regex", "isnull" or "contains": it is matched as a key.
    api.post(
        "/api/v1/runs/", {"project": "acme/proj", "model": "m", "config": {"x": {"regex": "a", "isnull": 1}}},
        format="json",
    )  # fmt: skip
    assert len(api.get(RUNS + "config.x.regex=a").json()["results"]) == 1
    assert len(api.get(RUNS + "config.x.isnull=1").json()["results"]) == 1
    for crafted in (
        "config.opt.name.regex=^(.*)(.*)$",
        "config.opt.name.regex=(",
        "config.x.isnull=abc",
        "config.lr.range=1",
    ):
        assert api.get(RUNS + crafted).json()["results"] == []


def test_non_finite_numbers_are_text_in_equality_filters(api, run_id):
    # Non-finite numbers travel as the strings "NaN", "Infinity" (docs: API conventions).
    api.post("/api/v1/runs/", {"project": "acme/proj", "model": "m", "config": {"lr": "NaN"}}, format="json")
    assert len(api.get(RUNS + "config.lr=NaN").json()["results"]) == 1
    assert len(api.get(RUNS + "config.lr__in=0.1,NaN").json()["results"]) == 2
    assert api.get(RUNS + "config.lr=1e309").json()["results"] == []


def test_config_filters_still_select_runs(api, run_id):
    assert len(api.get(RUNS + "config.lr__gt=0.01").json()["results"]) == 1
    assert len(api.get(RUNS + "config.lr__in=0.1,0.2").json()["results"]) == 1
    assert len(api.get(RUNS + "config.opt.name=sgd").json()["results"]) == 1
    assert api.get(RUNS + "config.opt.name__ne=sgd").json()["results"] == []
    assert api.get(RUNS + "config.lr__lt=0.01").json()["results"] == []


def test_a_cursor_of_another_ordering_is_refused(api, run_id):
    for seed in (1, 2):
        api.post("/api/v1/runs/", {"project": "acme/proj", "model": "m", "seed": seed}, format="json")
    by_seed = api.get(RUNS + "ordering=seed&page_size=1").json()["next"]
    cursor = by_seed.split("cursor=")[1].split("&")[0]
    assert_error(api.get(RUNS + f"cursor={cursor}"), 400, "cursor")
    assert api.get(RUNS + f"ordering=seed&cursor={cursor}").status_code == 200


def test_a_cursor_round_trips_every_sort_value(api, run_id):
    for ordering in ("created_at", "-name", "seed", "status", "metric:loss"):
        first = api.get(RUNS + f"ordering={ordering}&page_size=1").json()
        assert api.get(RUNS + f"ordering={ordering}&page_size=1").status_code == 200
        if first["next"]:
            assert api.get(first["next"]).status_code == 200
    assert cursor_encode(float("nan"), 1)


@override_settings(SEEDBOARD_MAX_QUERY_STRING=2000)
def test_an_overlong_query_string_gets_a_414(api, run_id):
    response = api.get(RUNS + "config.lr__in=" + ",".join(["0.1"] * 1000))
    assert response.status_code == 414
    assert response.json()["error"]["code"] == "uri_too_long"


def log_keys(api, run_id, n_keys, steps=3):
    keys = [f"k{i:03d}" for i in range(n_keys)]
    points = {"key": [k for k in keys for _ in range(steps)], "step": list(range(steps)) * n_keys}
    points["value"] = [0.5] * len(points["key"])
    body = {"batch_id": str(uuid.uuid4()), "points": points}
    assert api.post(f"/api/v1/runs/{run_id}/metrics/", body, format="json").status_code == 200
    return keys


def test_a_run_history_reads_all_its_keys_in_a_bounded_number_of_queries(api, run_id, django_assert_max_num_queries):
    keys = log_keys(api, run_id, MAX_KEYS_PER_HISTORY)
    everything = "&".join(f"key={key}" for key in keys)
    for query in (everything, everything + "&max_points=2", "key=k001&max_points=2"):
        # Authentication, the run, the key ids and the summaries: the points come by COPY.
        with django_assert_max_num_queries(8):
            response = api.get(f"/api/v1/runs/{run_id}/metrics/?{query}")
        assert response.status_code == 200
    metrics = response.json()["metrics"]
    assert metrics["k001"]["step"] == [0, 2] and metrics["k001"]["count"] == 3
    assert api.get(f"/api/v1/runs/{run_id}/metrics/?key=nothing").json()["error"]["code"] == "unknown_metric"
    every = api.get(f"/api/v1/runs/{run_id}/metrics/").json()["metrics"]
    assert sorted(every) == keys and every["k099"]["step"] == [0, 1, 2]


def test_a_run_history_of_too_many_keys_is_refused_with_a_hint(api, run_id):
    keys = log_keys(api, run_id, MAX_KEYS_PER_HISTORY + 1, steps=1)
    response = api.get(f"/api/v1/runs/{run_id}/metrics/")
    assert_error(response, 400, "key")
    assert "key=" in response.json()["error"]["message"]
    assert_error(api.get(f"/api/v1/runs/{run_id}/metrics/?" + "&".join(f"key={k}" for k in keys)), 400, "key")
    assert api.get(f"/api/v1/runs/{run_id}/metrics/?key=k000&key=k100").status_code == 200
