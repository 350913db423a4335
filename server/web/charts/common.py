"""What every chart builder shares: the page's variant colours, titles, number formats, empty states.

Conventions (the UI brief of the compare page):
- One colour per variant for the whole page, assigned by the variant's order in the comparison
  (not by what a chart happens to show), so a variant keeps its colour when others are hidden.
  The palette is Tableau 10 (colour-blind safe for up to 10 categories); beyond 10 variants the
  highlighted ones (the top group) keep colours and the others are grey, and labels carry them.
- Axis titles carry the metric and its goal ("val/acc, higher is better"); titles ask the chart's
  question, subtitles give n, the interval method and the level.
- Records are the API's plain dicts; a missing statistic is ``None`` (or, in metric histories,
  the strings "NaN"/"Infinity"/"-Infinity"), and ``finite`` maps all of those to ``None``.
- Builders never raise on empty or degenerate input: they return a chart that says what is missing.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import altair as alt

# Tableau 10 (Vega's "tableau10" scheme), listed so that the domain -> colour map is explicit.
TABLEAU10 = (
    "#4c78a8",
    "#f58518",
    "#e45756",
    "#72b7b2",
    "#54a24b",
    "#eeca3b",
    "#b279a2",
    "#ff9da6",
    "#9d755d",
    "#bab0ac",
)
GREY = "#a0a0a0"
NEEDS_TWO_SEEDS = "needs 2 seeds"
# A 13-inch laptop shows about 1,200 px of content: charts fill their container, rows stay readable.
WIDTH: Any = "container"
ROW_HEIGHT = 32
# Axis and legend labels: variant labels such as "resnet18 (optimizer.lr=0.001) · n=5, 1 failed"
# must show whole; Vega's default (180 px) cuts them.
LABEL_LIMIT = 420
# Subtitles are wrapped to lines of at most this many characters: a half-width panel shows ~100.
SUBTITLE_CHARS = 78
NUMBER = ".4~g"  # d3-format for statistics in tooltips and labels: 4 significant digits
PROBABILITY = ".2f"

Chart = alt.Chart | alt.LayerChart | alt.HConcatChart | alt.VConcatChart | alt.FacetChart
Record = Mapping[str, Any]


def finite(value: Any) -> float | None:
    """A float, or None for None, non-numbers, NaN, ±Infinity (numbers or the API's strings)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def goal_phrase(goal: str | None) -> str:
    """'higher is better' for goal 'max', 'lower is better' for 'min'."""
    return "lower is better" if goal == "min" else "higher is better"


def axis_title(metric: str, goal: str | None, prefix: str = "") -> str:
    """'val/acc, higher is better' (with an optional prefix: 'expected best val/acc, ...')."""
    return f"{prefix}{metric}, {goal_phrase(goal)}"


def goal_sign(goal: str | None) -> int:
    """+1 when higher is better, -1 when lower is: multiply to sort best first."""
    return -1 if goal == "min" else 1


def variant_color_scale(labels: Sequence[str], highlight: Iterable[str] | None = None) -> alt.Scale:
    """The page's colour scale: a fixed domain (the labels in comparison order) onto Tableau 10.

    Up to 10 labels each get the next palette colour. Beyond 10, the labels in ``highlight``
    (e.g. the top group; default the first 10) get the palette in order and the rest grey.
    """
    domain = list(dict.fromkeys(labels))
    if len(domain) <= len(TABLEAU10):
        return alt.Scale(domain=domain, range=list(TABLEAU10[: len(domain)]) or [GREY])
    marked = set(highlight) if highlight is not None else set(domain[: len(TABLEAU10)])
    colors, next_color = [], 0
    for label in domain:
        if label in marked and next_color < len(TABLEAU10):
            colors.append(TABLEAU10[next_color])
            next_color += 1
        else:
            colors.append(GREY)
    return alt.Scale(domain=domain, range=colors)


def variant_labels(blocks: Iterable[Record]) -> dict[str, str]:
    """Fingerprint -> label from variant blocks (their order is the comparison's, first seen wins)."""
    out: dict[str, str] = {}
    for block in blocks:
        variant = str(block.get("variant", ""))
        out.setdefault(variant, str(block.get("label") or variant))
    return out


class Names:
    """Display labels of the page's variants, in comparison order, and their colour scale.

    ``labels`` maps a variant id (fingerprint) to its label; an id a record names but the map
    lacks is shown as itself and appended to the domain, so nothing is drawn uncoloured.
    """

    def __init__(self, labels: Mapping[str, str] | None, seen: Iterable[str] = ()) -> None:
        self._labels = dict(labels or {})
        for variant in seen:
            self._labels.setdefault(variant, variant)

    def __call__(self, variant: str) -> str:
        return self._labels.get(variant, variant)

    @property
    def domain(self) -> list[str]:
        return list(dict.fromkeys(self._labels.values()))

    def color(self, highlight: Iterable[str] | None = None) -> alt.Scale:
        return variant_color_scale(self.domain, highlight)


def variant_color(names: Names, highlight: Iterable[str] | None = None, *, legend: bool = True) -> alt.Color:
    """The colour channel for a ``label`` field, on the page's scale."""
    return alt.Color(
        "label:N",
        scale=names.color(highlight),
        legend=alt.Legend(title="variant", symbolOpacity=1, labelLimit=LABEL_LIMIT) if legend else None,
    )


def wrap_lines(text: str | Sequence[str], width: int = SUBTITLE_CHARS) -> list[str]:
    """Each line of ``text`` wrapped at spaces to at most ``width`` characters (a long word stays whole)."""
    lines = [text] if isinstance(text, str) else list(text)
    out: list[str] = []
    for line in lines:
        out += textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False) or [""]
    return out


def titled(question: str, subtitle: str | Sequence[str] | None = None) -> alt.TitleParams:
    """A chart title: the question, and a subtitle with n, the method and the level.

    Vega draws a title on one line and the page clips it at the panel's edge: the subtitle is
    wrapped into lines of at most SUBTITLE_CHARS characters, the question kept whole.
    """
    if subtitle is None:
        return alt.TitleParams(question, anchor="start")
    return alt.TitleParams(question, subtitle=wrap_lines(subtitle), anchor="start", subtitleColor="#555")


def value_axis(title: str | None = None, **extra: Any) -> alt.Axis:
    """A quantitative axis whose tick labels never collide on a narrow panel.

    At most ~5 ticks (Vega picks nice values and formats them with the digits their step needs),
    Vega's greedy overlap removal as a last resort, and the end labels kept inside the plot.
    """
    options: dict[str, Any] = {
        "tickCount": 5,
        "labelOverlap": "greedy",
        "labelSeparation": 6,
        "labelFlush": True,
    }
    options.update(extra)
    if title is not None:
        options["title"] = title
    return alt.Axis(**options)


def level_percent(level: float | None) -> str:
    """0.95 -> '95%'."""
    return f"{100 * (level if level is not None else 0.95):.3g}%"


def seeds_phrase(counts: Iterable[int]) -> str:
    """'5 seeds per variant', '3-5 seeds per variant', 'no seeds'."""
    values = sorted(set(counts))
    if not values:
        return "no seeds"
    if len(values) == 1:
        return f"{values[0]} seed{'s' if values[0] != 1 else ''} per variant"
    return f"{values[0]}-{values[-1]} seeds per variant"


def empty_chart(question: str, message: str) -> alt.Chart:
    """An empty state that explains itself: the chart's title and one line saying what is missing."""
    return (
        alt.Chart(alt.Data(values=[{"message": message}]), title=titled(question))
        .mark_text(align="left", baseline="middle", fontSize=13, color="#555")
        .encode(text="message:N", x=alt.value(0), y=alt.value(12))
        .properties(width=WIDTH, height=40)
    )


def rows_height(n_rows: int, minimum: int = 60) -> int:
    """A height that gives each row ROW_HEIGHT pixels."""
    return max(minimum, ROW_HEIGHT * n_rows)


def inline(rows: Sequence[Record]) -> dict[str, Any]:
    """Rows as inline data, passed through Altair's active data transformer.

    The default transformer keeps its 5,000-row limit (and raises MaxRowsError beyond it): the
    server downsamples histories and curves, so more rows here is a bug upstream, never a reason
    to lift the limit and ship raw points to the browser.
    """
    transform = alt.data_transformers.get()
    data: dict[str, Any] = {"values": [dict(row) for row in rows]}
    return dict(transform(data)) if transform is not None else data


def jitter(i: int) -> float:
    """A deterministic jitter in [-0.5, 0.5) for the i-th dot of a row (golden-ratio sequence)."""
    return ((i * 0.6180339887498949) % 1.0) - 0.5


# Dot rows (every seed a dot): taller than ROW_HEIGHT so that the seeds of a row spread
# vertically over most of its band, and the yOffset domain that maps jitter onto that band.
DOT_ROW_HEIGHT = 56
JITTER_DOMAIN = [-0.8, 0.8]


def jitters(n: int) -> list[float]:
    """Vertical offsets in [-0.5, 0.5] for the n dots of a row: evenly spaced, deterministic.

    The golden-ratio sequence decides the order (neighbouring seeds do not sit on neighbouring
    lines), but the positions are n evenly spaced levels, so 5 seeds are at least 1/4 of the
    spread apart (with DOT_ROW_HEIGHT about 8 px: visibly separate dots, the outermost well
    inside the row) instead of the sequence's own 0.15.
    """
    if n <= 1:
        return [0.0] * n
    ranks = sorted(range(n), key=jitter)
    out = [0.0] * n
    for level, i in enumerate(ranks):
        out[i] = level / (n - 1) - 0.5
    return out


def jitter_offset() -> alt.YOffset:
    """The yOffset channel of the seed dots: the ``jitter`` field across the row's band."""
    return alt.YOffset("jitter:Q", scale=alt.Scale(domain=JITTER_DOMAIN))
