"""Replay of the spool: `seedboard sync` and `seedboard.sync()`.

For each spooled run: POST the create payload (idempotent by run id), PUT the metric
definitions it made (idempotent by key), POST every batch file (idempotent by
``batch_id``), then PATCH the final state, deleting each file only after the server
confirmed it. Interrupted at any point, a later sync picks up where this one stopped and
still stores every point exactly once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Callable

from .batch import batch_points
from .client import Client, Deadline
from .config import resolve_settings
from .definitions import definitions_path
from .errors import BadRequestError, PayloadTooLargeError, SeedboardError, TransportError
from .progress import Progress, rate
from .spool import RunSpool, list_spooled_runs

__all__ = ["SyncReport", "Upload", "sync", "sync_run", "upload_batches"]


@dataclass
class SyncReport:
    """What a sync did. `ok` is False while anything is left in the spool."""

    runs_synced: int = 0
    runs_pending: int = 0
    runs_in_progress: int = 0
    batches_sent: int = 0
    batches_duplicate: int = 0
    points_stored: int = 0
    batches_pending: int = 0
    points_pending: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when nothing is pending (nor skipped as in progress) and nothing failed."""
        return self.runs_pending == 0 and self.runs_in_progress == 0 and not self.errors

    def summary(self) -> str:
        """One human-readable paragraph."""
        lines = [
            f"synced {self.runs_synced} run(s): {self.batches_sent} batch(es) sent, "
            f"{self.points_stored} point(s) stored, "
            f"{self.batches_duplicate} batch(es) already on the server, "
            f"in {self.seconds:.1f} s ({rate(self.points_stored, self.seconds)})",
        ]
        if self.runs_in_progress:
            lines.append(
                f"{self.runs_in_progress} run(s) still in progress, skipped (they upload "
                "their own spool when they finish)"
            )
        if self.runs_pending:
            lines.append(
                f"{self.runs_pending} run(s) still pending: {self.batches_pending} batch(es), "
                f"{self.points_pending} point(s)"
            )
        lines.extend(f"error: {e}" for e in self.errors)
        return "\n".join(lines)


@dataclass
class Upload:
    """Counts of one upload: batches confirmed (of which duplicates), the points in them,
    and the points the server newly stored (duplicates store nothing)."""

    sent: int = 0
    duplicate: int = 0
    points: int = 0
    stored: int = 0
    invalid: list[str] = field(default_factory=list)
    invalid_points: int = 0


def upload_batches(
    client: Client,
    spool: RunSpool,
    *,
    deadline: Deadline = None,
    retry: bool = True,
    done: Upload | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> Upload:
    """POST every batch file of `spool`, deleting each after the server confirmed it;
    `on_batch` is called with the number of points of each batch confirmed.

    A batch the server refuses as invalid is renamed to ``<batch_id>.invalid`` (kept for
    inspection, never deleted) and listed in ``done.invalid``. Raises on the first other
    error, after the files already confirmed were deleted (and counted in `done`).
    """
    done = done if done is not None else Upload()
    for path in spool.batch_files():
        body = path.read_bytes()
        try:
            answer = client.post(
                f"runs/{spool.run_id}/metrics/", content=body, deadline=deadline, retry=retry
            )
        except (BadRequestError, PayloadTooLargeError) as exc:
            # Resending cannot help; keep it out of later syncs but never delete it.
            path.rename(path.with_suffix(".invalid"))
            done.invalid.append(f"batch {path.stem} refused ({exc}); kept as {path.stem}.invalid")
            done.invalid_points += batch_points(body)
            continue
        path.unlink()
        points = batch_points(body)
        done.sent += 1
        done.points += points
        if on_batch is not None:
            on_batch(points)
        if isinstance(answer, dict):
            done.stored += int(answer.get("stored") or 0)
            done.duplicate += bool(answer.get("duplicate"))
    return done


def _final_state(record: dict[str, Any]) -> dict[str, Any]:
    state = dict(record.get("state") or {})
    if state.get("status", "running") == "running":
        # Only runs that are not in progress get here: the process that wrote the spool
        # ended without saying how (killed hard, machine lost).
        state["status"] = "crashed"
    return state


def sync_run(
    client: Client,
    spool: RunSpool,
    *,
    deadline: Deadline = None,
    done: Upload | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> Upload:
    """Replay one spooled run (create, metric definitions, batches, final PATCH), then
    clear its spool."""
    record = spool.read_run()
    if record is None:
        raise SeedboardError(f"{spool.path}: run.json is missing or unreadable")
    client.post("runs/", json=record["create"], deadline=deadline)
    done = done if done is not None else Upload()
    _replay_definitions(client, record, deadline=deadline, done=done)
    done = upload_batches(client, spool, deadline=deadline, done=done, on_batch=on_batch)
    state = _final_state(record)
    if state:
        client.patch(f"runs/{spool.run_id}/", json=state, deadline=deadline)
    spool.finish()
    return done


def _replay_definitions(
    client: Client, record: dict[str, Any], *, deadline: Deadline, done: Upload
) -> None:
    # The project exists once the run is created. Definitions are project-wide and the
    # last one sent wins: a replay overrides one made online since, just as running the
    # same script online at this moment would.
    definitions = record.get("metric_definitions") or []
    if not definitions:
        return
    path = definitions_path(record["create"]["project"])
    for body in definitions:
        try:
            client.put(path, json=body, deadline=deadline)
        except BadRequestError as exc:  # resending cannot help; say so and go on
            done.invalid.append(f"metric definition {body.get('key')!r} refused ({exc})")


def _pending(spool: RunSpool) -> tuple[int, int]:
    files = spool.batch_files()
    return len(files), sum(batch_points(p.read_bytes()) for p in files)


def sync(
    *,
    dir: str | os.PathLike[str] | None = None,
    url: str | None = None,
    token: str | None = None,
    run_ids: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> SyncReport:
    """Upload every spooled run in ``<dir>/spool`` (default: SEEDBOARD_DIR's).

    Runs whose process is still alive on this host are skipped (they upload their own
    spool when they finish). `progress` draws bars of the runs and points (the command
    line's). Returns a `SyncReport`; raises `ConfigurationError` when no server is
    configured.
    """
    settings = resolve_settings(url=url, token=token, dir=dir, mode="online")
    server_url, server_token = settings.server()
    wanted = set(run_ids) if run_ids is not None else None
    report = SyncReport()
    progress = progress or Progress(enabled=False)
    spools = [
        spool
        for spool in list_spooled_runs(settings.spool_dir)
        if wanted is None or spool.run_id in wanted
    ]
    progress.runs_total(len(spools))
    if progress.enabled:  # reads every batch file: only for the bar
        progress.points_total(sum(_pending(spool)[1] for spool in spools))
    unreachable = False
    with Client(server_url, server_token) as client:
        for spool in spools:
            progress.run(spool.run_id[:8])
            if spool.in_progress():
                report.runs_in_progress += 1
                progress.run_done()
                continue
            done = Upload()
            try:
                if unreachable:  # one retry budget spent already; do not wait once per run
                    raise TransportError("skipped: the server was unreachable")
                sync_run(client, spool, done=done, on_batch=progress.points)
            except (SeedboardError, OSError) as exc:
                unreachable = unreachable or isinstance(exc, TransportError)
                report.errors.append(f"run {spool.run_id}: {exc}")
                batches, points = _pending(spool)
                report.runs_pending += 1
                report.batches_pending += batches
                report.points_pending += points
            else:
                report.runs_synced += 1
            report.errors.extend(f"run {spool.run_id}: {e}" for e in done.invalid)
            report.batches_sent += done.sent
            report.batches_duplicate += done.duplicate
            report.points_stored += done.stored
            progress.run_done()
    report.seconds = progress.elapsed()
    return report
