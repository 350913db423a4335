from __future__ import annotations

from server.web.charts.seeds import seed_spread, seeds_needed

from .records import BLOCKS, LABELS, PAIRS, A, B, C, pair
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


def _needed_pair(needed: int, n: int = 3, other: str = C) -> dict[str, object]:
    out = pair(A, other, 0.01, 0.6, "inconclusive", n_b=n)
    out.update(n_a=n, seeds_needed=needed)
    return out


def test_seeds_needed_is_linear_below_a_decade_and_log_from_one() -> None:
    linear = spec(seeds_needed([_needed_pair(4)], reference=A, labels=LABELS))
    ((enc, _),) = with_mark(linear, "bar")
    assert enc["x"]["scale"]["type"] == "linear" and enc["x"]["scale"]["zero"] is True
    assert "log" not in enc["x"]["title"]
    wide = spec(seeds_needed([_needed_pair(40), _needed_pair(4, other=B)], reference=A, labels=LABELS))
    ((enc, _),) = with_mark(wide, "bar")
    assert enc["x"]["scale"]["type"] == "log" and "log scale" in enc["x"]["title"]


def test_seeds_needed_marks_the_current_n_with_a_label_and_wraps_its_subtitle() -> None:
    out = spec(seeds_needed([_needed_pair(4)], reference=A, labels=LABELS))
    assert "now 3" in [r["current_text"] for _, rows in with_mark(out, "text") for r in rows if "current_text" in r]
    subtitle = out["title"]["subtitle"]
    assert isinstance(subtitle, list) and len(subtitle) >= 2
    assert max(len(line) for line in subtitle) <= 90
