"""Vectorised bootstrap resampling with seeded numpy PCG64 generators.

Method: the nonparametric percentile bootstrap (Efron & Tibshirani 1993). Draw B resamples
of size n with replacement, recompute the statistic θ*_b on each, report the 95 % interval
[q_0.025, q_0.975] of {θ*_b} (``numpy.quantile``, linear interpolation). Defaults B = 10,000.

Resamples as counts. A resample of n values is fully described by how often it contains each
original value: counts c (B x n, each row sums to n). With x sorted ascending, the order
statistics of a resample follow from cumulative counts, so location statistics are weighted
sums and a batch of variants is one matrix product — no sort per resample:
- mean*      = Σ_j c_j x_(j) / n
- L-statistic "mean of sorted positions [lo, hi)" = Σ_j w_j x_(j) / (hi - lo), with
  w_j = max(0, min(C_j, hi) - max(C_j - c_j, lo)), C_j = c_1 + … + c_j.
  median*: lo = ⌊(n-1)/2⌋, hi = ⌊n/2⌋ + 1 (one or two middle values, numpy's median);
  IQM* (``scipy.stats.trim_mean(x, 0.25)``): g = ⌊0.25 n⌋, lo = g, hi = n - g.
- P(A better than B)* = c_A S c_Bᵀ / (n_A n_B), S_ij = 1 if a_i better than b_j, ½ if tied.

Determinism: every generator is ``Generator(PCG64(SeedSequence([seed, *stream])))``. Streams
are keyed so that a result depends only on the seed and the variants it is about, not on
which other variants were computed in the same call:
- per-variant intervals share one resample matrix per sample size n (stream [seed, 1, n]);
  each variant's intervals are exact bootstrap intervals, merely computed with common random
  numbers (a variant computed alone or in a batch agrees up to the rounding of the BLAS
  product, whose blocking depends on the batch size);
- comparisons (pairs, ranks, benchmarks) need A and B resampled *independently*: each variant
  (and task) has its own stream keyed by a hash of its name ([seed, 2, hash(name), hash(task)]).
  So swapping A and B mirrors a pair's interval exactly, adding a constant to every score
  leaves it unchanged, and a pair gets the same interval alone or within a larger family.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._common import BLOCK_BYTES, LEVEL, FloatArray

STREAM_DESCRIBE = 1
STREAM_COMPARE = 2


def generator(seed: int, *stream: int) -> np.random.Generator:
    """A PCG64 generator for (seed, stream…); all entries must be non-negative integers."""
    if int(seed) < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), *map(int, stream)])))


def name_key(name: str) -> int:
    """A stable 64-bit key of a name (blake2b; Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.blake2b(str(name).encode(), digest_size=8).digest(), "little")


def named_generator(seed: int, *names: str) -> np.random.Generator:
    """The comparison stream of one variant (and task): [seed, 2, name_key(name), …]."""
    return generator(seed, STREAM_COMPARE, *(name_key(name) for name in names))


def resample_indices(rng: np.random.Generator, n_boot: int, n: int) -> NDArray[np.int64]:
    """(B, n) indices drawn uniformly with replacement from range(n)."""
    return rng.integers(0, n, size=(n_boot, n), dtype=np.int64)


def indices_to_counts(indices: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    """(B, n) counts: counts[b, j] = how often index j occurs in resample b."""
    n_boot = indices.shape[0]
    offsets = (np.arange(n_boot, dtype=np.int64) * n)[:, None]
    return np.bincount((indices + offsets).ravel(), minlength=n_boot * n).reshape(n_boot, n)


def resample_counts(rng: np.random.Generator, n_boot: int, n: int) -> NDArray[np.int64]:
    """(B, n) resample counts (see ``indices_to_counts``)."""
    return indices_to_counts(resample_indices(rng, n_boot, n), n)


def positions_weights(counts: NDArray[np.int64], lo: int, hi: int) -> FloatArray:
    """(B, n) weights of the sorted originals in the mean of sorted resample positions [lo, hi).

    Rows sum to 1. ``weights @ np.sort(x)`` is that L-statistic of every resample.
    """
    upper = np.cumsum(counts, axis=-1)
    lower = upper - counts
    overlap = np.minimum(upper, hi) - np.maximum(lower, lo)
    return np.clip(overlap, 0, None).astype(float) / float(hi - lo)


def median_positions(n: int) -> tuple[int, int]:
    """Sorted positions [lo, hi) whose mean is the median (numpy's convention)."""
    return (n - 1) // 2, n // 2 + 1


def iqm_positions(n: int) -> tuple[int, int]:
    """Sorted positions [lo, hi) whose mean is ``scipy.stats.trim_mean(x, 0.25)``."""
    cut = int(0.25 * n)
    return cut, n - cut


def percentile_interval(samples: ArrayLike, level: float = LEVEL, axis: int = -1) -> tuple[FloatArray, FloatArray]:
    """Percentile interval [q_(1-level)/2, q_(1+level)/2] of bootstrap replicates along ``axis``."""
    low, high = np.quantile(np.asarray(samples, dtype=float), [(1 - level) / 2, (1 + level) / 2], axis=axis)
    return low, high


def dominance_matrix(a: ArrayLike, b: ArrayLike) -> FloatArray:
    """S (n_a x n_b): 1 where a_i > b_j, ½ where a_i = b_j, else 0. Its mean is P(A > B) + ½P(tie)."""
    xa = np.asarray(a, dtype=float)[:, None]
    xb = np.asarray(b, dtype=float)[None, :]
    return (xa > xb).astype(float) + 0.5 * (xa == xb)


def dominance_replicates(counts_a_t: FloatArray, dominance: Sequence[FloatArray], counts_b_t: FloatArray) -> FloatArray:
    """Bootstrap replicates of mean(S) for one A against K partners: (K, B).

    ``counts_a_t`` is A's resample counts transposed (n_a x B), ``dominance[k]`` the n_a x n_k
    matrix S of partner k, ``counts_b_t`` the partners' counts transposed and stacked
    ((n_1 + … + n_K) x B). Replicate b of partner k is c_A S c_kᵀ / (n_a n_k): one matrix
    product for all partners, an element-wise product and a segment sum. Counts and S are
    multiples of ½, so every sum is exact.
    """
    n_a = counts_a_t.shape[0]
    sizes = np.array([s.shape[1] for s in dominance])
    weighted = np.concatenate(dominance, axis=1).T @ counts_a_t  # (Σ n_k, B)
    weighted *= counts_b_t
    if np.all(sizes == sizes[0]):
        sums = weighted.reshape(sizes.size, sizes[0], -1).sum(axis=1)
    else:
        sums = np.add.reduceat(weighted, np.concatenate([[0], np.cumsum(sizes)[:-1]]), axis=0)
    return np.asarray(sums / (n_a * sizes)[:, None])


def blocks(items: Iterable[int], nbytes: Callable[[int], int], budget: int | None = None) -> list[list[int]]:
    """Consecutive runs of ``items`` whose ``nbytes`` sum to at most ``budget`` (at least one item each).

    Large comparisons make their partners' resample counts one block at a time: memory is
    O(budget) whatever the number of variants.
    """
    budget = BLOCK_BYTES if budget is None else budget  # read at call time: tests shrink it
    out: list[list[int]] = []
    used = 0
    for item in items:
        size = nbytes(item)
        if not out or used + size > budget:
            out.append([])
            used = 0
        out[-1].append(item)
        used += size
    return out
