"""Helpers to read a chart's Vega-Lite dict: its unit views, their marks, encodings and rows."""

from __future__ import annotations

from typing import Any

import altair as alt

from server.web.charts.common import Chart


def spec(chart: Chart) -> dict[str, Any]:
    """The chart's Vega-Lite dict, validated against the Vega-Lite schema (raises if invalid)."""
    out = chart.to_dict(validate=True)
    assert out["$schema"].endswith(f"{alt.SCHEMA_VERSION}.json")
    return out


def units(node: dict[str, Any], inherited: Any = None) -> list[tuple[dict[str, Any], Any]]:
    """Every unit view (one with a mark) with the data it draws (its own, else its parent's)."""
    data = node.get("data", inherited)
    if "mark" in node:
        return [(node, data)]
    out = []
    for key in ("layer", "hconcat", "vconcat", "concat"):
        for child in node.get(key, []):
            out += units(child, data)
    if "spec" in node:
        out += units(node["spec"], data)
    return out


def rows_of(top: dict[str, Any], data: Any) -> list[dict[str, Any]]:
    if data is None:
        return []
    if "values" in data:
        return list(data["values"])
    return list(top.get("datasets", {}).get(data["name"], []))


def mark_type(unit: dict[str, Any]) -> str:
    mark = unit["mark"]
    return mark if isinstance(mark, str) else mark["type"]


def views(top: dict[str, Any]) -> list[tuple[str, dict[str, Any], list[dict[str, Any]]]]:
    """(mark type, encoding, rows) of every unit view."""
    return [(mark_type(u), u.get("encoding", {}), rows_of(top, d)) for u, d in units(top)]


def with_mark(top: dict[str, Any], mark: str) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    return [(enc, rows) for m, enc, rows in views(top) if m == mark]


def color_domains(top: dict[str, Any]) -> list[list[str]]:
    """The explicit domains of every colour scale on a ``label`` field."""
    out = []
    for _, enc, _ in views(top):
        color = enc.get("color", {})
        if color.get("field") == "label" and "scale" in color:
            out.append(color["scale"]["domain"])
    return out


def axis_titles(top: dict[str, Any], channel: str) -> set[str]:
    return {enc[channel]["title"] for _, enc, _ in views(top) if channel in enc and enc[channel].get("title")}


def texts(top: dict[str, Any]) -> list[str]:
    """Every text a text mark draws from a field called note, message or text."""
    out = []
    for mark, enc, rows in views(top):
        if mark == "text" and "field" in enc.get("text", {}):
            field = enc["text"]["field"]
            out += [str(r[field]) for r in rows if r.get(field) is not None]
    return out
