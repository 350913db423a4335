"""Benchmark of the statistics engine (server/analysis): wall time of the heavy recomputes, and memory.

Run from the repository root: ``.venv/bin/python bench/stats.py``. Needs no database (the
payload children set Django up on its settings, and read nothing). Figures 1-4 are the best of
3 runs in this process, with their targets next to them:
1. per-variant statistics of 1,000 variants x 10 seeds, bootstrap intervals included (< 2 s);
2. all 1,225 pairs of 50 variants, 10,000 bootstrap resamples each (< 5 s);
3. the rank bootstrap of 50 variants, 10,000 resamples (< 1 s);
4. a multi-task benchmark, 50 variants x 10 tasks x 10 seeds (no target: a comparison this
   size runs in a worker);
5. the peak memory and wall time of whole comparison payloads as a worker computes them
   (``server.stats.compute.comparison_payload``, Django set up, no database): 500 variants x
   2 tasks x 5 seeds (target < 1 GB; it was 21.8 GB before the pairs were bounded) and 50 variants
   x 10 tasks x 10 seeds. Each runs once, in a child process of its own, so its peak resident
   memory (ru_maxrss) is its own; an address-space limit keeps a regression from taking the
   machine down.
"""

from __future__ import annotations

import json
import os
import subprocess
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
REPO = Path(__file__).resolve().parent.parent
MEMORY_TARGET_MB = 1024
# (variants, tasks, seeds, target MB or None) of the comparison payloads measured for memory.
PAYLOADS = [(500, 2, 5, MEMORY_TARGET_MB), (50, 10, 10, None)]
# Address space, not resident memory: imports and thread stacks reserve far more than they touch.
ADDRESS_SPACE_LIMIT = 6 * 2**30

PAYLOAD_CHILD = """
import json, resource, time
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
import django
django.setup()
import numpy as np
from server.stats.compute import Group, comparison_payload

k, n_tasks, n = {k}, {n_tasks}, {n}
rng = np.random.default_rng(3)
groups = [
    Group(f"variant-{{i:04d}}", "m", {{"i": i}}, f"task-{{t}}", runs=[f"r{{i}}-{{t}}-{{s}}" for s in range(n)],
          seeds=list(range(n)), scores=rng.normal(0.80 + 0.0001 * i, 0.02, n).tolist())
    for t in range(n_tasks) for i in range(k)
]
start = time.perf_counter()
payload = comparison_payload(groups, metric="val/acc", goal="max", baseline=None, seed=7)
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "pairs": len(payload["pairs"]), "benchmark_pairs": len(payload["benchmark"]["pairs"])}}))
"""


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
    print("Comparison payloads (one run each, own process): peak resident memory and wall time")
    for k, n_tasks, n, memory_target in PAYLOADS:
        label = f"{k} variants x {n_tasks} tasks x {n} seeds"
        result = payload_in_child(k, n_tasks, n)
        if result is None:
            print(f"  {label:<52} FAILED (out of the {ADDRESS_SPACE_LIMIT / 2**30:g} GiB address space?)")
            continue
        memory = f"{result['peak_mb']:7.0f} MB"
        target = "" if memory_target is None else f"(target < {memory_target:,} MB)  "
        status = "" if memory_target is None else ("ok" if result["peak_mb"] < memory_target else "OVER TARGET")
        print(
            f"  {label:<38} {memory} {target}{result['seconds']:6.1f} s  "
            f"{result['pairs']:,} task pairs, {result['benchmark_pairs']:,} benchmark pairs  {status}"
        )
    return 0


def payload_in_child(k: int, n_tasks: int, n: int) -> dict[str, float] | None:
    """Compute one comparison payload in a child process: its wall time, peak memory and pair counts."""
    code = PAYLOAD_CHILD.format(limit=ADDRESS_SPACE_LIMIT, k=k, n_tasks=n_tasks, n=n)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "server.settings", "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return None
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    raise SystemExit(main())
