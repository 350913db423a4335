"""Property-based fuzzing of query parameters: run filters, ordering, page sizes and cursors.

Whatever the query string, the list endpoints answer 200, or a 4xx with the error shape:
never a 500, and never a statement that runs away (hypothesis' deadline would catch a
backtracking regex or a runaway scan).
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.tracking.filters import CONFIG_OPS

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=150,
    deadline=2000,  # ms per request: far above a normal answer, far below a runaway query
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)

# Any text a URL can carry: every code point but surrogates (not UTF-8 encodable).
anything = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
# Django lookup and transform names: a path segment or op named like one must stay data.
LOOKUPS = ["regex", "iregex", "isnull", "range", "contains", "contained_by", "has_key", "in", "startswith",
           "year", "date", "keys", "len", "0", "-1", "__", ""]  # fmt: skip
segment = st.one_of(st.sampled_from([*LOOKUPS, "lr", "opt", "name"]), anything)
config_name = st.builds(
    lambda path, op: "config." + ".".join(path) + (f"__{op}" if op is not None else ""),
    st.lists(segment, min_size=0, max_size=4),
    st.one_of(st.none(), st.sampled_from(sorted(CONFIG_OPS) + LOOKUPS), anything),
)
json_value: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | anything,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(anything, inner, max_size=3),
    max_leaves=10,
)
number_text = st.sampled_from(
    ["NaN", "-Infinity", "Infinity", "1e309", "-1e-400", "0", "-0", "1" * 40, "0x10", "1_000", "0.1", "true",
     "null", "[]", "{}", '"\\u0000"', "\u00b2", "\u0661\u0662", "\uff11"]  # superscript, Arabic, fullwidth digits
)  # fmt: skip
filter_value = st.one_of(
    anything,
    number_text,
    json_value.map(lambda v: json.dumps(v, allow_nan=True)),
    st.integers(min_value=1, max_value=600).map(lambda depth: "[" * depth + "]" * depth),
    st.lists(number_text | anything, max_size=5).map(",".join),
)
filter_param = st.one_of(
    st.tuples(config_name, filter_value),
    st.tuples(st.sampled_from(["status", "model", "task", "tag", "name", "variant", "seed"]), filter_value),
    st.tuples(anything, anything),
)


def b64(payload: bytes) -> str:
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


cursor = st.one_of(
    anything,
    st.binary(max_size=40).map(b64),
    st.tuples(
        st.sampled_from(["null", "datetime", "float", "plain"]) | anything,
        json_value | st.sampled_from(["NaN", "Infinity", "2024-01-01T00:00:00", "2024-01-01T00:00:00+00:00"]),
        st.integers(min_value=-(2**70), max_value=2**70) | json_value,
    ).map(lambda parts: b64(json.dumps(list(parts)).encode())),
    json_value.map(lambda v: b64(json.dumps(v).encode())),
)
ordering = st.one_of(
    st.builds(
        lambda minus, name: minus + name,
        st.sampled_from(["", "-", "--"]),
        st.sampled_from(["created_at", "name", "seed", "status"]) | st.builds("metric:{}".format, anything),
    ),
    anything,
)
page_size = st.one_of(st.integers(min_value=-5, max_value=1000).map(str), number_text, anything)


def assert_answered(response) -> None:
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"code", "message", "field"} and isinstance(error["message"], str)


@pytest.fixture
def project_with_runs(api) -> str:
    for seed, config in enumerate([{"lr": 0.1, "opt": {"name": "sgd"}}, {"lr": "NaN", "regex": {"isnull": 1}}, {}]):
        run_id = api.post(
            "/api/v1/runs/", {"project": "acme/fuzz", "model": "m", "seed": seed, "config": config}, format="json"
        ).json()["id"]
        points = {"key": ["loss"] * 2, "step": [0, 1], "value": [0.5, 0.25]}
        api.post(f"/api/v1/runs/{run_id}/metrics/", {"batch_id": str(uuid.uuid4()), "points": points}, format="json")
    return "acme/fuzz"


@FUZZ
@given(params=st.lists(filter_param, max_size=4), ordering=st.none() | ordering)
def test_run_filters_and_orderings_never_get_a_server_error(api, project_with_runs, params, ordering):
    query = [("project", project_with_runs), *params] + ([("ordering", ordering)] if ordering is not None else [])
    assert_answered(api.get("/api/v1/runs/", query))
    history = [("key", "loss"), *params]
    assert_answered(api.get(f"/api/v1/projects/{project_with_runs}/metrics/", history))
    assert_answered(api.get(f"/api/v1/projects/{project_with_runs}/tuning/", [("metric", "loss"), *params]))


@FUZZ
@given(cursor=cursor, ordering=st.none() | ordering, page_size=st.none() | page_size)
def test_cursors_and_page_sizes_never_get_a_server_error(api, project_with_runs, cursor, ordering, page_size):
    query = [("project", project_with_runs), ("cursor", cursor)]
    query += [("ordering", ordering)] if ordering is not None else []
    query += [("page_size", page_size)] if page_size is not None else []
    assert_answered(api.get("/api/v1/runs/", query))
    assert_answered(api.get("/api/v1/comparisons/", [("cursor", cursor)]))


@FUZZ
@given(cursor=cursor)
def test_a_tampered_cursor_is_refused_or_names_a_real_position(api, project_with_runs, cursor):
    response = api.get("/api/v1/runs/", {"project": project_with_runs, "cursor": cursor, "ordering": "metric:loss"})
    assert_answered(response)
    if response.status_code == 400:
        assert response.json()["error"]["field"] in {"cursor", None}
