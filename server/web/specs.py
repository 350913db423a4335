"""Vega-Lite specs built with Altair from plain records (no Django), for the pages' charts.

The comparison charts live in server/web/charts/; this module holds the foundation's own small
charts. A view passes `spec` to its template, which renders it with `json_script` and a
`data-chart` element that static/web/charts.js draws.
"""

from __future__ import annotations

from typing import Any

import altair as alt


def chart_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's Vega-Lite spec for a page. Not validated against the Vega-Lite schema here:
    that took a third of a page's time; every builder's output is validated by its unit tests
    in tests/web_charts/ instead."""
    return dict(chart.to_dict(validate=False))


def runs_per_project_spec(records: list[dict[str, Any]]) -> dict[str, Any]:
    """A horizontal bar per project: how many runs it holds. Records: {"project": str, "runs": int}."""
    chart = (
        alt.Chart(alt.Data(values=records))
        .mark_bar()
        .encode(
            x=alt.X("runs:Q", title="runs", axis=alt.Axis(format="d", tickMinStep=1)),
            y=alt.Y("project:N", title=None, sort="-x"),
            tooltip=[alt.Tooltip("project:N"), alt.Tooltip("runs:Q")],
        )
        .properties(width="container")  # the page's heading titles it
    )
    return chart_spec(chart)
