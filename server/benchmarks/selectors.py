"""Reads of the benchmarks app. Benchmarks and leaderboards are instance-wide: every signed-in
user reads them; what a leaderboard tells of a project (its path, its run ids) goes only to the
users who may read that project, as decided by server.tracking.selectors.project_list."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, F, Q, QuerySet

from server.accounts.selectors import ROLES_FOR
from server.benchmarks.models import Benchmark, Leaderboard, Submission
from server.core.errors import NotFound
from server.tracking import selectors as tracking_selectors
from server.tracking.labels import variant_labels
from server.tracking.models import Run, Variant


def benchmark_get(*, slug: str) -> Benchmark:
    benchmark = Benchmark.objects.select_related("team").filter(slug=slug).first()
    if benchmark is None:
        raise NotFound(f"Benchmark {slug!r} not found.")
    return benchmark


def benchmark_list() -> QuerySet[Benchmark]:
    """Every benchmark, annotated with `sort_value` (newest first) and its active submissions."""
    return (
        Benchmark.objects.select_related("team", "leaderboard")
        .prefetch_related("allowed_teams")
        .annotate(
            sort_value=F("created_at"),
            n_submissions=Count("submissions", filter=Q(submissions__withdrawn_at__isnull=True)),
        )
    )


def submission_list(*, benchmark: Benchmark, withdrawn: bool = False) -> QuerySet[Submission]:
    """A benchmark's submissions (active ones, or all with `withdrawn`), oldest first, with `sort_value`."""
    queryset = Submission.objects.filter(benchmark=benchmark).select_related(
        "team", "project__team", "submitted_by", "withdrawn_by"
    )
    if not withdrawn:
        queryset = queryset.filter(withdrawn_at__isnull=True)
    return queryset.annotate(sort_value=F("submitted_at"))


def readable_project_ids(*, user: User, project_ids: set[int]) -> set[int]:
    """Of these projects, the ones `user` may read (the access rule of tracking's selectors)."""
    if not project_ids:
        return set()
    return set(tracking_selectors.project_list(user=user).filter(pk__in=project_ids).values_list("pk", flat=True))


def submission_shown(submission: Submission, *, readable: set[int], n_seeds: dict[str, int] | None) -> dict[str, Any]:
    """A submission as a user sees it: the project only when the user may read it."""
    shown = submission.project_id in readable
    return {
        "id": submission.pk,
        "team": submission.team.slug,
        "label": submission.label,
        "model": submission.model,
        "variant": submission.variant,
        "config": submission.config,
        "budget": submission.budget,
        "project": submission.project.path if shown else None,
        "submitted_by": submission.submitted_by.username if submission.submitted_by else None,
        "submitted_at": submission.submitted_at,
        "withdrawn_at": submission.withdrawn_at,
        "n_seeds": n_seeds,
    }


def _redacted(block: dict[str, Any]) -> dict[str, Any]:
    """A leaderboard block without what would tell of a project the reader cannot read."""
    failed = [
        {key: value for key, value in run.items() if key != "run"} | {"run": None} for run in block["failed_runs"]
    ]
    return {**block, "projects": [], "runs": [], "failed_runs": failed}


def leaderboard_view(*, user: User, benchmark: Benchmark, leaderboard: Leaderboard) -> dict[str, Any]:
    """The stored leaderboard and the active submissions, with project paths and run ids only
    for the projects `user` may read."""
    submissions = list(submission_list(benchmark=benchmark).order_by("pk"))
    submitted_projects = {submission.pk: submission.project_id for submission in submissions}
    readable = readable_project_ids(user=user, project_ids=set(submitted_projects.values()))
    payload = leaderboard.payload or {}
    blocks = [
        block if submitted_projects.get(block.get("submission", -1)) in readable else _redacted(block)
        for block in payload.get("variants", [])
    ]
    counts = {entry["submission"]: entry["n_seeds"] for entry in payload.get("entries", [])}
    return {
        "status": leaderboard.status,
        "computed_at": leaderboard.computed_at,
        "method_version": leaderboard.method_version or None,
        "bootstrap_seed": leaderboard.bootstrap_seed,
        "error": leaderboard.error or None,
        "goal": benchmark.goal,
        "summary": benchmark.summary,
        "k": benchmark.k,
        "step": benchmark.step,
        "metric": benchmark.metric,
        "tasks": benchmark.tasks,
        "warnings": payload.get("warnings", []),
        "submissions": [
            submission_shown(submission, readable=readable, n_seeds=counts.get(submission.pk))
            for submission in submissions
        ],
        "variants": blocks,
        "pairs": payload.get("pairs", []),
        "ranking": payload.get("ranking"),
        "benchmark": payload.get("benchmark"),
    }


MAX_FORM_PROJECTS = 50
MAX_FORM_VARIANTS = 200


def submission_choices(*, user: User, benchmark: Benchmark) -> list[dict[str, Any]]:
    """For the submit form: the projects `user` may write to (access by tracking's selectors),
    each with its variants that have a finished run on one of the benchmark's tasks."""
    # project_list annotates the caller's role in each project's team (tracking's selectors).
    readable = tracking_selectors.project_list(user=user)
    writable = list(readable.filter(role__in=ROLES_FOR["write"])[:MAX_FORM_PROJECTS])  # type: ignore[misc]
    rows = list(
        Variant.objects.filter(project__in=writable, runs__task__in=benchmark.tasks, runs__status=Run.Status.FINISHED)
        .distinct()
        .order_by("project_id", "model", "pk")
        .values_list("project_id", "fingerprint", "model", "config")[:MAX_FORM_VARIANTS]
    )
    choices = []
    for project in writable:
        members = [(fingerprint, model, config) for pid, fingerprint, model, config in rows if pid == project.pk]
        labels = variant_labels(members)
        if members:
            choices.append(
                {
                    "project": project.path,
                    "variants": [{"fingerprint": f, "label": labels[f]} for f, _, _ in members],
                }
            )
    return choices
