"""The documented downsampling of histories, computed the slow and obvious way, as the tests' reference."""

from __future__ import annotations

import math
from collections.abc import Sequence

Point = tuple[int, float, float]  # step, value, time


def minmax_reference(
    steps: Sequence[int],
    values: Sequence[float],
    times: Sequence[float],
    *,
    max_points: int,
    min_step: int | None = None,
    max_step: int | None = None,
) -> tuple[list[Point], int]:
    """(points, count) of a history request, as docs/api.md describes it.

    The range's points when there are at most `max_points`; else, for each aligned bucket of
    2**j steps meeting [max(min_step, first logged step), min(max_step, last logged step)],
    with j the smallest level giving at most (N - 2) // 2 buckets, the bucket's lowest and
    highest points (NaN above every number; of equal values the earliest lowest and the latest
    highest), plus the range's first and last points (for N >= 4).
    """
    lo = min(steps) if min_step is None else max(min_step, min(steps))
    hi = max(steps) if max_step is None else min(max_step, max(steps))
    inside = sorted((s, v, t) for s, v, t in zip(steps, values, times, strict=True) if lo <= s <= hi)
    if len(inside) <= max_points:
        return inside, len(inside)
    ends = max_points >= 4
    budget = (max_points - 2 * ends) // 2
    level = 0
    while (hi >> level) - (lo >> level) + 1 > budget:
        level += 1
    members: dict[int, list[int]] = {}
    for index, (step, _, _) in enumerate(inside):
        members.setdefault(step >> level, []).append(index)

    def rank(index: int) -> tuple[bool, float, int]:
        value = inside[index][1]
        return (math.isnan(value), 0.0 if math.isnan(value) else value, inside[index][0])

    keep = {0, len(inside) - 1} if ends else set()
    for indices in members.values():
        keep.add(min(indices, key=rank))  # lowest value, then earliest step
        keep.add(max(indices, key=rank))  # highest value (NaN first), then latest step
    return [inside[index] for index in sorted(keep)], len(inside)
