"""The benchmark pages: the list of benchmarks, and a benchmark's leaderboard with its submit
form and withdraw buttons.

Thin views: they call the services and selectors the API uses (`leaderboard_current`,
`leaderboard_view` for what the reader may see, `submission_create`, `submission_withdraw`),
hand the stored payload to the compare page's chart builders and pass their specs to the
template. No statistics are computed here.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from server.accounts import selectors as account_selectors
from server.benchmarks import selectors as benchmark_selectors
from server.benchmarks import services as benchmark_services
from server.benchmarks.models import Benchmark
from server.core.errors import NotFound, SeedboardError
from server.web import leaderboard_table
from server.web.charts import benchmark as benchmark_charts
from server.web.charts import distributions, ranking
from server.web.specs import chart_spec
from server.web.views import _page, _user

MAX_LISTED = 200


def _benchmark(slug: str) -> Benchmark:
    try:
        return benchmark_selectors.benchmark_get(slug=slug)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@require_GET
@login_required
def benchmarks(request: HttpRequest) -> HttpResponse:
    listed = list(benchmark_selectors.benchmark_list().order_by("-created_at", "-id")[:MAX_LISTED])
    rows = [
        {
            "benchmark": item,
            "n_submissions": getattr(item, "n_submissions", 0),
            "leader": leaderboard_table.leader(item.leaderboard.payload or {}),
        }
        for item in listed
    ]
    return _page(request, "web/benchmarks.html", {"rows": rows})


def _charts(payload: dict[str, Any], benchmark: Benchmark, labels: dict[str, str]) -> dict[str, Any]:
    """The specs of the leaderboard's charts: per task the scores and the ranks; across tasks
    the ranks by average rank, the critical-difference diagram and the aggregate intervals."""
    metric, goal = benchmark.metric, benchmark.goal
    entries = (payload.get("ranking") or {}).get("entries", [])
    sections = []
    for index, task in enumerate(payload.get("tasks") or []):
        blocks = [b for b in payload.get("variants", []) if (b.get("task") or "") == task]
        sections.append(
            {
                "task": task,
                "ids": {"final": f"chart-t{index}-final", "ranking": f"chart-t{index}-ranking"},
                "final": chart_spec(distributions.final_scores(blocks, metric=metric, goal=goal, labels=labels)),
                "ranking": chart_spec(ranking.ranking_forest(entries, labels=labels, task=task)),
                "blocks": sorted(blocks, key=lambda b: labels.get(str(b["variant"]), "")),
            }
        )
    bench = payload.get("benchmark")
    across = None
    if bench:
        across = {
            "ranking": chart_spec(
                ranking.ranking_forest(
                    leaderboard_table.across_task_entries(payload), labels=labels, task=leaderboard_table.ACROSS_TASKS
                )
            ),
            "cd": chart_spec(benchmark_charts.critical_difference(bench, labels=labels)),
            "intervals": chart_spec(benchmark_charts.benchmark_intervals(bench, metric=metric, labels=labels)),
            "friedman_p": bench.get("friedman_p"),
            "cd_value": bench.get("nemenyi_cd"),
            "dropped": bench.get("dropped_tasks") or {},
        }
    return {"sections": sections, "across": across}


def _leaderboard_page(
    request: HttpRequest, benchmark: Benchmark, *, error: str | None = None, status: int = 200
) -> HttpResponse:
    user = _user(request)
    leaderboard = benchmark_services.leaderboard_current(benchmark=benchmark)
    view = benchmark_selectors.leaderboard_view(user=user, benchmark=benchmark, leaderboard=leaderboard)
    payload = {**(leaderboard.payload or {}), "variants": view["variants"]}  # as this reader may see it
    labels = leaderboard_table.entry_labels(payload)
    own_teams = set(account_selectors.team_slugs_for(user=user))
    rows = leaderboard_table.leaderboard_rows(payload, list(payload.get("tasks") or []))
    submissions = {s["id"]: s for s in view["submissions"]}
    for row in rows:
        row["project"] = (submissions.get(row["submission"]) or {}).get("project")
        row["withdrawable"] = row["team"] in own_teams
    return _page(
        request,
        "web/benchmark.html",
        {
            "benchmark": benchmark,
            "leaderboard": leaderboard,
            "warnings": view["warnings"],
            "rows": rows,
            "tasks": list(payload.get("tasks") or []),
            "pending": [s for s in view["submissions"] if s["n_seeds"] is None],
            "choices": benchmark_selectors.submission_choices(user=user, benchmark=benchmark),
            "error": error,
            **_charts(payload, benchmark, labels),
        },
        status=status,
    )


@require_GET
@login_required
def benchmark(request: HttpRequest, slug: str) -> HttpResponse:
    return _leaderboard_page(request, _benchmark(slug))


@require_GET
@login_required
def benchmark_status(request: HttpRequest, slug: str) -> JsonResponse:
    """What the page polls while the leaderboard is not fresh."""
    leaderboard = benchmark_services.leaderboard_current(benchmark=_benchmark(slug))
    return JsonResponse(
        {
            "status": leaderboard.status,
            "computed_at": leaderboard.computed_at.isoformat() if leaderboard.computed_at else None,
            "error": leaderboard.error or None,
        }
    )


def _budget(request: HttpRequest) -> dict[str, Any]:
    """The form's budget fields; a bad number is the service's kind of error."""
    budget: dict[str, Any] = {}
    for name, kind in (("trials", int), ("gpu_hours", float)):
        raw = request.POST.get(name, "").strip()
        if not raw:
            continue
        try:
            value = kind(raw)
        except ValueError:
            raise SeedboardError(f"budget.{name}: {raw[:30]!r} is not a number", field=f"budget.{name}") from None
        if value < (1 if name == "trials" else 0) or value > 1e9 or value != value:
            raise SeedboardError(f"budget.{name}: {raw[:30]!r} is out of range", field=f"budget.{name}")
        budget[name] = value
    return budget


@require_POST
@login_required
def benchmark_submit(request: HttpRequest, slug: str) -> HttpResponse:
    benchmark = _benchmark(slug)
    project, _, variant = request.POST.get("entry", "").partition("|")
    label = request.POST.get("label", "").strip()[:200] or None
    try:
        benchmark_services.submission_create(
            user=_user(request),
            benchmark=benchmark,
            project=project,
            variant=variant,
            label=label,
            budget=_budget(request),
            request=request,
        )
    except SeedboardError as exc:
        return _leaderboard_page(request, benchmark, error=exc.message, status=exc.status)
    return redirect("web:benchmark", slug=slug)


@require_POST
@login_required
def benchmark_withdraw(request: HttpRequest, slug: str, submission_id: int) -> HttpResponse:
    benchmark = _benchmark(slug)
    try:
        benchmark_services.submission_withdraw(
            user=_user(request), benchmark=benchmark, submission_id=submission_id, request=request
        )
    except SeedboardError as exc:
        return _leaderboard_page(request, benchmark, error=exc.message, status=exc.status)
    return redirect("web:benchmark", slug=slug)
