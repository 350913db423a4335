"""HTTP adapters of the benchmarks API (docs/benchmarks.md): parse, call, shape the output."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from server.accounts.authentication import request_user
from server.benchmarks import selectors, services
from server.benchmarks.models import Benchmark
from server.benchmarks.serializers import (
    BenchmarkCreateInput,
    BenchmarkOutput,
    BenchmarkPageOutput,
    BenchmarkUpdateInput,
    LeaderboardOutput,
    PageQuery,
    SubmissionCreateInput,
    SubmissionListQuery,
    SubmissionOutput,
    SubmissionPageOutput,
)
from server.core.api import ERRORS, checked
from server.core.pagination import keyset_page, next_link
from server.core.serializers import ErrorSerializer

PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="The cursor from the previous page's `next` link."),
    OpenApiParameter("page_size", int, description="1-500, default 50."),
]


def _benchmark(benchmark: Benchmark, *, n_submissions: int | None = None) -> dict[str, Any]:
    if n_submissions is None:
        n_submissions = benchmark.submissions.filter(withdrawn_at__isnull=True).count()
    return {
        "slug": benchmark.slug,
        "name": benchmark.name,
        "description": benchmark.description,
        "team": benchmark.team.slug,
        "tasks": benchmark.tasks,
        "metric": benchmark.metric,
        "goal": benchmark.goal,
        "summary": benchmark.summary,
        "k": benchmark.k,
        "step": benchmark.step,
        "min_seeds": benchmark.min_seeds,
        "normalize": benchmark.normalize,
        "open": benchmark.open,
        "teams": sorted(team.slug for team in benchmark.allowed_teams.all()),
        "n_submissions": n_submissions,
        "status": benchmark.leaderboard.status,
        "created_at": benchmark.created_at,
    }


class BenchmarkListCreateApi(APIView):
    @extend_schema(
        operation_id="benchmarks_list",
        parameters=PAGE_PARAMETERS,
        responses={200: BenchmarkPageOutput, **ERRORS},
        description="Every benchmark of the instance, newest first.",
    )
    def get(self, request: Request) -> Response:
        query = checked(PageQuery, request.query_params)
        page, cursor = keyset_page(
            selectors.benchmark_list(), descending=True, cursor=query.get("cursor"), page_size=query["page_size"]
        )
        results = [_benchmark(item, n_submissions=getattr(item, "n_submissions", 0)) for item in page]
        return Response({"next": next_link(request, cursor), "results": results})

    @extend_schema(
        operation_id="benchmarks_create",
        request=BenchmarkCreateInput,
        responses={201: BenchmarkOutput, 409: ErrorSerializer, **ERRORS},
        description="Create a benchmark owned by `team` (you must be an admin of it).",
    )
    def post(self, request: Request) -> Response:
        data = checked(BenchmarkCreateInput, request.data)
        benchmark = services.benchmark_create(user=request_user(request), request=request._request, **data)
        return Response(_benchmark(selectors.benchmark_get(slug=benchmark.slug)), status=201)


class BenchmarkDetailApi(APIView):
    @extend_schema(operation_id="benchmarks_retrieve", responses={200: BenchmarkOutput, **ERRORS})
    def get(self, request: Request, slug: str) -> Response:
        return Response(_benchmark(selectors.benchmark_get(slug=slug)))

    @extend_schema(
        operation_id="benchmarks_update",
        request=BenchmarkUpdateInput,
        responses={200: BenchmarkOutput, **ERRORS},
        description="Change a benchmark (an admin of its owner team); a changed rule or task set recomputes it.",
    )
    def patch(self, request: Request, slug: str) -> Response:
        data = checked(BenchmarkUpdateInput, request.data)
        benchmark = selectors.benchmark_get(slug=slug)
        services.benchmark_update(
            user=request_user(request), benchmark=benchmark, fields=data, request=request._request
        )
        return Response(_benchmark(selectors.benchmark_get(slug=slug)))


class LeaderboardApi(APIView):
    @extend_schema(
        operation_id="benchmarks_leaderboard",
        responses={200: LeaderboardOutput, **ERRORS},
        description=(
            "The ranking of the active submissions, computed by the workers: `status` says whether it is "
            "fresh. Project paths and run ids are shown only for projects you may read."
        ),
    )
    def get(self, request: Request, slug: str) -> Response:
        benchmark = selectors.benchmark_get(slug=slug)
        leaderboard = services.leaderboard_current(benchmark=benchmark)
        return Response(
            selectors.leaderboard_view(user=request_user(request), benchmark=benchmark, leaderboard=leaderboard)
        )


class SubmissionListCreateApi(APIView):
    @extend_schema(
        operation_id="benchmarks_submissions_list",
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("withdrawn", bool, description="Include withdrawn submissions (default false)."),
        ],
        responses={200: SubmissionPageOutput, **ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        query = checked(SubmissionListQuery, request.query_params)
        benchmark = selectors.benchmark_get(slug=slug)
        page, cursor = keyset_page(
            selectors.submission_list(benchmark=benchmark, withdrawn=query["withdrawn"]),
            descending=False,
            cursor=query.get("cursor"),
            page_size=query["page_size"],
        )
        readable = selectors.readable_project_ids(
            user=request_user(request), project_ids={item.project_id for item in page}
        )
        results = [selectors.submission_shown(item, readable=readable, n_seeds=None) for item in page]
        return Response({"next": next_link(request, cursor), "results": results})

    @extend_schema(
        operation_id="benchmarks_submit",
        request=SubmissionCreateInput,
        responses={201: SubmissionOutput, 409: ErrorSerializer, **ERRORS},
        description=(
            "Submit a variant of one of your team's projects. It needs the benchmark's minimum of finished "
            "seeds on every task; later seeds join the leaderboard by themselves."
        ),
    )
    def post(self, request: Request, slug: str) -> Response:
        data = checked(SubmissionCreateInput, request.data)
        benchmark = selectors.benchmark_get(slug=slug)
        user = request_user(request)
        submission = services.submission_create(user=user, benchmark=benchmark, request=request._request, **data)
        shown = selectors.submission_shown(submission, readable={submission.project_id}, n_seeds=None)
        return Response(shown, status=201)


class SubmissionDetailApi(APIView):
    @extend_schema(
        operation_id="benchmarks_withdraw",
        parameters=[OpenApiParameter("submission_id", int, OpenApiParameter.PATH)],
        responses={200: SubmissionOutput, **ERRORS},
        description="Withdraw a submission of your team; it is kept, with `withdrawn_at`, for the audit.",
    )
    def delete(self, request: Request, slug: str, submission_id: int) -> Response:
        benchmark = selectors.benchmark_get(slug=slug)
        submission = services.submission_withdraw(
            user=request_user(request), benchmark=benchmark, submission_id=submission_id, request=request._request
        )
        return Response(selectors.submission_shown(submission, readable={submission.project_id}, n_seeds=None))
