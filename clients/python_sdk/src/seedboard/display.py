"""Notebook display of statistics results: a table, and the server's charts.

The charts are the web UI's own, sent by the server as Vega-Lite specs (``include=charts``),
so the SDK draws nothing itself and needs no chart library. A result's
``_repr_mimebundle_`` offers the first chart as ``application/vnd.vegalite.vN+json``
(N: the major version in the spec's ``$schema``), an HTML table as the fallback for
frontends without Vega-Lite, and plain text.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["Chart", "mimebundle", "table_html", "vegalite_mime_type"]

MAX_ROWS = 50


def vegalite_mime_type(spec: Mapping[str, Any]) -> str:
    """``application/vnd.vegalite.v5+json`` for a spec whose ``$schema`` is Vega-Lite v5."""
    found = re.search(r"/vega-lite/v(\d+)", str(spec.get("$schema", "")))
    return f"application/vnd.vegalite.v{found.group(1) if found else 5}+json"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return html.escape(str(value)[:80])
    return html.escape(str(value))


def table_html(records: Sequence[Mapping[str, Any]], columns: Sequence[str], title: str) -> str:
    """An HTML table of the given columns of the records (at most MAX_ROWS rows)."""
    shown = [c for c in columns if any(c in r for r in records)]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in shown)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c in shown) + "</tr>"
        for r in records[:MAX_ROWS]
    )
    more = f"<p>{len(records) - MAX_ROWS} more rows</p>" if len(records) > MAX_ROWS else ""
    return (
        f"<div><p><b>{html.escape(title)}</b></p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}</div>"
    )


def mimebundle(text: str, table: str, charts: Mapping[str, Any] | None) -> dict[str, Any]:
    """The display bundle: plain text, the HTML table, and the first chart when there is one."""
    bundle: dict[str, Any] = {"text/plain": text, "text/html": table}
    for spec in (charts or {}).values():
        if isinstance(spec, Mapping):
            bundle[vegalite_mime_type(spec)] = dict(spec)
            break
    return bundle


class Chart:
    """One of a result's charts (``result.chart(name)``); displays itself in a notebook.

    ``spec`` is the Vega-Lite spec, e.g. for ``altair.Chart.from_dict(chart.spec)``.
    """

    def __init__(self, name: str, spec: Mapping[str, Any]) -> None:
        self.name = name
        self.spec = dict(spec)

    def __repr__(self) -> str:
        return f"<seedboard.Chart {self.name}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": repr(self), vegalite_mime_type(self.spec): self.spec}
