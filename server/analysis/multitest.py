"""Multiple-comparison adjustment of p-values (STATISTICS.md §9).

For m p-values sorted p_(1) ≤ … ≤ p_(m):
- Holm 1979 step-down (the default for confirmatory claims, controls the family-wise error
  rate under any dependence): p̃_(i) = max_{j ≤ i} min(1, (m - j + 1) p_(j)).
- Benjamini & Hochberg 1995 step-up (false discovery rate, for exploratory sweeps):
  p̃_(i) = min_{j ≥ i} min(1, m p_(j) / j).

NaN entries (tests that could not be computed) are not part of the family: they stay NaN and
do not count in m. Results are returned in input order, as
``statsmodels.stats.multitest.multipletests`` does.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._common import FloatArray


def holm_adjust(pvalues: ArrayLike) -> FloatArray:
    """Holm-adjusted p-values, input order; NaN stays NaN and is not counted in m."""
    p = np.asarray(pvalues, dtype=float).reshape(-1)
    out = np.full(p.shape, np.nan)
    defined = np.flatnonzero(np.isfinite(p))
    m = defined.size
    if m:
        order = defined[np.argsort(p[defined], kind="stable")]
        steps = (m - np.arange(m)) * p[order]
        out[order] = np.minimum(1.0, np.maximum.accumulate(steps))
    return out


def bh_adjust(pvalues: ArrayLike) -> FloatArray:
    """Benjamini-Hochberg adjusted p-values, input order; NaN stays NaN and is not counted in m."""
    p = np.asarray(pvalues, dtype=float).reshape(-1)
    out = np.full(p.shape, np.nan)
    defined = np.flatnonzero(np.isfinite(p))
    m = defined.size
    if m:
        order = defined[np.argsort(p[defined], kind="stable")]
        steps = m * p[order] / np.arange(1, m + 1)
        out[order] = np.minimum(1.0, np.minimum.accumulate(steps[::-1])[::-1])
    return out


def family_size(pvalues: ArrayLike) -> int:
    """m: the number of defined p-values in the family."""
    return int(np.isfinite(np.asarray(pvalues, dtype=float)).sum())
