"""Writes of the benchmarks app: benchmarks, submissions, withdrawals, and leaderboard recomputes.

Who may do what (docs/benchmarks.md): an admin of the owner team creates and edits a
benchmark; a member or admin of a project's team submits one of its variants, if the benchmark
is open or lists the team; a member or admin of the submitting team withdraws. Every change that
alters what a leaderboard reads marks it stale in the same transaction (recompute protocol of
server/stats/models.py); a Celery worker computes it (`leaderboard_recompute`).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from server.accounts.models import Team
from server.accounts.selectors import team_get_for
from server.accounts.services import audit_record
from server.analysis import METHOD_VERSION
from server.benchmarks import leaderboard as board
from server.benchmarks.models import Benchmark, Leaderboard, Submission
from server.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from server.stats import compute, recompute, scores
from server.stats.models import Status
from server.tracking import selectors as tracking_selectors
from server.tracking.labels import variant_labels
from server.tracking.models import Project, Variant
from workers.queue import enqueue

# Fields of a benchmark whose change changes its leaderboard.
RESULT_FIELDS = ("tasks", "metric", "goal", "summary", "k", "step", "normalize", "min_seeds")
MAX_LABELED_VARIANTS = 500  # variants of one model read to make a default label

# ---------------------------------------------------------------------------- staleness


def leaderboard_enqueue(benchmark_id: int, countdown: float = 0.0) -> None:
    enqueue("seedboard.leaderboard_recompute", benchmark_id, countdown=countdown)


def _leaderboard_mark(queryset: QuerySet[Leaderboard]) -> int:
    return recompute.mark(queryset, leaderboard_enqueue, "benchmark_id")


def leaderboards_mark_stale_for(project_id: int, metrics: Collection[str] | None) -> int:
    """Mark the leaderboards with an active submission from this project on one of these metrics
    (None: on any metric, as before the project is deleted).

    Called by server.stats.services.stats_mark_stale, in the transaction of the run change.
    """
    submissions = Submission.objects.filter(project_id=project_id, withdrawn_at__isnull=True)
    if metrics is not None:
        submissions = submissions.filter(benchmark__metric__in=list(metrics))
    benchmarks = submissions.values("benchmark_id")
    return _leaderboard_mark(Leaderboard.objects.filter(benchmark_id__in=benchmarks))


# ---------------------------------------------------------------------------- benchmarks


def _team_admin(*, user: User, slug: str) -> Team:
    """The team, when `user` is one of its admins; 404 for a team the user is not in, 403 otherwise."""
    return team_get_for(user=user, slug=slug, need="admin")


def _teams_by_slug(slugs: list[str]) -> list[Team]:
    found = {team.slug: team for team in Team.objects.filter(slug__in=slugs)}
    missing = [slug for slug in slugs if slug not in found]
    if missing:
        raise InvalidInput(f"teams: no team {missing[0]!r}", field="teams")
    return [found[slug] for slug in slugs]


def _normalize_check(normalize: dict[str, Any] | None, tasks: list[str]) -> None:
    extra = sorted(set(normalize or {}) - set(tasks))
    if extra:
        raise InvalidInput(f"normalize: {extra[0]!r} is not one of the benchmark's tasks", field="normalize")


def _rule_check(summary: str, k: int | None, step: int | None) -> None:
    for name, value, needed in (("k", k, "mean_last_k"), ("step", step, "at_step")):
        if summary == needed and value is None:
            raise InvalidInput(f"{name}: required with summary {needed}", field=name)
        if summary != needed and value is not None:
            raise InvalidInput(f"{name}: only used with summary {needed}", field=name)


def benchmark_create(
    *,
    user: User,
    team: str,
    slug: str,
    name: str,
    tasks: list[str],
    metric: str,
    goal: str | None = None,
    summary: str = "last",
    k: int | None = None,
    step: int | None = None,
    description: str = "",
    min_seeds: int = 3,
    normalize: dict[str, dict[str, float]] | None = None,
    open: bool = True,
    teams: list[str] | None = None,
    request: HttpRequest | None = None,
) -> Benchmark:
    """Create a benchmark owned by `team` (the user must be one of its admins) and its empty leaderboard."""
    owner = _team_admin(user=user, slug=team)
    tasks = sorted(dict.fromkeys(tasks))
    _normalize_check(normalize, tasks)
    _rule_check(summary, k, step)
    allowed = _teams_by_slug(list(dict.fromkeys(teams or [])))
    goal = goal or scores.metric_rule_default(metric).goal
    with transaction.atomic():
        if Benchmark.objects.filter(slug=slug).exists():
            raise Conflict(f"slug: a benchmark {slug!r} exists already", field="slug")
        try:
            with transaction.atomic():
                benchmark = Benchmark.objects.create(
                    slug=slug,
                    name=name,
                    description=description,
                    team=owner,
                    created_by=user,
                    tasks=tasks,
                    metric=metric,
                    goal=goal,
                    summary=summary,
                    k=k,
                    step=step,
                    min_seeds=min_seeds,
                    normalize=normalize,
                    open=open,
                )
        except IntegrityError:  # a concurrent create of the same slug
            raise Conflict(f"slug: a benchmark {slug!r} exists already", field="slug") from None
        benchmark.allowed_teams.set(allowed)
        # Nothing to rank yet: fresh and empty, until the first submission marks it.
        Leaderboard.objects.create(benchmark=benchmark, status=Status.FRESH, computed_at=timezone.now())
        audit_record(
            action="benchmark.create",
            actor=user,
            team=owner,
            target=f"benchmark:{slug}",
            detail={"tasks": tasks, "metric": metric, "open": open},
            request=request,
        )
    return benchmark


def benchmark_update(
    *, user: User, benchmark: Benchmark, fields: dict[str, Any], request: HttpRequest | None = None
) -> Benchmark:
    """Change a benchmark (an admin of its owner team); a changed rule or task set recomputes its leaderboard."""
    try:
        _team_admin(user=user, slug=benchmark.team.slug)
    except NotFound:
        # The benchmark is public: say why, rather than pretend it is missing.
        raise PermissionDenied(f"Only admins of team {benchmark.team.slug!r} can change this benchmark.") from None
    fields = dict(fields)
    teams = fields.pop("teams", None)
    if "tasks" in fields:
        fields["tasks"] = sorted(dict.fromkeys(fields["tasks"]))
    if "goal" in fields and fields["goal"] is None:  # null: the default of the (new) metric's name
        fields["goal"] = scores.metric_rule_default(fields.get("metric", benchmark.metric)).goal
    if "summary" in fields and "k" not in fields and "step" not in fields:
        fields.setdefault("k", None)
        fields.setdefault("step", None)
    merged = {name: fields.get(name, getattr(benchmark, name)) for name in RESULT_FIELDS}
    _normalize_check(merged["normalize"], merged["tasks"])
    _rule_check(merged["summary"], merged["k"], merged["step"])
    allowed = None if teams is None else _teams_by_slug(list(dict.fromkeys(teams)))
    changed = any(merged[name] != getattr(benchmark, name) for name in RESULT_FIELDS)
    with transaction.atomic():
        for name, value in fields.items():
            setattr(benchmark, name, value)
        benchmark.save()
        if allowed is not None:
            benchmark.allowed_teams.set(allowed)
        if changed:
            _leaderboard_mark(Leaderboard.objects.filter(benchmark=benchmark))
    return benchmark


# ---------------------------------------------------------------------------- submissions


def benchmark_rule(benchmark: Benchmark) -> scores.MetricRule:
    return scores.MetricRule(benchmark.goal, benchmark.summary, benchmark.k, benchmark.step, declared=True)


def _default_label(project: Project, variant: Variant) -> str:
    """The variant's label among its project's variants of the same model (server/tracking/labels.py)."""
    siblings = list(
        Variant.objects.filter(project=project, model=variant.model)
        .order_by("pk")
        .values_list("fingerprint", "model", "config")[:MAX_LABELED_VARIANTS]
    )
    if variant.fingerprint not in {fingerprint for fingerprint, _, _ in siblings}:
        siblings.append((variant.fingerprint, variant.model, variant.config))
    return variant_labels(siblings)[variant.fingerprint]


def submission_create(
    *,
    user: User,
    benchmark: Benchmark,
    project: str,
    variant: str,
    label: str | None = None,
    budget: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> Submission:
    """Submit a variant of a project of the user's team (member or admin) to a benchmark.

    Reads only the variant's runs on the benchmark's tasks: InvalidInput unless it has the
    metric and `min_seeds` finished seeds on every task; Conflict when it is entered already.
    """
    team_slug, project_slug = tracking_selectors.project_path_split(project)
    found = tracking_selectors.project_get(user=user, team_slug=team_slug, project_slug=project_slug, write=True)
    if not benchmark.open and not benchmark.allowed_teams.filter(pk=found.team_id).exists():
        raise PermissionDenied(f"Benchmark {benchmark.slug!r} takes submissions from its listed teams only.")
    info = Variant.objects.filter(project=found, fingerprint=variant).first()
    if info is None:
        raise NotFound(f"Variant {variant} not found in {found.path}.", field="variant")
    table = scores.metric_scores(project_id=found.pk, metric=benchmark.metric, rule=benchmark_rule(benchmark))
    if not any(table.variants[pk].fingerprint == variant for pk in table.variants):
        raise InvalidInput(f"variant: no run of it logged {benchmark.metric!r}", field="variant")
    entry = board.Entry(0, found.team.slug, "", info.model, info.config, found.path, variant, {})
    counts = {group.task: board.finite_seeds(group) for group in board.entry_groups(entry, table, benchmark.tasks)}
    short = [task for task in benchmark.tasks if counts.get(task, 0) < benchmark.min_seeds]
    if short:
        has = ", ".join(f"{counts.get(task, 0)} on task {task!r}" for task in short)
        raise InvalidInput(
            f"variant: the benchmark needs {benchmark.min_seeds} finished seeds with a score on each task; "
            f"this variant has {has}",
            field="variant",
        )
    budget = {key: value for key, value in (budget or {}).items() if value is not None}
    with transaction.atomic():
        conflict = Conflict(
            f"variant: {found.path} {variant} is entered in {benchmark.slug!r} already", field="variant"
        )
        if Submission.objects.filter(
            benchmark=benchmark, project=found, variant=variant, withdrawn_at__isnull=True
        ).exists():
            raise conflict
        try:
            with transaction.atomic():
                submission = Submission.objects.create(
                    benchmark=benchmark,
                    team=found.team,
                    project=found,
                    variant=variant,
                    label=label or _default_label(found, info),
                    model=info.model,
                    config=info.config,
                    budget=budget,
                    submitted_by=user,
                )
        except IntegrityError:  # a concurrent submission of the same variant won
            raise conflict from None
        _leaderboard_mark(Leaderboard.objects.filter(benchmark=benchmark))
        audit_record(
            action="benchmark.submit",
            actor=user,
            team=found.team,
            target=f"benchmark:{benchmark.slug}/submission:{submission.pk}",
            detail={"project": found.path, "variant": variant, "budget": budget},
            request=request,
        )
    return submission


def submission_withdraw(
    *, user: User, benchmark: Benchmark, submission_id: int, request: HttpRequest | None = None
) -> Submission:
    """Withdraw an active submission (a member or admin of its team); the row stays, for the audit."""
    submission = (
        Submission.objects.select_related("team")
        .filter(benchmark=benchmark, pk=submission_id, withdrawn_at__isnull=True)
        .first()
    )
    if submission is None:
        raise NotFound(f"No active submission {submission_id} in {benchmark.slug!r}.")
    try:
        team_get_for(user=user, slug=submission.team.slug, need="write")
    except NotFound:
        # The submission is public on the leaderboard: say why, rather than pretend it is missing.
        raise PermissionDenied(f"Only members of team {submission.team.slug!r} can withdraw its submissions.") from None
    with transaction.atomic():
        now = timezone.now()
        if not Submission.objects.filter(pk=submission.pk, withdrawn_at__isnull=True).update(
            withdrawn_at=now, withdrawn_by=user
        ):
            raise NotFound(f"No active submission {submission_id} in {benchmark.slug!r}.")
        _leaderboard_mark(Leaderboard.objects.filter(benchmark=benchmark))
        audit_record(
            action="benchmark.withdraw",
            actor=user,
            team=submission.team,
            target=f"benchmark:{benchmark.slug}/submission:{submission.pk}",
            detail={"variant": submission.variant},
            request=request,
        )
    submission.withdrawn_at, submission.withdrawn_by = now, user
    return submission


# ---------------------------------------------------------------------------- the leaderboard


def leaderboard_current(*, benchmark: Benchmark) -> Leaderboard:
    """The leaderboard, with a recompute queued when an older method version computed it."""
    found = Leaderboard.objects.get(benchmark=benchmark)
    if found.pending or found.method_version in ("", METHOD_VERSION) or not found.payload:
        return found
    _leaderboard_mark(Leaderboard.objects.filter(pk=found.pk))
    return Leaderboard.objects.get(pk=found.pk)


def leaderboard_recompute(*, benchmark_id: int) -> str:
    """Recompute a benchmark's leaderboard; outcomes as server.stats.services.stats_recompute's."""
    pk = Leaderboard.objects.filter(benchmark_id=benchmark_id).values_list("pk", flat=True).first()
    if pk is None:
        return "gone"
    claim = recompute.claim(Leaderboard, pk)
    if isinstance(claim, str):
        return claim
    try:
        recompute.delay_for_tests()
        fields = _leaderboard_compute(Benchmark.objects.get(pk=benchmark_id), pk)
    except Exception as exc:
        recompute.release(Leaderboard, pk, claim, exc)
        raise
    if fields is None:
        recompute.finish(Leaderboard, pk, claim, {}, lambda: None)
        return "unchanged"
    return "computed" if recompute.finish(Leaderboard, pk, claim, fields, lambda: None) else "superseded"


def _leaderboard_compute(benchmark: Benchmark, pk: int) -> dict[str, Any] | None:
    """The stored fields of the new results, or None when the inputs did not change."""
    submissions = list(
        Submission.objects.filter(benchmark=benchmark, withdrawn_at__isnull=True)
        .select_related("team", "project__team")
        .order_by("pk")
    )
    rule = benchmark_rule(benchmark)
    tables: dict[int, scores.ScoreTable] = {}
    entries, groups = [], []
    for submission in submissions:
        if submission.project_id not in tables:
            tables[submission.project_id] = scores.metric_scores(
                project_id=submission.project_id, metric=benchmark.metric, rule=rule
            )
        entry = board.Entry(
            submission=submission.pk,
            team=submission.team.slug,
            label=submission.label,
            model=submission.model,
            config=submission.config,
            project=submission.project.path,
            variant=submission.variant,
            budget=submission.budget,
        )
        entries.append(entry)
        groups.extend(board.entry_groups(entry, tables[submission.project_id], benchmark.tasks))
    seed = compute.bootstrap_seed("benchmark", benchmark.pk, benchmark.metric)
    context = {
        "rule": rule.to_dict(),
        "tasks": benchmark.tasks,
        "normalize": benchmark.normalize,
        "min_seeds": benchmark.min_seeds,
        "entries": [[e.submission, e.team, e.label, e.project, e.variant, e.budget] for e in entries],
        # Scores as text: one spelling of NaN and the infinities in the hash.
        "groups": [[g.variant, g.task, g.runs, g.seeds, [repr(s) for s in g.scores], g.failed_runs] for g in groups],
        "seed": seed,
    }
    fingerprint = compute.inputs_fingerprint([], context)
    stored = Leaderboard.objects.filter(pk=pk).values_list("inputs_fingerprint", "method_version").get()
    if stored == (fingerprint, METHOD_VERSION):
        return None
    payload = board.leaderboard_payload(
        entries,
        groups,
        metric=benchmark.metric,
        goal=benchmark.goal,
        min_seeds=benchmark.min_seeds,
        normalize=benchmark.normalize,
        seed=seed,
    )
    payload.update(rule.to_dict())
    return {
        "payload": payload,
        "computed_at": timezone.now(),
        "inputs_fingerprint": fingerprint,
        "method_version": METHOD_VERSION,
        "bootstrap_seed": seed,
    }
