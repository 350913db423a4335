"""The on-disk spool: what could not be sent, kept until `seedboard sync` replays it.

Layout, one directory per run under ``SEEDBOARD_DIR/spool/``::

    <run_id>/
        run.json            {"version": 1, "run_id", "url", "create": <POST /runs/ body>,
                             "state": <final PATCH body: status, summary>, "pid", "host",
                             "updated_at", "metric_definitions": [<PUT body>, ...]}
        <batch_id>.json     the exact body of one POST /runs/<id>/metrics/ request
        <batch_id>.invalid  a body the server refused as invalid (kept, not replayed)
        rejected.jsonl      values that could not become floats, one JSON object a line

Batch files are write-once: each is written to a temporary name, fsynced and renamed
into place, so a crash leaves either the whole file or nothing. Because the server
stores a ``batch_id`` only once, replaying a file that was already uploaded is harmless,
and a file is deleted only after the server confirmed it. ``run.json`` is rewritten the
same atomic way whenever the run's state changes.

``metric_definitions`` (optional, absent when empty) lists the `Run.define_metric` calls
not yet confirmed by the server, as ``PUT .../metric-definitions/`` bodies; a sync
replays them after creating the run. Files written before it existed lack it, which
reads as "none", so the format stays version 1.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "REJECTED_FILE",
    "RUN_FILE",
    "SPOOL_VERSION",
    "RunSpool",
    "atomic_write",
    "list_spooled_runs",
]

RUN_FILE = "run.json"
REJECTED_FILE = "rejected.jsonl"
SPOOL_VERSION = 1


def _fsync_dir(path: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) on Windows.
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, whole."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


class RunSpool:
    """The spool directory of one run. Safe to use from several threads of one process."""

    def __init__(self, root: Path, run_id: str) -> None:
        self.root = root
        self.run_id = run_id
        self.path = root / run_id
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RunSpool({str(self.path)!r})"

    # -- run.json -------------------------------------------------------------------
    def write_run(
        self,
        *,
        create: dict[str, Any],
        state: dict[str, Any],
        url: str | None,
        metric_definitions: list[dict[str, Any]] | None = None,
    ) -> None:
        """Record the create payload, the latest PATCH state of the run and the metric
        definitions still to send."""
        record: dict[str, Any] = {
            "version": SPOOL_VERSION,
            "run_id": self.run_id,
            "url": url,
            "create": create,
            "state": state,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "updated_at": time.time(),
        }
        if metric_definitions:
            record["metric_definitions"] = metric_definitions
        data = json.dumps(record, indent=1, allow_nan=False).encode()
        with self._lock:
            self.path.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path / RUN_FILE, data)

    def read_run(self) -> dict[str, Any] | None:
        """The run record, or None when there is none (or it is unreadable)."""
        try:
            record = json.loads((self.path / RUN_FILE).read_bytes())
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) else None

    def has_run(self) -> bool:
        """Whether ``run.json`` exists."""
        return (self.path / RUN_FILE).exists()

    # -- batches --------------------------------------------------------------------
    def write_batch(self, batch_id: str, body: bytes) -> Path:
        """Store one request body as ``<batch_id>.json``."""
        uuid.UUID(batch_id)  # the name must stay a plain file name
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.path / f"{batch_id}.json"
        atomic_write(target, body)
        return target

    def write_invalid(self, batch_id: str, body: bytes) -> Path:
        """Keep a body the server refused as ``<batch_id>.invalid`` (never replayed)."""
        uuid.UUID(batch_id)
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.path / f"{batch_id}.invalid"
        atomic_write(target, body)
        return target

    def batch_files(self) -> list[Path]:
        """Stored batch files, oldest first."""
        try:
            entries = [
                p
                for p in self.path.iterdir()
                if p.suffix == ".json" and p.name != RUN_FILE and not p.name.startswith(".")
            ]
        except FileNotFoundError:
            return []
        entries.sort(key=lambda p: (_mtime(p), p.name))
        return entries

    # -- rejected values ------------------------------------------------------------
    def append_rejected(self, records: Iterable[dict[str, Any]]) -> int:
        """Append records to ``rejected.jsonl`` (append-only, fsynced); returns the count."""
        lines = [json.dumps(r, allow_nan=False, default=str) + "\n" for r in records]
        if not lines:
            return 0
        with self._lock:
            self.path.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path / REJECTED_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                os.write(fd, "".join(lines).encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        return len(lines)

    # -- cleanup --------------------------------------------------------------------
    def finish(self) -> None:
        """Forget the run once nothing is pending: drop ``run.json`` and, if it is then
        empty, the directory (a ``rejected.jsonl`` is kept for the user to read)."""
        with self._lock:
            if self.batch_files():
                return
            (self.path / RUN_FILE).unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # not empty (rejected values), or gone
                self.path.rmdir()

    def in_progress(self) -> bool:
        """True while the run is still going: its state says "running" and the process
        that wrote run.json is alive on this host."""
        record = self.read_run()
        if not record or record.get("host") != socket.gethostname():
            return False
        if (record.get("state") or {}).get("status", "running") != "running":
            return False
        if os.name != "posix":
            return False  # os.kill(pid, 0) would terminate the process on Windows
        pid = record.get("pid")
        if not isinstance(pid, int) or pid == os.getpid() or pid <= 0:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except (PermissionError, OSError):
            return True  # exists but owned by someone else
        return True


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def list_spooled_runs(root: Path) -> list[RunSpool]:
    """Every run directory under `root` that still holds a ``run.json``."""
    try:
        dirs = sorted(p for p in root.iterdir() if p.is_dir() and (p / RUN_FILE).exists())
    except FileNotFoundError:
        return []
    return [RunSpool(root, d.name) for d in dirs]
