"""The run page's history chart: its URL state, and its spec built once per state of the data.

The spec is cached under a digest of what it is drawn from (`chart_cache`): the shown series'
summaries, their goals and the choices, so a finished run is drawn once and a running one
again only when it has new points.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from server.core.errors import InvalidInput
from server.tracking.batches import MAX_STEP
from server.tracking.models import Run
from server.web import page_selectors
from server.web.chart_cache import cached_spec_json
from server.web.charts import curves
from server.web.compare_views import SMOOTHING_CHOICES
from server.web.specs import chart_spec

X_CHOICES = ("step", "time")
ZOOM_FIELDS = {"min_step": "From step", "max_step": "To step"}
WHOLE_NUMBER = re.compile(r"[0-9]+")  # ASCII digits only: str.isdigit() also takes "²"


def _step_range(request: HttpRequest) -> tuple[int | None, int | None]:
    """?min_step=&max_step= as steps (blank: open-ended); InvalidInput says what is wrong."""
    bounds = []
    for name, label in ZOOM_FIELDS.items():
        raw = request.GET.get(name, "").strip()
        if raw and not (WHOLE_NUMBER.fullmatch(raw) and int(raw) <= MAX_STEP):
            raise InvalidInput(f"{label} must be a whole number from 0 to {MAX_STEP}, not “{raw}”.", field=name)
        bounds.append(int(raw) if raw else None)
    low, high = bounds
    if low is not None and high is not None and low > high:
        raise InvalidInput(f"From step ({low:,}) is after To step ({high:,}).", field="min_step")
    return low, high


@dataclass(frozen=True)
class ChartChoices:
    """The run chart's URL state: x axis, log y, EMA weight and step range (zoom)."""

    x: str
    log: bool
    smooth: str  # one of SMOOTHING_CHOICES, as the form sends it
    min_step: int | None
    max_step: int | None
    zoom_error: str | None  # an invalid range: the chart is drawn unzoomed, the page answers 400

    @classmethod
    def parse(cls, request: HttpRequest) -> ChartChoices:
        x, smooth = request.GET.get("x", "step"), request.GET.get("smooth", "0")
        try:
            (min_step, max_step), error = _step_range(request), None
        except InvalidInput as exc:
            (min_step, max_step), error = (None, None), exc.message
        return cls(
            x=x if x in X_CHOICES else "step",
            log=request.GET.get("log") == "1",
            smooth=smooth if smooth in SMOOTHING_CHOICES else "0",
            min_step=min_step,
            max_step=max_step,
            zoom_error=error,
        )

    @property
    def zoomed(self) -> bool:
        return self.min_step is not None or self.max_step is not None


DEFAULT_CHOICES = ChartChoices(x="step", log=False, smooth="0", min_step=None, max_step=None, zoom_error=None)


def history_spec_json(
    *, run: Run, summaries: Mapping[str, Mapping[str, Any]], keys: Sequence[str], choices: ChartChoices
) -> tuple[page_selectors.RunChartKeys, str | None]:
    """The keys drawn and the chart's spec as JSON text (None when the run logged no key)."""
    charts = page_selectors.run_chart_keys(logged=list(summaries), keys=keys)
    if not charts.shown:
        return charts, None
    goals = {m["key"]: m["goal"] for m in page_selectors.project_metrics(project=run.project)}
    goals = {key: goals[key] for key in charts.shown if key in goals}

    def build() -> dict[str, Any]:
        metrics = page_selectors.run_chart_histories(
            run=run, shown=charts.shown, min_step=choices.min_step, max_step=choices.max_step
        )
        smoothing = float(choices.smooth) or None
        return chart_spec(curves.run_history(metrics, goals=goals, x=choices.x, log_y=choices.log, smoothing=smoothing))

    drawn_from = {
        "run": str(run.uuid),
        "series": {key: summaries[key] for key in charts.shown},
        "goals": goals,
        "choices": [choices.x, choices.log, choices.smooth, choices.min_step, choices.max_step],
    }
    return charts, cached_spec_json("run-history", drawn_from, build)
