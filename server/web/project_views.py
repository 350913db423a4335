"""A project's variants, seeds and hyperparameters tabs.

Thin views: each parses its query string (metric, task, model, param, delta: the page's state),
reads the per-variant statistics exactly as the API's variants endpoint does (queueing their
computation when the metric has none), the tuning endpoint's record, and the power plans through
`page_selectors`, and hands the blocks to the chart builders in server/web/charts/.
"""

from __future__ import annotations

import math
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from server.core.errors import InvalidInput, NotFound
from server.tracking.models import Project
from server.tracking.selectors import project_get
from server.web import page_selectors
from server.web.charts import distributions, hyperparameters, seeds
from server.web.views import _page, _user


def _project(request: HttpRequest, team: str, project: str) -> Project:
    try:
        return project_get(user=_user(request), team_slug=team, project_slug=project)
    except NotFound as exc:  # another team's project: 404, as the API answers
        raise Http404(exc.message) from exc


def _state(request: HttpRequest, project: Project, tab: str) -> dict[str, Any]:
    """The tab's common state: the metric choices, the chosen metric (default: the first) and task,
    and the statistics of that metric (None without metrics; `error` for a metric the project lacks)."""
    metrics = page_selectors.project_metrics(project=project)
    keys = [m["key"] for m in metrics]
    metric = request.GET.get("metric") or (keys[0] if keys else "")
    task = request.GET.get("task") or None
    state: dict[str, Any] = {"project": project, "tab": tab, "metrics": keys, "metric": metric, "task": task or ""}
    state["stats"], state["error"] = None, None
    if metric:
        try:
            state["stats"] = page_selectors.variant_stats(project=project, metric=metric, task=task)
        except InvalidInput as exc:
            state["error"] = exc.message
    return state


def _labels(blocks: list[dict[str, Any]]) -> dict[str, str]:
    return {str(b.get("variant", "")): str(b.get("label") or b.get("variant", "")) for b in blocks}


@require_GET
@login_required
def variants(request: HttpRequest, team: str, project: str) -> HttpResponse:
    state = _state(request, _project(request, team, project), "variants")
    stats = state["stats"]
    blocks = stats.results if stats else []
    state["blocks"] = blocks
    state["final_spec"] = (
        distributions.final_scores(blocks, metric=stats.metric, goal=stats.goal, labels=_labels(blocks)).to_dict()
        if stats
        else None
    )
    return _page(request, "web/variants.html", state, status=400 if state["error"] else 200)


def _delta(request: HttpRequest) -> tuple[float | None, str]:
    raw = request.GET.get("delta", "").strip()
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None, raw
    return (value if value is not None and math.isfinite(value) and value > 0 else None), raw


@require_GET
@login_required
def seeds_page(request: HttpRequest, team: str, project: str) -> HttpResponse:
    state = _state(request, _project(request, team, project), "seeds")
    stats = state["stats"]
    blocks = stats.results if stats else []
    delta, raw = _delta(request)
    state.update(
        blocks=blocks,
        delta=delta,
        delta_raw=raw,
        delta_invalid=bool(raw) and delta is None,
        plans=page_selectors.seed_plans(blocks=blocks, delta=delta),
        spread_spec=seeds.seed_spread(blocks, metric=stats.metric, labels=_labels(blocks)).to_dict() if stats else None,
    )
    return _page(request, "web/seeds.html", state, status=400 if state["error"] else 200)


@require_GET
@login_required
def hyperparameters_page(request: HttpRequest, team: str, project: str) -> HttpResponse:
    found = _project(request, team, project)
    state = _state(request, found, "hyperparameters")
    stats = state["stats"]
    model = request.GET.get("model", "")
    all_blocks = stats.results if stats else []
    models = sorted({str(b.get("model") or "") for b in all_blocks})
    blocks = [b for b in all_blocks if not model or b.get("model") == model]
    params = page_selectors.numeric_params(blocks)
    param = request.GET.get("param", "")
    param = param if param in params else (params[0] if params else "")
    state.update(models=models, model=model, params=params, param=param, blocks=blocks)
    state["parallel_spec"] = state["effect_spec"] = state["tuning_spec"] = None
    state["tuning_error"] = None
    if stats:
        state["parallel_spec"] = hyperparameters.parallel_coordinates(
            blocks, params=params, metric=stats.metric, goal=stats.goal
        ).to_dict()
        if param:
            state["effect_spec"] = hyperparameters.hyperparameter_effect(
                blocks, param=param, metric=stats.metric, goal=stats.goal
            ).to_dict()
        tuning, state["tuning_error"] = page_selectors.tuning(
            project=found, metric=stats.metric, model=model or None, task=state["task"] or None
        )
        if tuning is not None:
            state["tuning_spec"] = hyperparameters.tuning_curve(tuning).to_dict()
    return _page(request, "web/hyperparameters.html", state, status=400 if state["error"] else 200)
