"""The background thread: queue -> columnar batches -> server, or the spool.

One daemon thread per run. Every ~0.1 s it drains the run's deque of raw ``log()``
entries into a `Batcher`, and sends a batch when it is full (20,000 points) or at least
every second. It PATCHes summary changes at the same cadence and a heartbeat every 15 s,
and PUTs the metric definitions made with `Run.define_metric` (before the final status,
so the recompute that a finishing run triggers already uses them).
A sentinel entry tells it to stop: it then sends what is left until the finish deadline
and writes the rest to the spool.

Failure handling: a request is retried for up to ``retry_budget`` seconds (see
`client`). When that runs out the batch goes to the spool and the sender is "degraded":
new batches go straight to the spool and the server is probed with a single attempt at
most every ``probe_interval`` seconds, so a long outage costs neither memory nor a
stalled queue. A run that recovers sends its own spooled batches when it finishes.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import warnings
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from .batch import Batch, Batcher, Rejected, batch_points
from .client import Client
from .definitions import PendingDefinitions, definitions_path
from .errors import (
    APIError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SeedboardError,
    ServerError,
    TransportError,
)
from .spool import RunSpool
from .summary import Summary
from .sync import Upload, upload_batches

__all__ = ["STOP", "Entry", "Sender", "SenderStats", "resume_body"]

log = logging.getLogger("seedboard")

Entry = tuple[int, float, dict[str, Any]]
STOP: Entry = (-1, 0.0, {})  # the sentinel, compared by identity

# Errors after which the data is kept for a later attempt (spool), not discarded.
_KEEP_FOR_LATER = (
    TransportError,
    ServerError,
    RateLimitError,
    AuthenticationError,
    PermissionDeniedError,
    NotFoundError,
)


def resume_body(create: dict[str, Any], mode: str) -> dict[str, Any]:
    """The body of ``POST runs/{id}/resume/``: the create body, with the mode, no id or status."""
    body = {name: value for name, value in create.items() if name not in ("id", "status")}
    body["mode"] = mode
    return body


@dataclass
class SenderStats:
    """Counters reported by `Run.finish` (points, not requests)."""

    sent: int = 0
    spooled: int = 0
    rejected: int = 0
    already_stored: int = 0  # sent to a resumed run at steps it had stored: not stored again
    warnings: list[str] = field(default_factory=list)


class Sender:
    """Moves one run's logged points to the server (or the spool) off the training loop."""

    poll_interval = 0.1
    flush_interval = 1.0  # seconds between sends while the server answers
    spool_interval = 30.0  # ... and between spool files while it does not (fewer files)
    heartbeat_interval = 15.0
    probe_interval = 15.0
    retry_budget = 30.0

    def __init__(
        self,
        *,
        run_id: str,
        queue: deque[Entry],
        client: Client | None,
        spool: RunSpool,
        create: dict[str, Any],
        summary: Summary,
        created: bool,
        batcher: Batcher | None = None,
        definitions: PendingDefinitions | None = None,
        resume: str | None = None,
    ) -> None:
        self.run_id = run_id
        self.resume = resume  # a resume mode: the run is created through runs/{id}/resume/
        self.queue = queue
        self.client = client
        self.spool = spool
        self.create = create
        self.summary = summary
        self.created = created
        self.batcher = batcher or Batcher()
        self.definitions = definitions if definitions is not None else PendingDefinitions()
        self.stats = SenderStats()
        self.drained = 0  # points taken off the queue; written by this thread only
        self._status = "running"
        self._finish_deadline = math.inf
        self._healthy = True
        self._next_probe = 0.0
        self._spool_run_written = False
        self._spooled_summary = -1  # Summary.version last written to run.json
        self._spooled_definitions = 0  # PendingDefinitions.version last written there
        self._warned_rejected = False
        # Guards stats and spool bookkeeping, shared with log()'s overflow path.
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = threading.Thread(
            target=self._main, name=f"seedboard-{run_id[:8]}", daemon=True
        )

    # -- control, called from the user's thread -------------------------------------
    def start(self) -> None:
        """Start the thread; in offline mode also record the run in the spool at once."""
        if self.client is None:
            self._write_spool_run()
        self._thread.start()

    def stop(self, status: str, timeout: float) -> bool:
        """Send what is left within `timeout` seconds, spool the rest, record `status`.

        Returns False when the thread did not end in time (points may be unaccounted).
        """
        self._status = status
        self._finish_deadline = time.monotonic() + timeout
        self._next_probe = 0.0  # one more attempt at the end, even after an outage
        self.queue.append(STOP)
        self._wake.set()
        # The thread bounds its own work by the deadline; the grace covers one last
        # request started just before it and the local spool writes.
        self._thread.join(timeout + 10.0)
        return not self._thread.is_alive()

    def spool_batches(self, batches: list[Batch], rejected: list[Rejected]) -> None:
        """Write batches to the spool now (also called from ``log()`` on overflow)."""
        for batch in batches:
            self._spool(batch)
        self._reject(rejected)

    # -- the thread -----------------------------------------------------------------
    def _main(self) -> None:
        try:
            self._loop()
            self._finish()
        except BaseException as exc:  # a bug here must not lose points silently
            self._warn(f"background sender failed ({exc!r}); unsent points go to the spool")
            log.exception("seedboard sender failed")
            self._rescue()

    def _loop(self) -> None:
        now = time.monotonic()
        next_flush = now + self.flush_interval
        next_beat = now + self.heartbeat_interval
        while True:
            stopping = self._drain()
            now = time.monotonic()
            if stopping:
                return
            if now >= next_flush:
                self.batcher.cut()
                self._deliver_ready()
                self._push_definitions()
                beat = now >= next_beat
                self._push_state(heartbeat=beat)
                if beat:
                    next_beat = now + self.heartbeat_interval
                online = self.client is not None and (self._healthy or now >= self._next_probe)
                next_flush = now + (self.flush_interval if online else self.spool_interval)
            # log() does not signal (too costly per call): poll, but wake at once for stop().
            self._wake.wait(self.poll_interval)
            self._wake.clear()

    def _drain(self) -> bool:
        """Move queued entries into batches, sending each full one; True at the sentinel."""
        queue, add = self.queue, self.batcher.add
        while True:
            try:
                entry = queue.popleft()
            except IndexError:
                return False
            if entry is STOP:
                return True
            step, when, metrics = entry
            self.drained += len(metrics)
            add(step, when, metrics)
            if self.batcher.ready:
                self._deliver_ready()

    def _deliver_ready(self) -> None:
        for batch in self.batcher.take_ready():
            self._deliver(batch)
        self._reject(self.batcher.take_rejected())

    def _finish(self) -> None:
        self._drain()  # entries that a log() in another thread raced past the sentinel
        self.batcher.cut()
        self._deliver_ready()
        if self.spool.batch_files() and self._may_call() and self._ensure_created():
            self._replay_own_spool()
        self._push_definitions()
        final_sent = self._final_patch()
        unsent = len(self.definitions) > 0  # left for `seedboard sync` in run.json
        if final_sent and not unsent and not self.spool.batch_files():
            self.spool.finish()
        elif self.spool.has_run() or self.spool.batch_files() or not final_sent or unsent:
            self._write_spool_run()

    def _rescue(self) -> None:
        """Last resort after a bug in the loop: put everything still in memory on disk."""
        try:
            while True:
                try:
                    entry = self.queue.popleft()
                except IndexError:
                    break
                if entry is not STOP:
                    self.drained += len(entry[2])
                    self.batcher.add(*entry)
            self.batcher.cut()
            self.spool_batches(self.batcher.take_ready(), self.batcher.take_rejected())
            self._write_spool_run()
        except BaseException:
            log.exception("seedboard could not spool the remaining points")

    # -- network --------------------------------------------------------------------
    def _deadline(self, budget: float) -> Callable[[], float]:
        start = time.monotonic()
        return lambda: min(start + budget, self._finish_deadline)

    def _may_call(self) -> bool:
        if self.client is None:
            return False
        now = time.monotonic()
        if now >= self._finish_deadline:
            return False
        return self._healthy or now >= self._next_probe

    def _call(self, method: str, path: str, *, budget: float | None = None, **kw: Any) -> Any:
        """One request with retries while healthy (a single probe when degraded)."""
        assert self.client is not None
        try:
            answer = self.client.request(
                method,
                path,
                deadline=self._deadline(budget or self.retry_budget),
                retry=self._healthy,
                **kw,
            )
        except _KEEP_FOR_LATER as exc:
            if isinstance(exc, NotFoundError):
                self.created = False  # the run is gone on the server: create it again
            self._degrade(exc)
            raise
        if not self._healthy:
            log.warning("seedboard: server reachable again; sending resumes")
        self._healthy = True
        return answer

    def _degrade(self, exc: SeedboardError) -> None:
        if self._healthy:
            self._warn(f"cannot reach the server ({exc}); points go to the local spool")
        self._healthy = False
        self._next_probe = time.monotonic() + self.probe_interval

    def _ensure_created(self) -> bool:
        if self.created:
            return True
        try:
            if self.resume is not None:
                body = resume_body(self.create, self.resume)
                self._call("POST", f"runs/{self.run_id}/resume/", json=body)
            else:
                self._call("POST", "runs/", json=self.create)
        except _KEEP_FOR_LATER:
            return False
        except APIError as exc:  # e.g. 409: the id is taken elsewhere; sync will report it
            if self._healthy:
                self._warn(f"the server refused to create the run ({exc})")
            self._healthy = False
            self._next_probe = time.monotonic() + self.probe_interval
            return False
        self.created = True
        return True

    def _deliver(self, batch: Batch) -> None:
        if not self._may_call() or not self._ensure_created():
            self._spool(batch)
            return
        try:
            answer = self._call("POST", f"runs/{self.run_id}/metrics/", content=batch.body)
        except _KEEP_FOR_LATER:
            self._spool(batch)
        except APIError as exc:  # 400/413: resending cannot help; keep it for inspection
            self._warn(
                f"the server refused a batch of {batch.points} points ({exc}); "
                f"kept as {batch.batch_id}.invalid in {self.spool.path}"
            )
            self.spool.write_invalid(batch.batch_id, batch.body)
            with self._lock:
                self.stats.rejected += batch.points
        else:
            with self._lock:
                self.stats.sent += batch.points
            if isinstance(answer, dict) and answer.get("duplicate"):
                log.debug("batch %s was already stored", batch.batch_id)
            if isinstance(answer, dict) and answer.get("already_stored"):
                self._already_stored(int(answer["already_stored"]))

    def _already_stored(self, points: int) -> None:
        with self._lock:
            first = self.stats.already_stored == 0
            self.stats.already_stored += points
        if first:  # once: a resumed loop that went back re-logs every point of those steps
            warnings.warn(
                f"seedboard: {points} point(s) were logged again at steps that resumed run "
                f"{self.run_id} had stored already; the server kept the stored ones (the count "
                "of all such points is in finish()'s result)",
                RuntimeWarning,
                stacklevel=2,
            )

    def _push_state(self, *, heartbeat: bool) -> None:
        changes = self.summary.take_changes()
        if not changes and not heartbeat:
            return
        if not self._may_call() or not self._ensure_created():
            self.summary.restore(list(changes))
            if self._spool_run_written and self._spooled_summary != self.summary.version:
                self._write_spool_run()  # keep the latest summary on disk for a replay
            return
        body: dict[str, Any] = {}
        if changes:
            body["summary"] = changes
        if heartbeat:
            body["heartbeat"] = True
        try:
            self._call("PATCH", f"runs/{self.run_id}/", json=body, budget=10.0)
        except _KEEP_FOR_LATER:
            self.summary.restore(list(changes))
        except APIError as exc:
            self._warn(f"the server refused a summary update ({exc})")

    def _push_definitions(self) -> None:
        """PUT pending metric definitions; without a server, keep them in run.json."""
        pending = self.definitions.snapshot()
        if not pending:
            return
        if not self._may_call() or not self._ensure_created():
            if self._spool_run_written and self._spooled_definitions != self.definitions.version:
                self._write_spool_run()  # offline: on disk at once, for a replay
            return
        path = definitions_path(self.create["project"])
        for body in pending:
            try:
                self._call("PUT", path, json=body, budget=10.0)
            except _KEEP_FOR_LATER:
                return  # still pending: retried at the next flush, or spooled at finish
            except APIError as exc:  # resending cannot help
                self._warn(f"the server refused the definition of {body['key']!r} ({exc})")
            self.definitions.confirm(body)

    def _final_patch(self) -> bool:
        """PATCH status and summary; True when the server has the final state."""
        if not self._may_call() or not self._ensure_created():
            return False
        changes = self.summary.take_changes()
        body: dict[str, Any] = {"status": self._status}
        if changes:
            body["summary"] = changes
        try:
            self._call("PATCH", f"runs/{self.run_id}/", json=body)
        except _KEEP_FOR_LATER:
            self.summary.restore(list(changes))
            return False
        except APIError as exc:
            if not changes:
                self._warn(f"the server refused the final update ({exc})")
                return False
            # A summary value the server cannot store must not also cost the run its status.
            self._warn(f"the server refused the final summary ({exc}); sending the status alone")
            try:
                self._call("PATCH", f"runs/{self.run_id}/", json={"status": self._status})
            except (APIError, *_KEEP_FOR_LATER) as again:
                self._warn(f"the server refused the final status ({again})")
                return False
        return True

    def _replay_own_spool(self) -> None:
        """Send the batches this run spooled during an outage, now that the server is back."""
        assert self.client is not None
        done = Upload()
        try:
            upload_batches(
                self.client,
                self.spool,
                deadline=self._deadline(self.retry_budget),
                retry=self._healthy,
                done=done,
            )
        except _KEEP_FOR_LATER as exc:
            self._degrade(exc)
        except (SeedboardError, OSError) as exc:
            self._warn(f"replaying the spool stopped: {exc}")
        for message in done.invalid:
            self._warn(message)
        with self._lock:
            self.stats.sent += done.points
            self.stats.rejected += done.invalid_points
            self.stats.spooled -= min(self.stats.spooled, done.points + done.invalid_points)

    # -- the spool ------------------------------------------------------------------
    def _write_spool_run(self) -> None:
        version, definitions_version = self.summary.version, self.definitions.version
        state = {"status": self._status, "summary": self.summary.state()}
        url = self.client.url if self.client is not None else None
        self.spool.write_run(
            create=self.create,
            state=state,
            url=url,
            metric_definitions=self.definitions.snapshot(),
        )
        self._spool_run_written = True
        self._spooled_summary = version
        self._spooled_definitions = definitions_version

    def _spool(self, batch: Batch) -> None:
        try:
            with self._lock:
                if not self._spool_run_written:
                    self._write_spool_run()  # the replay needs the create payload first
            self.spool.write_batch(batch.batch_id, batch.body)
        except OSError as exc:
            self._warn(f"LOST {batch.points} points: cannot write the spool ({exc})")
            return
        with self._lock:
            self.stats.spooled += batch.points

    def _reject(self, rejected: list[Rejected]) -> None:
        if not rejected:
            return
        try:
            self.spool.append_rejected(r.as_record() for r in rejected)
        except OSError as exc:
            log.error("seedboard: cannot record rejected values: %s", exc)
        first = rejected[0]
        with self._lock:
            self.stats.rejected += len(rejected)
            warned, self._warned_rejected = self._warned_rejected, True
        if not warned:  # once per run; finish() reports the total
            self._warn(
                f"values that cannot be converted to float are not sent, e.g. "
                f"{first.key}={first.value} at step {first.step} ({first.reason}); "
                f"they are recorded in {self.spool.path}"
            )

    def _warn(self, message: str) -> None:
        with self._lock:
            self.stats.warnings.append(message)
        warnings.warn(f"seedboard: {message}", RuntimeWarning, stacklevel=2)

    def points_in_spool(self) -> int:
        """Points in this run's spooled batch files (read from disk)."""
        return sum(batch_points(p.read_bytes()) for p in self.spool.batch_files())
