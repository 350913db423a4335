from __future__ import annotations

from server.web.charts.hyperparameters import (
    config_value,
    hyperparameter_effect,
    parallel_coordinates,
    spans_decades,
    tuning_curve,
)

from .records import BLOCKS, TUNING, A, block
from .specs import axis_titles, spec, texts, views, with_mark


def test_the_effect_plots_variant_means_with_intervals_against_the_value_coloured_by_model() -> None:
    out = spec(hyperparameter_effect(BLOCKS, param="optimizer.lr", metric="val/acc", goal="max"))
    ((enc, rows),) = with_mark(out, "point")
    assert len(rows) == 3 and enc["x"]["field"] == "value" and enc["y"]["field"] == "mean"
    assert enc["color"]["field"] == "model" and enc["color"]["scale"]["domain"] == ["resnet18", "vit_small"]
    bar = next(u for u in out["layer"] if u["mark"]["type"] == "rule")
    assert "isValid(datum.low)" in bar["transform"][0]["filter"]
    assert axis_titles(out, "y") == {"val/acc, higher is better"}
    assert "n" in {t["field"] for t in enc["tooltip"]}


def test_a_log_axis_when_values_span_decades_and_variants_without_the_value_are_counted() -> None:
    blocks = [block(A, 0.9, [0.9, 0.91], config={"lr": lr}) for lr in (1e-4, 1e-3, 1e-2)]
    blocks.append(block(A, 0.9, [0.9, 0.91], config={"lr": "auto"}))
    out = spec(hyperparameter_effect(blocks, param="lr", metric="val/acc", goal="max"))
    ((enc, rows),) = with_mark(out, "point")
    assert enc["x"]["scale"]["type"] == "log" and len(rows) == 3
    assert "1 variant(s)" in " ".join(out["title"]["subtitle"])
    assert spans_decades([1e-4, 1e-2]) and not spans_decades([0.1, 0.5])
    assert config_value({"a": {"b": 1}}, "a.b") == 1 and config_value({"a": 1}, "a.b") is None


def test_parallel_coordinates_scale_each_axis_to_0_1_and_keep_raw_values() -> None:
    out = spec(parallel_coordinates(BLOCKS, params=["optimizer.lr", "width"], metric="val/acc", goal="max"))
    ((enc, rows),) = with_mark(out, "line")
    assert len(rows) == 3 * 3  # variants x (2 config axes + the metric)
    assert enc["x"]["sort"] == ["optimizer.lr", "width", "val/acc"]
    assert enc["detail"]["field"] == "label" and enc["color"]["field"] == "metric"
    assert min(r["scaled"] for r in rows) == 0 and max(r["scaled"] for r in rows) == 1
    lr = [r for r in rows if r["axis"] == "optimizer.lr"]
    assert sorted(r["value"] for r in lr) == [0.03, 0.03, 0.1]


def test_the_tuning_curve_draws_expected_best_with_its_band_and_the_unbiased_estimate() -> None:
    out = spec(tuning_curve(TUNING))
    marks = [mark for mark, _, _ in views(out)]
    assert marks.count("area") == 1 and marks.count("line") == 2
    area_enc, rows = with_mark(out, "area")[0]
    assert len(rows) == len(TUNING["n_trials"])
    assert area_enc["y"]["field"] == "low" and area_enc["y2"]["field"] == "high"
    assert axis_titles(out, "y") == {"expected best val/acc, higher is better"}


def test_a_budget_axis_without_runtimes_says_why() -> None:
    out = spec(tuning_curve(TUNING, x="budget"))
    assert "2 trials lack a runtime" in " ".join(out["title"]["subtitle"])
    assert with_mark(out, "line")[0][0]["x"]["field"] == "trials"
    timed = spec(tuning_curve({**TUNING, "budget": [100.0 * n for n in TUNING["n_trials"]]}, x="budget"))
    assert with_mark(timed, "line")[0][0]["x"]["field"] == "budget"


def test_empty_inputs_give_notes() -> None:
    assert texts(spec(hyperparameter_effect([], param="lr", metric="m", goal="max")))
    assert texts(spec(parallel_coordinates([], params=["lr"], metric="m", goal="max")))
    assert texts(spec(tuning_curve(None)))
