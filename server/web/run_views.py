"""The run page and the JSON its script polls while the run is running.

Access is the API's: `tracking.selectors.run_get` with the signed-in user, so another team's
run is a 404 page. Histories are downsampled on the server (`page_selectors.run_chart_histories`)
and the chart's spec is cached under a digest of what it is drawn from (`chart_cache`); a zoom
(?min_step=&max_step=, set by brushing the chart, see static/web/zoom.js) asks the server for
that step range, so it comes at full resolution up to the same point cap.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from server.core.errors import NotFound
from server.tracking.models import Run
from server.tracking.selectors import run_get, run_metric_summaries
from server.web import page_selectors, run_chart
from server.web.charts import curves
from server.web.compare_views import SMOOTHING_CHOICES
from server.web.run_chart import ZOOM_FIELDS, ChartChoices
from server.web.views import _page, _user


def _run(request: HttpRequest, run_id: str) -> Run:
    try:
        return run_get(user=_user(request), run_id=run_id)
    except NotFound as exc:  # another team's run or none: 404, as the API answers
        raise Http404(exc.message) from exc


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
    charts, history_spec = run_chart.history_spec_json(
        run=found, summaries=summaries, keys=request.GET.getlist("key"), choices=choices
    )
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
            "history_spec": history_spec,
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
