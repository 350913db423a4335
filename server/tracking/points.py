"""The metric points table: bulk writes by binary COPY, range reads into numpy.

Table `tracking_metric_point (run_id int8, step int8, value float8, wall_time float8, key_id int4)`:
36 bytes of data a row, columns ordered so no alignment padding is needed, key names in the
`tracking_metrickey` dictionary. Its one index, (run_id, key_id, step), serves every read
("key K of runs R1..Rn in step order"); there is deliberately no primary key, no foreign key
and no second index, because each would be maintained for every one of ~10^9 rows on every
COPY (the btree alone is two thirds of the COPY cost). Points of a deleted run are removed by
`points_delete_for_runs`, called by the services that delete runs.

Scaling past one table: the layout partitions cleanly by `PARTITION BY HASH (run_id)` (every
query filters on run_id, so each touches one partition per run) without changing any query
here; see `migrations/0002_metric_point.py`.

On SQLite (the embedded default) the same table is written with executemany, and NaN, which
SQLite cannot store in a REAL column, is stored as NULL and read back as NaN.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction

TABLE = "tracking_metric_point"

# PostgreSQL binary COPY: header, then per row a field count and (length, big-endian value) pairs.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)
# A row out: field count, then (length, value) for run_id (or key_id as int8), step, value,
# wall_time: 50 bytes.
_COPY_OUT_ROW = np.dtype(
    [("fields", ">i2"), ("run_len", ">i4"), ("run", ">i8"), ("step_len", ">i4"), ("step", ">i8"),
     ("value_len", ">i4"), ("value", ">f8"), ("time_len", ">i4"), ("time", ">f8")]
)  # fmt: skip
_COPY_IN_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("run_len", ">i4"), ("run", ">i8"),
        ("step_len", ">i4"), ("step", ">i8"),
        ("value_len", ">i4"), ("value", ">f8"),
        ("time_len", ">i4"), ("time", ">f8"),
        ("key_len", ">i4"), ("key", ">i4"),
    ]
)  # fmt: skip


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def copy_buffer(
    run_pk: int,
    key_ids: npt.NDArray[np.int32],
    steps: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    times: npt.NDArray[np.float64],
) -> bytes:
    """The binary COPY payload of a batch, built column-wise by numpy (no per-row Python)."""
    rows = np.empty(len(steps), dtype=_COPY_IN_ROW)
    rows["fields"] = 5
    rows["run_len"] = rows["step_len"] = rows["value_len"] = rows["time_len"] = 8
    rows["key_len"] = 4
    rows["run"] = run_pk
    rows["step"] = steps
    rows["value"] = values
    rows["time"] = times
    rows["key"] = key_ids
    return b"".join((_COPY_HEADER, rows.tobytes(), _COPY_TRAILER))


def points_insert(
    *,
    run_pk: int,
    key_ids: npt.NDArray[np.int32],
    steps: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    times: npt.NDArray[np.float64],
) -> None:
    """Append points; the caller owns the transaction."""
    if not len(steps):
        return
    with connection.cursor() as cursor:
        if is_postgresql():
            buffer = copy_buffer(run_pk, key_ids, steps, values, times)
            with cursor.cursor.copy(
                f"COPY {TABLE} (run_id, step, value, wall_time, key_id) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.write(buffer)
        else:
            stored = [None if v != v else v for v in values.tolist()]
            cursor.executemany(
                f"INSERT INTO {TABLE} (run_id, step, value, wall_time, key_id) VALUES (%s, %s, %s, %s, %s)",
                list(zip([run_pk] * len(steps), steps.tolist(), stored, times.tolist(), key_ids.tolist(), strict=True)),
            )


class Series:
    """Points of one (run, key) in step order, as numpy columns."""

    __slots__ = ("steps", "times", "values")

    def __init__(self, steps: npt.NDArray[np.int64], values: npt.NDArray[np.float64], times: npt.NDArray[np.float64]):
        self.steps = steps
        self.values = values
        self.times = times

    def __len__(self) -> int:
        return len(self.steps)

    def take(self, indices: npt.NDArray[np.intp]) -> Series:
        return Series(self.steps[indices], self.values[indices], self.times[indices])


# A history read covers one key across runs, or one run across keys: the series it returns
# are keyed by the column that varies ("run_id" or "key_id"), the other is one value.
GroupBy = Literal["run_id", "key_id"]
GROUP_COLUMNS: dict[GroupBy, GroupBy] = {"run_id": "key_id", "key_id": "run_id"}


def points_read(
    *, run_pks: Sequence[int], key_id: int, min_step: int | None = None, max_step: int | None = None
) -> dict[int, Series]:
    """Every point of one key for the given runs, grouped by run, each in step order."""
    return points_read_grouped(by="run_id", ids=run_pks, other=key_id, min_step=min_step, max_step=max_step)


def points_read_grouped(
    *, by: GroupBy, ids: Sequence[int], other: int, min_step: int | None = None, max_step: int | None = None
) -> dict[int, Series]:
    """Every point of the series `by` = each of `ids` (run_id or key_id) and the other column =
    `other`, grouped by `by` in step order: one key of many runs, or many keys of one run."""
    if not ids:
        return {}
    fixed = GROUP_COLUMNS[by]
    # The group column comes first, as int8 (key_id is int4): the reader splits series on it.
    if is_postgresql():
        group, where, params = f"{by}::int8", f"{by} = ANY(%s) AND {fixed} = %s", [list(ids), other]
    else:
        group, where, params = by, f"{by} IN ({', '.join(['%s'] * len(ids))}) AND {fixed} = %s", [*ids, other]
    if min_step is not None:
        where += " AND step >= %s"
        params.append(min_step)
    if max_step is not None:
        where += " AND step <= %s"
        params.append(max_step)
    select = f"SELECT {group}, step, value, wall_time FROM {TABLE} WHERE {where} ORDER BY {by}, step"
    return _read(select, params)


def points_read_ranges(*, key_id: int, ranges: Sequence[tuple[int, int, int]]) -> dict[int, Series]:
    """The points of one key in the given (run, first step, last step) ranges, grouped by run in
    step order."""
    return points_read_ranges_grouped(by="run_id", other=key_id, ranges=ranges)


def points_read_ranges_grouped(*, by: GroupBy, other: int, ranges: Sequence[tuple[int, int, int]]) -> dict[int, Series]:
    """The points in the given (id, first step, last step) ranges of the series `by` = id and the
    other column = `other`, grouped by id in step order. Meant for short ranges (the edges of
    zoomed histories): one index range scan each, and the few points they hold are sorted."""
    if not ranges:
        return {}
    fixed = GROUP_COLUMNS[by]
    if is_postgresql():
        # One index range scan per range, in a nested loop. OFFSET 0 keeps the planner from
        # flattening the subquery into a hash join over the whole table (it cannot estimate a
        # range between two columns of r), and JIT is off because, planned at a guessed 500
        # rows a range, a few hundred ranges would pass jit_above_cost and compiling would take
        # longer than the reads. (An OR of the ranges plans slowly and runs as a parallel scan.)
        ids, firsts, lasts = (list(column) for column in zip(*ranges, strict=True))
        select = (
            "SELECT p.id, p.step, p.value, p.wall_time "
            "FROM unnest(%s::int8[], %s::int8[], %s::int8[]) AS r (id, first, last) CROSS JOIN LATERAL "
            f"(SELECT {by}::int8 AS id, step, value, wall_time FROM {TABLE} "
            f"WHERE {by} = r.id AND {fixed} = %s AND step BETWEEN r.first AND r.last OFFSET 0) AS p "
            "ORDER BY p.id, p.step"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            return _read_postgresql(select, [ids, firsts, lasts, other])
    where = " OR ".join([f"({by} = %s AND step BETWEEN %s AND %s)"] * len(ranges))
    select = f"SELECT {by}, step, value, wall_time FROM {TABLE} WHERE {fixed} = %s AND ({where}) ORDER BY {by}, step"
    return _read(select, [other, *(bound for bounds in ranges for bound in bounds)])


def points_read_around(*, key_id: int, positions: Mapping[int, npt.NDArray[np.float64]]) -> dict[int, Series]:
    """For each run (pk) and each step position of its array, the last point with a finite value
    at or before it and the first at or after it: the points that linear interpolation at those
    positions reads. Grouped by run, in step order, without repeats.

    On PostgreSQL two index probes per position, so a long series costs the number of positions,
    not its length; on SQLite the runs are read whole and the same points picked.
    """
    positions = {run_pk: at for run_pk, at in positions.items() if len(at)}
    if not positions:
        return {}
    if not is_postgresql():
        found = points_read(run_pks=list(positions), key_id=key_id)
        return {run_pk: series.take(_around(series, positions[run_pk])) for run_pk, series in found.items()}
    runs = np.concatenate([np.full(len(at), run_pk, np.int64) for run_pk, at in positions.items()])
    at = np.concatenate(list(positions.values()))
    finite = "value NOT IN ('NaN', 'Infinity', '-Infinity')"
    probe = (
        f"(SELECT step, value, wall_time FROM {TABLE} WHERE run_id = g.run AND key_id = %s AND step {{test}} "
        f"AND {finite} ORDER BY step {{order}} LIMIT 1)"
    )
    select = (
        "SELECT DISTINCT g.run, p.step, p.value, p.wall_time "
        "FROM unnest(%s::int8[], %s::int8[], %s::int8[]) AS g (run, below, above) CROSS JOIN LATERAL "
        f"({probe.format(test='<= g.below', order='DESC')} UNION ALL {probe.format(test='>= g.above', order='ASC')})"
        " AS p ORDER BY g.run, p.step"
    )
    params = [runs.tolist(), np.floor(at).astype(np.int64).tolist(), np.ceil(at).astype(np.int64).tolist()]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")  # as in points_read_ranges_grouped: many cheap probes
        return _read_postgresql(select, [*params, key_id, key_id])


def _around(series: Series, at: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
    """Indices of `series`' finite points that bracket each position of `at` (see points_read_around)."""
    finite = np.flatnonzero(np.isfinite(series.values))
    finite_steps = series.steps[finite]
    above = np.searchsorted(finite_steps, at, side="left")
    below = np.searchsorted(finite_steps, at, side="right") - 1
    return finite[np.unique(np.concatenate([above[above < finite.size], below[below >= 0]]))]


def points_read_pieces(
    *, run_pk: int, key_id: int, first_step: int, last_step: int, align: int, pieces: int
) -> Iterator[Series]:
    """The points of one (run, key) in [first_step, last_step] in about `pieces` step ranges,
    each in step order, cut on multiples of 2**align steps (so no bucket of that width spans two)."""
    first_bucket, last_bucket = first_step >> align, last_step >> align
    per_piece = -(-(last_bucket - first_bucket + 1) // max(1, pieces))  # ceiling division
    for bucket in range(first_bucket, last_bucket + 1, per_piece):
        lo, hi = max(first_step, bucket << align), min(last_step, ((bucket + per_piece) << align) - 1)
        if (series := points_read(run_pks=[run_pk], key_id=key_id, min_step=lo, max_step=hi).get(run_pk)) is not None:
            yield series


def _read(select: str, params: list[Any]) -> dict[int, Series]:
    if is_postgresql():
        return _read_postgresql(select, params)
    with connection.cursor() as cursor:
        cursor.execute(select, params)
        fetched = cursor.fetchall()
    result: dict[int, list[tuple[Any, ...]]] = {}
    for row in fetched:
        result.setdefault(row[0], []).append(row)
    return {
        run_pk: Series(
            np.array([r[1] for r in rows], dtype=np.int64),
            np.array([np.nan if r[2] is None else r[2] for r in rows], dtype=np.float64),
            np.array([r[3] for r in rows], dtype=np.float64),
        )
        for run_pk, rows in result.items()
    }


def _copy_out(select: str, params: list[Any]) -> npt.NDArray[np.void]:
    """The rows of `select` (an int8, then step, value, wall_time) as a structured array of
    _COPY_OUT_ROW: binary COPY out parses straight into numpy, without a Python object per point."""
    payload = bytearray()
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY ({select}) TO STDOUT (FORMAT BINARY)", params) as copy,
    ):
        while chunk := copy.read():
            payload += chunk
    return np.frombuffer(
        payload,
        dtype=_COPY_OUT_ROW,
        offset=len(_COPY_HEADER),
        count=(len(payload) - len(_COPY_HEADER) - len(_COPY_TRAILER)) // _COPY_OUT_ROW.itemsize,
    )


def _read_postgresql(select: str, params: list[Any]) -> dict[int, Series]:
    # For `run_id = ANY(...)` the index yields (run_id, key_id, step) order, so no sort, and for
    # `run_id = R AND key_id = ANY(...)` (key_id, step) order.
    rows = _copy_out(select, params)
    run_col = rows["run"].astype(np.int64)
    boundaries = np.flatnonzero(np.diff(run_col)) + 1
    starts, ends = np.r_[0, boundaries], np.r_[boundaries, len(rows)]
    steps, values, times = (
        rows["step"].astype(np.int64),
        rows["value"].astype(np.float64),
        rows["time"].astype(np.float64),
    )
    return {
        int(run_col[lo]): Series(steps[lo:hi], values[lo:hi], times[lo:hi])
        for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True)
        if hi > lo
    }


def points_read_page(
    *,
    run_pk: int,
    key_id: int | None = None,
    start: tuple[int, int] | None = None,
    max_step: int | None = None,
    limit: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Up to `limit` points of one run (of one key when `key_id` is given, up to `max_step`) in
    (key, step) order, from the (key id, step) `start` on, inclusive: columns (key ids, steps,
    values, times).

    One short index range scan, so a long export reads page after page in separate statements
    (no transaction or cursor is held open while a slow client downloads). `start` is inclusive
    because steps may repeat: the caller cuts pages between two (key, step) groups, never inside
    one, as the order of equal rows is not guaranteed to be the same from one query to the next.
    """
    where, params = "run_id = %s", [run_pk]
    if key_id is not None:
        where += " AND key_id = %s"
        params.append(key_id)
    if start is not None:
        # A row comparison on the index's trailing columns: an index condition, not a filter.
        where += " AND (key_id, step) >= (%s, %s)"
        params += list(start)
    if max_step is not None:
        where += " AND step <= %s"
        params.append(max_step)
    select = f"SELECT key_id, step, value, wall_time FROM {TABLE} WHERE {where} ORDER BY key_id, step LIMIT %s"
    params.append(limit)
    if is_postgresql():
        rows = _copy_out(select.replace("SELECT key_id,", "SELECT key_id::int8,", 1), params)
        return (
            rows["run"].astype(np.int64),
            rows["step"].astype(np.int64),
            rows["value"].astype(np.float64),
            rows["time"].astype(np.float64),
        )
    with connection.cursor() as cursor:
        cursor.execute(select, params)
        fetched = cursor.fetchall()
    return (
        np.array([r[0] for r in fetched], dtype=np.int64),
        np.array([r[1] for r in fetched], dtype=np.int64),
        np.array([np.nan if r[2] is None else r[2] for r in fetched], dtype=np.float64),
        np.array([r[3] for r in fetched], dtype=np.float64),
    )


def points_delete_for_runs(*, run_pks: Sequence[int]) -> None:
    if not run_pks:
        return
    with connection.cursor() as cursor:
        placeholders = ", ".join(["%s"] * len(run_pks))
        cursor.execute(f"DELETE FROM {TABLE} WHERE run_id IN ({placeholders})", list(run_pks))


def empty_columns() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    return np.empty(0, np.int64), np.empty(0, np.float64), np.empty(0, np.float64)


def floats_to_wire(values: npt.NDArray[np.float64]) -> list[float | str]:
    """Floats as JSON-safe values: NaN and infinities become "NaN", "Infinity", "-Infinity"."""
    out: list[float | str] = values.tolist()
    for i in np.flatnonzero(~np.isfinite(values)).tolist():
        v = values[i]
        out[i] = "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")
    return out
