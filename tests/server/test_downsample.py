"""Downsampling and overviews as pure functions: against the slow reference, no database."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.tracking.downsample import downsample_minmax, grid_level, request_grid
from server.tracking.overviews import (
    OVERVIEW_BUCKETS,
    Overview,
    overview_answer,
    overview_build,
    overview_coarsen,
    overview_level_for,
    overview_levels,
    overview_plan,
    points_of,
)
from tests.server.history_reference import minmax_reference

FAST = settings(
    max_examples=40, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def series(seed: int, n: int, *, spacing: int = 1, start: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A noisy curve with repeated values, a NaN, infinities and huge spikes, at unevenly spaced steps."""
    rng = np.random.default_rng(seed)
    steps = start + np.sort(rng.choice(n * spacing * 2, size=n, replace=False)).astype(np.int64)
    values = np.round(np.cumsum(rng.normal(size=n)), 1)  # rounded: many ties
    for special in (np.nan, np.inf, -np.inf, 1e300, -1e300):
        values[rng.integers(n)] = special
    return steps, values, 1.7e9 + rng.random(n)


def as_points(kept: np.ndarray) -> list[tuple[int, float, float]]:
    return list(zip(kept["step"].tolist(), kept["value"].tolist(), kept["time"].tolist(), strict=True))


def assert_same_points(got: list[tuple[int, float, float]], expected: list[tuple[int, float, float]]) -> None:
    assert [p[0] for p in got] == [p[0] for p in expected]
    np.testing.assert_array_equal([p[1] for p in got], [p[1] for p in expected])  # NaN equals NaN here
    assert [p[2] for p in got] == [p[2] for p in expected]


def pyramid(steps: np.ndarray, values: np.ndarray, times: np.ndarray) -> list[Overview]:
    levels = overview_levels(int(steps[0]), int(steps[-1]))
    built = overview_build([points_of(steps, values, times)], levels[0])
    assert built is not None
    out = [built]
    for _ in levels[1:]:
        out.append(overview_coarsen(out[-1]))
    return out


def answer_from_overviews(
    steps: np.ndarray, values: np.ndarray, times: np.ndarray, *, first: int, last: int, max_points: int
) -> tuple[list[tuple[int, float, float]], int] | None:
    """As the selector answers: the stored level to use, its plan, the raw edges; None when it reads raw."""
    level = overview_level_for(
        series_first=int(steps[0]), series_last=int(steps[-1]), first=first, last=last, max_points=max_points
    )
    if level is None:
        return None
    stored = {o.level: o for o in pyramid(steps, values, times)}[level]
    overview = Overview.from_bytes(stored.to_bytes())
    plan = overview_plan(overview, first=first, last=last, max_points=max_points)
    if plan is None:
        return None
    edges = np.zeros(len(steps), bool)
    for bounds in (plan.left, plan.right):
        if bounds is not None:
            edges |= (steps >= bounds[0]) & (steps <= bounds[1])
    kept, count = overview_answer(overview, plan, (steps[edges], values[edges], times[edges]))
    return as_points(points_of(*kept)), count


@FAST
@given(st.integers(0, 2**62), st.integers(0, 2**62), st.integers(1, 5000))
def test_the_grid_level_is_the_smallest_with_at_most_that_many_buckets(a: int, span: int, max_buckets: int) -> None:
    b = a + span
    level = grid_level(a, b, max_buckets)
    assert (b >> level) - (a >> level) + 1 <= max_buckets
    assert level == 0 or (b >> (level - 1)) - (a >> (level - 1)) + 1 > max_buckets


@FAST
@given(st.integers(0, 10_000), st.integers(10, 3000), st.sampled_from([2, 3, 4, 5, 10, 101, 1000]))
def test_raw_downsampling_keeps_each_buckets_true_extremes_and_at_most_max_points(
    seed: int, n: int, max_points: int
) -> None:
    steps, values, times = series(seed, n, spacing=seed % 7 + 1)
    if n <= max_points:
        return
    grid = request_grid(int(steps[0]), int(steps[-1]), max_points)
    kept = downsample_minmax(steps, values, grid)
    expected, _ = minmax_reference(steps.tolist(), values.tolist(), times.tolist(), max_points=max_points)
    assert_same_points(as_points(points_of(steps, values, times)[kept]), expected)
    assert len(kept) <= max_points


def test_a_diverged_point_and_a_huge_spike_survive_in_a_tiny_answer() -> None:
    steps = np.arange(100_000, dtype=np.int64)
    values = np.sin(steps / 1000.0)
    values[31_337], values[77_777] = np.nan, 1e300
    kept = downsample_minmax(steps, values, request_grid(0, 99_999, 20))
    assert {31_337, 77_777} <= set(steps[kept].tolist())


@FAST
@given(st.integers(0, 10_000), st.sampled_from([0, 2**40, 2**63 - 100_000]))
def test_every_overview_level_equals_one_built_from_the_raw_points(seed: int, start: int) -> None:
    steps, values, times = series(seed, 9000, spacing=1 + seed % 3, start=start)
    for overview in pyramid(steps, values, times):
        direct = overview_build([points_of(steps, values, times)], overview.level)
        assert direct is not None and direct.buckets.tobytes() == overview.buckets.tobytes()
        assert len(overview.buckets) <= OVERVIEW_BUCKETS and int(overview.buckets["count"].sum()) == 9000


def test_an_overview_built_in_pieces_equals_one_built_at_once() -> None:
    steps, values, times = series(7, 50_000, spacing=3)
    level = overview_levels(int(steps[0]), int(steps[-1]))[0]
    whole = overview_build([points_of(steps, values, times)], level)
    # Cut on bucket boundaries, as the build's reads are.
    cuts = np.searchsorted(steps, [(int(s) >> level) << level for s in steps[[10_000, 25_000, 40_000]]])
    bounds = zip([0, *cuts], [*cuts, len(steps)], strict=True)
    pieces = overview_build([points_of(steps[a:b], values[a:b], times[a:b]) for a, b in bounds], level)
    assert whole is not None and pieces is not None
    assert whole.to_bytes() == pieces.to_bytes()


def test_an_overview_of_another_format_is_refused() -> None:
    steps, values, times = series(1, 9000)
    payload = bytearray(pyramid(steps, values, times)[0].to_bytes())
    payload[0] = 99
    with pytest.raises(ValueError, match="overview format"):
        Overview.from_bytes(bytes(payload))


@FAST
@given(
    st.integers(0, 10_000),
    st.floats(0, 1),
    st.floats(0, 1),
    st.sampled_from([2, 4, 64, 500, 1000, 3000]),
    st.booleans(),
    st.booleans(),
)
def test_answers_from_overviews_equal_the_reference_for_any_zoom(
    seed: int, lo: float, width: float, max_points: int, cut_low: bool, cut_high: bool
) -> None:
    steps, values, times = series(seed, 20_000, spacing=1 + seed % 5)
    span = int(steps[-1] - steps[0])
    first = int(steps[0]) + int(lo * span) if cut_low else int(steps[0])
    last = min(int(steps[-1]), first + int(width * span)) if cut_high else int(steps[-1])
    answered = answer_from_overviews(steps, values, times, first=first, last=last, max_points=max_points)
    expected, count = minmax_reference(
        steps.tolist(), values.tolist(), times.tolist(), max_points=max_points, min_step=first, max_step=last
    )
    if answered is None:  # the raw points answer instead, as the selector does it
        inside = (steps >= first) & (steps <= last)
        raw = points_of(steps[inside], values[inside], times[inside])
        if len(raw) > max_points:
            raw = raw[downsample_minmax(raw["step"], raw["value"], request_grid(first, last, max_points))]
        answered = as_points(raw), int(inside.sum())
    got, got_count = answered
    assert got_count == count
    assert_same_points(got, expected)
    assert len(got) <= max(max_points, 2)


def test_a_zoom_through_the_middle_reads_only_two_short_raw_edges() -> None:
    steps, values, times = series(5, 100_000)
    first, last = int(steps[25_000]) + 3, int(steps[75_000]) - 3
    level = overview_level_for(
        series_first=int(steps[0]), series_last=int(steps[-1]), first=first, last=last, max_points=1000
    )
    assert level is not None
    overview = {o.level: o for o in pyramid(steps, values, times)}[level]
    plan = overview_plan(overview, first=first, last=last, max_points=1000)
    assert plan is not None and plan.left is not None and plan.right is not None
    width = 1 << level
    assert plan.left[0] == first and plan.left[1] - first < 2 * width
    assert plan.right[1] == last and last - plan.right[0] < 2 * width


def test_whole_series_requests_need_no_raw_point() -> None:
    steps, values, times = series(3, 100_000)
    overview = pyramid(steps, values, times)[3]
    plan = overview_plan(overview, first=int(steps[0]), last=int(steps[-1]), max_points=1000)
    assert plan is not None and plan.left is None and plan.right is None
    kept, count = overview_answer(overview, plan, (steps[:0], values[:0], times[:0]))
    expected, _ = minmax_reference(steps.tolist(), values.tolist(), times.tolist(), max_points=1000)
    assert count == 100_000
    assert_same_points(as_points(points_of(*kept)), expected)


def test_a_zoom_finer_than_the_finest_overview_is_left_to_the_raw_points() -> None:
    steps = series(4, 100_000)[0]
    finest = overview_levels(int(steps[0]), int(steps[-1]))[0]
    narrow_first = int(steps[50_000])
    narrow_last = narrow_first + 100 * (1 << finest)  # 100 finest buckets asked for 1,000 points
    assert overview_level_for(
        series_first=int(steps[0]), series_last=int(steps[-1]), first=narrow_first, last=narrow_last, max_points=1000
    ) is None  # fmt: skip
