"""Free-form JSON (config, summary, metadata) and free text (tags, notes): everything accepted
reads back, everything else is a 400 naming the field (docs/api.md, "Free-form JSON values")."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.core import jsonvalues
from server.tracking.models import Run
from tests.json_documents import MAX_DEPTH, acceptable, documents, same, texts

pytestmark = pytest.mark.django_db


def create(api, **fields):
    return api.post("/api/v1/runs/", {"project": "acme/json", "model": "m", **fields}, format="json")


def run_reads(api, run_id, project="acme/json"):
    """The run as each endpoint that shows it returns it: detail and run list."""
    detail = api.get(f"/api/v1/runs/{run_id}/")
    listed = api.get("/api/v1/runs/", {"project": project})
    assert (detail.status_code, listed.status_code) == (200, 200), (detail.content, listed.content)
    [row] = [row for row in listed.json()["results"] if row["id"] == run_id]
    return [detail.json(), row]


def deep(levels, leaf=1.0):
    value = leaf
    for _ in range(levels):
        value = {"a": value}
    return value


def test_a_diverged_loss_in_the_summary_reads_back_as_a_float(api):
    run_id = create(api).json()["id"]
    assert api.patch(f"/api/v1/runs/{run_id}/", {"summary": {"train/loss": 1e20}}, format="json").status_code == 200
    for record in run_reads(api, run_id):
        assert record["summary"] == {"train/loss": 1e20}
        assert isinstance(record["summary"]["train/loss"], float)


def test_huge_and_tiny_floats_in_metadata_and_config_keep_the_run_list_readable(api):
    numbers = {"big": 1e20, "max": 1.7976931348623157e308, "tiny": 5e-324, "neg": -1e300}
    run_id = create(api, metadata={"x": 1e20, **numbers}, config=numbers).json()["id"]
    for record in run_reads(api, run_id):
        assert record["metadata"] == {"x": 1e20, **numbers} and record["config"] == numbers
        assert all(isinstance(value, float) for value in record["config"].values())


def test_floats_stored_before_the_fix_read_back(api):
    run_id = create(api).json()["id"]
    # What jsonb made of 1e20 written by an earlier version: the numeric 100000000000000000000.
    Run.objects.filter(uuid=run_id).update(summary={"loss": 10**20}, metadata={"deep": deep(300)})
    for record in run_reads(api, run_id):
        assert record["summary"] == {"loss": 1e20}
        assert record["metadata"] == {"deep": deep(300)}  # deeper than orjson renders: the fallback encoder


def test_a_value_nested_to_the_limit_is_stored_and_one_level_more_is_refused(api):
    ok = deep(MAX_DEPTH)  # the document itself is level 1
    run_id = create(api, config=ok, metadata=ok).json()["id"]
    assert api.patch(f"/api/v1/runs/{run_id}/", {"summary": ok}, format="json").status_code == 200
    for record in run_reads(api, run_id):
        assert record["config"] == record["metadata"] == record["summary"] == ok
    for levels in (MAX_DEPTH + 1, 400):
        for field in ("config", "metadata"):
            response = create(api, **{field: deep(levels)})
            assert (response.status_code, response.json()["error"]["field"]) == (400, f"{field}.a")
        response = api.patch(f"/api/v1/runs/{run_id}/", {"summary": deep(levels)}, format="json")
        assert (response.status_code, response.json()["error"]["field"]) == (400, "summary.a")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"config": {"a\x00": 1}}, "config.a\\u0000"),
        ({"config": {"opt": {"name": "sgd\x00"}}}, "config.opt.name"),
        ({"config": {"layers": [1, {"act": "\x00"}]}}, "config.layers[1].act"),
        ({"metadata": {"host": "\x00"}}, "metadata.host"),
        ({"config": {"seed": 2**63}}, "config.seed"),
        ({"config": {"n": -(2**63), "m": 2**64 - 1}}, "config.m"),
        ({"metadata": {"n": [2**63]}}, "metadata.n[0]"),
        ({"model": "m\x00"}, "model"),
        ({"name": "n\x00"}, "name"),
        ({"task": "t\x00"}, "task"),
        ({"tags": ["ok", "t\x00"]}, "tags[1]"),
        ({"notes": "\x00"}, "notes"),
    ],
)
def test_a_run_with_a_nul_or_an_integer_beyond_64_bits_is_refused_naming_the_field(api, fields, field):
    response = create(api, **fields)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["field"] == field
    assert not Run.objects.exists()


@pytest.mark.parametrize(
    ("summary", "field"),
    [
        ({"a\x00": 1.0}, "summary.a\\u0000"),
        ({"train/loss": "\x00"}, "summary.train/loss"),
        ({"n": 2**63}, "summary.n"),
    ],
)
def test_a_summary_that_could_not_be_stored_is_refused_naming_the_key(api, summary, field):
    run_id = create(api).json()["id"]
    response = api.patch(f"/api/v1/runs/{run_id}/", {"summary": summary}, format="json")
    assert (response.status_code, response.json()["error"]["field"]) == (400, field)
    assert Run.objects.get(uuid=run_id).summary == {}


def test_a_summary_merged_past_the_size_limit_is_refused(api, monkeypatch):
    monkeypatch.setattr(jsonvalues, "MAX_DOCUMENT_BYTES", 1000)
    run_id = create(api).json()["id"]
    assert api.patch(f"/api/v1/runs/{run_id}/", {"summary": {"a": "x" * 600}}, format="json").status_code == 200
    response = api.patch(f"/api/v1/runs/{run_id}/", {"summary": {"b": "y" * 600}}, format="json")
    assert (response.status_code, response.json()["error"]["field"]) == (400, "summary")
    assert set(Run.objects.get(uuid=run_id).summary) == {"a"}
    assert create(api, config={"c": "z" * 1000}).json()["error"]["field"] == "config"


def test_a_metric_key_with_a_nul_is_refused_and_nothing_is_stored(api):
    run_id = create(api).json()["id"]
    points = {"key": ["ok", "bad\x00key", "ok"], "step": [0, 1, 2], "value": [1.0, 2.0, 3.0]}
    response = api.post(
        f"/api/v1/runs/{run_id}/metrics/", {"batch_id": str(uuid.uuid4()), "points": points}, format="json"
    )
    assert (response.status_code, response.json()["error"]["field"]) == (400, "points.key")
    assert api.get(f"/api/v1/runs/{run_id}/").json()["metrics"] == {}


def test_tags_and_notes_read_back_as_written_including_surrounding_whitespace(api):
    run_id = create(api, tags=[" padded ", "tab\t"], notes="  indented\n").json()["id"]
    for record in run_reads(api, run_id):
        assert (record["tags"], record["notes"]) == ([" padded ", "tab\t"], "  indented\n")


def _refused_field(response, *names):
    assert response.status_code == 400, response.content
    field = response.json()["error"]["field"]
    assert any(field == name or field.startswith((f"{name}.", f"{name}[")) for name in names), field
    return field


def _tag_ok(tag):
    return 0 < len(tag) <= 100 and "\x00" not in tag


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    config=documents,
    metadata=documents,
    summary=documents,
    tags=st.lists(texts, max_size=3),
    notes=texts,
)
def test_generated_documents_are_refused_naming_the_field_or_read_back_equal(
    api, config, metadata, summary, tags, notes
):
    project = f"acme/p{uuid.uuid4().hex[:12]}"
    body = {"project": project, "model": "m", "config": config, "metadata": metadata, "tags": tags, "notes": notes}
    response = api.post("/api/v1/runs/", body, format="json")
    bad = [name for name, value in (("config", config), ("metadata", metadata)) if not acceptable(value)]
    bad += ["tags"] * (not all(map(_tag_ok, tags))) + ["notes"] * ("\x00" in notes)
    if bad:
        _refused_field(response, *bad)
        return
    assert response.status_code == 201, response.content
    run_id = response.json()["id"]
    response = api.patch(f"/api/v1/runs/{run_id}/", {"summary": summary}, format="json")
    if acceptable(summary):
        assert response.status_code == 200, response.content
        expected_summary = {key: value for key, value in summary.items() if value is not None}  # None deletes
    else:
        _refused_field(response, "summary")
        expected_summary = {}
    for record in [response.json() if response.status_code == 200 else None, *run_reads(api, run_id, project)]:
        if record is None:
            continue
        assert same(config, record["config"]) and same(metadata, record["metadata"])
        assert same(expected_summary, record["summary"])
        assert (record["tags"], record["notes"]) == (tags, notes)
