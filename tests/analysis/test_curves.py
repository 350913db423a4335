"""Learning curves on a common grid: interpolation inside each run only, t-band, n(step)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from server.analysis import curve_aggregate, ema_debiased


def test_runs_are_interpolated_inside_their_range_and_never_extrapolated() -> None:
    runs = [([0, 2, 4], [0.0, 2.0, 4.0]), ([1, 3, 5], [10.0, 30.0, 50.0])]
    r = curve_aggregate(runs)
    assert r.steps == (0.0, 1.0, 2.0, 3.0, 4.0, 5.0)
    assert r.n == (1, 2, 2, 2, 2, 1)
    assert r.mean[0] == 0.0 and r.mean[-1] == 50.0
    assert r.mean[2] == pytest.approx((2.0 + np.interp(2, [1, 3, 5], [10, 30, 50])) / 2)
    assert (r.intersection_low, r.intersection_high) == (1.0, 4.0)
    assert r.complete == (False, True, True, True, True, False)
    assert r.std[0] is None and r.ci_low[0] is None and "fewer than 2 runs" in r.reasons["std"]


def test_the_band_is_the_student_t_interval_of_the_runs_at_each_step() -> None:
    rng = np.random.default_rng(0)
    steps = np.arange(0, 100, 10)
    values = [np.cumsum(rng.normal(1, 0.3, steps.size)) for _ in range(4)]
    r = curve_aggregate([(steps, v) for v in values])
    stacked = np.array(values)
    for i in range(steps.size):
        column = stacked[:, i]
        low, high = stats.t.interval(0.95, 3, loc=column.mean(), scale=stats.sem(column))
        assert (r.mean[i], r.std[i]) == pytest.approx((column.mean(), column.std(ddof=1)))
        assert (r.ci_low[i], r.ci_high[i]) == pytest.approx((low, high))
        assert r.n[i] == 4


def test_a_given_grid_is_used_as_is() -> None:
    r = curve_aggregate([([0, 10], [0.0, 1.0]), ([0, 10], [1.0, 2.0])], grid=[2.5, 5.0, 12.0])
    assert r.steps == (2.5, 5.0, 12.0)
    assert r.mean[:2] == pytest.approx((0.75, 1.0))
    assert r.n == (2, 2, 0) and r.mean[2] is None


def test_many_logged_steps_fall_back_to_a_uniform_grid() -> None:
    rng = np.random.default_rng(1)
    runs = [(np.sort(rng.uniform(0, 1000, 800)), rng.normal(size=800)) for _ in range(3)]
    r = curve_aggregate(runs, n_points=50)
    assert len(r.steps) == 50
    assert r.steps[0] == pytest.approx(min(s[0] for s, _ in runs))
    assert r.steps[-1] == pytest.approx(max(s[-1] for s, _ in runs))


def test_repeated_steps_keep_the_last_value_and_non_finite_points_are_dropped() -> None:
    r = curve_aggregate([([0, 1, 1, 2, 3], [0.0, 5.0, 1.0, np.nan, 3.0])])
    assert r.steps == (0.0, 1.0, 3.0)
    assert r.mean == (0.0, 1.0, 3.0)


def test_long_gaps_in_a_run_are_not_bridged() -> None:
    steps = [0, 1, 2, 3, 4, 50, 51]
    r = curve_aggregate([(steps, np.arange(7.0))], grid=[2.5, 20.0, 50.0, 50.5])
    assert r.n == (1, 0, 1, 1)
    bridged = curve_aggregate([(steps, np.arange(7.0))], grid=[20.0], max_gap_factor=None)
    assert bridged.n == (1,)


def test_ema_is_tensorboards_debiased_moving_average() -> None:
    values = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    weight = 0.6
    last, expected = 0.0, []
    for i, v in enumerate(values):  # TensorBoard's reference loop
        last = last * weight + (1 - weight) * v
        expected.append(last / (1 - weight ** (i + 1)))
    np.testing.assert_allclose(ema_debiased(values, weight), expected)
    smoothed = curve_aggregate([(np.arange(5), values)], smoothing=weight)
    assert smoothed.mean == pytest.approx(expected)
    with pytest.raises(ValueError):
        ema_debiased(values, 1.0)


def test_no_usable_runs_give_an_empty_curve_with_reasons() -> None:
    r = curve_aggregate([([0, 1], [np.nan, np.nan])])
    assert r.steps == () and r.n_runs == 1 and r.n_runs_used == 0
    assert r.intersection_low is None and "no run" in r.reasons["intersection_low"]
    disjoint = curve_aggregate([([0, 1], [0.0, 1.0]), ([5, 6], [0.0, 1.0])])
    assert disjoint.intersection_low is None and "no common" in disjoint.reasons["intersection_low"]
    json.dumps(disjoint.to_dict(), allow_nan=False)
