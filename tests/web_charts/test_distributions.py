from __future__ import annotations

import itertools

from server.web.charts.distributions import final_scores
from server.web.charts.seeds import seed_spread

from .records import BLOCKS, LABELS, C, block
from .specs import axis_titles, color_domains, spec, texts, views, with_mark


def test_every_finite_seed_is_a_dot_and_outliers_are_marked() -> None:
    out = spec(final_scores(BLOCKS, metric="val/acc", goal="max", labels=LABELS))
    ((enc, rows),) = with_mark(out, "point")
    assert len(rows) == 5 + 5 + 1  # the None score of the first variant has no place on the axis
    assert enc["x"]["field"] == "score" and enc["x"]["type"] == "quantitative"
    assert enc["y"]["field"] == "row" and enc["y"]["type"] == "nominal"
    assert enc["yOffset"]["field"] == "jitter"
    assert [r["kind"] for r in rows].count("outlier seed") == 1
    assert enc["shape"]["field"] == "kind"


def test_rows_are_sorted_by_mean_in_the_goal_direction_and_count_failed_seeds() -> None:
    out = spec(final_scores(BLOCKS, metric="val/acc", goal="max", labels=LABELS))
    order = with_mark(out, "point")[0][0]["y"]["sort"]
    assert order == ["vit_small (lr=0.03) · n=5", "resnet18 (lr=0.03) · n=5, 1 failed", "resnet18 (lr=0.1) · n=1"]
    loss = spec(final_scores(BLOCKS, metric="val/loss", goal="min", labels=LABELS))
    assert with_mark(loss, "point")[0][0]["y"]["sort"][0].startswith("resnet18 (lr=0.1)")
    assert axis_titles(loss, "x") == {"val/loss, lower is better"}


def test_the_mean_interval_is_an_error_bar_that_skips_null_intervals_with_a_note() -> None:
    out = spec(final_scores(BLOCKS, metric="val/acc", goal="max", labels=LABELS))
    bar = next(u for u in out["layer"] if u["mark"]["type"] == "rule" and "x2" in u.get("encoding", {}))
    assert bar["encoding"]["x"]["field"] == "ci_low" and bar["encoding"]["x2"]["field"] == "ci_high"
    assert "isValid(datum.ci_low)" in bar["transform"][0]["filter"]
    bar_rows = out["datasets"][bar["data"]["name"]]
    assert [r["ci_low"] is None for r in bar_rows] == [False, False, True]  # filtered out in the view
    assert texts(out) == ["needs 2 seeds"]
    ticks = with_mark(out, "tick")
    assert ticks[0][0]["x"]["field"] == "mean"
    assert {t["field"] for t in ticks[0][0]["tooltip"]} >= {"n", "mean", "ci_low", "ci_high"}


def test_the_colour_domain_is_the_pages_variants_in_order() -> None:
    out = spec(final_scores(BLOCKS, metric="val/acc", goal="max", labels=LABELS))
    assert set(map(tuple, color_domains(out))) == {tuple(LABELS.values())}


def test_median_and_iqm_are_optional_marks() -> None:
    plain = spec(final_scores(BLOCKS, metric="val/acc", goal="max"))
    both = spec(final_scores(BLOCKS, metric="val/acc", goal="max", show_median=True, show_iqm=True))
    assert len(both["layer"]) == len(plain["layer"]) + 2


def test_no_blocks_and_a_block_without_scores_do_not_raise() -> None:
    assert texts(spec(final_scores([], metric="val/acc", goal="max")))
    empty = block(C, None, [None, None])
    out = spec(final_scores([empty], metric="val/acc", goal="max"))
    assert with_mark(out, "point")[0][1] == []


def test_the_score_axis_keeps_few_ticks_so_labels_never_collide_on_a_narrow_panel() -> None:
    out = spec(final_scores(BLOCKS, metric="val/acc", goal="max", labels=LABELS))
    for _, enc, _ in views(out):
        if enc.get("x", {}).get("type") == "quantitative":
            axis = enc["x"]["axis"]
            assert axis["tickCount"] <= 6
            assert axis["labelOverlap"] in (True, "greedy", "parity")
            assert axis.get("labelFlush") is True
            assert enc["x"]["scale"].get("padding", 0) > 0  # a seed at the domain's end is drawn whole


def _pixel_gaps(out: dict) -> list[float]:
    """Vertical distances in pixels between the dots of a row of 5 seeds (band ≈ height / rows)."""
    ((enc, rows),) = with_mark(out, "point")
    lo, hi = enc["yOffset"]["scale"]["domain"]
    band = out["height"] / len(enc["y"]["sort"])
    row = [r for r in rows if r["row"] == enc["y"]["sort"][0]]
    assert len(row) == 5
    levels = sorted(r["jitter"] for r in row)
    return [(b - a) / (hi - lo) * band * 0.9 for a, b in itertools.pairwise(levels)]


def test_five_seeds_are_vertically_separate_dots() -> None:
    out = spec(final_scores(BLOCKS, metric="val/acc", goal="max", labels=LABELS))
    assert min(_pixel_gaps(out)) >= 7  # a dot is ~6 px across


def test_seed_spread_separates_five_seeds_too() -> None:
    out = spec(seed_spread(BLOCKS, metric="val/acc", labels=LABELS))
    assert min(_pixel_gaps(out)) >= 7
