"""Through the SDK against a live server: generated config, metadata, tags, notes and summaries
are refused naming the field, or read back equal from `Api.run` and `Api.runs`."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("hypothesis")

import seedboard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seedboard.errors import BadRequestError

from tests.json_documents import acceptable, documents, same, texts


def test_a_diverged_loss_written_to_the_summary_reads_back(server: Any, project: str) -> None:
    with seedboard.init(project=project, model="m", config={"lr": 1e20}, metadata={"scale": 1e308}) as run:
        run.summary["train/loss"] = 1e20
    assert run.finish().warnings == ()
    api = seedboard.Api()
    for record in (api.run(run.id), *api.runs(project)):
        assert record["summary"] == {"train/loss": 1e20} and record["config"] == {"lr": 1e20}
        assert record["metadata"]["scale"] == 1e308


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    config=documents,
    metadata=documents,
    summary=documents,
    tags=st.lists(texts.filter(lambda t: 0 < len(t) <= 100), max_size=2),
    notes=texts,
)
def test_generated_documents_are_refused_naming_the_field_or_read_back_equal(
    server: Any, project: str, config: Any, metadata: Any, summary: Any, tags: list[str], notes: str
) -> None:
    valid = acceptable(config) and acceptable(metadata) and acceptable(tags) and acceptable(notes)
    try:
        run = seedboard.init(project=project, model="m", config=config, metadata=metadata, tags=tags, notes=notes)
    except BadRequestError as exc:
        assert not valid
        assert exc.field is not None
        assert exc.field.split(".")[0].split("[")[0] in {"config", "metadata", "tags", "notes"}
        return
    assert valid
    for key, value in summary.items():
        if key:  # the SDK refuses empty keys itself
            run.summary[key] = value
    written = {key: value for key, value in summary.items() if key and value is not None}  # None deletes
    result = run.finish()
    if not acceptable(written):
        assert any("summary" in warning for warning in result.warnings), result.warnings
        return
    assert result.warnings == ()
    api = seedboard.Api()
    for record in (api.run(run.id), *[r for r in api.runs(project) if r["id"] == run.id]):
        assert same(config, record["config"]) and same(written, record["summary"])
        assert all(same(value, record["metadata"][key]) for key, value in metadata.items())
        assert (record["tags"], record["notes"]) == (tags, notes)


def test_a_final_summary_the_server_refuses_costs_the_run_neither_its_status_nor_silence(
    server: Any, project: str
) -> None:
    run = seedboard.init(project=project, model="m")
    deep: Any = 1
    for _ in range(40):  # deeper than the 32 levels the server stores
        deep = [deep]
    run.summary["deep"] = deep
    result = run.finish()
    assert any("refused the final summary" in warning for warning in result.warnings), result.warnings
    assert seedboard.Api().run(run.id)["status"] == "finished"
