from __future__ import annotations

from server.web.charts.benchmark import benchmark_intervals, critical_difference, probability_of_improvement

from .records import BENCHMARK, LABELS5, A, B, D
from .specs import spec, texts, views


def test_the_cd_diagram_places_each_variant_at_its_average_rank_with_its_label() -> None:
    out = spec(critical_difference(BENCHMARK, labels=LABELS5))
    dots = next(rows for mark, enc, rows in views(out) if mark == "point")
    assert {r["label"]: r["x"] for r in dots} == {LABELS5[v]: r for v, r in BENCHMARK["average_ranks"].items()}
    assert set(LABELS5.values()) <= set(texts(out))
    dot_enc = next(enc for mark, enc, _ in views(out) if mark == "point")
    assert dot_enc["color"]["scale"]["domain"] == list(LABELS5.values())


def test_the_cd_diagram_joins_cliques_and_draws_the_cd_ruler() -> None:
    out = spec(critical_difference(BENCHMARK, labels=LABELS5))
    rules = [rows for mark, enc, rows in views(out) if mark == "rule"]
    cliques = next(rows for rows in rules if rows and "members" in rows[0])
    assert len(cliques) == 3
    assert cliques[0]["x"] < 1.4 < 3.2 < cliques[0]["x2"]
    ruler = next(rows for rows in rules if rows and "text" in rows[0])
    assert ruler[0]["x2"] - ruler[0]["x"] == BENCHMARK["nemenyi_cd"]
    assert "CD = 1.90" in texts(out)


def test_no_diagram_when_friedman_does_not_reject() -> None:
    out = spec(critical_difference({**BENCHMARK, "friedman_p": 0.3}, labels=LABELS5))
    assert "does not reject" in texts(out)[0]
    assert all(mark == "text" for mark, _, _ in views(out))
    assert "not run" in texts(spec(critical_difference({**BENCHMARK, "friedman_p": None})))[0]
    assert texts(spec(critical_difference(None)))


def test_rliable_intervals_have_a_panel_per_aggregate_and_a_row_per_variant() -> None:
    out = spec(benchmark_intervals(BENCHMARK, metric="return", labels=LABELS5))
    assert len(out["hconcat"]) == 4
    rules = [(enc, rows) for mark, enc, rows in views(out) if mark == "rule"]
    assert all(len(rows) == 5 for _, rows in rules)
    assert rules[0][0]["x"]["title"] == "IQM, higher is better"
    assert rules[-1][0]["x"]["title"] == "optimality gap, lower is better"
    assert rules[0][0]["y"]["sort"][0] == LABELS5[A]
    assert "normalised score (0 = random, 1 = reference)" in " ".join(out["title"]["subtitle"])
    assert {t["field"] for t in rules[0][0]["tooltip"]} >= {"n_runs", "n_tasks", "low", "high"}


def test_without_normalisation_there_is_no_optimality_gap_and_the_units_say_so() -> None:
    out = spec(benchmark_intervals({**BENCHMARK, "normalized": False}, metric="return", labels=LABELS5))
    assert len(out["hconcat"]) == 3
    assert "not normalised" in " ".join(out["title"]["subtitle"])


def test_probability_of_improvement_has_a_row_per_pair_around_one_half() -> None:
    out = spec(probability_of_improvement(BENCHMARK, labels=LABELS5))
    ticks = next((enc, rows) for mark, enc, rows in views(out) if mark == "tick")
    enc, rows = ticks
    assert len(rows) == 2
    assert rows[0]["pair"] == f"{LABELS5[A]} vs {LABELS5[D]}" and rows[0]["verdict"] == "first better"
    assert rows[1]["pair"] == f"{LABELS5[A]} vs {LABELS5[B]}" and rows[1]["verdict"] == "no verdict"
    assert enc["x"]["scale"]["domain"] == [0, 1]


def test_empty_benchmarks_give_notes() -> None:
    assert texts(spec(benchmark_intervals(None, metric="m")))
    assert texts(spec(probability_of_improvement({"pairs": []})))
