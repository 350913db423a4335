"""Paper-ready tables of a comparison (LaTeX and Markdown), from its variant blocks. No Django.

One row per variant (comparison order), one column per task. A cell is the mean ± the half-width
of its 95 % t-interval (``spread="ci"``: (ci_high - ci_low) / 2, the interval is symmetric about
the mean) or ± the seeds' standard deviation (``spread="std"``), and the number of seeds n.
The best mean of a column (goal direction) is bold; members of the column's top group (the
leader and every variant no verdict puts below another) carry a dagger.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


@dataclass(frozen=True)
class Cell:
    mean: float | None
    spread: float | None
    n: int
    best: bool
    top: bool


@dataclass(frozen=True)
class PaperTable:
    metric: str
    spread: str  # "ci" or "std"
    tasks: list[str]
    rows: list[tuple[str, list[Cell | None]]]  # (label, one cell per task)
    decimals: int

    @property
    def spread_phrase(self) -> str:
        return "95% CI half-width" if self.spread == "ci" else "std over seeds"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _spread(block: Mapping[str, Any], spread: str) -> float | None:
    if spread == "std":
        return _number(block.get("std"))
    low, high = _number(block.get("ci_low")), _number(block.get("ci_high"))
    return None if low is None or high is None else (high - low) / 2


def auto_decimals(spreads: Sequence[float | None]) -> int:
    """Decimals showing two significant digits of the smallest non-zero spread (0 to 6; 3 without one)."""
    positive = [s for s in spreads if s is not None and s > 0]
    if not positive:
        return 3
    return max(0, min(6, 1 - math.floor(math.log10(min(positive)))))


def paper_table(
    blocks: Sequence[Mapping[str, Any]],
    *,
    metric: str,
    goal: str | None,
    top_groups: Mapping[str, Sequence[str]] | None = None,
    spread: str = "ci",
    decimals: int | None = None,
) -> PaperTable:
    """The table's cells from variant blocks (``variant``, ``label``, ``task``, ``n``, ``mean``,
    ``ci_low``/``ci_high``, ``std``); ``top_groups`` maps a task to its top group's fingerprints."""
    if spread not in ("ci", "std"):
        raise ValueError("spread must be 'ci' or 'std'")
    tasks = list(dict.fromkeys(str(b.get("task") or "") for b in blocks))
    labels: dict[str, str] = {}
    by_cell: dict[tuple[str, str], Mapping[str, Any]] = {}
    for block in blocks:
        variant = str(block.get("variant", ""))
        labels.setdefault(variant, str(block.get("label") or variant))
        by_cell[(variant, str(block.get("task") or ""))] = block
    sign = -1 if goal == "min" else 1
    best: dict[str, float] = {}
    for task in tasks:
        means = [m for (v, t), b in by_cell.items() if t == task and (m := _number(b.get("mean"))) is not None]
        if means:
            best[task] = max(sign * m for m in means)
    groups = {task: set(members) for task, members in (top_groups or {}).items()}
    rows: list[tuple[str, list[Cell | None]]] = []
    spreads: list[float | None] = []
    for variant, label in labels.items():
        cells: list[Cell | None] = []
        for task in tasks:
            found = by_cell.get((variant, task))
            if found is None:
                cells.append(None)
                continue
            block = found
            mean = _number(block.get("mean"))
            width = _spread(block, spread)
            spreads.append(width)
            cells.append(
                Cell(
                    mean=mean,
                    spread=width,
                    n=int(block.get("n") or 0),
                    best=mean is not None and task in best and sign * mean == best[task],
                    top=variant in groups.get(task, set()),
                )
            )
        rows.append((label, cells))
    places = auto_decimals(spreads) if decimals is None else decimals
    return PaperTable(metric=metric, spread=spread, tasks=tasks, rows=rows, decimals=places)


def _value(cell: Cell, decimals: int, pm: str) -> str:
    if cell.mean is None:
        return "n/a"
    text = f"{cell.mean:.{decimals}f}"
    return text if cell.spread is None else f"{text}{pm}{cell.spread:.{decimals}f}"


def cell_text(cell: Cell, decimals: int) -> str:
    """A cell as plain text, for an HTML table: "0.912 ± 0.011" (no n, no marks)."""
    return _value(cell, decimals, " ± ")


def latex_escape(text: str) -> str:
    return "".join(LATEX_SPECIAL.get(char, char) for char in text)


def to_latex(table: PaperTable) -> str:
    """A booktabs tabular: bold = best mean, dagger = top group, n in parentheses."""
    heads = [latex_escape(task or table.metric) for task in table.tasks]
    lines = [
        r"% \usepackage{booktabs}",
        f"% {latex_escape(table.metric)}: mean $\\pm$ {table.spread_phrase} (n seeds); "
        r"bold: best mean; $^\dagger$: top group",
        r"\begin{tabular}{l" + "r" * len(heads) + "}",
        r"\toprule",
        " & ".join(["Variant", *heads]) + r" \\",
        r"\midrule",
    ]
    for label, cells in table.rows:
        texts = [latex_escape(label)]
        for cell in cells:
            if cell is None:
                texts.append("--")
                continue
            value = _value(cell, table.decimals, r" $\pm$ ")
            if cell.best:
                value = rf"\textbf{{{value}}}"
            if cell.top:
                value += r"$^\dagger$"
            texts.append(f"{value} ({cell.n})")
        lines.append(" & ".join(texts) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def to_markdown(table: PaperTable) -> str:
    """A pipe table: bold = best mean, † = top group, n in parentheses, and a note saying so."""
    heads = [_md(task or table.metric) for task in table.tasks]
    lines = ["| " + " | ".join(["Variant", *heads]) + " |", "|" + "---|" + "---:|" * len(heads)]
    for label, cells in table.rows:
        texts = [_md(label)]
        for cell in cells:
            if cell is None:
                texts.append("-")
                continue
            value = _value(cell, table.decimals, " ± ")
            if cell.best:
                value = f"**{value}**"
            if cell.top:
                value += "†"
            texts.append(f"{value} ({cell.n})")
        lines.append("| " + " | ".join(texts) + " |")
    lines += [
        "",
        f"{_md(table.metric)}: mean ± {table.spread_phrase} (n seeds); bold: best mean; †: top group.",
    ]
    return "\n".join(lines) + "\n"
