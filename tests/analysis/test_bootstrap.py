"""Resampling helpers: the counts shortcut must equal resampling the values and recomputing."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from server.analysis import bootstrap as bs


@pytest.mark.parametrize("n", range(1, 13))
def test_position_weights_reproduce_mean_median_and_iqm_of_the_resampled_values(n: int) -> None:
    rng = np.random.default_rng(n)
    x = np.round(rng.normal(size=n), 1)  # rounding makes ties
    xs = np.sort(x)
    idx = bs.resample_indices(bs.generator(3, n), 500, n)
    counts = bs.indices_to_counts(idx, n)
    resampled = xs[idx]
    np.testing.assert_allclose(bs.positions_weights(counts, 0, n) @ xs, resampled.mean(axis=1), rtol=0, atol=1e-12)
    lo, hi = bs.median_positions(n)
    np.testing.assert_allclose(bs.positions_weights(counts, lo, hi) @ xs, np.median(resampled, axis=1), atol=1e-12)
    lo, hi = bs.iqm_positions(n)
    np.testing.assert_allclose(
        bs.positions_weights(counts, lo, hi) @ xs, stats.trim_mean(resampled, 0.25, axis=1), atol=1e-12
    )


def test_counts_count_each_index_and_sum_to_n() -> None:
    idx = bs.resample_indices(bs.generator(1), 100, 7)
    counts = bs.indices_to_counts(idx, 7)
    assert counts.shape == (100, 7)
    assert (counts.sum(axis=1) == 7).all()
    for row, draw in zip(counts, idx, strict=True):
        np.testing.assert_array_equal(row, np.bincount(draw, minlength=7))


def test_dominance_replicates_equal_the_pair_probability_of_resampled_values() -> None:
    rng = np.random.default_rng(0)
    a = np.round(rng.normal(size=6), 1)
    partners = [np.round(rng.normal(size=m), 1) for m in (4, 6, 3)]
    idx_a = bs.resample_indices(bs.generator(1, 0), 300, a.size)
    idx_b = [bs.resample_indices(bs.generator(1, k + 1), 300, b.size) for k, b in enumerate(partners)]
    counts_a = bs.indices_to_counts(idx_a, a.size).T.astype(float)
    counts_b = np.concatenate([bs.indices_to_counts(i, b.size).T for i, b in zip(idx_b, partners, strict=True)])
    got = bs.dominance_replicates(counts_a, [bs.dominance_matrix(a, b) for b in partners], counts_b.astype(float))
    for k, (b, idx) in enumerate(zip(partners, idx_b, strict=True)):
        ra, rb = a[idx_a][:, :, None], b[idx][:, None, :]
        expected = ((ra > rb) + 0.5 * (ra == rb)).mean(axis=(1, 2))
        np.testing.assert_allclose(got[k], expected, atol=1e-12)


def test_dominance_matrix_counts_ties_as_half() -> None:
    np.testing.assert_array_equal(bs.dominance_matrix([1, 2], [2, 0]), [[0.0, 1.0], [0.5, 1.0]])


def test_generators_are_reproducible_and_keyed_by_stream() -> None:
    first = bs.generator(42, 1, 10).integers(0, 1000, 20)
    np.testing.assert_array_equal(first, bs.generator(42, 1, 10).integers(0, 1000, 20))
    assert not np.array_equal(first, bs.generator(42, 1, 11).integers(0, 1000, 20))
    assert not np.array_equal(first, bs.generator(43, 1, 10).integers(0, 1000, 20))
    a = bs.named_generator(42, "variant-a").integers(0, 1000, 20)
    np.testing.assert_array_equal(a, bs.named_generator(42, "variant-a").integers(0, 1000, 20))
    assert not np.array_equal(a, bs.named_generator(42, "variant-b").integers(0, 1000, 20))


def test_a_negative_seed_is_refused() -> None:
    with pytest.raises(ValueError, match="seed"):
        bs.generator(-1)


def test_percentile_interval_is_numpys_linear_quantile() -> None:
    samples = np.random.default_rng(0).normal(size=(3, 1001))
    low, high = bs.percentile_interval(samples, 0.9, axis=1)
    np.testing.assert_allclose(low, np.quantile(samples, 0.05, axis=1), rtol=1e-14)
    np.testing.assert_allclose(high, np.quantile(samples, 0.95, axis=1), rtol=1e-14)
