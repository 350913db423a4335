"""The run page and the JSON its script polls while the run is running.

Access is the API's: `tracking.selectors.run_get` with the signed-in user, so another team's
run is a 404 page. Histories are downsampled on the server (`page_selectors.run_chart_histories`)
and the chart's spec is cached under a digest of what it is drawn from (`chart_cache`); a zoom
(?min_step=&max_step=, set by brushing the chart, see static/web/zoom.js) asks the server for
that step range, so it comes at full resolution up to the same point cap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from server.core.errors import InvalidInput, NotFound
from server.tracking.batches import MAX_STEP
from server.tracking.models import Run
from server.tracking.selectors import run_get, run_metric_summaries
from server.web import page_selectors
from server.web.chart_cache import cached_spec_json
from server.web.charts import curves
from server.web.compare_views import SMOOTHING_CHOICES
from server.web.specs import chart_spec
from server.web.views import _page, _user

X_CHOICES = ("step", "time")
ZOOM_FIELDS = {"min_step": "From step", "max_step": "To step"}
WHOLE_NUMBER = re.compile(r"[0-9]+")  # ASCII digits only: str.isdigit() also takes "²"


def _run(request: HttpRequest, run_id: str) -> Run:
    try:
        return run_get(user=_user(request), run_id=run_id)
    except NotFound as exc:  # another team's run or none: 404, as the API answers
        raise Http404(exc.message) from exc


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


def _unzoomed_query(request: HttpRequest) -> str:
    query = request.GET.copy()
    for name in ZOOM_FIELDS:
        query.pop(name, None)
    return query.urlencode()


@require_GET
@login_required
def run(request: HttpRequest, run_id: str) -> HttpResponse:
    found = _run(request, run_id)
    choices = ChartChoices.parse(request)
    summaries = run_metric_summaries(run=found)
    charts = page_selectors.run_chart_keys(logged=list(summaries), keys=request.GET.getlist("key"))
    goals = {m["key"]: m["goal"] for m in page_selectors.project_metrics(project=found.project)}
    goals = {k: goals[k] for k in charts.shown if k in goals}

    def history_spec() -> dict[str, Any]:
        metrics = page_selectors.run_chart_histories(
            run=found, shown=charts.shown, min_step=choices.min_step, max_step=choices.max_step
        )
        return chart_spec(
            curves.run_history(
                metrics, goals=goals, x=choices.x, log_y=choices.log, smoothing=float(choices.smooth) or None
            )
        )

    drawn_from = {
        "run": str(found.uuid),
        "series": {key: summaries[key] for key in charts.shown},
        "goals": goals,
        "choices": [choices.x, choices.log, choices.smooth, choices.min_step, choices.max_step],
    }
    return _page(
        request,
        "web/run.html",
        {
            "run": found,
            "choices": choices,
            "smoothing_choices": SMOOTHING_CHOICES,
            "zoom_input": {name: request.GET.get(name, "").strip() for name in ZOOM_FIELDS},  # as typed
            "zoom_param": curves.ZOOM_PARAM if choices.x == "step" else None,
            "unzoomed_query": _unzoomed_query(request),
            "charts": charts,
            "chosen": request.GET.getlist("key"),
            "history_spec": cached_spec_json("run-history", drawn_from, history_spec) if charts.shown else None,
            "config": page_selectors.config_tree(found.config),
            "metadata": page_selectors.config_tree(found.metadata),
            "summary": sorted(found.summary.items()) if isinstance(found.summary, dict) else [],
            "metric_summaries": summaries,
            "status_state": page_selectors.run_status(run=found, summaries=summaries),
        },
        status=400 if choices.zoom_error else 200,
    )


@require_GET
@login_required
def run_status(request: HttpRequest, run_id: str) -> JsonResponse:
    """Status, last step per key and points stored: the run page reloads its charts when they change."""
    return JsonResponse(page_selectors.run_status(run=_run(request, run_id)))
