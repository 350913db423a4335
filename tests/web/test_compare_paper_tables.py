"""server/web/paper_tables.py: LaTeX and Markdown tables, checked against numbers computed here."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from server.web.paper_tables import auto_decimals, cell_text, latex_escape, paper_table, to_latex, to_markdown

SCORES = {"a_net": [0.91, 0.92, 0.935], "b|net": [0.84, 0.85, 0.86, 0.85], "c": [0.9]}


def block(variant: str, scores: list[float], task: str = "") -> dict[str, object]:
    x = np.asarray(scores)
    n = len(x)
    mean = float(x.mean())
    if n < 2:
        return {"variant": variant, "label": variant, "task": task, "n": n, "mean": mean, "std": None,
                "ci_low": None, "ci_high": None}  # fmt: skip
    std = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.975, n - 1)) * std / np.sqrt(n)
    return {"variant": variant, "label": variant, "task": task, "n": n, "mean": mean, "std": std,
            "ci_low": mean - half, "ci_high": mean + half}  # fmt: skip


def expected_half(scores: list[float]) -> float:
    x = np.asarray(scores)
    return float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))


def test_cells_are_mean_and_ci_half_width_with_n_the_best_bold_and_the_top_group_daggered() -> None:
    blocks = [block(v, s) for v, s in SCORES.items()]
    table = paper_table(blocks, metric="val/acc", goal="max", top_groups={"": ["a_net", "c"]}, decimals=3)
    latex = to_latex(table)
    a, b = np.mean(SCORES["a_net"]), np.mean(SCORES["b|net"])
    assert rf"\textbf{{{a:.3f} $\pm$ {expected_half(SCORES['a_net']):.3f}}}$^\dagger$ (3)" in latex
    assert r"a\_net & " in latex
    assert f"b|net & {b:.3f} $\\pm$ {expected_half(SCORES['b|net']):.3f} (4)" in latex
    assert r"c & 0.900$^\dagger$ (1)" in latex  # one seed: no interval
    assert "95% CI half-width" in latex and r"\begin{tabular}{lr}" in latex and r"\bottomrule" in latex

    markdown = to_markdown(table)
    assert f"| a\\_net | **{a:.3f} ± {expected_half(SCORES['a_net']):.3f}**† (3) |" in markdown
    assert f"| b\\|net | {b:.3f} ± {expected_half(SCORES['b|net']):.3f} (4) |" in markdown
    assert markdown.splitlines()[1] == "|---|---:|"


def test_std_spread_and_lower_is_better() -> None:
    blocks = [block(v, s) for v, s in SCORES.items()]
    table = paper_table(blocks, metric="loss", goal="min", spread="std", decimals=4)
    markdown = to_markdown(table)
    b = SCORES["b|net"]
    assert f"**{np.mean(b):.4f} ± {np.std(b, ddof=1):.4f}** (4)" in markdown  # lowest mean is best
    assert "std over seeds" in markdown and "†" not in markdown.split("\n\n")[0]


def test_several_tasks_are_columns_and_a_missing_cell_is_a_dash() -> None:
    blocks = [block("x", [1.0, 2.0], "t1"), block("y", [3.0, 5.0], "t1"), block("x", [4.0, 4.5], "t2")]
    table = paper_table(blocks, metric="score", goal="max", decimals=2)
    assert table.tasks == ["t1", "t2"]
    latex = to_latex(table)
    assert "Variant & t1 & t2" in latex
    assert f"y & \\textbf{{4.00 $\\pm$ {expected_half([3.0, 5.0]):.2f}}} (2) & -- \\\\" in latex
    # The compare page's table across tasks shows the same cells as plain text.
    [(_, x_cells), (_, y_cells)] = table.rows
    assert y_cells[1] is None and x_cells[1] is not None
    assert cell_text(x_cells[1], table.decimals) == f"4.25 ± {expected_half([4.0, 4.5]):.2f}"


def test_decimals_show_two_significant_digits_of_the_smallest_spread() -> None:
    assert auto_decimals([0.0123, 0.5]) == 3
    assert auto_decimals([2.5]) == 1
    assert auto_decimals([None, 0.0]) == 3
    assert paper_table([block("a", [0.91, 0.92, 0.935])], metric="m", goal="max").decimals == 3  # half-width 0.031


def test_latex_specials_are_escaped_and_a_bad_spread_is_refused() -> None:
    assert latex_escape("lr=1e-3 & 50% _x_ {a} #1 $") == r"lr=1e-3 \& 50\% \_x\_ \{a\} \#1 \$"
    with pytest.raises(ValueError):
        paper_table([], metric="m", goal="max", spread="iqr")
