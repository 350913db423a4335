"""Nothing a chart draws is cut off: long labels show whole, subtitles wrap, edge marks are padded."""

from __future__ import annotations

from server.web.charts.common import LABEL_LIMIT, titled
from server.web.charts.distributions import final_scores
from server.web.charts.hyperparameters import hyperparameter_effect, tuning_curve
from server.web.charts.pairs import pair_differences, pair_matrix
from server.web.charts.seeds import seed_spread

from .records import BLOCKS, LABELS, PAIRS, TUNING, B
from .specs import spec, views

LONG = "resnet18 (optimizer.lr=0.001) · n=5, 1 failed"


def test_subtitles_are_wrapped_into_lines_that_fit_a_half_width_panel() -> None:
    long = "Bordered cells, ▲/▼: the Holm-adjusted test names the row / the column the winner " * 3
    subtitle = titled("Q?", [long, "short"]).to_dict()["subtitle"]
    assert len(subtitle) >= 4 and max(map(len, subtitle)) <= 80
    assert " ".join(subtitle).split() == (long + " short").split()  # nothing lost
    matrix = spec(pair_matrix(PAIRS, labels=LABELS))
    assert max(map(len, matrix["title"]["subtitle"])) <= 80


def test_variant_label_axes_and_legends_keep_long_labels_whole() -> None:
    charts = [
        final_scores(BLOCKS, metric="val/acc", goal="max", labels=LABELS),
        seed_spread(BLOCKS, metric="val/acc", labels=LABELS),
        pair_matrix(PAIRS, labels=LABELS),
        pair_differences(PAIRS, reference=B, metric="val/acc", goal="max", labels=LABELS),
    ]
    assert 8 * len(LONG) <= LABEL_LIMIT
    for chart in charts:
        for _, enc, _ in views(spec(chart)):
            for channel in ("x", "y"):
                if enc.get(channel, {}).get("type") == "nominal" and enc[channel].get("axis"):
                    assert enc[channel]["axis"]["labelLimit"] >= LABEL_LIMIT
            legend = enc.get("color", {}).get("legend")
            if enc.get("color", {}).get("field") == "label" and legend:
                assert legend["labelLimit"] >= LABEL_LIMIT


def test_the_tuning_curve_has_whole_trial_ticks() -> None:
    out = spec(tuning_curve(TUNING))
    axes = [enc["x"]["axis"] for _, enc, _ in views(out) if enc.get("x", {}).get("field") == "trials"]
    assert axes and all(a["tickMinStep"] == 1 and a["format"] == "d" for a in axes)


def test_the_hyperparameter_scatter_pads_its_edge_values() -> None:
    out = spec(hyperparameter_effect(BLOCKS, param="optimizer.lr", metric="val/acc", goal="max"))
    scales = [enc["x"]["scale"] for _, enc, _ in views(out) if enc.get("x", {}).get("field") == "value"]
    assert scales and all(s.get("padding", 0) > 0 for s in scales)
