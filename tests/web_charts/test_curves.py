from __future__ import annotations

import pytest

from server.web.charts.curves import ZOOM_PARAM, ema, learning_curves, run_history

from .records import LABELS, A, B, curve
from .specs import axis_titles, color_domains, spec, texts, views, with_mark

CURVES = [curve(A, 0.93), curve(B, 0.95)]


def test_learning_curves_draw_a_mean_line_and_a_band_per_variant_from_the_given_steps_only() -> None:
    out = spec(learning_curves(CURVES, metric="val/acc", goal="max", labels=LABELS))
    areas, lines = with_mark(out, "area"), with_mark(out, "line")
    assert areas and lines
    band_enc, band_rows = areas[0]
    assert band_enc["y"]["field"] == "ci_low" and band_enc["y2"]["field"] == "ci_high"
    assert len(band_rows) == 2 * 20  # one row per given step and variant, nothing more
    assert {r["step"] for r in band_rows} == set(CURVES[0]["steps"])
    assert {enc["y"]["field"] for enc, _ in lines} == {"mean"}
    assert {enc["x"]["type"] for _, enc, _ in views(out) if "x" in enc} == {"quantitative"}
    assert axis_titles(out, "y") == {"val/acc, higher is better"}
    assert color_domains(out)[0] == list(LABELS.values())


def test_steps_where_seeds_are_missing_are_dashed_and_the_tooltip_shows_n() -> None:
    out = spec(learning_curves(CURVES, metric="val/loss", goal="min", labels=LABELS))
    dashed = [u for u in out["layer"] if isinstance(u["mark"], dict) and u["mark"].get("strokeDash")]
    assert dashed and dashed[0]["mark"]["type"] == "line"
    tooltips = [enc["tooltip"] for _, enc, _ in views(out) if "tooltip" in enc]
    assert any({"step", "mean", "ci_low", "ci_high", "n"} <= {t["field"] for t in tip} for tip in tooltips)
    assert axis_titles(out, "y") == {"val/loss, lower is better"}
    rows = with_mark(out, "line")[0][1]
    assert sum(not r["complete"] for r in rows) == 2 * 5


def test_seed_lines_are_thin_translucent_and_skip_non_finite_values() -> None:
    histories = [
        {"variant": A, "run": "r1", "step": [0, 100, 200], "value": [0.1, "NaN", 0.3]},
        {"variant": A, "run": "r2", "step": [0, 100, 200], "value": [0.2, 0.25, "Infinity"]},
    ]
    out = spec(learning_curves(CURVES, metric="val/acc", goal="max", labels=LABELS, seed_histories=histories))
    seeds = [(enc, rows) for enc, rows in with_mark(out, "line") if enc.get("detail", {}).get("field") == "run"]
    assert len(seeds) == 1
    enc, rows = seeds[0]
    assert len(rows) == 4 and {r["run"] for r in rows} == {"r1", "r2"}
    assert enc["color"]["scale"]["domain"] == list(LABELS.values())


def test_smoothing_is_a_debiased_ema_and_keeps_the_raw_mean() -> None:
    assert ema([1.0, 1.0, 1.0], 0.9) == pytest.approx([1.0, 1.0, 1.0])  # debiased: no pull towards 0
    assert ema([0.0, None, 1.0], 0.5) == [0.0, None, pytest.approx(2 / 3)]
    out = spec(learning_curves(CURVES, metric="val/acc", goal="max", labels=LABELS, smoothing=0.6))
    rows = with_mark(out, "line")[0][1]
    assert any(r["mean"] != r["raw_mean"] for r in rows)
    assert "raw_mean" in {enc["y"]["field"] for enc, _ in with_mark(out, "line")}


def test_a_log_x_axis_leaves_out_step_zero() -> None:
    out = spec(learning_curves(CURVES, metric="val/acc", goal="max", labels=LABELS, log_x=True))
    enc, rows = with_mark(out, "line")[0]
    assert enc["x"]["scale"]["type"] == "log"
    assert min(r["step"] for r in rows) > 0


def test_no_curves_give_a_note_not_an_error() -> None:
    out = spec(learning_curves([], metric="val/acc", goal="max"))
    assert "No finished run" in texts(out)[0]
    out = spec(learning_curves([{"variant": A, "steps": [], "mean": []}], metric="val/acc", goal="max"))
    assert texts(out)


def test_a_one_seed_curve_draws_its_line_without_a_band() -> None:
    one = {
        "variant": A,
        "steps": [0.0, 1.0],
        "mean": [0.1, 0.2],
        "ci_low": [None, None],
        "ci_high": [None, None],
        "n": [1, 1],
        "complete": [True, True],
        "n_runs": 1,
    }
    out = spec(learning_curves([one], metric="val/acc", goal="max", labels=LABELS))
    assert len(with_mark(out, "line")[0][1]) == 2
    band = next(u for u in out["layer"] if u["mark"]["type"] == "area")
    assert "isValid(datum.ci_low)" in band["transform"][0]["filter"]


def test_run_history_draws_one_panel_per_key_with_independent_y() -> None:
    metrics = {
        "val/acc": {
            "step": [1, 2, 3],
            "value": [0.1, "NaN", 0.3],
            "time": [1.7e9, 1.7e9 + 1, 1.7e9 + 2],
            "count": 3000,
            "downsampled": True,
        },
        "train/loss": {
            "step": [1, 2],
            "value": [2.0, 1.0],
            "time": [1.7e9, 1.7e9 + 1],
            "count": 2,
            "downsampled": False,
        },
    }
    out = spec(run_history(metrics, goals={"val/acc": "max", "train/loss": "min"}))
    assert out["facet"]["field"] == "panel"
    assert out["resolve"]["scale"]["y"] == "independent"
    rows = out["datasets"][out["data"]["name"]]
    assert len(rows) == 4
    assert out["facet"]["sort"][0] == "val/acc, higher is better (3 of 3,000 points, min/max buckets)"
    assert out["spec"]["mark"]["type"] == "line"
    by_time = spec(run_history(metrics, x="time"))
    assert by_time["spec"]["encoding"]["x"]["type"] == "temporal"


def test_run_history_of_nothing_is_a_note() -> None:
    assert texts(spec(run_history({})))


def _series(values: list[object], count: int | None = None) -> dict[str, object]:
    steps = list(range(len(values)))
    return {
        "step": steps,
        "value": values,
        "time": [1.7e9 + s for s in steps],
        "count": count or len(values),
        "downsampled": count is not None,
    }


def test_run_history_on_a_log_scale_leaves_out_values_at_or_below_zero_and_says_how_many() -> None:
    metrics = {"train/loss": _series([0.0, -1.0, 2.0, 1.0, 0.5]), "lr": _series([0.1, 0.01])}
    out = spec(run_history(metrics, log_y=True))
    assert out["spec"]["encoding"]["y"]["scale"]["type"] == "log"
    rows = out["datasets"][out["data"]["name"]]
    assert sorted(r["value"] for r in rows if r["key"] == "train/loss") == [0.5, 1.0, 2.0]
    assert min(r["value"] for r in rows) > 0
    assert out["facet"]["sort"] == ["train/loss (2 ≤ 0 left out)", "lr"]
    assert any("log scale" in line for line in out["title"]["subtitle"])
    linear = spec(run_history(metrics))
    assert "type" not in linear["spec"]["encoding"]["y"]["scale"]
    assert len(linear["datasets"][linear["data"]["name"]]) == 7


def test_run_history_of_only_non_positive_values_on_a_log_scale_is_a_note() -> None:
    assert "log scale" in texts(spec(run_history({"k": _series([0.0, -2.0])}, log_y=True)))[0]


def test_run_history_smoothing_draws_the_debiased_ema_over_a_faint_raw_line() -> None:
    out = spec(run_history({"k": _series([1.0, 3.0, 2.0], count=9000)}, smoothing=0.5))
    (raw_enc, rows), (smooth_enc, _) = with_mark(out, "line")
    assert raw_enc["y"]["field"] == "value" and smooth_enc["y"]["field"] == "smoothed"
    assert out["spec"]["layer"][0]["mark"]["opacity"] < 1
    # By hand, s_i = (1 - w) Σ_{j≤i} w^(i-j) v_j / (1 - w^(i+1)) with w = 0.5:
    # s_0 = 1; s_1 = 0.5 (0.5·1 + 3) / 0.75 = 7/3; s_2 = 0.5 (0.25·1 + 0.5·3 + 2) / 0.875 = 15/7.
    assert [r["smoothed"] for r in rows] == pytest.approx([1.0, 7 / 3, 15 / 7])
    assert [r["value"] for r in rows] == [1.0, 3.0, 2.0]
    titles = [t.get("title", "") for t in smooth_enc["tooltip"]]
    assert "value (smoothed, EMA 0.5)" in titles and "value (raw)" in titles
    assert any("over the points drawn" in line for line in out["title"]["subtitle"])


def test_run_history_smoothing_on_a_log_scale_skips_the_points_left_out() -> None:
    out = spec(run_history({"k": _series([1.0, -5.0, 3.0])}, log_y=True, smoothing=0.5))
    rows = with_mark(out, "line")[1][1]
    assert [r["smoothed"] for r in rows] == pytest.approx([1.0, 7 / 3])  # as if -5 was never logged


def test_run_history_by_step_carries_an_x_interval_selection_for_the_zoom() -> None:
    for smoothing in (None, 0.6):
        out = spec(run_history({"k": _series([1.0, 2.0])}, smoothing=smoothing))
        (param,) = out["params"]
        assert param["name"] == ZOOM_PARAM
        assert param["select"] == {"type": "interval", "encodings": ["x"]}
    assert "params" not in spec(run_history({"k": _series([1.0, 2.0])}, x="time"))


def test_run_history_names_the_keys_it_has_no_points_to_draw_for() -> None:
    out = spec(run_history({"k": _series([1.0, 2.0]), "late": _series([]), "neg": _series([-1.0])}, log_y=True))
    assert out["facet"]["sort"][0] == "k"
    assert "No points to draw for late, neg." in out["title"]["subtitle"]
