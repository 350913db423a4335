"""Writes for projects, runs and metrics."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from server.accounts.models import Team, slug_validator
from server.core.errors import Conflict, InvalidInput, NotFound
from server.tracking import points, selectors
from server.tracking.batches import MetricBatch
from server.tracking.models import IngestBatch, MetricKey, Project, Run, Variant
from server.tracking.variants import variant_config, variant_fingerprint

# ---------------------------------------------------------------------------- projects


def project_create(
    *, team: Team, slug: str, name: str = "", description: str = "", noise_keys: list[str] | None = None
) -> Project:
    if Project.objects.filter(team=team, slug=slug).exists():
        raise Conflict(f"Project {team.slug}/{slug} already exists.", field="slug")
    try:
        with transaction.atomic():
            return Project.objects.create(
                team=team, slug=slug, name=name or slug, description=description, noise_keys=noise_keys or []
            )
    except IntegrityError:
        raise Conflict(f"Project {team.slug}/{slug} already exists.", field="slug") from None


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
    if seed is None and isinstance(config.get("seed"), int) and not isinstance(config.get("seed"), bool):
        seed = config["seed"]
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
        existing = _run_with_id(run_id=run_uuid, project=project)
        if existing is None:
            raise
        return existing, False
    return run, True


def _run_with_id(*, run_id: uuid.UUID, project: Project) -> Run | None:
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
    heartbeat: bool = False,
) -> Run:
    """Apply a partial update. `summary` is merged; a None value removes its key."""
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
            changes["summary"] = merged
        for field, value in (("tags", tags), ("notes", notes), ("name", name)):
            if value is not None:
                changes[field] = value
        if heartbeat or status == Run.Status.RUNNING:
            changes["heartbeat_at"] = now
        if changes:
            Run.objects.filter(pk=run.pk).update(**changes)
    run.status, run.summary = current_status, current_summary
    for field, value in changes.items():
        setattr(run, field, value)
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
    return list(Run.objects.filter(pk__in=candidates, status=Run.Status.CRASHED, ended_at=now))


def runs_delete(*, runs: Iterable[Run]) -> None:
    """Delete runs with their points (the points table has no foreign key to cascade)."""
    pks = [run.pk for run in runs]
    with transaction.atomic():
        points.points_delete_for_runs(run_pks=pks)
        Run.objects.filter(pk__in=pks).delete()


# ---------------------------------------------------------------------------- metrics

# Key names never change id, so resolved ids are cached per process. Filled only with
# committed rows (see metric_keys_resolve), so a rolled-back batch cannot poison it.
_key_ids: dict[str, int] = {}
_KEY_CACHE_LIMIT = 100_000


def metric_keys_resolve(names: list[str]) -> list[int]:
    """Ids of the given key names, creating missing ones (committed at once, outside any batch)."""
    missing = [name for name in names if name not in _key_ids]
    if missing:
        if len(_key_ids) + len(missing) > _KEY_CACHE_LIMIT:
            _key_ids.clear()
        found = dict(MetricKey.objects.filter(name__in=missing).values_list("name", "id"))
        new = [name for name in missing if name not in found]
        if new:
            MetricKey.objects.bulk_create([MetricKey(name=name) for name in new], ignore_conflicts=True)
            found.update(MetricKey.objects.filter(name__in=new).values_list("name", "id"))
        if connection.in_atomic_block:
            # An enclosing transaction may still roll the new keys back: do not cache them.
            return [_key_ids.get(name) or found[name] for name in names]
        _key_ids.update(found)
    return [_key_ids[name] for name in names]


@dataclass(frozen=True)
class IngestResult:
    batch_id: uuid.UUID
    stored: int
    duplicate: bool


def metrics_ingest(*, run_pk: int, batch: MetricBatch) -> IngestResult:
    """Store a batch exactly once: batch row, COPY of the points and summary upsert in one transaction.

    The batch row goes first: a concurrent upload of the same batch blocks on its unique
    index until this transaction ends, then sees the conflict and stores nothing.
    """
    key_ids = np.asarray(metric_keys_resolve(batch.key_names), dtype=np.int32)[batch.key_codes]
    # Sorting by (key, step) gives the btree sequential inserts and makes the per-key
    # summaries contiguous slices; lexsort is stable, so among equal steps the later point wins.
    order = np.lexsort((batch.steps, key_ids))
    key_ids, steps, values, times = key_ids[order], batch.steps[order], batch.values[order], batch.times[order]
    with transaction.atomic():
        if not _batch_claim(run_pk=run_pk, batch=batch):
            return IngestResult(batch.batch_id, 0, True)
        points.points_insert(run_pk=run_pk, key_ids=key_ids, steps=steps, values=values, times=times)
        _summaries_upsert(run_pk=run_pk, key_ids=key_ids, steps=steps, values=values)
    return IngestResult(batch.batch_id, len(batch), False)


def _batch_claim(*, run_pk: int, batch: MetricBatch) -> bool:
    field = IngestBatch._meta.get_field("batch_id")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tracking_ingestbatch (run_id, batch_id, points, created_at) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (run_id, batch_id) DO NOTHING",
            [
                run_pk,
                field.get_db_prep_value(batch.batch_id, connection),
                len(batch),
                connection.ops.adapt_datetimefield_value(timezone.now()),
            ],
        )
        return cursor.rowcount == 1


def _nullable(array: npt.NDArray[np.float64]) -> list[float | None]:
    """NaN becomes NULL: summaries' min/max ignore NaN, and SQLite cannot store it anyway."""
    return [None if v != v else v for v in array.tolist()]


def _summaries_upsert(
    *, run_pk: int, key_ids: npt.NDArray[np.int32], steps: npt.NDArray[np.int64], values: npt.NDArray[np.float64]
) -> None:
    """Fold a batch, already sorted by (key, step), into the per-(run, key) summary rows."""
    if not len(steps):
        return
    starts = np.flatnonzero(np.r_[True, key_ids[1:] != key_ids[:-1]])
    ends = np.r_[starts[1:], len(steps)] - 1
    counts = ends - starts + 1
    # fmin/fmax skip NaN unless a key's values are all NaN.
    mins = np.fmin.reduceat(values, starts)
    maxs = np.fmax.reduceat(values, starts)
    last_values = values[ends]
    least, greatest = ("LEAST", "GREATEST") if points.is_postgresql() else ("MIN", "MAX")
    old = "tracking_metricsummary"
    sql = (
        f"INSERT INTO {old} (run_id, key_id, count, first_step, last_step, last_value, min_value, max_value) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (run_id, key_id) DO UPDATE SET "
        f"count = {old}.count + excluded.count, "
        f"first_step = {least}({old}.first_step, excluded.first_step), "
        f"last_step = {greatest}({old}.last_step, excluded.last_step), "
        f"last_value = CASE WHEN excluded.last_step >= {old}.last_step "
        f"THEN excluded.last_value ELSE {old}.last_value END, "
        # COALESCE both ways: a NULL (all-NaN) side must not win the comparison.
        f"min_value = {least}(COALESCE({old}.min_value, excluded.min_value), "
        f"COALESCE(excluded.min_value, {old}.min_value)), "
        f"max_value = {greatest}(COALESCE({old}.max_value, excluded.max_value), "
        f"COALESCE(excluded.max_value, {old}.max_value))"
    )
    # SQLite cannot store NaN; PostgreSQL keeps a NaN last value as it was logged.
    last = last_values.tolist() if points.is_postgresql() else _nullable(last_values)
    rows = zip(
        [run_pk] * len(starts),
        key_ids[starts].tolist(),  # ascending key ids: concurrent batches lock rows in one order
        counts.tolist(),
        steps[starts].tolist(),
        steps[ends].tolist(),
        last,
        _nullable(mins),
        _nullable(maxs),
        strict=True,
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, list(rows))
