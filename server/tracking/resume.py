"""Resuming a run whose training process was preempted or crashed.

Run ids are UUIDs chosen by the client (`Run.uuid`; the bigint pk never leaves the server), so
a restarted process names the run it continues by the id it started with. The mode says what
an id may find: "must" (the run has to exist), "allow" (resume it, or create it with that id),
"never" (the id has to be new).

A resumed run must be the same experiment: its model, seed and config are checked against the
stored ones, because a changed config would silently move the run's seeds to another variant.
Resuming sets the run back to `running` and stamps `resumed_at`, from which on ingestion
leaves out points at a (key, step) already stored (ingestion.metrics_ingest), so a loop that
restarts a little before its last stored step stores no step twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from server.core.errors import Conflict, NotFound
from server.tracking import services
from server.tracking.models import Project, Run

RESUME_MODES = ("allow", "must", "never")


@dataclass(frozen=True)
class ResumeResult:
    run: Run
    created: bool  # False: an existing run was resumed
    previous_status: str  # the run's status before (running for a new one)


def run_resume(
    *,
    project: Project,
    run_id: uuid.UUID,
    mode: str,
    model: str,
    config: dict[str, Any],
    seed: int | None = None,
    **fields: Any,
) -> ResumeResult:
    """Resume the run `run_id` of `project`, or create it, as `mode` allows.

    Raises NotFound ("must", no such run), Conflict ("never" and the run exists; the id is used
    by another project; model, seed or config differ from the stored run's).
    """
    assert mode in RESUME_MODES, mode
    existing = services.run_with_id(run_id=run_id, project=project)
    if existing is None:
        if mode == "must":
            raise NotFound(f"Run {run_id} not found: resume 'must' needs an existing run.", field="id")
        run, created = services.run_create(
            project=project, run_id=run_id, model=model, config=config, seed=seed, **fields
        )
        if created:
            return ResumeResult(run, True, Run.Status.RUNNING)
        existing = run  # created by a concurrent request since the lookup
    if mode == "never":
        raise Conflict(f"Run {run_id} already exists and resume is 'never'.", field="id")
    if seed is None:
        seed = services.seed_from_config(config)
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("project__team", "variant").get(pk=existing.pk)
        previous_status = run.status
        _same_experiment_check(run, model=model, config=config, seed=seed)
        now = timezone.now()
        run.status, run.ended_at, run.heartbeat_at, run.resumed_at = Run.Status.RUNNING, None, now, now
        run.save(update_fields=["status", "ended_at", "heartbeat_at", "resumed_at"])
    return ResumeResult(run, False, previous_status)


def _same_experiment_check(run: Run, *, model: str, config: dict[str, Any], seed: int | None) -> None:
    if model != run.model:
        raise Conflict(f"Cannot resume run {run.uuid}: its model is {run.model!r}, not {model!r}.", field="model")
    if seed != run.seed:
        raise Conflict(f"Cannot resume run {run.uuid}: its seed is {run.seed}, not {seed}.", field="seed")
    difference = _first_difference(run.config, config)
    if difference is not None:
        path, stored, given = difference
        raise Conflict(
            f"Cannot resume run {run.uuid} with another config: {path or 'config'} is {stored!r} in the stored "
            f"run and {given!r} now. A changed config is another variant: start a new run.",
            field="config",
        )


_ABSENT = "<absent>"


def _first_difference(stored: Any, given: Any, path: str = "") -> tuple[str, Any, Any] | None:
    """The first dotted path where two JSON values differ, with both values there; None if equal."""
    if isinstance(stored, dict) and isinstance(given, dict):
        for key in sorted(set(stored) | set(given)):
            inner = f"{path}.{key}" if path else str(key)
            if key not in stored or key not in given:
                return inner, stored.get(key, _ABSENT), given.get(key, _ABSENT)
            found = _first_difference(stored[key], given[key], inner)
            if found is not None:
                return found
        return None
    # bool is an int in Python: True == 1, yet changing one for the other is a change.
    if stored != given or isinstance(stored, bool) != isinstance(given, bool):
        return path, stored, given
    return None
