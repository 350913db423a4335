"""Per-variant statistics against numpy/scipy and the formulas of STATISTICS.md §1."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from server.analysis import detectable_difference, variant_describe, variants_describe
from server.analysis.descriptive import INTERVAL_FIELDS, STAT_FIELDS

B = 2000


@pytest.mark.parametrize("n", range(2, 13))
def test_location_and_spread_match_numpy_and_scipy(n: int) -> None:
    x = np.random.default_rng(n).normal(0.8, 0.03, n)
    r = variant_describe(x, n_boot=B)
    assert r.n == n
    assert r.mean == pytest.approx(np.mean(x), rel=1e-14)
    assert r.std == pytest.approx(np.std(x, ddof=1), rel=1e-14)
    assert r.sem == pytest.approx(stats.sem(x), rel=1e-12)
    assert r.median == pytest.approx(np.median(x), rel=1e-14)
    assert r.iqm == pytest.approx(stats.trim_mean(x, 0.25), rel=1e-14)
    assert (r.q1, r.q3) == pytest.approx(tuple(np.quantile(x, [0.25, 0.75])), rel=1e-14)
    assert (r.min, r.max) == (x.min(), x.max())
    assert r.mad == pytest.approx(stats.median_abs_deviation(x), rel=1e-12)
    low, high = stats.ttest_1samp(x, 0).confidence_interval(0.95)
    assert (r.ci_low, r.ci_high) == pytest.approx((low, high), rel=1e-12)
    assert (r.ci_low, r.ci_high) == pytest.approx(stats.t.interval(0.95, n - 1, loc=np.mean(x), scale=stats.sem(x)))
    assert r.bootstrap_approximate is (n < 10)
    if n >= 3:
        assert r.shapiro_p == pytest.approx(stats.shapiro(x).pvalue)


@pytest.mark.parametrize(("x", "iqm"), [([1, 2, 30], 11.0), ([1, 2, 3, 100], 2.5), ([0, 1, 2, 3, 4, 5, 6, 70], 3.5)])
def test_iqm_drops_a_quarter_rounded_down_from_each_end(x: list[float], iqm: float) -> None:
    assert variant_describe(x, n_boot=B).iqm == pytest.approx(iqm)


def test_two_seeds_give_min_max_as_bootstrap_intervals() -> None:
    # With n = 2 a resample is (a, a), (a, b) or (b, b) with probabilities 1/4, 1/2, 1/4, so the
    # 2.5 % and 97.5 % points of the mean, median and IQM replicates are the two scores.
    r = variant_describe([0.7, 0.9], n_boot=10_000)
    for prefix in ("mean_boot", "median", "iqm"):
        assert (getattr(r, f"{prefix}_ci_low"), getattr(r, f"{prefix}_ci_high")) == pytest.approx((0.7, 0.9))


def test_bootstrap_intervals_agree_with_scipy_bootstrap() -> None:
    x = np.random.default_rng(5).normal(0.8, 0.05, 12)
    r = variant_describe(x, n_boot=10_000, seed=11)
    for stat, low, high in [
        (np.median, r.median_ci_low, r.median_ci_high),
        (lambda v, axis: stats.trim_mean(v, 0.25, axis=axis), r.iqm_ci_low, r.iqm_ci_high),
        (np.mean, r.mean_boot_ci_low, r.mean_boot_ci_high),
    ]:
        ref = stats.bootstrap((x,), stat, n_resamples=10_000, method="percentile", rng=np.random.default_rng(1))
        width = ref.confidence_interval.high - ref.confidence_interval.low
        assert low == pytest.approx(ref.confidence_interval.low, abs=0.1 * width)
        assert high == pytest.approx(ref.confidence_interval.high, abs=0.1 * width)


def test_a_diverged_seed_is_flagged_not_dropped() -> None:
    r = variant_describe([float("nan"), 0.93, 0.92, 0.94, 0.93, 0.10], n_failed=2, n_boot=B)
    assert r.outliers == (5,)  # position in the input
    assert r.n == 5
    assert r.n_nonfinite == 1 and r.n_failed == 3
    assert r.mean == pytest.approx(np.mean([0.93, 0.92, 0.94, 0.93, 0.10]))


def test_outliers_use_the_robust_z_limit_of_35() -> None:
    x = np.array([10.0, 11.0, 12.0, 13.0, 14.0, 0.0])
    med = np.median(x)
    mad = np.median(np.abs(x - med))
    z = np.abs(x - med) / (1.4826 * mad)
    r = variant_describe(x, n_boot=B)
    assert r.outliers == tuple(np.flatnonzero(z > 3.5))


def test_a_zero_mad_falls_back_to_the_mean_absolute_deviation() -> None:
    # MAD = 0 here; |0.1 - 0.9| / (1.253314 * 0.16) = 3.99 > 3.5.
    assert variant_describe([0.9, 0.9, 0.9, 0.9, 0.1], n_boot=B).outliers == (4,)


def test_mde_is_the_welch_formula_at_the_current_n() -> None:
    x = [0.81, 0.83, 0.80, 0.86]
    s = np.std(x, ddof=1)
    expected = (stats.t.ppf(0.975, 6) + stats.t.ppf(0.8, 6)) * s * math.sqrt(2 / 4)
    assert variant_describe(x, n_boot=B).mde == pytest.approx(expected)
    assert variant_describe(x, n_boot=B).mde == pytest.approx(float(detectable_difference(s, 4)))


def test_no_seeds_gives_nulls_with_a_reason() -> None:
    r = variant_describe([], n_failed=3, n_boot=B)
    assert r.n == 0 and r.n_failed == 3
    for name in STAT_FIELDS:
        assert getattr(r, name) is None
        assert r.reasons[name] == "no finished seeds"
    assert r.reason == "no finished seeds"


def test_one_seed_has_a_value_but_no_spread() -> None:
    r = variant_describe([0.9], n_boot=B)
    assert r.mean == r.median == r.iqm == 0.9
    assert r.std is None and r.ci_low is None and r.median_ci_low is None and r.mde is None
    assert r.reasons["std"] == "1 seed: no variance estimate"


@pytest.mark.parametrize("x", [[0.9, 0.9, 0.9], [0.1 + 0.2, 0.3, 0.3, 0.3]])
def test_zero_variance_gives_zero_std_and_no_intervals(x: list[float]) -> None:
    r = variant_describe(x, n_boot=B)
    assert r.std == 0.0 and r.sem == 0.0
    for name in INTERVAL_FIELDS:
        assert getattr(r, name) is None
        assert "same value" in r.reasons[name]


def test_every_null_field_has_a_reason() -> None:
    for x in ([], [1.0], [1.0, 1.0], [1.0, 2.0], [1.0, 2.0, 3.0]):
        r = variant_describe(x, n_boot=B)
        nulls = {k for k, v in r.to_dict().items() if v is None and k != "reason"}
        assert nulls <= set(r.reasons)


def test_results_are_json_without_nan() -> None:
    for x in ([], [1.0], [2.0, 2.0], [1.0, float("inf"), 3.0], np.arange(12.0)):
        json.dumps(variant_describe(x, n_boot=B).to_dict(), allow_nan=False)


def test_a_batch_equals_the_variants_described_one_by_one() -> None:
    rng = np.random.default_rng(3)
    scores = {f"v{i}": rng.normal(size=int(rng.integers(0, 8))) for i in range(30)}
    batch = variants_describe(scores, n_boot=B, seed=9)
    assert list(batch) == list(scores)
    for name, x in scores.items():
        # Equal up to the rounding of BLAS matrix products, whose blocking depends on the batch size.
        alone = variant_describe(x, n_boot=B, seed=9).to_dict()
        together = batch[name].to_dict()
        assert together.keys() == alone.keys()
        for key, value in alone.items():
            assert together[key] == (pytest.approx(value, rel=1e-12, abs=1e-15) if isinstance(value, float) else value)


def test_same_seed_same_result_and_the_seed_is_recorded() -> None:
    x = np.random.default_rng(0).normal(size=7)
    first, again = variant_describe(x, seed=123, n_boot=B), variant_describe(x, seed=123, n_boot=B)
    assert first == again and first.seed == 123 and first.n_boot == B
    other = variant_describe(x, seed=124, n_boot=B)
    assert (other.median_ci_low, other.iqm_ci_high) != (first.median_ci_low, first.iqm_ci_high)
    assert first.method_version and first.methods["ci"] == "student_t_mean"


def test_large_batches_are_chunked_without_changing_results() -> None:
    rng = np.random.default_rng(4)
    scores = {f"v{i}": rng.normal(size=3) for i in range(1100)}  # more than two chunks of 512
    batch = variants_describe(scores, n_boot=200, seed=2)
    for name in ("v0", "v600", "v1099"):
        alone = variant_describe(scores[name], n_boot=200, seed=2)
        assert batch[name].iqm_ci_low == pytest.approx(alone.iqm_ci_low, rel=1e-12)
        assert batch[name].median_ci_high == pytest.approx(alone.median_ci_high, rel=1e-12)
