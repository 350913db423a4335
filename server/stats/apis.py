"""HTTP adapters of the statistics API (docs/statistics-api.md): parse, call, shape the output."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from server.accounts.authentication import request_user
from server.core.api import ERRORS, FileDownloadNegotiation, checked
from server.core.errors import InvalidInput
from server.core.pagination import keyset_page, next_link
from server.stats import selectors, services
from server.stats.models import Comparison, MetricDefinition
from server.stats.scores import metric_rule
from server.stats.serializers import (
    MAX_CURVE_POINTS,
    MAX_TUNING_GRID,
    ComparisonCreateInput,
    ComparisonListQuery,
    ComparisonOutput,
    ComparisonPageOutput,
    CurvesOutput,
    CurvesQuery,
    MetricDefinitionInput,
    MetricDefinitionListOutput,
    MetricDefinitionOutput,
    TuningOutput,
    TuningQuery,
    VariantStatsOutput,
    VariantStatsQuery,
)
from server.tracking import exports
from server.tracking import selectors as tracking_selectors
from server.tracking.downloads import EXPORT_DESCRIPTION, EXPORT_PARAMETERS, EXPORT_RESPONSES, export_response
from server.web import api_charts

METRIC_PARAMETER = OpenApiParameter("metric", str, required=True, description="A metric key, e.g. `val/acc`.")
TASK_PARAMETER = OpenApiParameter("task", str, description="Only this task ('' for runs without one).")
INCLUDE_PARAMETER = OpenApiParameter(
    "include", str, enum=["charts"], description="charts: add `charts`, the web UI's Vega-Lite specs of the result."
)


def _checked_and_rest(serializer_class: type, request: Request) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The query parameters `serializer_class` declares, checked, and the others as lists (run filters)."""
    own = request.query_params.copy()
    rest = {name: own.pop(name) for name in list(own) if name not in serializer_class().fields}
    return checked(serializer_class, own), rest


def _time(value: datetime | None) -> str | None:
    return None if value is None else serializers.DateTimeField().to_representation(value)


def _definition(definition: MetricDefinition) -> dict[str, Any]:
    return {
        "key": definition.key,
        "goal": definition.goal,
        "summary": definition.summary,
        "k": definition.k,
        "step": definition.step,
        "declared": True,
    }


def _comparison(comparison: Comparison, *, full: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(comparison.uuid),
        "status": comparison.status,
        "metric": comparison.metric,
        "projects": [project.path for project in comparison.projects.all()],
        "task": comparison.task,
        "selection": {"variants": comparison.variants, "models": comparison.model_names},
        "baseline": comparison.baseline,
        "normalize": comparison.normalize,
        "created_at": _time(comparison.created_at),
        "computed_at": _time(comparison.computed_at),
    }
    if full:
        payload = comparison.payload or {}
        body.update(
            goal=payload.get("goal"),
            summary=payload.get("summary"),
            k=payload.get("k"),
            step=payload.get("step"),
            method_version=comparison.method_version or None,
            bootstrap_seed=comparison.bootstrap_seed,
            error=comparison.error or None,
            tasks=payload.get("tasks", []),
            warnings=payload.get("warnings", []),
            variants=payload.get("variants", []),
            pairs=payload.get("pairs", []),
            ranking=payload.get("ranking"),
            benchmark=payload.get("benchmark"),
        )
    return body


class MetricDefinitionsApi(APIView):
    @extend_schema(operation_id="metric_definitions_list", responses={200: MetricDefinitionListOutput, **ERRORS})
    def get(self, request: Request, team: str, project: str) -> Response:
        found = tracking_selectors.project_get(user=request_user(request), team_slug=team, project_slug=project)
        return Response({"results": selectors.metric_definitions_list(project=found)})

    @extend_schema(
        operation_id="metric_definitions_set",
        request=MetricDefinitionInput,
        responses={200: MetricDefinitionOutput, **ERRORS},
        description="Declare a metric's goal and summary rule; a changed rule recomputes its statistics.",
    )
    def put(self, request: Request, team: str, project: str) -> Response:
        data = checked(MetricDefinitionInput, request.data)
        found = tracking_selectors.project_get(
            user=request_user(request), team_slug=team, project_slug=project, write=True
        )
        return Response(_definition(services.metric_definition_set(project=found, **data)))


class VariantStatsApi(APIView):
    @extend_schema(
        operation_id="variant_stats_list",
        parameters=[METRIC_PARAMETER, TASK_PARAMETER, INCLUDE_PARAMETER],
        responses={200: VariantStatsOutput, **ERRORS},
        description=(
            "Per-variant seed statistics of one metric, maintained by the workers. `status` says whether "
            "they are fresh; the first request for a metric queues its computation."
        ),
    )
    def get(self, request: Request, team: str, project: str) -> Response:
        query = checked(VariantStatsQuery, request.query_params)
        found = tracking_selectors.project_get(user=request_user(request), team_slug=team, project_slug=project)
        stats = services.metric_stats_ensure(project=found, metric=query["metric"])
        results = selectors.variant_stats_results(stats=stats, task=query.get("task"))
        charts = (
            {"charts": api_charts.variant_stats_charts(results, metric=stats.metric, goal=stats.goal)}
            if query.get("include") == "charts"
            else {}
        )
        return Response(
            {
                **charts,
                "metric": stats.metric,
                "goal": stats.goal,
                "summary": stats.summary,
                "k": stats.k,
                "step": stats.step,
                "status": stats.status,
                "computed_at": _time(stats.computed_at),
                "method_version": stats.method_version or None,
                "bootstrap_seed": stats.bootstrap_seed,
                "error": stats.error or None,
                "results": results,
            }
        )


class CurvesApi(APIView):
    @extend_schema(
        operation_id="curves_aggregate",
        parameters=[
            METRIC_PARAMETER,
            OpenApiParameter("variant", str, many=True, description="Fingerprints; none: every variant."),
            TASK_PARAMETER,
            OpenApiParameter("points", int, description=f"Grid points per curve, 2-{MAX_CURVE_POINTS}, default 200."),
            INCLUDE_PARAMETER,
        ],
        responses={200: CurvesOutput, **ERRORS},
        description="Learning curves of variants over their finished runs (at most 200 runs per request). A metric no "
        "run of the project logged answers 404 `unknown_metric`, naming the closest keys.",
    )
    def get(self, request: Request, team: str, project: str) -> Response:
        query = checked(CurvesQuery, request.query_params)
        found = tracking_selectors.project_get(user=request_user(request), team_slug=team, project_slug=project)
        curves = selectors.curves_aggregate(
            project=found,
            metric=query["metric"],
            variants=query.get("variant", []),
            task=query.get("task"),
            points_per_curve=query["points"],
        )
        body: dict[str, Any] = {"metric": query["metric"], "curves": curves}
        if query.get("include") == "charts":
            goal = metric_rule(project_id=found.pk, metric=query["metric"]).goal
            body["charts"] = api_charts.curves_charts(curves, metric=query["metric"], goal=goal)
        return Response(body)


class TuningApi(APIView):
    @extend_schema(
        operation_id="tuning_budget",
        parameters=[
            METRIC_PARAMETER,
            OpenApiParameter(
                "per", str, enum=["run", "variant"], description="One trial: a run (default) or a variant."
            ),
            OpenApiParameter(
                "max_trials", int, description=f"The curve for n = 1..max_trials, at most {MAX_TUNING_GRID}."
            ),
            *[OpenApiParameter(name, str, description="Run filter.") for name in ("model", "task", "tag", "name")],
            OpenApiParameter("variant", str, description="Run filter: a variant fingerprint."),
            OpenApiParameter("seed", int, description="Run filter."),
            OpenApiParameter(
                "config.<path>[__op]",
                str,
                description="Run filter, e.g. `config.optimizer.lr__gt=0.01`; op: exact, ne, gt, gte, lt, lte, in.",
            ),
        ],
        responses={200: TuningOutput, **ERRORS},
        description=(
            "Expected best validation score against the number of hyperparameter trials (Dodge et al. 2019) "
            f"over the runs the filters select, on one task (at most {selectors.MAX_TUNING_RUNS} runs)."
        ),
    )
    def get(self, request: Request, team: str, project: str) -> Response:
        query, run_filters = _checked_and_rest(TuningQuery, request)
        found = tracking_selectors.project_get(user=request_user(request), team_slug=team, project_slug=project)
        return Response(selectors.tuning_curve(project=found, run_filters=run_filters, **query))


class ComparisonListCreateApi(APIView):
    @extend_schema(
        operation_id="comparisons_list",
        parameters=[
            OpenApiParameter("project", str, description="'team/project': only comparisons including it."),
            OpenApiParameter("cursor", str, description="The cursor from the previous page's `next` link."),
            OpenApiParameter("page_size", int, description="1-500, default 50."),
        ],
        responses={200: ComparisonPageOutput, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = checked(ComparisonListQuery, request.query_params)
        user = request_user(request)
        project = None
        if "project" in query:
            team_slug, project_slug = tracking_selectors.project_path_split(query["project"])
            project = tracking_selectors.project_get(user=user, team_slug=team_slug, project_slug=project_slug)
        page, cursor = keyset_page(
            selectors.comparison_list(user=user, project=project),
            descending=True,
            cursor=query.get("cursor"),
            page_size=query["page_size"],
        )
        return Response(
            {"next": next_link(request, cursor), "results": [_comparison(item, full=False) for item in page]}
        )

    @extend_schema(
        operation_id="comparisons_create",
        request=ComparisonCreateInput,
        responses={202: ComparisonOutput, **ERRORS},
        description="Save a comparison; its statistics are computed by a worker (poll its `status`).",
    )
    def post(self, request: Request) -> Response:
        data = checked(ComparisonCreateInput, request.data)
        comparison = services.comparison_create(user=request_user(request), **data)
        return Response(_comparison(comparison, full=True), status=202)


class ComparisonDetailApi(APIView):
    @extend_schema(
        operation_id="comparisons_retrieve",
        parameters=[OpenApiParameter("comparison_id", OpenApiTypes.UUID, OpenApiParameter.PATH), INCLUDE_PARAMETER],
        responses={200: ComparisonOutput, **ERRORS},
    )
    def get(self, request: Request, comparison_id: str) -> Response:
        include = request.query_params.get("include")
        if include not in (None, "charts"):
            raise InvalidInput(f"include: 'charts', got {include[:40]!r}", field="include")
        comparison = selectors.comparison_get(user=request_user(request), comparison_id=comparison_id)
        body = _comparison(services.comparison_current(comparison=comparison), full=True)
        if include == "charts":
            body["charts"] = api_charts.comparison_charts(comparison.payload or {}, metric=comparison.metric)
        return Response(body)


class ComparisonExportApi(APIView):
    content_negotiation_class = FileDownloadNegotiation

    @extend_schema(
        operation_id="comparisons_export",
        parameters=[OpenApiParameter("comparison_id", OpenApiTypes.UUID, OpenApiParameter.PATH), *EXPORT_PARAMETERS],
        responses=EXPORT_RESPONSES,
        description=EXPORT_DESCRIPTION + " Runs: those of the comparison's variants (or models) and task.",
    )
    def get(self, request: Request, comparison_id: str) -> StreamingHttpResponse:
        fmt = exports.format_parse(request.query_params.get("format", "csv"))
        comparison = selectors.comparison_get(user=request_user(request), comparison_id=comparison_id)
        export = exports.export_prepare(
            runs=selectors.comparison_runs(comparison=comparison), keys=request.query_params.getlist("key")
        )
        return export_response(export, fmt, f"comparison-{comparison.uuid}")
