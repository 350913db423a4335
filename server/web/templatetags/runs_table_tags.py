"""Template helpers of the runs table: sortable headers and cell formatting."""

from __future__ import annotations

import json
import math
from typing import Any

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def sort_header(title: str, column: str, ordering: str, links: dict[str, str], css: str = "") -> str:
    """A column header whose link sorts by `column` (descending first), with aria-sort."""
    sort = {column: "ascending", f"-{column}": "descending"}.get(ordering, "none")
    arrow = {"ascending": " ▲", "descending": " ▼"}.get(sort, "")
    return format_html(
        '<th scope="col" class="{}" aria-sort="{}"><a href="{}">{}{}</a></th>', css, sort, links[column], title, arrow
    )


@register.filter
def config_cell(value: Any) -> str:
    """A config value as it was logged: JSON for lists, objects, booleans and null; "—" when absent."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.6g}"
    return json.dumps(value)


@register.filter
def metric_cell(value: Any) -> str:
    """A metric value to 4 significant digits ("NaN", "inf" as they are); "—" when never logged."""
    if value is None:
        return "—"
    if isinstance(value, str):  # the wire format of a non-finite value
        return value
    number = float(value)
    return f"{number:.4g}" if math.isfinite(number) else str(number)
