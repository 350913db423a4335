"""Server-side downsampling of a metric series for charts (pure numpy, no Django).

Min/max per bucket: the step range is cut into `max_points // 2 - 1` equal-width buckets
and each keeps its lowest and highest value (NaN ranks above every number, so a diverged
point is kept as a spike), plus the exact first and last points. Unlike averaging or
decimation, no spike or dip disappears, and at most `max_points` points come back.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def downsample_minmax(
    steps: npt.NDArray[np.int64], values: npt.NDArray[np.float64], max_points: int
) -> npt.NDArray[np.intp]:
    """Indices (ascending) of the points to keep from a series sorted by step."""
    n = len(steps)
    if max_points < 2:
        raise ValueError("max_points must be at least 2")
    if n <= max_points:
        return np.arange(n)
    n_buckets = max(1, max_points // 2 - 1)
    first, last = steps[0], steps[-1]
    span = float(last - first) or 1.0
    # Float arithmetic: steps near 2**63 would overflow an integer product.
    buckets = np.minimum(((steps - first).astype(np.float64) / span * n_buckets).astype(np.int64), n_buckets - 1)
    # Sort by (bucket, value); NaN sorts last, so it counts as the bucket's maximum.
    order = np.lexsort((values, buckets))
    sorted_buckets = buckets[order]
    starts = np.flatnonzero(np.r_[True, sorted_buckets[1:] != sorted_buckets[:-1]])
    ends = np.r_[starts[1:], n] - 1
    keep = np.concatenate(([0, n - 1], order[starts], order[ends]))
    return np.unique(keep)
