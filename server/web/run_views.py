"""The run page and the JSON its script polls while the run is running.

Access is the API's: `tracking.selectors.run_get` with the signed-in user, so another team's
run is a 404 page. Histories are downsampled on the server (`page_selectors.run_charts`).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from server.core.errors import NotFound
from server.tracking.models import Run
from server.tracking.selectors import run_get, run_metric_summaries
from server.web import page_selectors
from server.web.charts import curves
from server.web.views import _page, _user

X_CHOICES = ("step", "time")


def _run(request: HttpRequest, run_id: str) -> Run:
    try:
        return run_get(user=_user(request), run_id=run_id)
    except NotFound as exc:  # another team's run or none: 404, as the API answers
        raise Http404(exc.message) from exc


@require_GET
@login_required
def run(request: HttpRequest, run_id: str) -> HttpResponse:
    found = _run(request, run_id)
    x = request.GET.get("x", "step")
    x = x if x in X_CHOICES else "step"
    charts = page_selectors.run_charts(run=found, keys=request.GET.getlist("key"))
    goals = {m["key"]: m["goal"] for m in page_selectors.project_metrics(project=found.project)}
    spec = curves.run_history(charts.metrics, goals={k: goals[k] for k in charts.shown if k in goals}, x=x)
    return _page(
        request,
        "web/run.html",
        {
            "run": found,
            "x": x,
            "charts": charts,
            "chosen": request.GET.getlist("key"),
            "history_spec": spec.to_dict() if charts.shown else None,
            "config": page_selectors.config_tree(found.config),
            "summary": sorted(found.summary.items()) if isinstance(found.summary, dict) else [],
            "metric_summaries": run_metric_summaries(run=found),
            "status_state": page_selectors.run_status(run=found),
        },
    )


@require_GET
@login_required
def run_status(request: HttpRequest, run_id: str) -> JsonResponse:
    """Status, last step per key and points stored: the run page reloads its charts when they change."""
    return JsonResponse(page_selectors.run_status(run=_run(request, run_id)))
