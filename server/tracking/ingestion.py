"""Writes of metric points: the ingestion hot path, one transaction per batch.

A batch is claimed by its id, its key names resolved to ids, its points written by one binary
COPY (points.py) and folded into the per-(run, key) summaries, all in one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction
from django.utils import timezone

from server.tracking import points
from server.tracking.batches import MetricBatch
from server.tracking.models import IngestBatch, MetricKey, MetricSummary
from server.tracking.services import overviews_mark

# Key names never change id, so resolved ids are cached per process. Filled only with
# committed rows (see metric_keys_resolve), so a rolled-back batch cannot poison it.
_key_ids: dict[str, int] = {}
_KEY_CACHE_LIMIT = 100_000
# The first key of the advisory locks that serialize the batches of a resumed run (the second
# is the run's pk): a stable, arbitrary number no other lock of this database uses.
_RESUMED_RUN_LOCK = 0x5EED_0001


def metric_keys_resolve(names: list[str]) -> list[int]:
    """Ids of the given key names, creating missing ones in the caller's transaction.

    New names are inserted in sorted order, so two batches creating the same keys lock them in
    one order. Only ids the first SELECT found enter the cache: they are committed rows (a batch
    resolves its keys once per transaction), whereas a new key is rolled back with a failed
    batch; the next batch that names it finds it committed and caches it then.
    """
    missing = [name for name in names if name not in _key_ids]
    if not missing:
        return [_key_ids[name] for name in names]
    found = dict(MetricKey.objects.filter(name__in=missing).values_list("name", "id"))
    if len(_key_ids) + len(found) > _KEY_CACHE_LIMIT:
        _key_ids.clear()
    _key_ids.update(found)
    new = sorted({name for name in missing if name not in found})
    if new:
        MetricKey.objects.bulk_create([MetricKey(name=name) for name in new], ignore_conflicts=True)
        found.update(MetricKey.objects.filter(name__in=new).values_list("name", "id"))
    return [_key_ids.get(name) or found[name] for name in names]


@dataclass(frozen=True)
class IngestResult:
    batch_id: uuid.UUID
    stored: int
    duplicate: bool
    already_stored: int = 0  # points of a resumed run at a (key, step) it had stored before


def metrics_ingest(*, run_pk: int, batch: MetricBatch, run_ended: bool = False, resumed: bool = False) -> IngestResult:
    """Store a batch exactly once: batch row, COPY of the points and summary upsert in one transaction.

    The batch row goes first: a concurrent upload of the same batch blocks on its unique
    index until this transaction ends, then sees the conflict and stores nothing. Points of a
    run that is no longer running (`run_ended`: a late upload or a replay) make its overviews
    out of date, so the same transaction queues their rebuild.

    A `resumed` run (resume.py) has a training loop that restarted and may log steps again:
    its points at a (key, step) already stored are left out and counted in `already_stored`.
    Only resumed runs pay for that check; the others keep the plain append path.
    """
    with transaction.atomic():
        # Claim first: a duplicate (or a reused batch_id with another body) adds no key names.
        if not _batch_claim(run_pk=run_pk, batch=batch):
            return IngestResult(batch.batch_id, 0, True)
        key_ids = np.asarray(metric_keys_resolve(batch.key_names), dtype=np.int32)[batch.key_codes]
        # Sorting by (key, step) gives the btree sequential inserts and makes the per-key
        # summaries contiguous slices; lexsort is stable, so among equal steps the later point wins.
        order = np.lexsort((batch.steps, key_ids))
        key_ids, steps, values, times = key_ids[order], batch.steps[order], batch.values[order], batch.times[order]
        already_stored = 0
        if resumed:
            fresh = ~_stored_mask(run_pk=run_pk, key_ids=key_ids, steps=steps)
            already_stored = len(steps) - int(fresh.sum())
            if already_stored:
                key_ids, steps, values, times = key_ids[fresh], steps[fresh], values[fresh], times[fresh]
        points.points_insert(run_pk=run_pk, key_ids=key_ids, steps=steps, values=values, times=times)
        _summaries_upsert(run_pk=run_pk, key_ids=key_ids, steps=steps, values=values)
        if run_ended:
            overviews_mark(run_pks=[run_pk])
    return IngestResult(batch.batch_id, len(steps), False, already_stored)


def _stored_mask(*, run_pk: int, key_ids: npt.NDArray[np.int32], steps: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Which points of a batch (sorted by key, step) are at a (key, step) the run has stored.

    Takes a transaction-level advisory lock on the run first, so two batches of one resumed run
    (the restarted process and a `seedboard sync` of the old one's spool) check and insert one
    after the other and cannot both store a step. Only the stored points inside each key's
    [first_step, last_step] summary range are read: a resumed loop logging new steps past the
    last stored one reads no points at all.
    """
    stored = np.zeros(len(steps), dtype=bool)
    if not len(steps):
        return stored
    if points.is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_RESUMED_RUN_LOCK, run_pk % 2**31])
    starts = np.flatnonzero(np.r_[True, key_ids[1:] != key_ids[:-1]])
    ends = np.r_[starts[1:], len(steps)]
    summaries = MetricSummary.objects.filter(run_id=run_pk, key_id__in=key_ids[starts].tolist())
    extents = {key: (first, last) for key, first, last in summaries.values_list("key_id", "first_step", "last_step")}
    ranges = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        extent = extents.get(int(key_ids[start]))
        if extent is None:
            continue
        low, high = max(int(steps[start]), extent[0]), min(int(steps[end - 1]), extent[1])
        if low <= high:
            ranges.append((int(key_ids[start]), low, high))
    found = points.points_read_ranges_grouped(by="key_id", other=run_pk, ranges=ranges)
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        series = found.get(int(key_ids[start]))
        if series is not None and len(series):
            stored[start:end] = np.isin(steps[start:end], series.steps)
    return stored


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
