"""Reads of the statistics app, scoped like tracking's: other teams' objects are not found (404)."""

from __future__ import annotations

import math
import statistics
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from django.contrib.auth.models import User
from django.db.models import F, Prefetch, QuerySet

from server.accounts.selectors import readable_projects_q
from server.analysis import curve_aggregate, trials_expected_max
from server.core.errors import InvalidInput, NotFound
from server.stats import scores
from server.stats.models import Comparison, MetricDefinition, MetricStats, VariantStatsResult
from server.tracking import filters, points
from server.tracking.models import MetricKey, MetricSummary, Project, Run, Variant
from server.tracking.selectors import MAX_RUNS_PER_HISTORY, project_metric_unknown

MAX_COMPARISON_VARIANTS = 500
# Runs (not running) per tuning request: the curve is a (grid x trials) matrix product in the request.
MAX_TUNING_RUNS = 1000


def _logged_key_id(*, project_id: int, metric: str) -> int | None:
    """The key id of `metric` when some run of the project logged it, else None."""
    key_id = MetricKey.objects.filter(name=metric).values_list("id", flat=True).first()
    if key_id is None or not MetricSummary.objects.filter(key_id=key_id, run__project_id=project_id).exists():
        return None
    return int(key_id)


def metric_exists(*, project_id: int, metric: str) -> bool:
    """Whether the project has `metric`: statistics, a definition, a logged key or a summary entry."""
    return (
        MetricStats.objects.filter(project_id=project_id, metric=metric).exists()
        or MetricDefinition.objects.filter(project_id=project_id, key=metric).exists()
        or _logged_key_id(project_id=project_id, metric=metric) is not None
        or Run.objects.filter(project_id=project_id, summary__has_key=metric).exists()
    )


def metric_definitions_list(*, project: Project) -> list[dict[str, Any]]:
    """Every declared metric and every logged key of a project (with its default rule), by key."""
    declared = {
        definition.key: {
            "key": definition.key,
            "goal": definition.goal,
            "summary": definition.summary,
            "k": definition.k,
            "step": definition.step,
            "declared": True,
        }
        for definition in MetricDefinition.objects.filter(project=project)
    }
    logged = MetricKey.objects.filter(
        pk__in=MetricSummary.objects.filter(run__project=project).values("key_id")
    ).values_list("name", flat=True)
    for name in logged:
        if name not in declared:
            declared[name] = {"key": name, **scores.metric_rule_default(name).to_dict(), "declared": False}
    return [declared[name] for name in sorted(declared)]


def variant_stats_results(*, stats: MetricStats, task: str | None) -> list[dict[str, Any]]:
    """The stored variant blocks of a metric's statistics, of one task or of all, by task."""
    rows = VariantStatsResult.objects.filter(stats=stats).order_by("task")
    if task is not None:
        rows = rows.filter(task=task)
    return [block for payload in rows.values_list("payload", flat=True) for block in payload]


def curves_aggregate(
    *, project: Project, metric: str, variants: Sequence[str], task: str | None, points_per_curve: int
) -> list[dict[str, Any]]:
    """Learning curves of variants over their finished runs, one per (variant, task).

    Without `variants`, every variant that logged the metric. At most MAX_RUNS_PER_HISTORY runs.
    """
    key_id = _logged_key_id(project_id=project.pk, metric=metric)
    if key_id is None:
        raise project_metric_unknown(project=project, key=metric, field="metric")
    chosen = Variant.objects.filter(project=project)
    if variants:
        found = dict(chosen.filter(fingerprint__in=variants).values_list("fingerprint", "pk"))
        unknown = [fingerprint for fingerprint in variants if fingerprint not in found]
        if unknown:
            raise InvalidInput(f"variant: not a variant of {project.path}: {', '.join(unknown[:5])}", field="variant")
        chosen = chosen.filter(pk__in=found.values())
    else:
        chosen = chosen.filter(
            pk__in=MetricSummary.objects.filter(key_id=key_id, run__project=project).values("run__variant_id")
        )
    info = {pk: (fingerprint, model) for pk, fingerprint, model in chosen.values_list("pk", "fingerprint", "model")}
    runs = Run.objects.filter(project=project, variant_id__in=list(info), status=Run.Status.FINISHED)
    if task is not None:
        runs = runs.filter(task=task)
    selected = list(runs.order_by("pk").values_list("pk", "uuid", "variant_id", "task")[: MAX_RUNS_PER_HISTORY + 1])
    if len(selected) > MAX_RUNS_PER_HISTORY:
        raise InvalidInput(
            f"At most {MAX_RUNS_PER_HISTORY} finished runs per request; choose variants (variant=) or a task.",
            field="variant",
        )
    groups: dict[tuple[str, int], list[tuple[int, uuid.UUID]]] = {}
    for run_pk, run_uuid, variant_pk, run_task in selected:
        groups.setdefault((run_task, variant_pk), []).append((run_pk, run_uuid))
    ordered = sorted(groups.items(), key=lambda item: (item[0][0], info[item[0][1]]))
    read = _curve_points(
        groups=[[pk for pk, _ in members] for _, members in ordered], key_id=key_id, n=points_per_curve
    )
    empty = points.Series(*points.empty_columns())
    curves = []
    for ((run_task, variant_pk), members), read_input in zip(ordered, read, strict=True):
        histories = [read_input.series.get(run_pk, empty) for run_pk, _ in members]
        aggregate = curve_aggregate(
            [(history.steps, history.values) for history in histories],
            grid=read_input.grid,
            n_points=points_per_curve,
            max_union_points=points_per_curve,
            gap_scales=read_input.gap_scales,
        )
        fingerprint, model = info[variant_pk]
        curves.append(
            {
                "variant": fingerprint,
                "model": model,
                "task": run_task,
                "runs": [str(run_uuid) for _, run_uuid in members],
                **aggregate.to_dict(),
            }
        )
    return curves


# Reading a run whole costs about a tenth of an index probe per point: above this many points per
# probe the curves read only the points around their grid steps.
POINTS_PER_PROBE = 10


@dataclass(frozen=True)
class _CurveInput:
    """What `curve_aggregate` needs for one curve besides its runs' pks."""

    series: dict[int, points.Series]  # by run pk
    grid: npt.NDArray[np.float64] | None = None
    gap_scales: list[float] | None = None


def _curve_points(*, groups: list[list[int]], key_id: int, n: int) -> list[_CurveInput]:
    """Per group of runs (one curve), what `curve_aggregate` needs.

    A group whose runs are long is sampled: its grid is the n steps that `curve_aggregate` would
    lay over the runs' logged extent, each run is read only at the points around the grid steps
    (what interpolation uses), and its typical step spacing, for the gap rule, is its mean
    spacing instead of the median of its gaps (equal for runs logged at a regular interval).
    The others are read whole and aggregated as they are. Either way one query per kind.
    """
    summaries = {
        run_pk: (count, first, last)
        for run_pk, count, first, last in MetricSummary.objects.filter(
            key_id=key_id, run_id__in=[pk for group in groups for pk in group]
        ).values_list("run_id", "count", "first_step", "last_step")
    }
    plans: list[tuple[npt.NDArray[np.float64], list[float]] | None] = []
    for group in groups:
        logged = [summaries[pk] for pk in group if pk in summaries]
        if sum(count for count, _, _ in logged) <= POINTS_PER_PROBE * 2 * n * len(logged):
            plans.append(None)
            continue
        grid = np.linspace(min(first for _, first, _ in logged), max(last for _, _, last in logged), n)
        scales = []
        for pk in group:
            count, first, last = summaries.get(pk, (1, 0, 0))
            scales.append((last - first) / (count - 1) if count > 1 else 1.0)
        plans.append((grid, scales))
    whole = points.points_read(
        run_pks=[pk for group, plan in zip(groups, plans, strict=True) if plan is None for pk in group], key_id=key_id
    )
    around = points.points_read_around(
        key_id=key_id,
        positions={pk: plan[0] for group, plan in zip(groups, plans, strict=True) if plan is not None for pk in group},
    )
    return [_CurveInput(whole) if plan is None else _CurveInput(around, *plan) for plan in plans]


# ---------------------------------------------------------------------------- tuning budget


def _runtime(started_at: datetime | None, ended_at: datetime | None) -> float | None:
    """Seconds from start to end, or None when not observed: a run created already ended (an
    offline replay) has start == end."""
    if started_at is None or ended_at is None or ended_at <= started_at:
        return None
    return (ended_at - started_at).total_seconds()


def _search_runs(*, project: Project, run_filters: dict[str, list[str]]) -> list[tuple[Any, ...]]:
    """(pk, uuid, status, task, started_at, ended_at, variant pk) of the runs the filters select,
    running ones excepted, by id; InvalidInput beyond MAX_TUNING_RUNS or across tasks."""
    for name in run_filters:
        if name == "status":
            raise InvalidInput(
                "status: not a filter here: finished runs are the trials, the others are listed in failed_runs",
                field="status",
            )
        if name in filters.RESERVED:  # runs_filter skips these names; here they would be typos
            raise InvalidInput(f"Unknown parameter {name!r}; see the API docs.", field=name)
    selected = filters.runs_filter(Run.objects.filter(project=project).exclude(status=Run.Status.RUNNING), run_filters)
    columns = ("pk", "uuid", "status", "task", "started_at", "ended_at", "variant_id")
    rows = list(selected.order_by("pk").values_list(*columns)[: MAX_TUNING_RUNS + 1])
    if len(rows) > MAX_TUNING_RUNS:
        raise InvalidInput(
            f"At most {MAX_TUNING_RUNS} runs (not running) per request; narrow the search with filters "
            "(model=, tag=, config.<path>=...)."
        )
    tasks = sorted({row[3] for row in rows})
    if len(tasks) > 1:
        raise InvalidInput(
            f"task: the selected runs span {len(tasks)} tasks ({', '.join(map(repr, tasks[:5]))}); trials on "
            "different tasks are not draws from one search: choose one with task=",
            field="task",
        )
    return rows


def _trials(
    rows: Sequence[tuple[Any, ...]], table: scores.ScoreTable, *, per: str
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """(trials, failed runs): a trial per scored run, or per variant with the mean of its scored runs."""
    position = {pk: i for i, pk in enumerate(table.run_pks.tolist())}
    unscored = {Run.Status.FAILED: scores.State.FAILED, Run.Status.CRASHED: scores.State.CRASHED}
    members: dict[str, list[tuple[str, float, float | None]]] = {}  # trial -> (run id, score, runtime)
    variant_of: dict[str, scores.VariantInfo] = {}
    failed_runs = []
    for pk, run_uuid, status, _, started_at, ended_at, variant_pk in rows:
        i = position.get(pk)
        # Not in the table: no run of its variant has the metric (a config that crashed early).
        state = table.states[i] if i is not None else unscored.get(status, scores.State.MISSING)
        if i is None or state != scores.State.OK:
            failed_runs.append({"run": str(run_uuid), "status": status, "reason": state})
            continue
        info = table.variants[variant_pk]
        trial = str(run_uuid) if per == "run" else info.fingerprint
        members.setdefault(trial, []).append((str(run_uuid), float(table.values[i]), _runtime(started_at, ended_at)))
        variant_of[trial] = info
    trials = []
    for trial, runs in members.items():
        runtimes = [runtime for _, _, runtime in runs]
        info = variant_of[trial]
        trials.append(
            {
                "run": trial if per == "run" else None,
                "variant": info.fingerprint,
                "model": info.model,
                "config": info.config,
                "runs": [run_id for run_id, _, _ in runs],
                "n_seeds": len(runs),
                "value": statistics.fmean(value for _, value, _ in runs),
                # A variant's trial costs the training of all its seeds.
                "runtime": None if None in runtimes else math.fsum(r for r in runtimes if r is not None),
            }
        )
    return trials, failed_runs


def tuning_curve(
    *, project: Project, metric: str, run_filters: dict[str, list[str]], per: str, max_trials: int | None
) -> dict[str, Any]:
    """Expected best score against the number of hyperparameter trials (Dodge et al. 2019).

    The runs `run_filters` select (the run-list filter language), running ones excepted, are the
    search and must share one task. With `per` "run" each finished run with a finite score is a
    trial; with "variant" each variant with such runs is one, scored by their mean. The other runs
    are listed in `failed_runs`. Scores follow the project's rule for `metric` (scores.py). The
    budget axis needs the runtime of every trial.
    """
    if not metric_exists(project_id=project.pk, metric=metric):
        raise InvalidInput(f"metric: no run of {project.path} has {metric!r}, and it is not defined", field="metric")
    rows = _search_runs(project=project, run_filters=run_filters)
    rule = scores.metric_rule(project_id=project.pk, metric=metric)
    trials, failed_runs = _trials(rows, scores.metric_scores(project_id=project.pk, metric=metric, rule=rule), per=per)
    runtimes = [trial["runtime"] for trial in trials if trial["runtime"] is not None]
    timed = bool(trials) and len(runtimes) == len(trials)
    curve = trials_expected_max(
        [trial["value"] for trial in trials],
        goal=rule.goal,  # type: ignore[arg-type]
        n_trials=None if max_trials is None else range(1, max_trials + 1),
        runtimes=runtimes if timed else None,
    ).to_dict()
    if trials and not timed:
        curve["reasons"]["budget"] = (
            f"{len(trials) - len(runtimes)} of {len(trials)} trials have no observed runtime (start and end time)"
        )
    sign = 1.0 if rule.goal == "max" else -1.0
    curve["n_failed"] = len(failed_runs)  # the analysis saw finite scores only
    return {
        "metric": metric,
        **rule.to_dict(),
        "per": per,
        "task": rows[0][3] if rows else None,
        "best": max(trials, key=lambda trial: sign * trial["value"], default=None),
        **curve,
        "mean_runtime": statistics.fmean(runtimes) if timed else None,
        "runs": [run_id for trial in trials for run_id in trial["runs"]],
        "trials": trials,
        "failed_runs": failed_runs,
    }


# ---------------------------------------------------------------------------- comparisons


def comparison_selection_check(
    *,
    projects: Sequence[Project],
    metric: str,
    variants: Sequence[str] | None,
    models: Sequence[str] | None,
    task: str | None,
    baseline: str | None,
    normalize: Mapping[str, Any] | None = None,
) -> None:
    """InvalidInput unless the selection names existing things of these projects."""
    paths = ", ".join(project.path for project in projects)
    if not any(metric_exists(project_id=project.pk, metric=metric) for project in projects):
        raise InvalidInput(f"metric: no run of {paths} has {metric!r}, and it is not defined", field="metric")
    if variants is not None and models is not None:
        raise InvalidInput("models: give variants or models, not both (neither: every variant)", field="models")
    pool = Variant.objects.filter(project__in=projects)
    if variants is not None:
        known = set(pool.filter(fingerprint__in=variants).values_list("fingerprint", flat=True))
        unknown = [fingerprint for fingerprint in variants if fingerprint not in known]
        if unknown:
            raise InvalidInput(f"variants: not a variant of {paths}: {', '.join(unknown[:5])}", field="variants")
    elif models is not None:
        pool = pool.filter(model__in=models)
        if not pool.exists():
            raise InvalidInput(f"models: no variant of {paths} has model {', '.join(models[:5])}", field="models")
    chosen = set(variants) if variants is not None else set(pool.values_list("fingerprint", flat=True))
    if len(chosen) > MAX_COMPARISON_VARIANTS:
        raise InvalidInput(
            f"{len(chosen)} variants: a comparison takes at most {MAX_COMPARISON_VARIANTS}; choose variants or models",
            field="variants",
        )
    if baseline is not None and baseline not in chosen:
        raise InvalidInput("baseline: not one of the compared variants", field="baseline")
    if task is not None and not Run.objects.filter(project__in=projects, task=task).exists():
        raise InvalidInput(f"task: no run of {paths} has task {task!r}", field="task")
    if normalize:
        present = set(
            Run.objects.filter(project__in=projects, task__in=list(normalize)).values_list("task", flat=True).distinct()
        )
        absent = [name for name in normalize if name not in present]
        if absent:
            raise InvalidInput(
                f"normalize: no run of {paths} has task {', '.join(map(repr, absent[:5]))}", field="normalize"
            )


def _with_projects(comparisons: QuerySet[Comparison]) -> QuerySet[Comparison]:
    projects = Project.objects.select_related("team").order_by("team__slug", "slug")
    return comparisons.prefetch_related(Prefetch("projects", queryset=projects))


def comparison_with_projects(*, pk: int) -> Comparison:
    return _with_projects(Comparison.objects.filter(pk=pk)).get()


def _comparisons_visible(user: User) -> QuerySet[Comparison]:
    """Comparisons whose every project the user may read (a comparison shows all of their data),
    whichever team saved them."""
    unreadable = Project.objects.exclude(readable_projects_q(user))
    return _with_projects(Comparison.objects.exclude(projects__in=unreadable))


def comparison_get(*, user: User, comparison_id: str) -> Comparison:
    try:
        comparison_uuid = uuid.UUID(comparison_id)
    except ValueError:
        raise NotFound(f"Comparison {comparison_id[:60]!r} not found.") from None
    comparison = _comparisons_visible(user).filter(uuid=comparison_uuid).first()
    if comparison is None:
        raise NotFound(f"Comparison {comparison_uuid} not found.")
    return comparison


def comparison_list(*, user: User, project: Project | None = None) -> QuerySet[Comparison]:
    """The user's visible comparisons (of `project`), annotated with `sort_value` for keyset pagination."""
    comparisons = _comparisons_visible(user)
    if project is not None:
        comparisons = comparisons.filter(projects=project)
    return comparisons.annotate(sort_value=F("created_at"))


def comparison_runs(*, comparison: Comparison) -> QuerySet[Run]:
    """The runs a comparison covers: of its projects, of its chosen variants (or models; neither:
    every variant), of its task when it has one. Running and failed runs included."""
    runs = Run.objects.filter(project__in=comparison.projects.all())
    if comparison.variants:
        runs = runs.filter(variant__fingerprint__in=comparison.variants)
    elif comparison.model_names:
        runs = runs.filter(model__in=comparison.model_names)
    if comparison.task is not None:
        runs = runs.filter(task=comparison.task)
    return runs
