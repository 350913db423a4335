"""Writes for projects, runs and their history overviews; metric points: ingestion.py."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.request import Request

from server.accounts.models import AuditEvent, Team, Visibility, slug_validator
from server.accounts.services import audit_record
from server.core.errors import Conflict, InvalidInput, NotFound
from server.core.jsonvalues import json_size_check
from server.tracking import points, selectors
from server.tracking.models import (
    MetricOverview,
    MetricSummary,
    OverviewBuild,
    Project,
    Run,
    Variant,
)
from server.tracking.overviews import (
    OVERVIEW_MIN_POINTS,
    Overview,
    overview_build,
    overview_coarsen,
    overview_levels,
    points_of,
)
from server.tracking.variants import variant_config, variant_fingerprint
from workers.queue import enqueue

# ---------------------------------------------------------------------------- projects


def project_create(
    *,
    team: Team,
    slug: str,
    name: str = "",
    description: str = "",
    noise_keys: list[str] | None = None,
    visibility: str = Visibility.PRIVATE,
) -> Project:
    if Project.objects.filter(team=team, slug=slug).exists():
        raise Conflict(f"Project {team.slug}/{slug} already exists.", field="slug")
    try:
        with transaction.atomic():
            return Project.objects.create(
                team=team,
                slug=slug,
                name=name or slug,
                description=description,
                noise_keys=noise_keys or [],
                visibility=visibility,
            )
    except IntegrityError:
        raise Conflict(f"Project {team.slug}/{slug} already exists.", field="slug") from None


@transaction.atomic
def project_visibility_set(
    *, project: Project, visibility: str, actor: User | None, request: HttpRequest | Request | None = None
) -> Project:
    """Make a project private to its team or internal to the instance (its team's admins do)."""
    if visibility not in Visibility.values:
        raise InvalidInput(f"visibility: 'private' or 'internal', got {visibility!r}", field="visibility")
    previous = project.visibility
    if previous == visibility:
        return project
    project.visibility = visibility
    project.save(update_fields=["visibility"])
    audit_record(
        action=AuditEvent.Action.PROJECT_VISIBILITY,
        actor=actor,
        team=project.team,
        target=project.path,
        detail={"from": previous, "to": visibility},
        request=request,
    )
    return project


@transaction.atomic
def project_delete(*, project: Project, actor: User | None, request: HttpRequest | Request | None = None) -> int:
    """Delete a project with its runs and their points; returns the number of runs deleted."""
    run_pks = list(project.runs.values_list("pk", flat=True))
    points.points_delete_for_runs(run_pks=run_pks)
    path = project.path
    Run.objects.filter(project=project).delete()  # first: a run protects its variant
    project.delete()
    audit_record(
        action=AuditEvent.Action.PROJECT_DELETE,
        actor=actor,
        team=project.team,
        target=path,
        detail={"runs": len(run_pks)},
        request=request,
    )
    return len(run_pks)


def project_for_new_run(*, user: User, team_slug: str, project_slug: str) -> Project:
    """The project a new run goes to, created on first use when the user may write to its team.

    One query when the project exists (the common case), so creating a run stays cheap.
    """
    try:
        return selectors.project_get(user=user, team_slug=team_slug, project_slug=project_slug, write=True)
    except NotFound:
        team = selectors.team_for_member(user=user, slug=team_slug, write=True)
    return project_get_or_create(team=team, slug=project_slug)


def project_get_or_create(*, team: Team, slug: str) -> Project:
    try:
        slug_validator(slug)
    except ValidationError as exc:
        raise InvalidInput(f"project: {slug!r}: {exc.messages[0]}", field="project") from exc
    project, _ = Project.objects.select_related("team").get_or_create(team=team, slug=slug, defaults={"name": slug})
    return project


@transaction.atomic
def project_update(
    *, project: Project, name: str | None = None, description: str | None = None, noise_keys: list[str] | None = None
) -> Project:
    if name is not None:
        project.name = name
    if description is not None:
        project.description = description
    refingerprint = noise_keys is not None and noise_keys != project.noise_keys
    if noise_keys is not None:
        project.noise_keys = noise_keys
    project.save()
    if refingerprint:
        _project_refingerprint(project=project)
    return project


def _project_refingerprint(*, project: Project) -> None:
    """Regroup a project's runs into variants after its noise keys changed."""
    runs = list(Run.objects.filter(project=project).only("id", "model", "config", "variant_id"))
    changed = []
    for run in runs:
        variant = variant_get_or_create(project=project, model=run.model, config=run.config)
        if variant.pk != run.variant_id:
            run.variant = variant
            changed.append(run)
    Run.objects.bulk_update(changed, ["variant"], batch_size=1000)
    Variant.objects.filter(project=project, runs__isnull=True).delete()


def variant_get_or_create(*, project: Project, model: str, config: dict[str, Any]) -> Variant:
    fingerprint = variant_fingerprint(model, config, project.noise_keys)
    variant, _ = Variant.objects.get_or_create(
        project=project,
        fingerprint=fingerprint,
        defaults={"model": model, "config": variant_config(config, project.noise_keys)},
    )
    return variant


# ---------------------------------------------------------------------------- runs


def run_create(
    *,
    project: Project,
    run_id: uuid.UUID | None = None,
    name: str = "",
    model: str,
    config: dict[str, Any],
    seed: int | None = None,
    task: str = "",
    tags: list[str] | None = None,
    notes: str = "",
    metadata: dict[str, Any] | None = None,
    status: str = Run.Status.RUNNING,
) -> tuple[Run, bool]:
    """Create a run, or return the existing one when a client retries with the same id.

    Returns (run, created). An id already used in another project is a conflict. The insert
    is tried first: a new id (the common case) costs no lookup, a repeated one fails on the
    unique index and is then fetched.
    """
    if seed is None:
        seed = seed_from_config(config)
    run_uuid = run_id or uuid.uuid4()
    now = timezone.now()
    try:
        with transaction.atomic():
            variant = variant_get_or_create(project=project, model=model, config=config)
            run = Run.objects.create(
                uuid=run_uuid,
                project=project,
                variant=variant,
                name=name or f"{model}-{run_uuid.hex[:8]}",
                model=model,
                config=config,
                seed=seed,
                task=task,
                tags=tags or [],
                notes=notes,
                metadata=metadata or {},
                status=status,
                started_at=now,
                heartbeat_at=now,
                ended_at=None if status == Run.Status.RUNNING else now,
            )
    except IntegrityError:
        # A retry, or two requests racing with the same client id.
        existing = run_with_id(run_id=run_uuid, project=project)
        if existing is None:
            raise
        return existing, False
    return run, True


def seed_from_config(config: dict[str, Any]) -> int | None:
    """The seed of a run created without one: an integer `seed` at the top of its config."""
    seed = config.get("seed")
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


def run_with_id(*, run_id: uuid.UUID, project: Project) -> Run | None:
    existing = Run.objects.select_related("project__team", "variant").filter(uuid=run_id).first()
    if existing is not None and existing.project_id != project.pk:
        raise Conflict(f"Run id {run_id} is already used by another project.", field="id")
    return existing


def run_update(
    *,
    run: Run,
    status: str | None = None,
    summary: dict[str, Any] | None = None,
    tags: list[str] | None = None,
    notes: str | None = None,
    name: str | None = None,
    metadata: dict[str, Any] | None = None,
    heartbeat: bool = False,
) -> Run:
    """Apply a partial update. `summary` is merged; a None value removes its key; `metadata`
    replaces the run's metadata."""
    now = timezone.now()
    changes: dict[str, Any] = {}
    with transaction.atomic():
        # Lock the row so concurrent summary merges (heartbeat thread, finish) do not lose keys;
        # read only the two columns the merge needs, then write with one UPDATE.
        current_status, current_summary = (
            Run.objects.select_for_update().filter(pk=run.pk).values_list("status", "summary").get()
        )
        if heartbeat and status is None and current_status == Run.Status.CRASHED:
            status = Run.Status.RUNNING  # it was only silent, not dead
        if status is not None and status != current_status:
            changes["status"] = status
            changes["ended_at"] = None if status == Run.Status.RUNNING else now
        if summary is not None:
            merged = dict(current_summary)
            for key, value in summary.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            json_size_check(merged, field="summary")  # bounds the merged document, not just this update
            changes["summary"] = merged
        if metadata is not None:
            json_size_check(metadata, field="metadata")
        for field, value in (("tags", tags), ("notes", notes), ("name", name), ("metadata", metadata)):
            if value is not None:
                changes[field] = value
        if heartbeat or status == Run.Status.RUNNING:
            changes["heartbeat_at"] = now
        if changes:
            Run.objects.filter(pk=run.pk).update(**changes)
        if current_status == Run.Status.RUNNING and changes.get("status", current_status) != Run.Status.RUNNING:
            overviews_mark(run_pks=[run.pk])  # its series are complete (for now): build their overviews
    run.status, run.summary = current_status, current_summary
    for field, value in changes.items():
        setattr(run, field, value)
    return run


def run_definition_set(*, run: Run, model: str, config: dict[str, Any], seed: int | None) -> Run:
    """Change what defines a run's variant (model, config, seed) and move it to that variant.

    For clients that send hyperparameters after creating the run (MLflow logs params as they
    come). A variant that no run belongs to any more is deleted, as a regrouping does.
    """
    if (run.model, run.config, run.seed) == (model, config, seed):
        return run
    with transaction.atomic():
        previous_variant_id = run.variant_id
        variant = variant_get_or_create(project=run.project, model=model, config=config)
        Run.objects.filter(pk=run.pk).update(model=model, config=config, seed=seed, variant=variant)
        if variant.pk != previous_variant_id:
            Variant.objects.filter(pk=previous_variant_id, runs__isnull=True).delete()
    run.model, run.config, run.seed, run.variant = model, config, seed, variant
    return run


def runs_mark_crashed(*, now: datetime | None = None) -> list[Run]:
    """Mark running runs whose last heartbeat is older than the timeout as crashed; returns them.

    One conditional UPDATE, safe to run from several workers at once: a run whose heartbeat
    arrives meanwhile is not matched. The runs this call changed are read back by their
    `ended_at`, which is this call's own timestamp. A run that was only silent (a long network
    outage) comes back to `running` with its next heartbeat.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.SEEDBOARD_HEARTBEAT_TIMEOUT)
    candidates = list(
        Run.objects.filter(status=Run.Status.RUNNING, heartbeat_at__lt=cutoff).values_list("pk", flat=True)
    )
    if not candidates:
        return []
    Run.objects.filter(pk__in=candidates, status=Run.Status.RUNNING, heartbeat_at__lt=cutoff).update(
        status=Run.Status.CRASHED, ended_at=now
    )
    crashed = list(Run.objects.filter(pk__in=candidates, status=Run.Status.CRASHED, ended_at=now))
    overviews_mark(run_pks=[run.pk for run in crashed])
    return crashed


def runs_delete(*, runs: Iterable[Run]) -> None:
    """Delete runs with their points (the points table has no foreign key to cascade)."""
    pks = [run.pk for run in runs]
    with transaction.atomic():
        points.points_delete_for_runs(run_pks=pks)
        Run.objects.filter(pk__in=pks).delete()


# ---------------------------------------------------------------------------- history overviews

# A build marked this long ago that never started lost its message (or the enqueue failed).
OVERVIEW_REQUEUE_AFTER = timedelta(minutes=10)
# Series are read for a build in pieces of about this many points, so memory stays bounded.
OVERVIEW_READ_POINTS = 1_000_000


def _build_on_commit(run_pk: int) -> None:
    """Queue a run's overview build once the current transaction commits (at once outside of one).

    robust: a broker outage must not fail the request that stored the data; the OverviewBuild
    row stays and `overviews_requeue` sends it later.
    """

    def send_task() -> None:
        enqueue("seedboard.overviews_build", run_pk)

    transaction.on_commit(send_task, robust=True)


def overviews_mark(*, run_pks: Sequence[int]) -> int:
    """Queue an overview build, after commit, for each of these runs that has a series long
    enough for an overview and is not queued already; returns how many were queued.

    One INSERT ... ON CONFLICT DO NOTHING per run, with a rowcount check: of several requests
    marking a run at once, exactly one inserts its OverviewBuild row and enqueues (the others
    wait for its row, then find it). The build deletes the row when it starts, so points that
    arrive during a build queue the next one. Runs of short series only queue nothing.
    """
    marked_at = connection.ops.adapt_datetimefield_value(timezone.now())
    queued = 0
    with connection.cursor() as cursor:
        for run_pk in sorted(set(run_pks)):  # one lock order for concurrent marks
            cursor.execute(
                "INSERT INTO tracking_overviewbuild (run_id, marked_at) SELECT %s, %s "
                "WHERE EXISTS (SELECT 1 FROM tracking_metricsummary WHERE run_id = %s AND count > %s) "
                "ON CONFLICT (run_id) DO NOTHING",
                [run_pk, marked_at, run_pk, OVERVIEW_MIN_POINTS],
            )
            if cursor.rowcount == 1:
                _build_on_commit(run_pk)
                queued += 1
    return queued


def metric_overviews_build(*, run_pk: int) -> int:
    """Build the overviews of a run's long series that are missing or out of date; returns how
    many series got new ones.

    Idempotent (the task is acks_late): current overviews are left alone, and a write never
    replaces overviews built from more points (a slower, older build finishing last). Built
    whatever the run's status: those of a running run go out of date with its next batch.
    """
    OverviewBuild.objects.filter(run_id=run_pk).delete()  # marks from now on queue another build
    current = set(MetricOverview.objects.filter(run_id=run_pk).values_list("key_id", "count"))
    summaries = MetricSummary.objects.filter(run_id=run_pk, count__gt=OVERVIEW_MIN_POINTS).order_by("key_id")
    written = 0
    for key_id, count, first_step, last_step in summaries.values_list("key_id", "count", "first_step", "last_step"):
        if (key_id, count) in current:
            continue
        levels = overview_levels(first_step, last_step)
        # Read in pieces cut on bucket boundaries, so memory stays bounded. A point stored
        # meanwhile may be missed: the overview then counts fewer points than the summary, so
        # it is out of date, and that point's batch has marked the run again.
        pieces = points.points_read_pieces(
            run_pk=run_pk, key_id=key_id, first_step=first_step, last_step=last_step,
            align=levels[0], pieces=math.ceil(count / OVERVIEW_READ_POINTS),
        )  # fmt: skip
        finest = overview_build((points_of(p.steps, p.values, p.times) for p in pieces), levels[0])
        if finest is not None:
            pyramid = [finest]
            for _ in levels[1:]:
                pyramid.append(overview_coarsen(pyramid[-1]))
            written += _overviews_store(run_pk, key_id, pyramid)
    return written


def _overviews_store(run_pk: int, key_id: int, pyramid: list[Overview]) -> int:
    """Store the overviews of a (run, key), replacing those built from fewer points; 1 if stored.

    Nothing is stored when overviews built from more points are there already, and each level
    is an upsert that keeps a row counting as many points. Two builds storing at once may still
    leave rows of an older count behind, but reads only use rows whose count is the summary's.
    """
    table = "tracking_metricoverview"
    built_at = connection.ops.adapt_datetimefield_value(timezone.now())
    count = pyramid[0].count
    with transaction.atomic(), connection.cursor() as cursor:
        if MetricOverview.objects.filter(run_id=run_pk, key_id=key_id, count__gt=count).exists():
            return 0
        stored = 0
        for overview in pyramid:
            cursor.execute(
                f"INSERT INTO {table} (run_id, key_id, level, count, first_step, last_step, payload, built_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (run_id, key_id, level) DO UPDATE SET "
                "count = excluded.count, first_step = excluded.first_step, last_step = excluded.last_step, "
                f"payload = excluded.payload, built_at = excluded.built_at WHERE {table}.count < excluded.count",
                [run_pk, key_id, overview.level, count, overview.first_step, overview.last_step,
                 overview.to_bytes(), built_at],
            )  # fmt: skip
            stored += cursor.rowcount
        # Levels of an older build that this one has not replaced (the series' extent changed).
        MetricOverview.objects.filter(run_id=run_pk, key_id=key_id, count__lt=count).delete()
    return int(stored > 0)


def overviews_requeue(*, now: datetime | None = None) -> int:
    """Queue again the overview builds that were marked but never started; returns how many.

    They lost their message, or the enqueue after commit failed (broker down). Each is queued at
    most once per OVERVIEW_REQUEUE_AFTER; a duplicate build finds its overviews current.
    """
    now = now or timezone.now()
    waited = now - OVERVIEW_REQUEUE_AFTER
    queued = 0
    stuck = OverviewBuild.objects.filter(marked_at__lt=waited).order_by("marked_at")
    for run_pk in stuck.values_list("run_id", flat=True)[:1000]:
        # Conditional on the same state, so two sweeps never queue a build twice.
        if OverviewBuild.objects.filter(run_id=run_pk, marked_at__lt=waited).update(marked_at=now):
            _build_on_commit(run_pk)
            queued += 1
    return queued
