"""The containers the statistics calls return, and their DataFrames, without a server."""

from __future__ import annotations

import math
import pickle

import pytest
import seedboard

VARIANTS_BODY = {
    "metric": "val/acc",
    "goal": "max",
    "summary": "best",
    "status": "stale",
    "computed_at": "2025-01-02T03:04:05Z",
    "method_version": "1",
    "bootstrap_seed": 123,
    "results": [
        {"variant": "a" * 32, "model": "resnet18", "config": {"opt": {"lr": 0.1}}, "task": "", "n": 3, "mean": 0.9},
        {"variant": "b" * 32, "model": "vit", "config": {"opt": {"lr": 0.01}}, "task": "", "n": 1, "mean": 0.8,
         "std": None, "reasons": {"std": "n < 2"}},
    ],
}  # fmt: skip


def test_a_variant_list_is_a_plain_list_whose_response_fields_are_attributes() -> None:
    rows = seedboard.VariantList(
        VARIANTS_BODY["results"], meta={k: v for k, v in VARIANTS_BODY.items() if k != "results"}
    )
    assert isinstance(rows, list) and rows[1]["model"] == "vit"
    assert (rows.status, rows.computed_at, rows.goal, rows.summary) == ("stale", "2025-01-02T03:04:05Z", "max", "best")
    assert (rows.metric, rows.bootstrap_seed, rows.method_version) == ("val/acc", 123, "1")
    copy = pickle.loads(pickle.dumps(rows))
    assert copy == rows and copy.status == "stale"
    assert rows[:1] == [rows[0]]  # slices are plain lists of the same records


def test_record_frames_flatten_nested_dicts_and_show_missing_statistics_as_nan() -> None:
    pytest.importorskip("pandas")
    rows = seedboard.VariantList(VARIANTS_BODY["results"])
    frame = rows.to_pandas()
    assert list(frame["config.opt.lr"]) == [0.1, 0.01]
    assert frame["reasons.std"].tolist()[1] == "n < 2"
    assert math.isnan(frame["std"].tolist()[1])
    assert seedboard.RecordList().to_pandas().empty


def test_curves_become_a_long_table_one_row_per_variant_and_step() -> None:
    pytest.importorskip("pandas")
    curves = seedboard.CurveList(
        [
            {"variant": "a", "task": "t", "steps": [0, 5, 10], "mean": [1.0, 2.0, 3.0], "std": [None, 0.5, 0.5],
             "ci_low": [None, 1.0, 2.0], "ci_high": [None, 3.0, 4.0], "n": [1, 2, 2]},
            {"variant": "b", "task": "t", "steps": [0, 10], "mean": [0.0, 1.0], "std": [0.1, 0.1],
             "ci_low": [-1.0, 0.0], "ci_high": [1.0, 2.0], "n": [3, 3]},
        ],
        meta={"metric": "val/acc"},
    )  # fmt: skip
    frame = curves.to_pandas()
    assert curves.metric == "val/acc"
    assert list(frame.columns) == ["variant", "task", "step", "mean", "std", "ci_low", "ci_high", "n"]
    assert frame[["variant", "step", "mean", "n"]].values.tolist() == [
        ["a", 0.0, 1.0, 1],
        ["a", 5.0, 2.0, 2],
        ["a", 10.0, 3.0, 2],
        ["b", 0.0, 0.0, 3],
        ["b", 10.0, 1.0, 3],
    ]
    assert math.isnan(frame["ci_low"][0]) and frame["ci_high"][1] == 3.0
    assert list(seedboard.CurveList().to_pandas().columns) == list(frame.columns)


def test_a_comparison_is_a_dict_with_shortcuts_and_frames() -> None:
    body = {
        "id": "c0ffee",
        "status": "fresh",
        "metric": "val/acc",
        "computed_at": "2025-01-02T03:04:05Z",
        "variants": [{"variant": "a", "n": 3, "mean": 0.9}, {"variant": "b", "n": 3, "mean": 0.8}],
        "pairs": [{"a": "a", "b": "b", "diff": 0.1, "welch_p": 0.01, "verdict": "a_better"}],
        "ranking": {"entries": [{"name": "a", "rank": 1.0}, {"name": "b", "rank": 2.0}], "leader": "a"},
        "benchmark": None,
    }
    comparison = seedboard.Comparison(body, url="http://sb.example/api/v1/comparisons/c0ffee/")
    assert comparison == body and comparison["pairs"][0]["verdict"] == "a_better"
    assert (comparison.id, comparison.status, comparison.metric) == ("c0ffee", "fresh", "val/acc")
    assert comparison.url == "http://sb.example/api/v1/comparisons/c0ffee/"
    assert [v["variant"] for v in comparison.variants] == ["a", "b"]
    assert comparison.ranking["leader"] == "a" and comparison.benchmark is None
    assert "c0ffee" in repr(comparison) and "fresh" in repr(comparison)

    pytest.importorskip("pandas")
    assert comparison.pairs_frame()[["a", "b", "diff"]].values.tolist() == [["a", "b", 0.1]]
    assert comparison.variants_frame()["mean"].tolist() == [0.9, 0.8]
    assert comparison.ranking_frame()["rank"].tolist() == [1.0, 2.0]


def test_a_comparison_timeout_is_a_seedboard_error_and_a_builtin_timeout() -> None:
    error = seedboard.ComparisonTimeout("late", comparison=seedboard.Comparison({"id": "x", "status": "stale"}))
    assert isinstance(error, seedboard.SeedboardError) and isinstance(error, TimeoutError)
    assert error.comparison_id == "x" and error.comparison["status"] == "stale"


def test_the_ranking_frame_flattens_rank_sets_and_leaves_them_missing_below_two_seeds() -> None:
    pytest.importorskip("pandas")
    entries = [
        {"variant": "a", "rank": 1.0, "rank_set": {"lower": 1, "upper": 2, "level": 0.95}, "reasons": {}},
        {"variant": "lone", "rank": 2.0, "rank_set": None, "reasons": {"rank_set": "needs 2 seeds"}},
    ]
    frame = seedboard.Comparison({"id": "c0ffee", "ranking": {"entries": entries}}).ranking_frame()
    assert "rank_set" not in frame.columns and frame["rank_set.lower"][0] == 1
    assert math.isnan(frame["rank_set.upper"][1]) and frame["reasons.rank_set"][1] == "needs 2 seeds"
    assert entries[1]["rank_set"] is None  # the comparison itself is left as the server sent it


def test_a_run_list_frame_has_a_float_column_of_the_last_value_of_each_listed_metric() -> None:
    pytest.importorskip("pandas")
    summary = {"count": 3, "first_step": 0, "last_step": 2, "min": 0.1, "max": 0.9}
    runs = seedboard.RunList(
        [
            {"id": "a", "config": {"lr": 0.1}, "metrics": {"val/acc": {**summary, "last_value": 0.9},
                                                           "loss": {**summary, "last_value": "NaN"}}},
            {"id": "b", "config": {"lr": 0.2}, "metrics": {"loss": {**summary, "last_value": "-Infinity"}}},
        ]
    )  # fmt: skip
    frame = runs.to_pandas()
    assert [c for c in frame.columns if c.startswith("metric")] == ["metric.val/acc", "metric.loss"]
    acc, loss = frame["metric.val/acc"].tolist(), frame["metric.loss"].tolist()
    assert acc[0] == 0.9 and math.isnan(acc[1])  # b never logged val/acc
    assert math.isnan(loss[0]) and loss[1] == -math.inf
    assert frame["config.lr"].tolist() == [0.1, 0.2]


def test_the_ranking_and_pairs_frames_carry_the_servers_variant_labels() -> None:
    pytest.importorskip("pandas")
    body = {
        "id": "c0ffee",
        "variants": [{"variant": "f1", "label": "m (lr=0.1)"}, {"variant": "f2", "label": "m (lr=0.01)"}],
        "pairs": [{"a": "f1", "b": "f2", "diff": 0.1}],
        "ranking": {"entries": [{"variant": "f1", "rank": 1.0}, {"variant": "f2", "rank": 2.0}]},
    }
    comparison = seedboard.Comparison(body)
    assert comparison.ranking_frame()["label"].tolist() == ["m (lr=0.1)", "m (lr=0.01)"]
    assert comparison.pairs_frame()[["label_a", "label_b"]].values.tolist() == [["m (lr=0.1)", "m (lr=0.01)"]]
