"""Overviews: stored min/max downsamples of a whole series that answer history requests exactly.

Pure numpy, no Django; `services.metric_overviews_build` stores them, `selectors.metric_histories`
reads them.

An overview of a (run, key) series is the min/max of `downsample.py` at one grid level: per
non-empty bucket the point count and the lowest and highest points (step, value and wall time:
real points, not aggregates), plus the series' first and last points; 56 bytes a bucket. A
series gets a pyramid of OVERVIEW_LEVELS of them: the finest at level i, the smallest at which
at most OVERVIEW_BUCKETS aligned buckets meet [first step, last step], then i + 1, i + 2, ...
each built from the one below (exact, as each bucket is two of the level below): at most
about 460 KB however long the series, of which a request reads one level.

A request whose grid level j is >= i is answered from the stored level min(j, coarsest)
exactly, because every request bucket is a union of whole stored buckets (see downsample.py);
usually j itself is stored, so the stored buckets are the answer's. A zoom [a, b] inside the
series cuts through the stored buckets at its edges, and its first and last points are not
stored, so `overview_plan` names at most two short raw step ranges to read: from a to the end
of the bucket that a falls in, if one of that bucket's stored points lies in [a, b] (then the
raw points include the zoom's first point), else to the end of the first non-empty bucket
lying wholly inside [a, b]; and symmetrically at b. In between, only stored buckets are used.
The answer equals the one computed from the raw points, point for point, and its `count` is
exact (the stored bucket counts plus the raw edges).

A series of at most OVERVIEW_MIN_POINTS points gets none: its finest overview would hold about
as many points as the series itself.

Payload: a 64-byte header (format version, level, count, first and last points), then the
bucket records in step order; little-endian numpy structured arrays, read without a copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from server.tracking.downsample import Grid, bucket_extremes, downsample_minmax, grid_level, request_grid

OVERVIEW_BUCKETS = 4096  # at most, at the finest level
OVERVIEW_LEVELS = 7  # so the coarsest has 33-64 buckets
OVERVIEW_MIN_POINTS = 2 * OVERVIEW_BUCKETS
FORMAT_VERSION = 1

POINT = np.dtype([("step", "<i8"), ("value", "<f8"), ("time", "<f8")])
BUCKET = np.dtype([("count", "<i8"), ("min", POINT), ("max", POINT)])
HEADER = np.dtype([("version", "<u4"), ("level", "<u4"), ("count", "<i8"), ("first", POINT), ("last", POINT)])

Points = npt.NDArray[np.void]  # records of POINT, in step order
# The same as columns (step, value, time): the request path works on these, as numpy is much
# faster on plain arrays than on fields of records.
Columns = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]


def points_of(steps: npt.NDArray[np.int64], values: npt.NDArray[np.float64], times: npt.NDArray[np.float64]) -> Points:
    out = np.empty(len(steps), POINT)
    out["step"], out["value"], out["time"] = steps, values, times
    return out


@dataclass(frozen=True)
class Overview:
    level: int  # buckets of 2**level steps
    count: int  # points it was built from
    first: Points  # the series' first point, one record
    last: Points
    buckets: npt.NDArray[np.void]  # BUCKET records of the non-empty buckets, in step order

    @property
    def first_step(self) -> int:
        return int(self.first["step"][0])

    @property
    def last_step(self) -> int:
        return int(self.last["step"][0])

    def to_bytes(self) -> bytes:
        header = np.zeros(1, HEADER)
        header["version"], header["level"], header["count"] = FORMAT_VERSION, self.level, self.count
        header["first"], header["last"] = self.first, self.last
        return header.tobytes() + self.buckets.tobytes()

    @classmethod
    def from_bytes(cls, payload: bytes | memoryview) -> Overview:
        header = np.frombuffer(payload, HEADER, count=1)
        if header["version"][0] != FORMAT_VERSION:
            raise ValueError(f"overview format {header['version'][0]}, expected {FORMAT_VERSION}")
        buckets = np.frombuffer(payload, BUCKET, offset=HEADER.itemsize)
        return cls(int(header["level"][0]), int(header["count"][0]), header["first"], header["last"], buckets)


def overview_levels(first_step: int, last_step: int) -> range:
    """The levels of the overviews of a series with these first and last steps."""
    finest = grid_level(first_step, last_step, OVERVIEW_BUCKETS)
    return range(finest, finest + OVERVIEW_LEVELS)


def overview_level_for(*, series_first: int, series_last: int, first: int, last: int, max_points: int) -> int | None:
    """The stored level to answer the steps [first, last] at `max_points` from, or None when the
    request is finer than the finest level (then only the raw points can answer it exactly)."""
    levels = overview_levels(series_first, series_last)
    level = request_grid(first, last, max_points).level
    return None if level < levels[0] else min(level, levels[-1])


def overview_build(chunks: Iterable[Points], level: int) -> Overview | None:
    """The overview at `level` of a series given as chunks in step order; None when it is empty.

    No bucket may span two chunks (the caller cuts the series on bucket boundaries), so a long
    series never has to be in memory at once.
    """
    parts, first, last, count = [], None, None, 0
    for chunk in chunks:
        if not len(chunk):
            continue
        lowest, highest, counts = bucket_extremes(chunk["step"], chunk["value"], level)
        records = np.empty(len(counts), BUCKET)
        records["count"], records["min"], records["max"] = counts, chunk[lowest], chunk[highest]
        parts.append(records)
        first = chunk[:1] if first is None else first
        last = chunk[-1:]
        count += len(chunk)
    if first is None or last is None:
        return None
    return Overview(level, count, first, last, np.concatenate(parts))


def overview_coarsen(overview: Overview) -> Overview:
    """The overview one level up, from this one alone."""
    level = overview.level + 1
    steps, values, times = _pair_columns(overview.buckets)
    lowest, highest, _ = bucket_extremes(steps, values, level)
    groups = overview.buckets["min"]["step"] >> level
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    records = np.empty(len(starts), BUCKET)
    records["count"] = np.add.reduceat(overview.buckets["count"], starts)
    for end, chosen in (("min", lowest), ("max", highest)):
        records[end]["step"] = steps[chosen]
        records[end]["value"] = values[chosen]
        records[end]["time"] = times[chosen]
    return Overview(level, overview.count, overview.first, overview.last, records)


def _pair_columns(buckets: npt.NDArray[np.void]) -> Columns:
    """The buckets' lowest and highest points, each bucket's two in step order: all in step order."""
    low, high = buckets["min"], buckets["max"]
    swap = low["step"] > high["step"]
    columns = []
    for field in ("step", "value", "time"):
        column = np.empty(2 * len(buckets), POINT[field])
        column[0::2] = np.where(swap, high[field], low[field])
        column[1::2] = np.where(swap, low[field], high[field])
        columns.append(column)
    return columns[0], columns[1], columns[2]


@dataclass(frozen=True)
class Plan:
    """How to answer a request from an overview: raw step ranges to read at the edges, stored buckets between."""

    grid: Grid
    left: tuple[int, int] | None  # raw steps [first, last] at the low edge; None: the range starts at the series' start
    right: tuple[int, int] | None
    inner: slice  # positions of the stored buckets used


def overview_plan(overview: Overview, *, first: int, last: int, max_points: int) -> Plan | None:
    """A plan for the steps [first, last] (within the series' extent) at `max_points`, or None
    when the overview cannot answer exactly or cheaply: the request is finer than the overview,
    or the range may hold at most `max_points` points (those come back untouched, so raw), or
    the range lies within a stored bucket or two."""
    grid = request_grid(first, last, max_points)
    if grid.level < overview.level:
        return None
    buckets = overview.buckets
    starts = buckets["min"]["step"] >> overview.level << overview.level
    ends = starts + ((1 << overview.level) - 1)  # not ((k + 1) << level) - 1: that overflows at 2**63
    cut_low, cut_high = first > overview.first_step, last < overview.last_step
    # The stored buckets lying wholly inside the range are positions [inside_lo, inside_hi).
    inside_lo = int(np.searchsorted(starts, first)) if cut_low else 0
    inside_hi = int(np.searchsorted(ends, last, side="right")) if cut_high else len(buckets)
    if inside_hi <= inside_lo or int(buckets["count"][inside_lo:inside_hi].sum()) <= max_points:
        return None
    # A cut edge is read raw through the bucket the cut falls in when one of its stored points
    # lies in the range (so the range's first point is among the raw ones), else through the
    # first bucket wholly inside.
    left = right = None
    inner_lo, inner_hi = 0, len(buckets)
    if cut_low:
        edge = inside_lo - 1 if inside_lo and _holds(buckets[inside_lo - 1], first, last) else inside_lo
        left, inner_lo = (first, min(last, int(ends[edge]))), edge + 1
    if cut_high:
        edge = inside_hi if inside_hi < len(buckets) and _holds(buckets[inside_hi], first, last) else inside_hi - 1
        right, inner_hi = (max(first, int(starts[edge])), last), edge
    if inner_lo > inner_hi:  # both edges in one bucket
        return None
    return Plan(grid, left, right, slice(inner_lo, inner_hi))


def _holds(bucket: np.void, first: int, last: int) -> bool:
    """Whether a stored bucket's lowest or highest point lies in [first, last]."""
    return any(first <= int(bucket[end]["step"]) <= last for end in ("min", "max"))


def overview_answer(overview: Overview, plan: Plan, raw: Columns) -> tuple[Columns, int]:
    """The downsampled points and the exact point count of a planned request, given the raw
    points of the plan's edge ranges (in step order)."""
    split = int(np.searchsorted(raw[0], plan.left[1], side="right")) if plan.left else 0
    inner = overview.buckets[plan.inner]
    head = tuple(column[:split] for column in raw) if plan.left else _columns(overview.first)
    tail = tuple(column[split:] for column in raw) if plan.right else _columns(overview.last)
    steps, values, times = (
        np.concatenate(parts) for parts in zip(head, _pair_columns(inner), tail, strict=True)
    )  # in step order
    # The same point can come twice (the series' first point is also its bucket's lowest, or a
    # bucket holds one point): drop repeats, compared bit for bit so that NaN equals NaN.
    bits = values.view(np.int64)
    repeat = (steps[1:] == steps[:-1]) & (bits[1:] == bits[:-1]) & (times[1:] == times[:-1])
    fresh = np.r_[True, ~repeat]
    steps, values, times = steps[fresh], values[fresh], times[fresh]
    kept = downsample_minmax(steps, values, plan.grid)
    count = len(raw[0]) + int(inner["count"].sum())
    return (steps[kept], values[kept], times[kept]), count


def _columns(points: Points) -> Columns:
    return points["step"], points["value"], points["time"]
