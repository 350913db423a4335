"""Benchmark of the statistics engine (server/analysis): wall time of the three heavy recomputes.

Run from the repository root: ``.venv/bin/python bench/stats.py``. Needs no database and no
Django settings. Each figure is the best of 3 runs in this process, with its target
next to it:
1. per-variant statistics of 1,000 variants x 10 seeds, bootstrap intervals included (< 2 s);
2. all 1,225 pairs of 50 variants, 10,000 bootstrap resamples each (< 5 s);
3. the rank bootstrap of 50 variants, 10,000 resamples (< 1 s);
4. a multi-task benchmark, 50 variants x 10 tasks x 10 seeds (no target: a comparison this
   size runs in a worker).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.analysis import benchmark_compare, pairs_compare, variants_describe, variants_rank

REPEATS = 3
N_BOOT = 10_000


def best_of(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def scores(k: int, n: int, seed: int) -> dict[str, np.ndarray]:
    """k variants of n seeds: accuracies around 0.80 with small true differences."""
    rng = np.random.default_rng(seed)
    return {f"variant-{i:04d}": rng.normal(0.80 + 0.0005 * i, 0.02, n) for i in range(k)}


def main() -> int:
    project = scores(1000, 10, seed=1)
    leaderboard = scores(50, 10, seed=2)
    by_task = [scores(50, 10, seed=10 + t) for t in range(10)]
    suite = {name: {f"task-{t}": by_task[t][name] for t in range(10)} for name in leaderboard}
    cases = [
        (
            "per-variant statistics, 1,000 variants x 10 seeds",
            2.0,
            lambda: variants_describe(project, n_boot=N_BOOT, seed=7),
        ),
        ("all 1,225 pairs of 50 variants x 10 seeds", 5.0, lambda: pairs_compare(leaderboard, n_boot=N_BOOT, seed=7)),
        ("rank bootstrap of 50 variants x 10 seeds", 1.0, lambda: variants_rank(leaderboard, n_boot=N_BOOT, seed=7)),
        (
            "benchmark of 50 variants x 10 tasks x 10 seeds",
            None,
            lambda: benchmark_compare(suite, n_boot=N_BOOT, seed=7),
        ),
    ]
    print(
        f"Seedboard statistics benchmark: B = {N_BOOT:,}, best of {REPEATS}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, {os.cpu_count()} CPUs"
    )
    for label, target, fn in cases:
        seconds = best_of(fn)
        if target is None:
            print(f"  {label:<52} {seconds:6.2f} s   (no target)")
            continue
        status = "ok" if seconds < target else "SLOWER THAN TARGET"
        print(f"  {label:<52} {seconds:6.2f} s   (target < {target:g} s)  {status}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
