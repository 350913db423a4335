"""The compare pages: choose variants and save a comparison; show a saved one, chart by chart.

Thin views: they parse the URL, call the statistics services and selectors the API uses
(`comparison_create`, `comparison_get` for access, `comparison_current`, the curves selector),
hand the stored payload to the chart builders in server/web/charts/ and pass `to_dict()` specs
to the template. No statistics are computed here.
"""

from __future__ import annotations

import csv
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from server.core.errors import InvalidInput, NotFound, PermissionDenied
from server.stats import selectors as stats_selectors
from server.stats import services as stats_services
from server.stats.models import Comparison
from server.tracking.selectors import project_get, project_path_split
from server.web import compare_selectors, paper_tables
from server.web.charts import benchmark, curves, distributions, pairs, ranking, seeds
from server.web.errors import error_page
from server.web.specs import chart_spec
from server.web.views import _page, _user

CHART_NAMES = ("curves", "final", "ranking", "pairs", "seeds")
SMOOTHING_CHOICES = ["0", "0.6", "0.8", "0.9", "0.95"]
PAIR_COLUMNS = [
    "task",
    "a",
    "b",
    "n_a",
    "n_b",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
    "paired",
    "paired_diff_ci_low",
    "paired_diff_ci_high",
    "p_holm",
    "hedges_g",
    "prob_improvement",
    "seeds_needed",
    "verdict",
    "statement",
]


def _comparison(request: HttpRequest, comparison_id: str) -> Comparison:
    """The comparison if the user may read every project of it (404 otherwise, as the API answers)."""
    try:
        found = stats_selectors.comparison_get(user=_user(request), comparison_id=comparison_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return stats_services.comparison_current(comparison=found)


# ---------------------------------------------------------------------------- new comparison


@require_http_methods(["GET", "POST"])
@login_required
def compare_new(request: HttpRequest) -> HttpResponse:
    """GET: the form, prefilled from ?project=&metric=&variant=&task=&baseline=. POST: save and redirect."""
    data = request.POST if request.method == "POST" else request.GET
    path = data.get("project", "").strip()
    metric, task, baseline = data.get("metric", ""), data.get("task", ""), data.get("baseline", "")
    variants: list[str] = data.getlist("variant")
    state = {"metric": metric, "variants": variants, "task": task, "baseline": baseline}
    if not path:
        return _page(request, "web/compare_new.html", {"project": None, "state": state})
    try:
        team_slug, project_slug = project_path_split(path)
        project = project_get(user=_user(request), team_slug=team_slug, project_slug=project_slug)
    except (NotFound, InvalidInput) as exc:
        raise Http404(exc.message) from exc
    error = None
    if request.method == "POST":
        try:
            comparison = stats_services.comparison_create(
                user=_user(request),
                metric=metric,
                projects=[project.path],
                variants=variants or None,
                task=task or None,
                baseline=baseline or None,
            )
        except InvalidInput as exc:
            error = exc.message
        except PermissionDenied as exc:
            return error_page(status=403, title="Not allowed", message=exc.message)
        else:
            return redirect("web:compare", comparison_id=str(comparison.uuid))
    choices = compare_selectors.compare_form_choices(project=project)
    return _page(
        request,
        "web/compare_new.html",
        {"project": project, "choices": choices, "state": state, "error": error},
        status=400 if error else 200,
    )


# ---------------------------------------------------------------------------- a saved comparison


def _smoothing(request: HttpRequest) -> str:
    value = request.GET.get("smooth", "0")
    return value if value in SMOOTHING_CHOICES else "0"


def _task_section(
    payload: dict[str, Any], task: str, labels: dict[str, str], context: dict[str, Any]
) -> dict[str, Any]:
    """The per-task charts and pairs table of one task."""
    metric, goal = context["metric"], payload.get("goal")
    blocks = [b for b in payload.get("variants", []) if (b.get("task") or "") == task]
    entries = [e for e in (payload.get("ranking") or {}).get("entries", []) if (e.get("task") or "") == task]
    task_pairs = [p for p in payload.get("pairs", []) if (p.get("task") or "") == task]
    task_ranking = ((payload.get("ranking") or {}).get("tasks") or {}).get(task) or {}
    reference = context["baseline"] or task_ranking.get("leader")
    task_curves = [c for c in context["curves"] if (c.get("task") or "") == task]
    histories = context["histories"]
    smoothing = float(context["smooth"])
    return {
        "task": task,
        "ids": {name: f"chart-t{context['index']}-{name}" for name in CHART_NAMES},
        "curves": chart_spec(
            curves.learning_curves(
                task_curves,
                metric=metric,
                goal=goal,
                labels=labels,
                seed_histories=[h for h in histories if h["run"] in {r for c in task_curves for r in c["runs"]}],
                smoothing=smoothing or None,
            )
        ),
        "final": chart_spec(distributions.final_scores(blocks, metric=metric, goal=goal, labels=labels)),
        "ranking": chart_spec(ranking.ranking_forest(entries, labels=labels, task=task)),
        "pairs": chart_spec(
            pairs.pair_matrix(task_pairs, labels=labels, order=ranking.rank_order(entries, task), task=task)
        ),
        "seeds": chart_spec(seeds.seeds_needed(task_pairs, reference=reference, labels=labels, task=task))
        if reference
        else None,
        "reference": labels.get(reference or "", reference),
        "pair_rows": [
            {**p, "label_a": labels.get(p["a"], p["a"]), "label_b": labels.get(p["b"], p["b"]), "ci": _pair_ci(p)}
            for p in task_pairs
        ],
    }


def _pair_ci(pair: dict[str, Any]) -> tuple[Any, Any]:
    """The interval the pair's test used (the paired one when seeds were paired), as its statement says."""
    if pair.get("paired") and pair.get("paired_diff_ci_low") is not None:
        return pair["paired_diff_ci_low"], pair["paired_diff_ci_high"]
    return pair.get("diff_ci_low"), pair.get("diff_ci_high")


def _benchmark_rows(table: paper_tables.PaperTable, bench: dict[str, Any], variants: list[str]) -> list[dict[str, Any]]:
    """Across tasks, one row per variant, best average rank first: its mean per task (the paper
    table's cells), its average rank and its IQM over tasks with the IQM's interval."""
    ranks = bench.get("average_ranks") or {}
    aggregates = bench.get("aggregates") or {}
    rows = []
    for variant, (label, cells) in zip(variants, table.rows, strict=True):
        aggregate = aggregates.get(variant) or {}
        rows.append(
            {
                "label": label,
                "cells": [
                    None if cell is None else {"text": paper_tables.cell_text(cell, table.decimals), "cell": cell}
                    for cell in cells
                ],
                "rank": ranks.get(variant),
                "iqm": aggregate.get("iqm"),
                "iqm_ci": (aggregate.get("iqm_ci_low"), aggregate.get("iqm_ci_high")),
            }
        )
    return sorted(rows, key=lambda row: (row["rank"] is None, row["rank"] or 0.0, row["label"]))


@require_GET
@login_required
def compare(request: HttpRequest, comparison_id: str) -> HttpResponse:
    comparison = _comparison(request, comparison_id)
    payload = comparison.payload or {}
    blocks = payload.get("variants", [])
    labels = {str(b["variant"]): str(b.get("label") or b["variant"]) for b in blocks}
    seed_lines = request.GET.get("seeds") == "1"
    spread = "std" if request.GET.get("table") == "std" else "ci"
    curve_records, histories = (
        compare_selectors.comparison_curves(comparison=comparison, seed_lines=seed_lines) if blocks else ([], [])
    )
    tasks = list(dict.fromkeys(str(b.get("task") or "") for b in blocks))
    context = {
        "metric": comparison.metric,
        "baseline": comparison.baseline,
        "curves": curve_records,
        "histories": histories,
        "smooth": _smoothing(request),
    }
    sections = [_task_section(payload, task, labels, {**context, "index": i}) for i, task in enumerate(tasks)]
    bench = payload.get("benchmark")
    by_task = (payload.get("ranking") or {}).get("tasks") or {}
    top_groups = {task: info.get("top_group", []) for task, info in by_task.items()}
    table = paper_tables.paper_table(
        blocks, metric=comparison.metric, goal=payload.get("goal"), top_groups=top_groups, spread=spread
    )
    return _page(
        request,
        "web/compare.html",
        {
            "comparison": comparison,
            "payload": payload,
            "projects": [project.path for project in comparison.projects.all()],
            "labels": [labels[v] for v in labels],
            "sections": sections,
            "benchmark": {
                "cd_chart": chart_spec(benchmark.critical_difference(bench, labels=labels)),
                "intervals": chart_spec(benchmark.benchmark_intervals(bench, metric=comparison.metric, labels=labels)),
                "improvement": chart_spec(benchmark.probability_of_improvement(bench, labels=labels)),
                "tasks": table.tasks,
                "rows": _benchmark_rows(table, bench, list(labels)),
                "n_tasks": len(bench.get("tasks") or []),
                "friedman_p": bench.get("friedman_p"),
                "cd": bench.get("nemenyi_cd"),
                "spread": table.spread_phrase,
            }
            if bench
            else None,
            "smooth": context["smooth"],
            "smoothing_choices": SMOOTHING_CHOICES,
            "seed_lines": seed_lines,
            "spread": spread,
            "latex": paper_tables.to_latex(table),
            "markdown": paper_tables.to_markdown(table),
        },
    )


@require_GET
@login_required
def compare_status(request: HttpRequest, comparison_id: str) -> JsonResponse:
    """What the page polls while the comparison is not fresh."""
    comparison = _comparison(request, comparison_id)
    return JsonResponse(
        {
            "id": str(comparison.uuid),
            "status": comparison.status,
            "computed_at": comparison.computed_at.isoformat() if comparison.computed_at else None,
            "error": comparison.error or None,
        }
    )


@require_GET
@login_required
def compare_pairs_csv(request: HttpRequest, comparison_id: str) -> HttpResponse:
    """The pairs table as CSV: the variants by label, every pair of every task."""
    comparison = _comparison(request, comparison_id)
    payload = comparison.payload or {}
    labels = {str(b["variant"]): str(b.get("label") or b["variant"]) for b in payload.get("variants", [])}
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="comparison-{comparison.uuid}-pairs.csv"'
    writer = csv.writer(response)
    writer.writerow(PAIR_COLUMNS)
    for pair in payload.get("pairs", []):
        row = {**pair, "a": labels.get(pair["a"], pair["a"]), "b": labels.get(pair["b"], pair["b"])}
        writer.writerow(["" if row.get(column) is None else row.get(column) for column in PAIR_COLUMNS])
    return response
