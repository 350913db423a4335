from __future__ import annotations

from server.web.charts.pairs import pair_differences, pair_matrix

from .records import LABELS, PAIRS, A, B, C, pair
from .specs import spec, texts, views, with_mark


def test_the_matrix_has_both_cells_of_every_pair_in_rank_order() -> None:
    out = spec(pair_matrix(PAIRS, labels=LABELS, order=[B, A, C]))
    ((enc, rows),) = with_mark(out, "rect")
    assert len(rows) == 2 * len(PAIRS)
    assert enc["x"]["sort"] == enc["y"]["sort"] == [LABELS[B], LABELS[A], LABELS[C]]
    cell = {(r["row"], r["column"]): r for r in rows}
    assert cell[(LABELS[A], LABELS[B])]["p"] == 0.05
    assert cell[(LABELS[B], LABELS[A])]["p"] == 0.95
    assert enc["fill"]["field"] == "p" and enc["fill"]["scale"]["domainMid"] == 0.5


def test_the_verdict_category_marks_the_cells_where_a_winner_is_named() -> None:
    out = spec(pair_matrix(PAIRS, labels=LABELS, order=[B, A, C]))
    ((enc, rows),) = with_mark(out, "rect")
    assert enc["stroke"]["field"] == "verdict"
    cell = {(r["row"], r["column"]): r for r in rows}
    assert cell[(LABELS[B], LABELS[A])]["verdict"] == "row better"
    assert cell[(LABELS[A], LABELS[B])]["verdict"] == "column better"
    assert cell[(LABELS[A], LABELS[C])]["verdict"] == "no verdict"
    assert "0.95 ▲" in texts(out)
    assert "statement" in {t["field"] for t in enc["tooltip"]}
    assert {"n_row", "n_column"} <= {t["field"] for t in enc["tooltip"]}


def test_the_matrix_takes_one_task() -> None:
    other = [pair(A, B, 0.1, 0.99, "a_better", task="t2")]
    out = spec(pair_matrix([*PAIRS, *other], labels=LABELS, task="t2"))
    assert len(with_mark(out, "rect")[0][1]) == 2


def test_differences_against_a_reference_are_oriented_other_minus_reference() -> None:
    out = spec(pair_differences(PAIRS, reference=B, metric="val/acc", goal="max", labels=LABELS))
    ((enc, rows),) = with_mark(out, "point")
    by_label = {r["label"]: r for r in rows}
    assert by_label[LABELS[A]]["diff"] == -0.02  # the record is A - B already: kept
    assert by_label[LABELS[A]]["verdict"] == "worse than the reference"
    assert by_label[LABELS[C]]["diff"] == -0.05  # the record is B - C: negated
    assert "higher is better" in enc["x"]["title"] and LABELS[B] in enc["x"]["title"]


def test_a_pair_with_one_seed_gets_a_point_and_a_note_but_no_interval() -> None:
    out = spec(pair_differences(PAIRS, reference=B, metric="val/acc", goal="max", labels=LABELS))
    rule = next(u for u in out["layer"] if u["mark"]["type"] == "rule" and "x2" in u["encoding"])
    assert "isValid(datum.low)" in rule["transform"][0]["filter"]
    assert texts(out) == ["needs 2 seeds"]


def test_no_pairs_give_notes() -> None:
    assert texts(spec(pair_matrix([])))
    assert texts(spec(pair_differences([], reference=A, metric="m", goal="max")))
    assert all(mark != "rect" for mark, _, _ in views(spec(pair_matrix([]))))


def test_a_paired_pair_draws_the_paired_interval_the_verdict_used_and_says_so() -> None:
    paired = pair(A, B, -0.02, 0.05, "b_better")
    # Welch's interval crosses 0; the paired one (the test behind the verdict) does not.
    paired.update(
        paired=True,
        p_method="paired_t",
        diff_ci_low=-0.05,
        diff_ci_high=0.01,
        paired_diff_ci_low=-0.03,
        paired_diff_ci_high=-0.01,
    )
    welch = pair(A, C, 0.03, 0.9, "inconclusive")
    welch.update(paired=False, p_method="welch", diff_ci_low=0.02, diff_ci_high=0.04)
    out = spec(pair_differences([paired, welch], reference=A, metric="val/acc", goal="max", labels=LABELS))
    ((enc, rows),) = with_mark(out, "point")
    by_label = {r["label"]: r for r in rows}
    vit = by_label[LABELS[B]]  # B - A: the paired interval of A - B, negated
    assert (vit["low"], vit["high"], vit["method"]) == (0.01, 0.03, "paired")
    other = by_label[LABELS[C]]
    assert (other["low"], other["high"], other["method"]) == (-0.04, -0.02, "Welch")
    assert "method" in {t["field"] for t in enc["tooltip"]}


def test_a_paired_pair_whose_paired_t_is_undefined_keeps_welch() -> None:
    record = pair(A, B, -0.02, 0.05, "b_better")
    record.update(paired=True, p_method="welch", paired_diff_ci_low=None, paired_diff_ci_high=None)
    out = spec(pair_differences([record], reference=B, metric="val/acc", goal="max", labels=LABELS))
    ((_, rows),) = with_mark(out, "point")
    assert (rows[0]["low"], rows[0]["high"], rows[0]["method"]) == (-0.03, -0.01, "Welch")
