"""HTTP adapters of the tracking API: parse, call one service or selector, shape the output."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from server.accounts.authentication import request_user
from server.accounts.models import Visibility
from server.accounts.selectors import Need, team_get_for
from server.core.api import ERRORS, FileDownloadNegotiation, checked
from server.core.errors import InvalidInput
from server.core.pagination import keyset_page, next_link
from server.core.serializers import ErrorSerializer
from server.stats import changes
from server.tracking import exports, filters, selectors, services
from server.tracking.batches import batch_parse
from server.tracking.downloads import EXPORT_DESCRIPTION, EXPORT_PARAMETERS, EXPORT_RESPONSES, export_response
from server.tracking.models import Project, Run
from server.tracking.points import floats_to_wire
from server.tracking.serializers import (
    HistoryQuery,
    MetricBatchInput,
    MetricBatchOutput,
    ProjectCreateInput,
    ProjectHistoryOutput,
    ProjectOutput,
    ProjectPageOutput,
    ProjectUpdateInput,
    RunCreateInput,
    RunDetailOutput,
    RunHistoryOutput,
    RunListOutput,
    RunOutput,
    RunPageOutput,
    RunResumeInput,
    RunResumeOutput,
    RunUpdateInput,
    VariantOutput,
    VariantPageOutput,
)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

RUN_FILTER_PARAMETERS = [
    OpenApiParameter("status", str, enum=Run.Status.values),
    OpenApiParameter("model", str),
    OpenApiParameter("task", str),
    OpenApiParameter("tag", str),
    OpenApiParameter("name", str),
    OpenApiParameter("variant", str, description="Variant fingerprint."),
    OpenApiParameter("seed", int),
    # Free-form: an object exploded into one query parameter per property, so the schema (and
    # the fuzzer reading it) covers any `config.<path>[__op]` name, lookups-like ones included.
    OpenApiParameter(
        "config",
        {
            "type": "object",
            "additionalProperties": {"type": "string"},
        },
        style="form",
        explode=True,
        description="Config filters, one parameter each: `config.<dotted.path>[__op]=<value>`, e.g. "
        "`config.optimizer.lr__gt=0.01`; op: exact (default), ne, gt, gte, lt, lte (a finite number), "
        f"in (comma separated, at most {filters.MAX_IN_VALUES}). Values are JSON when they parse, else text.",
    ),
]
PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="The cursor from the previous page's `next` link."),
    OpenApiParameter("page_size", int, description=f"1-{MAX_PAGE_SIZE}, default {DEFAULT_PAGE_SIZE}."),
    OpenApiParameter("limit", int, description="An alias of page_size (page_size wins when both are given)."),
]
HISTORY_PARAMETERS = [
    OpenApiParameter(
        "max_points",
        int,
        description="Downsample each series to at most this many points: the lowest and highest point of each "
        "aligned power-of-two bucket of steps, and the first and last points.",
    ),
    OpenApiParameter("min_step", int),
    OpenApiParameter("max_step", int),
]


def _page_size(request: Request) -> int:
    # `limit` is an alias: the SDK's runs(limit=...) reads like it, and newcomers try it first.
    raw = request.query_params.get("page_size") or request.query_params.get("limit") or str(DEFAULT_PAGE_SIZE)
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page_size: an integer from 1 to {MAX_PAGE_SIZE}", field="page_size")
    return int(raw)


def _series(history: selectors.History) -> dict[str, Any]:
    return {
        "step": history.series.steps.tolist(),
        "value": floats_to_wire(history.series.values),
        "time": history.series.times.tolist(),
        "count": history.count,
        "downsampled": history.downsampled,
    }


def _project_of_query(request: Request) -> Project:
    """The project `?project=team/project` names, if the caller may read it (else 404)."""
    path = request.query_params.get("project")
    if not path:
        raise InvalidInput("project: required, as 'team/project'", field="project")
    team_slug, project_slug = selectors.project_path_split(path)
    return selectors.project_get(user=request_user(request), team_slug=team_slug, project_slug=project_slug)


class ProjectListCreateApi(APIView):
    @extend_schema(operation_id="projects_list", responses={200: ProjectPageOutput, **ERRORS})
    def get(self, request: Request) -> Response:
        projects = selectors.project_list(user=request_user(request))
        return Response({"next": None, "results": ProjectOutput(projects, many=True).data})

    @extend_schema(
        operation_id="projects_create",
        request=ProjectCreateInput,
        responses={201: ProjectOutput, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = checked(ProjectCreateInput, request.data)
        # Sharing with the whole instance is the admins' decision, at creation as later.
        need: Need = "admin" if data["visibility"] == Visibility.INTERNAL else "write"
        team = team_get_for(user=request_user(request), slug=data.pop("team"), need=need)
        project = services.project_create(team=team, **data)
        return Response(ProjectOutput(project).data, status=201)


class ProjectDetailApi(APIView):
    @extend_schema(operation_id="projects_retrieve", responses={200: ProjectOutput, **ERRORS})
    def get(self, request: Request, team: str, project: str) -> Response:
        found = selectors.project_get(user=request_user(request), team_slug=team, project_slug=project)
        return Response(ProjectOutput(found).data)

    @extend_schema(operation_id="projects_update", request=ProjectUpdateInput, responses={200: ProjectOutput, **ERRORS})
    def patch(self, request: Request, team: str, project: str) -> Response:
        data = checked(ProjectUpdateInput, request.data)
        user = request_user(request)
        visibility = data.pop("visibility", None)
        found = selectors.project_get(
            user=user, team_slug=team, project_slug=project, write=True, admin=visibility is not None
        )
        if visibility is not None:
            services.project_visibility_set(project=found, visibility=visibility, actor=user, request=request)
        if data:
            found = changes.project_update(project=found, fields=data)
        return Response(ProjectOutput(found).data)

    @extend_schema(operation_id="projects_destroy", responses={204: None, **ERRORS})
    def delete(self, request: Request, team: str, project: str) -> Response:
        user = request_user(request)
        found = selectors.project_get(user=user, team_slug=team, project_slug=project, admin=True)
        changes.project_delete(project=found, actor=user, request=request)
        return Response(status=204)


class RunListCreateApi(APIView):
    @extend_schema(
        operation_id="runs_list",
        parameters=[
            OpenApiParameter("project", str, required=True, description="'team/project'"),
            *RUN_FILTER_PARAMETERS,
            OpenApiParameter(
                "ordering",
                str,
                description="created_at, name, seed, status or metric:<key>[:last|min|max|count]; '-' for descending.",
            ),
            OpenApiParameter(
                "metrics",
                str,
                many=True,
                description="Metric keys whose summaries each run of the page carries in `metrics` (the shape "
                "of a run's detail): comma separated and/or repeated, at most "
                f"{selectors.MAX_KEYS_PER_HISTORY}. Without it runs have no `metrics` field.",
            ),
            *PAGE_PARAMETERS,
        ],
        responses={200: RunPageOutput, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        project = _project_of_query(request)
        ordering = filters.ordering_parse(request.query_params.get("ordering"))
        named = request.query_params.getlist("metrics")
        keys = selectors.metric_keys_parse(named) if named else None
        runs = filters.runs_filter(
            selectors.run_list(project=project, ordering=ordering), dict(request.query_params.lists())
        )
        page, cursor = keyset_page(
            runs,
            descending=ordering.descending,
            cursor=request.query_params.get("cursor"),
            page_size=_page_size(request),
        )
        summaries = (
            None if keys is None else selectors.run_metric_summaries_for(run_pks=[r.pk for r in page], keys=keys)
        )
        results = RunListOutput(page, many=True, context={"metric_summaries": summaries}).data
        return Response({"next": next_link(request, cursor), "results": results})

    @extend_schema(
        operation_id="runs_create",
        request=RunCreateInput,
        responses={201: RunOutput, 200: RunOutput, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = checked(RunCreateInput, request.data)
        team_slug, project_slug = selectors.project_path_split(data.pop("project"))
        project = services.project_for_new_run(
            user=request_user(request), team_slug=team_slug, project_slug=project_slug
        )
        run, created = changes.run_create(project=project, run_id=data.pop("id", None), **data)
        return Response(RunOutput(run).data, status=201 if created else 200)


class RunDetailApi(APIView):
    @extend_schema(operation_id="runs_retrieve", responses={200: RunDetailOutput, **ERRORS})
    def get(self, request: Request, run_id: str) -> Response:
        run = selectors.run_get(user=request_user(request), run_id=run_id)
        run.metrics = selectors.run_metric_summaries(run=run)  # type: ignore[attr-defined]
        return Response(RunDetailOutput(run).data)

    @extend_schema(operation_id="runs_update", request=RunUpdateInput, responses={200: RunOutput, **ERRORS})
    def patch(self, request: Request, run_id: str) -> Response:
        data = checked(RunUpdateInput, request.data)
        run = selectors.run_get(user=request_user(request), run_id=run_id, write=True)
        return Response(RunOutput(changes.run_update(run=run, fields=data)).data)


class RunResumeApi(APIView):
    @extend_schema(
        operation_id="runs_resume",
        request=RunResumeInput,
        responses={200: RunResumeOutput, 201: RunResumeOutput, 409: ErrorSerializer, **ERRORS},
        description="Continue a run after its training process stopped (preempted, crashed): the run is "
        "running again, its per-key summaries tell the client the last stored steps, and from then on points "
        "at a (key, step) already stored are left out (`already_stored` in the batch answer). Model, seed "
        "and config have to match the stored run's (409 otherwise).",
    )
    def post(self, request: Request, run_id: str) -> Response:
        data = checked(RunResumeInput, request.data)
        run_uuid = selectors.run_uuid_parse(run_id, field="id")
        team_slug, project_slug = selectors.project_path_split(data.pop("project"))
        user = request_user(request)
        if data["mode"] == "must":  # nothing is created, not even the project
            project = selectors.project_get(user=user, team_slug=team_slug, project_slug=project_slug, write=True)
        else:
            project = services.project_for_new_run(user=user, team_slug=team_slug, project_slug=project_slug)
        result = changes.run_resume(project=project, run_id=run_uuid, **data)
        run = result.run
        run.metrics = selectors.run_metric_summaries(run=run)  # type: ignore[attr-defined]
        run.resumed = not result.created  # type: ignore[attr-defined]
        return Response(RunResumeOutput(run).data, status=201 if result.created else 200)


class RunMetricsApi(APIView):
    @extend_schema(
        operation_id="runs_metrics_history",
        parameters=[
            OpenApiParameter(
                "key",
                str,
                many=True,
                description=f"Repeat for several keys, at most {selectors.MAX_KEYS_PER_HISTORY}; "
                f"none = every key (a 400 if the run logged more than {selectors.MAX_KEYS_PER_HISTORY}).",
            ),
            *HISTORY_PARAMETERS,
        ],
        responses={200: RunHistoryOutput, **ERRORS},
    )
    def get(self, request: Request, run_id: str) -> Response:
        query = checked(HistoryQuery, request.query_params)
        run = selectors.run_get(user=request_user(request), run_id=run_id)
        keys = request.query_params.getlist("key") or None
        if keys is not None:
            selectors.run_metric_require(run=run, keys=keys)
        histories = selectors.run_histories(run=run, keys=keys, **query)
        return Response({"run": str(run.uuid), "metrics": {key: _series(h) for key, h in histories.items()}})

    @extend_schema(
        operation_id="runs_metrics_ingest",
        request=MetricBatchInput,
        responses={200: MetricBatchOutput, 413: ErrorSerializer, **ERRORS},
        description="Store a columnar batch of up to 50,000 points, exactly once per batch_id.",
    )
    def post(self, request: Request, run_id: str) -> Response:
        batch = batch_parse(request.data, max_points=settings.SEEDBOARD_MAX_BATCH_POINTS)
        run = selectors.run_ref_for_write(user=request_user(request), run_id=run_id)
        result = changes.metrics_ingest(run=run, batch=batch)
        return Response(
            {
                "batch_id": str(result.batch_id),
                "stored": result.stored,
                "duplicate": result.duplicate,
                "already_stored": result.already_stored,
            }
        )


class ProjectMetricsApi(APIView):
    @extend_schema(
        operation_id="projects_metrics_history",
        parameters=[
            OpenApiParameter("key", str, required=True),
            OpenApiParameter(
                "run",
                OpenApiTypes.UUID,
                many=True,
                description="Run ids; without them the run-list filters select runs.",
            ),
            *RUN_FILTER_PARAMETERS,
            *HISTORY_PARAMETERS,
        ],
        responses={200: ProjectHistoryOutput, **ERRORS},
    )
    def get(self, request: Request, team: str, project: str) -> Response:
        query = checked(HistoryQuery, request.query_params)
        key = request.query_params.get("key")
        if not key:
            raise InvalidInput("key: required", field="key")
        found = selectors.project_get(user=request_user(request), team_slug=team, project_slug=project)
        ordering = filters.Ordering("created_at", descending=False)
        runs = filters.runs_filter(
            selectors.run_list(project=found, ordering=ordering), dict(request.query_params.lists())
        )
        run_ids = request.query_params.getlist("run")
        if run_ids:
            runs = runs.filter(uuid__in=[selectors.run_uuid_parse(r) for r in run_ids])
        selectors.project_metric_require(project=found, key=key)  # after the 400s: a bad request says so first
        selected = list(runs.order_by("created_at", "pk")[: selectors.MAX_RUNS_PER_HISTORY + 1])
        histories = selectors.metric_histories(runs=selected, key=key, **query)
        return Response(
            {"key": key, "runs": [{"run": str(run.uuid), **_series(histories[run.pk])} for run in selected]}
        )


class ProjectExportApi(APIView):
    content_negotiation_class = FileDownloadNegotiation

    @extend_schema(
        operation_id="projects_export",
        parameters=[
            *EXPORT_PARAMETERS,
            OpenApiParameter("run", OpenApiTypes.UUID, many=True, description="Only these runs (repeat)."),
            *RUN_FILTER_PARAMETERS,
        ],
        responses=EXPORT_RESPONSES,
        description=EXPORT_DESCRIPTION + " Runs are selected with the filters of the run list.",
    )
    def get(self, request: Request, team: str, project: str) -> StreamingHttpResponse:
        fmt = exports.format_parse(request.query_params.get("format", "csv"))
        found = selectors.project_get(user=request_user(request), team_slug=team, project_slug=project)
        runs = filters.runs_filter(
            selectors.run_list(project=found, ordering=filters.Ordering("created_at", descending=False)),
            dict(request.query_params.lists()),
        )
        run_ids = request.query_params.getlist("run")
        if run_ids:
            runs = runs.filter(uuid__in=[selectors.run_uuid_parse(r) for r in run_ids])
        export = exports.export_prepare(runs=runs, keys=request.query_params.getlist("key"))
        return export_response(export, fmt, f"{found.team.slug}-{found.slug}")


class VariantListApi(APIView):
    @extend_schema(
        operation_id="variants_list",
        parameters=[
            OpenApiParameter("project", str, required=True, description="'team/project'"),
            OpenApiParameter("model", str),
            *PAGE_PARAMETERS,
        ],
        responses={200: VariantPageOutput, **ERRORS},
        description="A project's variants, oldest first, each with its label (the config values that tell it "
        "from the project's other variants of its model) and its number of runs.",
    )
    def get(self, request: Request) -> Response:
        project = _project_of_query(request)
        variants = selectors.variant_list(project=project, model=request.query_params.get("model"))
        page, cursor = keyset_page(
            variants, descending=False, cursor=request.query_params.get("cursor"), page_size=_page_size(request)
        )
        labels = selectors.variant_labels_for(project=project, variants=page)
        for variant in page:
            variant.label = labels[variant.fingerprint]  # type: ignore[attr-defined]
        return Response({"next": next_link(request, cursor), "results": VariantOutput(page, many=True).data})
