from __future__ import annotations

from server.web.charts.seeds import seed_spread, seeds_needed

from .records import BLOCKS, LABELS, PAIRS, A
from .specs import spec, texts, with_mark


def test_seed_spread_draws_each_seed_as_its_distance_from_the_mean_with_outliers_marked() -> None:
    out = spec(seed_spread(BLOCKS, metric="val/acc", labels=LABELS))
    ((enc, rows),) = with_mark(out, "point")
    assert len(rows) == 11 and enc["x"]["field"] == "deviation"
    assert [r["kind"] for r in rows].count("outlier seed") == 1
    assert enc["color"]["scale"]["domain"] == list(LABELS.values())
    assert {t["field"] for t in enc["tooltip"]} >= {"n", "cv", "mde"}


def test_rows_show_cv_and_mde_and_sort_noisiest_first() -> None:
    out = spec(seed_spread(BLOCKS, metric="val/acc", labels=LABELS))
    order = with_mark(out, "point")[0][0]["y"]["sort"]
    assert order[0] == "resnet18 (lr=0.03) · n=5, CV 1.1%, MDE 0.02"
    assert order[-1] == "resnet18 (lr=0.1) · n=1, CV n/a, MDE needs 2 seeds"


def test_seeds_needed_has_a_bar_per_inconclusive_pair_and_marks_the_current_n() -> None:
    out = spec(seeds_needed(PAIRS, reference=A, labels=LABELS))
    ((_, rows),) = with_mark(out, "bar")
    assert len(rows) == 1 and rows[0]["needed"] == 40 and rows[0]["current"] == 1
    assert with_mark(out, "tick")[0][0]["x"]["field"] == "current"


def test_empty_seed_charts_give_notes() -> None:
    assert texts(spec(seed_spread([], metric="m")))
    assert texts(spec(seeds_needed([], reference=A)))
