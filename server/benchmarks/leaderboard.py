"""From submissions and their seed scores to the leaderboard document; server.stats.compute does the maths.

No database here (services.py reads the scores and stores the result). A leaderboard entry is a
submission, not a variant: two teams that submit the same model and config from two projects
are two entries, so the groups are built per submission, named by the submission's id.

Warnings, besides those of the statistics:
- tuning budgets: a submission that searched 10x more configurations can win by the search
  alone (the expected maximum of more draws is higher; Dodge et al. 2019, "Show your work"), so
  a ratio of `BUDGET_RATIO` or more between declared budgets, or a budget declared by some and
  not by others, is said next to the ranking;
- seeds: an entry with clearly fewer seeds on a task than the others (below `FEW_SEEDS` times
  their median) has a wider interval and a less certain rank, and one below the benchmark's
  minimum (a seed failed or crashed since it was submitted) is named too.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from server.stats.compute import Group, comparison_payload
from server.stats.scores import ScoreTable, State

BUDGET_RATIO = 4.0
FEW_SEEDS = 0.75  # 3 seeds against 4 is no news; 3 against 5 is
BUDGET_KEYS = {"trials": "trials", "gpu_hours": "GPU hours"}


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one per submission
class Entry:
    """What the computation needs of one active submission."""

    submission: int
    team: str
    label: str
    model: str
    config: dict[str, Any]
    project: str
    variant: str
    budget: dict[str, Any]

    @property
    def name(self) -> str:
        # The group's name in server.stats.compute: unique per submission.
        return str(self.submission)

    @property
    def display(self) -> str:
        return f"{self.label} [{self.team}]"


def entry_groups(entry: Entry, table: ScoreTable, tasks: Sequence[str]) -> list[Group]:
    """The groups of one submission: its variant's runs on each benchmark task that has any.

    Only runs of the submitted variant on the benchmark's tasks are read from the project's
    table: nothing else of the project reaches the leaderboard.
    """
    wanted = set(tasks)
    groups: dict[str, Group] = {}
    for i, variant_pk in enumerate(table.variant_ids.tolist()):
        task = table.tasks[i]
        if task not in wanted or table.variants[variant_pk].fingerprint != entry.variant:
            continue
        # `model` is what the pair statements call the entry (server.stats.verdicts).
        group = groups.setdefault(task, Group(entry.name, entry.display, {}, task, projects=[entry.project]))
        state = table.states[i]
        if state in (State.OK, State.NONFINITE):
            group.runs.append(table.run_ids[i])
            group.seeds.append(table.seeds[i])
            group.scores.append(float(table.values[i]))
        if state != State.OK:
            status = {State.FAILED: "failed", State.CRASHED: "crashed"}.get(state, "finished")
            group.failed_runs.append({"run": table.run_ids[i], "status": status, "reason": state})
    return [groups[task] for task in sorted(groups)]


def finite_seeds(group: Group) -> int:
    """Finished seeds with a finite score."""
    return int(np.isfinite(group.scores).sum())


def budget_warnings(entries: Sequence[Entry]) -> list[str]:
    """Declared tuning budgets that differ by BUDGET_RATIO or more, or declared by only some."""
    if len(entries) < 2:
        return []
    warnings = []
    for key, words in BUDGET_KEYS.items():
        declared = {entry: float(entry.budget[key]) for entry in entries if entry.budget.get(key) is not None}
        if not declared:
            continue
        silent = [entry.display for entry in entries if entry not in declared]
        if silent:
            warnings.append(
                f"budget: {', '.join(silent)} declared no {words} while {len(declared)} other "
                f"submission(s) did; their tuning effort cannot be compared"
            )
        if len(declared) < 2:
            continue
        most = max(declared, key=lambda entry: declared[entry])
        least = min(declared, key=lambda entry: declared[entry])
        high, low = declared[most], declared[least]
        if high > 0 and (low <= 0 or high / low >= BUDGET_RATIO):
            ratio = "more than" if low <= 0 else f"{high / low:.3g}x"
            warnings.append(
                f"budget: tuning budgets differ ({ratio}) in {words}: {most.display} declared {high:g}, "
                f"{least.display} {low:g}; a larger search can rank higher by the search alone"
            )
    return warnings


def seed_warnings(entries: Sequence[Entry], counts: Mapping[int, Mapping[str, int]], *, min_seeds: int) -> list[str]:
    """Entries with clearly fewer seeds on a task than the others, or fewer than the minimum."""
    warnings = []
    tasks = sorted({task for by_task in counts.values() for task in by_task})
    for task in tasks:
        for entry in entries:
            n = counts.get(entry.submission, {}).get(task, 0)
            others = [counts.get(other.submission, {}).get(task, 0) for other in entries if other is not entry]
            if n < min_seeds:
                warnings.append(
                    f"seeds: {entry.display} has {n} finished seed(s) on task {task!r}, "
                    f"below the benchmark's minimum of {min_seeds}"
                )
            elif others and n < FEW_SEEDS * statistics.median(others):
                warnings.append(
                    f"seeds: {entry.display} has {n} seeds on task {task!r}, the others a median of "
                    f"{statistics.median(others):g}: its interval is wider and its rank less certain"
                )
    return warnings


def leaderboard_payload(
    entries: Sequence[Entry],
    groups: Sequence[Group],
    *,
    metric: str,
    goal: str,
    min_seeds: int,
    normalize: Mapping[str, Mapping[str, float]] | None,
    seed: int,
) -> dict[str, Any]:
    """comparison_payload over the submissions' groups, plus the entries and the warnings."""
    # Seed numbers are not shared randomness across teams (other code, other data order), so
    # no pairing by seed: the pair tests stay unpaired (Welch). The blocks show the real seeds.
    real_seeds = {(group.variant, group.task): list(group.seeds) for group in groups}
    unpaired = [replace(group, seeds=[None] * len(group.seeds)) for group in groups]
    ordered = sorted(unpaired, key=lambda group: (group.task, int(group.variant)))
    payload = comparison_payload(ordered, metric=metric, goal=goal, baseline=None, normalize=normalize, seed=seed)
    by_name = {entry.name: entry for entry in entries}
    for block in payload["variants"]:
        entry = by_name[block["variant"]]
        block.update(
            submission=entry.submission,
            team=entry.team,
            label=entry.label,
            model=entry.model,
            config=entry.config,
            fingerprint=entry.variant,
            seeds=real_seeds[(block["variant"], block["task"])],
        )
    counts: dict[int, dict[str, int]] = {entry.submission: {} for entry in entries}
    for group in groups:
        counts[int(group.variant)][group.task] = finite_seeds(group)
    payload["entries"] = [
        {
            "submission": entry.submission,
            "team": entry.team,
            "label": entry.label,
            "budget": entry.budget,
            "n_seeds": counts[entry.submission],
        }
        for entry in entries
    ]
    payload["warnings"] = (
        budget_warnings(entries) + seed_warnings(entries, counts, min_seeds=min_seeds) + payload["warnings"]
    )
    return payload
