"""Small realistic records, shaped like the statistics API's (docs/statistics-api.md)."""

from __future__ import annotations

import math
from typing import Any

A, B, C, D, E = "a" * 32, "b" * 32, "c" * 32, "d" * 32, "e" * 32
LABELS = {A: "resnet18 (lr=0.03)", B: "vit_small (lr=0.03)", C: "resnet18 (lr=0.1)"}
LABELS5 = {**LABELS, D: "mlp (width=512)", E: "vit_small (lr=0.1)"}


def block(variant: str, mean: float | None, scores: list[float | None], **extra: Any) -> dict[str, Any]:
    finite = [s for s in scores if s is not None]
    n = len(finite)
    out = {
        "variant": variant,
        "label": LABELS5[variant],
        "model": LABELS5[variant].split(" ")[0],
        "config": {},
        "task": "",
        "n": n,
        "n_failed": len(scores) - n,
        "mean": mean,
        "std": 0.01 if n > 1 else None,
        "ci_low": None if n < 2 else (mean or 0) - 0.012,
        "ci_high": None if n < 2 else (mean or 0) + 0.012,
        "median": mean,
        "iqm": mean,
        "mde": 0.02 if n > 1 else None,
        "scores": scores,
        "seeds": list(range(len(scores))),
        "outliers": [],
        "reasons": {} if n > 1 else {"ci_low": "needs 2 seeds", "ci_high": "needs 2 seeds"},
    }
    out.update(extra)
    return out


BLOCKS = [
    block(
        A, 0.93, [0.92, 0.93, 0.935, 0.94, 0.90, None], outliers=[4], config={"optimizer": {"lr": 0.03}, "width": 64}
    ),
    block(B, 0.95, [0.945, 0.95, 0.952, 0.948, 0.955], config={"optimizer": {"lr": 0.03}, "width": 128}),
    block(C, 0.90, [0.90], config={"optimizer": {"lr": 0.1}, "width": 64}),
]


def curve(variant: str, top: float, steps: int = 20, n_runs: int = 5, short: int = 15) -> dict[str, Any]:
    grid = [i * 100.0 for i in range(steps)]
    mean = [top * (1 - math.exp(-s / 500)) for s in grid]
    n = [n_runs if i < short else n_runs - 2 for i in range(steps)]
    return {
        "variant": variant,
        "model": "m",
        "task": "",
        "steps": grid,
        "mean": mean,
        "std": [0.01] * steps,
        "ci_low": [m - 0.02 for m in mean],
        "ci_high": [m + 0.02 for m in mean],
        "n": n,
        "complete": [k == n_runs for k in n],
        "n_runs": n_runs,
        "level": 0.95,
    }


def entry(variant: str, rank: float | None, low: float | None, high: float | None, **extra: Any) -> dict[str, Any]:
    out = {
        "variant": variant,
        "name": variant,
        "task": "",
        "n": 5,
        "mean": 0.9,
        "rank": rank,
        "rank_ci_low": low,
        "rank_ci_high": high,
        "p_best": 0.0,
        "p_vs_leader": None,
        "in_top_group": False,
        "reasons": {},
    }
    out.update(extra)
    return out


def pair(a: str, b: str, diff: float, p: float, verdict: str, n_b: int = 5, task: str = "") -> dict[str, Any]:
    has_ci = n_b > 1
    return {
        "task": task,
        "a": a,
        "b": b,
        "n_a": 5,
        "n_b": n_b,
        "goal": "max",
        "diff": diff,
        "diff_ci_low": diff - 0.01 if has_ci else None,
        "diff_ci_high": diff + 0.01 if has_ci else None,
        "prob_improvement": p,
        "prob_improvement_ci_low": max(0.0, p - 0.1) if has_ci else None,
        "prob_improvement_ci_high": min(1.0, p + 0.1) if has_ci else None,
        "p_holm": 0.01 if verdict != "inconclusive" else 0.4,
        "family_size": 3,
        "verdict": verdict,
        "statement": f"{LABELS5[a]} vs {LABELS5[b]}: {verdict}",
        "seeds_needed": 40 if verdict == "inconclusive" else None,
    }


PAIRS = [
    pair(A, B, -0.02, 0.05, "b_better"),
    pair(A, C, 0.03, 0.9, "inconclusive", n_b=1),
    pair(B, C, 0.05, 1.0, "inconclusive", n_b=1),
]


def aggregate(m: float) -> dict[str, Any]:
    out: dict[str, Any] = {"n_runs": 15, "n_tasks": 5}
    for name, value in (("iqm", m), ("mean", m), ("median", m), ("optimality_gap", 1 - m)):
        out.update({name: value, f"{name}_ci_low": value - 0.05, f"{name}_ci_high": value + 0.05})
    return out


BENCHMARK = {
    "variants": [A, B, C, D, E],
    "tasks": ["t1", "t2", "t3", "t4", "t5"],
    "normalized": True,
    "goal": "max",
    "average_ranks": {A: 1.4, B: 2.0, C: 3.2, D: 4.6, E: 3.8},
    "friedman_p": 0.002,
    "nemenyi_cd": 1.9,
    "cliques": [[A, B, C], [B, C, E], [C, E, D]],
    "alpha": 0.05,
    "level": 0.95,
    "aggregates": {v: aggregate(m) for v, m in ((A, 0.8), (B, 0.75), (C, 0.6), (D, 0.3), (E, 0.5))},
    "pairs": [
        {
            "a": A,
            "b": D,
            "n_tasks": 5,
            "wins": 5,
            "losses": 0,
            "ties": 0,
            "prob_improvement": 0.9,
            "prob_improvement_ci_low": 0.8,
            "prob_improvement_ci_high": 0.97,
            "p_holm": 0.03,
            "verdict": "a_better",
        },
        {
            "a": A,
            "b": B,
            "n_tasks": 5,
            "wins": 3,
            "losses": 2,
            "ties": 0,
            "prob_improvement": 0.6,
            "prob_improvement_ci_low": 0.4,
            "prob_improvement_ci_high": 0.75,
            "p_holm": 0.5,
            "verdict": "inconclusive",
        },
    ],
    "reasons": {},
}

TUNING = {
    "metric": "val/acc",
    "goal": "max",
    "n": 6,
    "n_trials": [1, 2, 3, 4, 5, 6, 7, 8],
    "expected": [0.8, 0.85, 0.87, 0.88, 0.89, 0.895, 0.9, 0.9],
    "sd": [0.05] * 8,
    "band_low": [0.7, 0.8, 0.83, 0.85, 0.87, 0.88, 0.89, 0.89],
    "band_high": [0.9] * 8,
    "expected_without_replacement": [0.8, 0.84, 0.86, 0.88, 0.89, 0.9, None, None],
    "budget": None,
    "reasons": {"budget": "2 trials lack a runtime"},
}
