"""Server-side downsampling of a metric series for charts (pure numpy, no Django).

Min/max per bucket on a grid of aligned power-of-two buckets. A request for at most N
points over the steps [a, b] uses buckets of width 2**j steps aligned at step 0 (bucket q
holds the steps q * 2**j ... (q + 1) * 2**j - 1), with j the smallest level at which at most
B = (N - 2) // 2 buckets meet [a, b]. Each bucket keeps its lowest and highest point (NaN
ranks above every number, so a diverged point is kept as a spike; of equal values the
earliest lowest and the latest highest are kept), plus the exact first and last points of
the range: at most 2B + 2 <= N points. (For N = 2 or 3 there is one bucket and no end
points.) Unlike averaging or decimation, no spike or dip disappears.

Why aligned powers of two rather than N/2 equal-width buckets: a bucket of width 2**j is the
union of whole buckets of any finer level 2**i, i <= j. So the min/max of a fine level (a
run's stored overview, see overviews.py) answers every coarser request exactly: the lowest
point of a coarse bucket is the lowest of its fine buckets' lowest points, and ties resolve
the same way. Equal-width buckets placed on each request's own range would straddle the
stored buckets, and no choice among their stored points could be both exact and complete.
The price: a request meets between B/2 and B buckets, so a dense series comes back with
between about N/2 and N points instead of about N.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Grid:
    """Buckets of width 2**level steps aligned at step 0; `ends`: keep the range's first and last points too."""

    level: int
    ends: bool


def grid_level(first: int, last: int, max_buckets: int) -> int:
    """The smallest level whose aligned buckets meeting [first, last] are at most `max_buckets`."""
    if max_buckets < 1 or first > last:
        raise ValueError("need max_buckets >= 1 and first <= last")
    level = 0
    while (last >> level) - (first >> level) + 1 > max_buckets:
        level += 1
    return level


def request_grid(first: int, last: int, max_points: int) -> Grid:
    """The grid of a request for at most `max_points` points over the steps [first, last]."""
    if max_points < 2:
        raise ValueError("max_points must be at least 2")
    ends = max_points >= 4  # two points go to the ends only when a bucket's pair still fits
    return Grid(grid_level(first, last, (max_points - 2 * ends) // 2), ends)


def bucket_extremes(
    steps: npt.NDArray[np.int64], values: npt.NDArray[np.float64], level: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Per non-empty bucket of width 2**level, in step order: the index of its lowest point,
    of its highest point, and its point count, for a non-empty series sorted by step.

    In linear passes, no sort: the series being sorted, each bucket is a slice.
    """
    buckets = steps >> level
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
    counts = np.diff(np.r_[starts, len(steps)])
    owner = np.repeat(np.arange(len(starts)), counts)
    index = np.arange(len(steps))
    nan = np.isnan(values)
    # fmin skips NaN unless a bucket holds nothing else; maximum propagates it: either way NaN
    # ranks above every number. == ties -0.0 with 0.0, as < does.
    low = np.fmin.reduceat(values, starts)[owner]
    high = np.maximum.reduceat(values, starts)[owner]
    lowest = np.minimum.reduceat(np.where((values == low) | (nan & np.isnan(low)), index, len(steps)), starts)
    highest = np.maximum.reduceat(np.where((values == high) | (nan & np.isnan(high)), index, -1), starts)
    return lowest, highest, counts  # the earliest lowest, the latest highest


def downsample_minmax(
    steps: npt.NDArray[np.int64], values: npt.NDArray[np.float64], grid: Grid
) -> npt.NDArray[np.intp]:
    """Indices (ascending) of the points to keep from a non-empty series sorted by step."""
    lowest, highest, _ = bucket_extremes(steps, values, grid.level)
    keep = np.zeros(len(steps), dtype=bool)  # a mask, not np.unique: the indices come back sorted
    keep[lowest] = keep[highest] = True
    keep[[0, -1]] |= grid.ends
    return np.flatnonzero(keep)
