from __future__ import annotations

import altair as alt
import pytest

from server.web.charts.common import (
    GREY,
    TABLEAU10,
    axis_title,
    empty_chart,
    finite,
    inline,
    variant_color_scale,
    variant_labels,
)

from .records import BLOCKS, LABELS
from .specs import spec


def test_the_colour_scale_has_the_labels_in_order_as_its_domain_on_tableau10() -> None:
    scale = variant_color_scale(["b", "a", "c"]).to_dict()
    assert scale == {"domain": ["b", "a", "c"], "range": list(TABLEAU10[:3])}


def test_beyond_ten_variants_only_the_highlighted_ones_keep_a_colour() -> None:
    labels = [f"v{i}" for i in range(12)]
    scale = variant_color_scale(labels, highlight=["v11", "v3"]).to_dict()
    assert scale["domain"] == labels
    assert [c for c in scale["range"] if c != GREY] == [TABLEAU10[0], TABLEAU10[1]]
    assert scale["range"][3] == TABLEAU10[0] and scale["range"][11] == TABLEAU10[1]


def test_variant_labels_follow_the_blocks_order() -> None:
    assert variant_labels(BLOCKS) == LABELS


def test_axis_titles_say_the_goal() -> None:
    assert axis_title("val/acc", "max") == "val/acc, higher is better"
    assert axis_title("val/loss", "min") == "val/loss, lower is better"


@pytest.mark.parametrize("value", [None, "NaN", "Infinity", "-Infinity", float("nan"), float("inf"), True, "0.5"])
def test_finite_maps_missing_and_non_finite_values_to_none(value: object) -> None:
    assert finite(value) is None


def test_inline_data_keeps_altairs_row_limit() -> None:
    assert alt.data_transformers.active == "default"
    with pytest.raises(alt.MaxRowsError):
        inline([{"x": i} for i in range(5001)])


def test_an_empty_chart_validates_and_says_what_is_missing() -> None:
    out = spec(empty_chart("Q?", "nothing yet"))
    assert out["data"]["values"] == [{"message": "nothing yet"}]
    assert out["title"]["text"] == "Q?"
