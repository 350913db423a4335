"""Pieces shared by every analysis module: defaults, the result base class, JSON-safe values.

Conventions (STATISTICS.md §12): alpha = 0.05 two-sided, 95 % intervals, std with ddof = 1,
percentile bootstrap with B = 10,000 resamples from a seeded numpy PCG64 generator. A standard
deviation s is treated as exactly zero when |s| < 1e-12 · max(1, |mean|): float noise makes a
"constant" group non-constant (0.9 repeated has mean 0.9000000000000001).

Results are frozen dataclasses. ``to_dict()`` returns plain JSON values: numpy scalars become
Python numbers, tuples become lists and NaN/inf become None, so ``json.dumps(...,
allow_nan=False)`` always succeeds.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

# Bump when a formula, default, resampling scheme or result field changes: stored results carry it,
# and results of an older version are recomputed.
METHOD_VERSION = "1.4"

ALPHA = 0.05
LEVEL = 0.95
POWER = 0.8
N_BOOT = 10_000
SEED = 0
ZERO_STD_RTOL = 1e-12
# All k(k-1)/2 pairs up to this many variants (1,225 pairs take a few seconds); beyond it every
# variant is compared with one reference (the baseline, or the leader), so pairs grow as k, not k².
MAX_ALL_PAIRS = 50
# Working set of one block of bootstrap resample counts, in bytes. Counts are remade from their
# seeded streams block by block instead of all held at once, so memory stays O(block + B x k)
# whatever the number of variants, tasks and seeds (64 MiB = 1,677 samples of 10,000 float32).
BLOCK_BYTES = 64 * 2**20

Goal = Literal["max", "min"]
FloatArray = NDArray[np.float64]


class Result:
    """Base of every result dataclass: adds ``to_dict()``."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        out = jsonable(self)
        assert isinstance(out, dict)
        return out


def jsonable(value: Any) -> Any:
    """Convert a result (or any nesting of dataclasses, mappings, sequences, numbers) to JSON values."""
    # Scalars first: they are most of the values, and this runs for every variant of a project.
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        out = float(value)
        return out if math.isfinite(out) else None
    if isinstance(value, bool):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return fnum(value)
    return value


def fnum(value: Any) -> float | None:
    """A finite Python float, or None for None/NaN/inf."""
    if value is None:
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def is_zero_std(std: ArrayLike, mean: ArrayLike) -> NDArray[np.bool_]:
    """The zero-variance rule: |s| < 1e-12 · max(1, |mean|)."""
    s = np.abs(np.asarray(std, dtype=float))
    return np.asarray(s < ZERO_STD_RTOL * np.maximum(1.0, np.abs(np.asarray(mean, dtype=float))))


def clean_scores(scores: ArrayLike) -> tuple[FloatArray, NDArray[np.intp], int]:
    """(finite values, their positions in the input, number of non-finite values).

    Non-finite scores are not data: they are counted as failed seeds by the callers.
    """
    x = np.asarray(scores, dtype=float).reshape(-1)
    finite = np.isfinite(x)
    positions = np.flatnonzero(finite)
    return x[finite], positions, int(x.size - positions.size)


def check_level(level: float, name: str = "level") -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {level!r}")


def check_n_boot(n_boot: int) -> None:
    if int(n_boot) < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot!r}")


def join_reasons(reasons: Mapping[str, str]) -> str | None:
    """One readable string out of the per-field reasons (unique, in order)."""
    unique = list(dict.fromkeys(reasons.values()))
    return "; ".join(unique) if unique else None
