"""A project's tabs: runs, variants, seeds and hyperparameters.

Thin views: each parses its query string (metric, task, model, param, delta: the page's state),
reads the per-variant statistics exactly as the API's variants endpoint does (queueing their
computation when the metric has none), the tuning endpoint's record, and the power plans through
`page_selectors`, and hands the blocks to the chart builders in server/web/charts/.
"""

from __future__ import annotations

import math
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.views.decorators.http import require_GET

from server.core.errors import InvalidInput, NotFound, error_body
from server.tracking.models import Project, Run
from server.tracking.selectors import metric_keys_parse, project_get
from server.web import page_selectors, runs_table
from server.web.charts import distributions, hyperparameters, seeds
from server.web.specs import chart_spec
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


def _query(request: HttpRequest, **changes: str | None) -> str:
    """This page's query string with some parameters replaced (None: removed)."""
    query = request.GET.copy()
    for name, value in changes.items():
        query.pop(name, None)
        if value is not None:
            query[name] = value
    return f"?{query.urlencode()}"


@require_GET
@login_required
def runs(request: HttpRequest, team: str, project: str) -> HttpResponse:
    """The runs table (runs_table.py): filters, sort, metric and config columns, cursor pages."""
    found = _project(request, team, project)
    metric_keys = [m["key"] for m in page_selectors.project_metrics(project=found)]
    config_paths = runs_table.project_config_paths(project=found)
    state = runs_table.table_state(request.GET, metric_keys=metric_keys, config_paths=config_paths)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{found.team.slug}-{found.slug}-runs.csv"'
        try:
            runs_table.table_csv(project=found, state=state, out=response)
        except InvalidInput as exc:
            return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
        return response
    try:
        page, error = runs_table.table_page(project=found, state=state), None
    except InvalidInput as exc:  # a filter, ordering or cursor the API would refuse: say which
        page, error = runs_table.TablePage(rows=[], next_cursor=None), exc.message
    sort_links = {
        column: _query(request, ordering=ordering, cursor=None)
        for column, ordering in runs_table.ordering_links(state).items()
    }
    context = {
        "project": found,
        "state": state,
        "page": page,
        "error": error,
        "metric_keys": metric_keys,
        "config_paths": sorted(set(config_paths) | set(state.columns)),
        "page_sizes": runs_table.PAGE_SIZES,
        "sort_links": sort_links,
        "next_link": _query(request, cursor=page.next_cursor) if page.next_cursor else None,
        "first_link": _query(request, cursor=None) if state.cursor else None,
        "csv_link": _query(request, cursor=None, format="csv"),
        "api_link": None if error else "/api/v1/runs/" + _api_query(found, state),
        "plain_filters": {name: state.params.get(name, [""])[0] for name in ("status", "model", "task", "tag", "name")},
        "statuses": Run.Status.values,
        "running": any(row.run.status == "running" for row in page.rows),
    }
    return _page(request, "web/project.html", context, status=400 if error else 200)


def _api_query(project: Project, state: runs_table.TableState) -> str:
    """The runs list API request behind the table (its JSON, one link away)."""
    query = QueryDict(mutable=True)
    query["project"] = project.path
    for name, values in state.filters().items():
        query.setlist(name, values)
    query["ordering"] = state.ordering
    if state.metrics:
        query["metrics"] = ",".join(state.metrics)
    query["page_size"] = str(state.page_size)
    return f"?{query.urlencode()}"


@require_GET
@login_required
def runs_live(request: HttpRequest, team: str, project: str) -> JsonResponse:
    """Status and the chosen metrics' summaries of the listed runs (?run=...&metrics=...): the
    runs table polls it for its running rows and updates them in place."""
    found = _project(request, team, project)
    try:
        rows = runs_table.live_rows(
            project=found, run_ids=request.GET.getlist("run"), metrics=metric_keys_parse(request.GET.getlist("metrics"))
        )
    except InvalidInput as exc:
        return JsonResponse(error_body(exc.code, exc.message, exc.field), status=exc.status)
    return JsonResponse({"runs": rows})


def _labels(blocks: list[dict[str, Any]]) -> dict[str, str]:
    return {str(b.get("variant", "")): str(b.get("label") or b.get("variant", "")) for b in blocks}


@require_GET
@login_required
def variants(request: HttpRequest, team: str, project: str) -> HttpResponse:
    state = _state(request, _project(request, team, project), "variants")
    stats = state["stats"]
    blocks = stats.results if stats else []
    state["blocks"] = page_selectors.variant_rows(blocks)
    state["final_spec"] = (
        chart_spec(distributions.final_scores(blocks, metric=stats.metric, goal=stats.goal, labels=_labels(blocks)))
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
        spread_spec=chart_spec(seeds.seed_spread(blocks, metric=stats.metric, labels=_labels(blocks)))
        if stats
        else None,
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
        state["parallel_spec"] = chart_spec(
            hyperparameters.parallel_coordinates(blocks, params=params, metric=stats.metric, goal=stats.goal)
        )
        if param:
            state["effect_spec"] = chart_spec(
                hyperparameters.hyperparameter_effect(blocks, param=param, metric=stats.metric, goal=stats.goal)
            )
        tuning, state["tuning_error"] = page_selectors.tuning(
            project=found, metric=stats.metric, model=model or None, task=state["task"] or None
        )
        if tuning is not None:
            state["tuning_spec"] = chart_spec(hyperparameters.tuning_curve(tuning))
    return _page(request, "web/hyperparameters.html", state, status=400 if state["error"] else 200)
