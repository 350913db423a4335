"""From seed scores to the statistics documents the API serves; server.analysis does the maths.

No database here: the services read score tables (scores.py), call these functions in the
worker, and store what they return. Determinism: the bootstrap seed is derived from stable
ids (``bootstrap_seed``), groups are ordered by (task, model, fingerprint) and runs by id,
so a recompute of the same inputs is bit-identical; ``inputs_fingerprint`` hashes exactly
those inputs so that an unchanged recompute can skip the work.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from server.analysis import (
    MAX_ALL_PAIRS,
    METHOD_VERSION,
    benchmark_compare,
    pairs_compare,
    rank_sets,
    variants_describe,
    variants_rank,
)
from server.stats import verdicts
from server.stats.scores import ScoreTable, State, VariantInfo
from server.tracking.labels import variant_labels

# MAX_ALL_PAIRS (server.analysis, 50): all k(k-1)/2 pairs up to this many variants, per task and
# in the benchmark; beyond it every variant is compared with the baseline, or with the leader when
# there is none, so a comparison of any size needs memory and time linear in k (docs/statistics-api.md).


def bootstrap_seed(*parts: object) -> int:
    """A deterministic seed in [0, 2^31) from stable ids, e.g. (project id, metric)."""
    digest = hashlib.blake2b(orjson.dumps([str(part) for part in parts]), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 2**31


def inputs_fingerprint(tables: Sequence[ScoreTable], context: dict[str, Any]) -> str:
    """blake2b of the score tables and everything else a result depends on (`context`)."""
    digest = hashlib.blake2b(digest_size=32)
    digest.update(orjson.dumps({**context, "method_version": METHOD_VERSION}, option=orjson.OPT_SORT_KEYS))
    for table in tables:
        fingerprints = [table.variants[pk].fingerprint for pk in table.variant_ids.tolist()]
        digest.update(orjson.dumps([table.run_ids, fingerprints, table.tasks, table.seeds, table.states]))
        # One NaN bit pattern, whatever the database returned.
        digest.update(np.where(np.isnan(table.values), np.nan, table.values).tobytes())
    return digest.hexdigest()


@dataclass
class Group:
    """The runs of one variant on one task, as the statistics see them."""

    variant: str
    model: str
    config: dict[str, Any]
    task: str
    projects: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)  # scored runs (finished with a value), in score order
    seeds: list[int | None] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    failed_runs: list[dict[str, str]] = field(default_factory=list)

    @property
    def n_unscored(self) -> int:
        """Failed, crashed and missing runs (non-finite scores are counted by the analysis)."""
        return sum(1 for run in self.failed_runs if run["reason"] != State.NONFINITE)

    @property
    def n_missing(self) -> int:
        return sum(1 for run in self.failed_runs if run["reason"] == State.MISSING)


def groups_build(
    tables: Sequence[tuple[str, ScoreTable]],
    *,
    select: Callable[[VariantInfo], bool] | None = None,
    task: str | None = None,
) -> list[Group]:
    """Groups of (variant, task) from the tables of one or more projects, ordered by (task, model, fingerprint).

    A variant fingerprint found in several projects (same model and config) pools its seeds.
    """
    groups: dict[tuple[str, str], Group] = {}
    for project, table in tables:
        for i, variant_pk in enumerate(table.variant_ids.tolist()):
            info = table.variants[variant_pk]
            run_task = table.tasks[i]
            if (task is not None and run_task != task) or (select is not None and not select(info)):
                continue
            key = (run_task, info.fingerprint)
            group = groups.get(key)
            if group is None:
                group = groups[key] = Group(info.fingerprint, info.model, info.config, run_task)
            if project not in group.projects:
                group.projects.append(project)
            state = table.states[i]
            if state in (State.OK, State.NONFINITE):
                group.runs.append(table.run_ids[i])
                group.seeds.append(table.seeds[i])
                group.scores.append(float(table.values[i]))
            if state != State.OK:
                status = {State.FAILED: "failed", State.CRASHED: "crashed"}.get(state, "finished")
                group.failed_runs.append({"run": table.run_ids[i], "status": status, "reason": state})
    return [groups[key] for key in sorted(groups, key=lambda key: (key[0], groups[key].model, key[1]))]


def variant_blocks(groups: Sequence[Group], *, seed: int, with_projects: bool = False) -> list[dict[str, Any]]:
    """One block per group: identity, runs and scores, then server.analysis' VariantStats."""
    names = [str(i) for i in range(len(groups))]
    described = variants_describe(
        {name: group.scores for name, group in zip(names, groups, strict=True)},
        n_failed={name: group.n_unscored for name, group in zip(names, groups, strict=True)},
        seed=seed,
    )
    labels = variant_labels([(group.variant, group.model, group.config) for group in groups])
    blocks = []
    for name, group in zip(names, groups, strict=True):
        block: dict[str, Any] = {
            "variant": group.variant,
            "label": labels[group.variant],
            "model": group.model,
            "config": group.config,
            "task": group.task,
        }
        if with_projects:
            block["projects"] = group.projects
        block.update(
            runs=group.runs,
            seeds=group.seeds,
            scores=[score if np.isfinite(score) else None for score in group.scores],
            failed_runs=group.failed_runs,
            n_missing=group.n_missing,
            **described[name].to_dict(),
        )
        blocks.append(block)
    return blocks


def project_payloads(groups: Sequence[Group], *, seed: int) -> dict[str, list[dict[str, Any]]]:
    """The per-variant statistics of a project's metric, by task (one result row each)."""
    by_task: dict[str, list[dict[str, Any]]] = {}
    for block in variant_blocks(groups, seed=seed):
        by_task.setdefault(block["task"], []).append(block)
    return by_task


def comparison_payload(
    groups: Sequence[Group],
    *,
    metric: str,
    goal: str,
    baseline: str | None,
    seed: int,
    normalize: Mapping[str, Mapping[str, float]] | None = None,
) -> dict[str, Any]:
    """Variants, pairs (Holm within each task), ranking per task, and a benchmark over several tasks.

    `normalize` ({task: {"random", "reference"}}) applies to the benchmark only; per-task
    statistics stay in the metric's units.
    """
    tasks = sorted({group.task for group in groups})
    labels = variant_labels([(group.variant, group.model, group.config) for group in groups])
    warnings: list[str] = []
    pairs: list[dict[str, Any]] = []
    rankings: dict[str, dict[str, Any]] = {}
    for task in tasks:
        members = [group for group in groups if group.task == task]
        scores = {group.variant: group.scores for group in members}
        ranking = variants_rank(scores, goal=goal, seed=seed)  # type: ignore[arg-type]
        finished = {group.variant: int(np.isfinite(group.scores).sum()) for group in members}
        if len(members) < 2:
            rankings[task] = ranking.with_rank_sets(rank_sets(finished, (), alpha=ranking.alpha)).to_dict()
            continue
        against = baseline if baseline in scores else None
        if baseline is not None and against is None:
            warnings.append(f"task {task!r}: the baseline has no runs here; all pairs are compared")
        if against is None and len(members) > MAX_ALL_PAIRS and ranking.leader is not None:
            against = ranking.leader
            warnings.append(
                f"task {task!r}: {len(members)} variants; each is compared with the leader only "
                f"(all pairs up to {MAX_ALL_PAIRS} variants)"
            )
        seeds = {group.variant: group.seeds if None not in group.seeds else None for group in members}
        family = pairs_compare(scores, goal=goal, baseline=against, seeds=seeds, seed=seed)  # type: ignore[arg-type]
        # The rank sets come from the very verdicts the pair statements below put in words.
        sets = rank_sets(finished, family.pairs, alpha=family.alpha)
        rankings[task] = ranking.with_rank_sets(sets).to_dict()
        for pair in family.pairs:
            record = pair.to_dict()
            record["statement"] = verdicts.pair_statement(
                record, label_a=labels[pair.a], label_b=labels[pair.b], metric=metric
            )
            pairs.append({"task": task, **record})

    benchmark = None
    variants = list(dict.fromkeys(group.variant for group in groups))
    if len(tasks) >= 2 and len(variants) >= 2:
        cells: dict[str, dict[str, list[float]]] = {variant: {} for variant in variants}
        failed: dict[str, dict[str, int]] = {variant: {} for variant in variants}
        for group in groups:
            cells[group.variant][group.task] = group.scores
            failed[group.variant][group.task] = group.n_unscored
        baselines = (
            {task: (float(pair["random"]), float(pair["reference"])) for task, pair in normalize.items()}
            if normalize
            else None
        )
        # The benchmark keeps all pairs up to MAX_ALL_PAIRS even with a baseline (its pairs are
        # over tasks); beyond, the baseline is the reference, or the leader it picks itself.
        large = len(variants) > MAX_ALL_PAIRS
        benchmark = benchmark_compare(
            cells,
            goal=goal,  # type: ignore[arg-type]
            baselines=baselines,
            n_failed=failed,
            seed=seed,
            against=baseline if large and baseline in cells else None,
        ).to_dict()
    return {
        "tasks": tasks,
        "warnings": warnings,
        "variants": variant_blocks(groups, seed=seed, with_projects=True),
        "pairs": pairs,
        "ranking": _ranking_merge(rankings, goal),
        "benchmark": benchmark,
    }


def _ranking_merge(rankings: dict[str, dict[str, Any]], goal: str) -> dict[str, Any]:
    """One ranking block: server.analysis' Ranking for one task; entries of every task otherwise.

    Each entry names its `variant` and `task`; `tasks` gives each task's leader and top group,
    and the top-level `leader` / `top_group` are those of the only task (None / [] with several).
    """
    entries = [
        {"variant": entry["name"], "task": task, **entry}
        for task, ranking in rankings.items()
        for entry in ranking["entries"]
    ]
    single = next(iter(rankings.values())) if len(rankings) == 1 else None
    merged: dict[str, Any] = dict(single) if single is not None else {"goal": goal}
    if single is None:
        # What the bootstrap `rank_ci_low`/`rank_ci_high` are holds for every task's entries.
        merged["rank_ci_method"] = next((ranking["rank_ci_method"] for ranking in rankings.values()), None)
    merged.update(
        entries=entries,
        leader=single["leader"] if single else None,
        top_group=single["top_group"] if single else [],
        k=single["k"] if single else len({entry["variant"] for entry in entries}),
        tasks={
            task: {"leader": ranking["leader"], "top_group": ranking["top_group"], "k": ranking["k"]}
            for task, ranking in rankings.items()
        },
    )
    return merged
