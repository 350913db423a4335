from __future__ import annotations

from server.web.charts.ranking import rank_order, ranking_forest

from .records import LABELS, A, B, C, entry
from .specs import color_domains, spec, texts, views

RANK_SET = {"lower": 1, "upper": 3, "level": 0.95, "method": "simultaneous"}
ENTRIES = [
    entry(A, 2.0, 1.0, 2.0, rank_set=RANK_SET, in_top_group=True, p_best=0.3),
    entry(B, 1.0, 1.0, 2.0, rank_set={**RANK_SET, "upper": 2}, in_top_group=True, p_best=0.7),
    entry(C, 3.0, None, None, n=1, rank_set=None, reasons={"rank_set": "needs 2 seeds"}),
]


def _intervals(out: dict) -> list[dict]:
    return next(rows for mark, enc, rows in views(out) if mark == "rule" and enc["x"]["field"] == "low")


def test_the_rank_set_is_preferred_to_the_bootstrap_interval() -> None:
    out = spec(ranking_forest(ENTRIES, labels=LABELS))
    rows = _intervals(out)
    by_label = {r["label"]: r for r in rows}
    assert (by_label[LABELS[A]]["low"], by_label[LABELS[A]]["high"]) == (1, 3)
    assert by_label[LABELS[A]]["interval"] == "rank set"
    assert "simultaneous" in " ".join(out["title"]["subtitle"])


def test_without_rank_sets_the_bootstrap_interval_is_drawn() -> None:
    plain = [{k: v for k, v in e.items() if k != "rank_set"} for e in ENTRIES]
    rows = _intervals(spec(ranking_forest(plain, labels=LABELS)))
    assert {r["label"]: (r["low"], r["high"], r["interval"]) for r in rows}[LABELS[A]] == (1.0, 2.0, "bootstrap")


def test_rows_follow_the_rank_and_the_top_group_is_highlighted() -> None:
    out = spec(ranking_forest(ENTRIES, labels=LABELS))
    forest = out["hconcat"][0]
    point = next(u for u in forest["layer"] if u["mark"]["type"] == "point")
    assert point["encoding"]["y"]["sort"] == [LABELS[B], LABELS[A], LABELS[C]]
    assert point["encoding"]["x"]["title"] == "rank (1 = best)"
    band = next(u for u in forest["layer"] if u["mark"]["type"] == "rect")
    assert "top group" in band["transform"][0]["filter"]
    assert sum(r["top"] == "top group" for r in _intervals(out)) == 2
    assert color_domains(out)[0] == list(LABELS.values())


def test_a_variant_without_an_interval_gets_its_dot_and_a_needs_2_seeds_note() -> None:
    out = spec(ranking_forest(ENTRIES, labels=LABELS))
    assert texts(out).count("needs 2 seeds") == 1
    assert [r["low"] is None for r in _intervals(out)] == [False, False, True]


def test_p_best_is_a_bar_beside_the_forest() -> None:
    out = spec(ranking_forest(ENTRIES, labels=LABELS))
    bars = [(enc, rows) for mark, enc, rows in views(out) if mark == "bar"]
    assert bars[0][0]["x"]["field"] == "p_best" and len(bars[0][1]) == 3
    assert {t["field"] for t in bars[0][0]["tooltip"]} >= {"n", "p_best", "rank"}


def test_rank_order_puts_unranked_variants_last() -> None:
    assert rank_order([*ENTRIES, entry("x" * 32, None, None, None)]) == [B, A, C, "x" * 32]


def test_nothing_ranked_is_a_note() -> None:
    assert texts(spec(ranking_forest([])))
    assert texts(spec(ranking_forest([entry(A, None, None, None)])))
