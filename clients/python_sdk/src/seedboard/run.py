"""`seedboard.init` and the `Run` it returns.

``Run.log`` is the hot path: it validates the caller's arguments, copies the dict and
appends ``(step, time, metrics)`` to a deque (about half a microsecond for two keys).
Converting values, batching and all network and disk work happen in the run's `Sender`
thread.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
import warnings
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from . import hooks
from .batch import Batcher
from .client import Client
from .config import Settings, resolve_settings
from .definitions import metric_definition
from .encoding import jsonable
from .errors import RateLimitError, ServerError, TransportError
from .metadata import collect_metadata
from .sender import Entry, Sender, resume_body
from .spool import RunSpool
from .summary import Summary

__all__ = ["FinishResult", "Run", "init"]

MAX_STEP = 2**63  # exclusive, as on the server
MAX_KEY_LENGTH = 250
MAX_PENDING_POINTS = 1_000_000  # beyond this, log() spools synchronously (see _overflow)
INIT_BUDGET = 5.0  # seconds init() may spend creating the run before deferring it
STATUSES = ("finished", "failed", "crashed")
RESUME_MODES = ("allow", "must", "never")
_time = time.time


@dataclass(frozen=True)
class FinishResult:
    """What happened to the points of a run, returned by `Run.finish`.

    ``points_logged == points_sent + points_spooled + points_rejected`` unless a warning
    says otherwise. Spooled points are uploaded by ``seedboard sync``.
    """

    status: str
    points_logged: int
    points_sent: int
    points_spooled: int
    points_rejected: int
    warnings: tuple[str, ...]
    spool_dir: str | None
    #: Of the points sent, those a resumed run had stored already at their step (not stored again).
    points_already_stored: int = 0

    @property
    def ok(self) -> bool:
        """True when every point reached the server."""
        return self.points_spooled == 0 and self.points_rejected == 0 and not self.warnings


class Run:
    """A live run. Create it with `seedboard.init`; use it as a context manager.

    Leaving the ``with`` block finishes the run as ``"finished"``, or as ``"failed"`` when
    an exception escapes (the exception propagates).
    """

    def __init__(
        self,
        *,
        run_id: str,
        project: str,
        create: dict[str, Any],
        settings: Settings,
        client: Client | None,
        created: bool,
        resume: str | None = None,
        record: Mapping[str, Any] | None = None,
    ) -> None:
        self._id = run_id
        self._project = project
        self._settings = settings
        self._client = client
        self.config: dict[str, Any] = create["config"]
        self.summary = Summary()
        self._queue: deque[Entry] = deque()
        self._next_step = 0
        # What the server said when the run was resumed: its last stored step per key.
        self.resumed = bool(record and record.get("resumed"))
        metrics = (record or {}).get("metrics") or {}
        self.last_steps: dict[str, int] = {key: int(m["last_step"]) for key, m in metrics.items()}
        if self.last_steps:
            self._next_step = max(self.last_steps.values()) + 1
        # Written by the caller's thread only (log() is meant for one thread): points
        # appended before the last _make_room(), the room it granted, and what is left.
        self._logged_base = 0
        self._room_granted = self._room = MAX_PENDING_POINTS
        self._overflowed = 0  # points log() had to spool itself
        self._known_keys: set[str] = set()  # keys already validated
        self._owner_pid = os.getpid()  # a forked child must not finish its parent's run
        self._finish_lock = threading.Lock()
        self._result: FinishResult | None = None
        self._spool = RunSpool(settings.spool_dir, run_id)
        self._sender = Sender(
            run_id=run_id,
            queue=self._queue,
            client=client,
            spool=self._spool,
            create=create,
            summary=self.summary,
            created=created,
            resume=resume,
        )

    @property
    def id(self) -> str:
        """The run's id (a UUID made by the client)."""
        return self._id

    @property
    def next_step(self) -> int:
        """The step `log` uses when none is given: one past the last step logged, or, on a
        resumed run, one past the last step the server had stored (of any key); 0 for a new run.
        A resumed training loop starts there: ``for step in range(run.next_step, total)``."""
        return self._next_step

    @property
    def project(self) -> str:
        """``team/project``."""
        return self._project

    @property
    def url(self) -> str | None:
        """The run record's address in the server's REST API (None in offline mode)."""
        if self._client is None:
            return None
        return f"{self._client.url}/api/v1/runs/{self._id}/"

    @property
    def mode(self) -> str:
        """``online`` or ``offline``."""
        return self._settings.mode

    def __repr__(self) -> str:
        return f"<seedboard.Run {self._id} project={self._project!r} mode={self.mode}>"

    # -- logging ----------------------------------------------------------------------
    def log(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Record metric values at a step; returns at once.

        Args:
            metrics: ``{key: value}``; keys are str of 1-250 characters, values anything
                float() accepts (int, float, bool, numpy scalars, 0-d tensors). NaN and
                infinities are kept. A value that cannot become a float is not sent; it is
                reported by a warning and in `finish`'s result. Values are read by the
                background thread a moment later: log ``float(t)``, not a tensor that
                the loop keeps changing in place.
            step: a non-negative int below 2**63. Omitted, it is one more than the
                previous call's step (0 for the first call).

        Raises:
            TypeError, ValueError: for a bad key or step (nothing is recorded then).
            RuntimeError: when the run is already finished.
        """
        # Every line here runs once per call in the user's loop: measured, keep it short.
        if step is None:
            step = self._next_step
        if type(step) is not int or not 0 <= step < MAX_STEP:
            step = _checked_step(step)
        copy = dict(metrics)  # the caller may reuse and mutate its dict
        if not copy.keys() <= self._known_keys:  # one C-level subset test in the common case
            self._check_keys(copy)
        self._next_step = step + 1
        self._queue.append((step, _time(), copy))  # raises RuntimeError once finished
        self._room -= len(copy)
        if self._room < 0:
            self._make_room()

    def _check_keys(self, metrics: dict[Any, Any]) -> None:
        for key in metrics:
            if type(key) is not str or not 0 < len(key) <= MAX_KEY_LENGTH:
                _bad_key(key)
        if len(self._known_keys) < 100_000:  # bounded, even for keys made per step
            self._known_keys.update(metrics)

    @property
    def _logged(self) -> int:
        """Points appended by log() so far."""
        return self._logged_base + self._room_granted - self._room

    def _make_room(self) -> None:
        # Called when the points appended since the last call used up the room granted
        # then: recount what is pending, spool if over the bound, grant the new room.
        self._logged_base = self._logged
        pending = self._logged_base - self._overflowed - self._sender.drained
        if pending > MAX_PENDING_POINTS:
            self._overflow()
            pending = self._logged_base - self._overflowed - self._sender.drained
        self._room_granted = self._room = max(0, MAX_PENDING_POINTS - pending)

    def _overflow(self) -> None:
        # The sender is stuck (a slow or unreachable server) and the queue holds a million
        # points. Rather than grow without bound or drop, convert half of the queue here
        # and spool it. Costly, but only once per half a million points.
        batcher = Batcher()
        target = MAX_PENDING_POINTS // 2
        while self._logged - self._overflowed - self._sender.drained > target:
            try:
                step, when, metrics = self._queue.popleft()
            except IndexError:
                break
            self._overflowed += len(metrics)
            batcher.add(step, when, metrics)
        batcher.cut()
        self._sender.spool_batches(batcher.take_ready(), batcher.take_rejected())

    def define_metric(
        self,
        key: str,
        goal: str | None = None,
        summary: str = "last",
        *,
        k: int | None = None,
        step: int | None = None,
    ) -> None:
        """Declare how `key` is judged in this run's project; returns at once.

        Args:
            key: the metric key, as logged.
            goal: ``"max"`` or ``"min"``: which direction is better. None: the key's
                default (``min`` when it contains loss, error, err, mse, mae, rmse or
                perplexity, else ``max``).
            summary: how a run's curve becomes one number for the statistics:
                ``"last"`` (default), ``"best"`` (best value in the goal's direction),
                ``"min"``, ``"max"``, ``"mean_last_k"`` (mean of the last `k` values) or
                ``"at_step"`` (the value at `step`). A value written to
                ``run.summary[key]`` wins over this rule.

        The definition holds for the whole project (the last one sent wins). It is sent
        by the background thread, retried like the points, and kept in the spool for
        ``seedboard sync`` when the server cannot be reached or in offline mode.

        Raises:
            TypeError, ValueError: bad arguments (nothing is recorded then).
            RuntimeError: when the run is already finished.
        """
        body = metric_definition(key, goal=goal, summary=summary, k=k, step=step)
        if isinstance(self._queue, _FinishedQueue):
            raise RuntimeError(f"run {self._id} is finished; use Api.define_metric instead")
        self._sender.definitions.put(body)

    # -- finishing --------------------------------------------------------------------
    def finish(self, status: str = "finished", *, timeout: float | None = None) -> FinishResult:
        """End the run: send what is left (within `timeout` seconds, default
        ``SEEDBOARD_FLUSH_TIMEOUT`` or 30), spool the rest, record `status`.

        `status` is ``"finished"``, ``"failed"`` or ``"crashed"``. Calling it again
        returns the first result. Never raises for network trouble.
        """
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        if self._result is not None:
            return self._result
        if os.getpid() != self._owner_pid:
            return self._snapshot(status, ("finish() ignored in a forked child process",))
        if not self._finish_lock.acquire(blocking=False):
            # Re-entered (SIGTERM during finish) or finishing in another thread.
            return self._snapshot(status, ("finish already in progress",))
        try:
            if self._result is not None:
                return self._result
            # From now on log() raises; the sender still holds the real queue.
            self._queue = _FinishedQueue(self._id)
            limit = self._settings.flush_timeout if timeout is None else timeout
            done = self._sender.stop(status, limit)
            self._result = self._report(status, done)
            hooks.unregister(self)
            if self._client is not None:
                self._client.close()
            return self._result
        finally:
            self._finish_lock.release()

    def _snapshot(self, status: str, extra: tuple[str, ...] = ()) -> FinishResult:
        stats = self._sender.stats
        return FinishResult(
            status=status,
            points_logged=self._logged,
            points_sent=stats.sent,
            points_spooled=stats.spooled,
            points_rejected=stats.rejected,
            warnings=tuple(stats.warnings) + extra,
            spool_dir=None,
            points_already_stored=stats.already_stored,
        )

    def _report(self, status: str, thread_done: bool) -> FinishResult:
        notes: list[str] = []
        stats = self._sender.stats
        spooled = self._sender.points_in_spool()
        if not thread_done:
            notes.append("the background sender did not stop in time")
        missing = self._logged - stats.sent - spooled - stats.rejected
        if missing > 0:
            notes.append(f"{missing} point(s) are unaccounted for")
        if stats.rejected:
            notes.append(f"{stats.rejected} value(s) were not numbers and were not sent")
        spool_dir = str(self._spool.path) if self._spool.has_run() else None
        if spool_dir and self.mode == "offline":
            notes.append(f"offline run kept in {spool_dir}: run `seedboard sync` to upload it")
        elif spool_dir:
            unsent = len(self._sender.definitions)
            definitions = f", {unsent} metric definition(s)" if unsent else ""
            notes.append(
                f"{spooled} point(s){definitions} and the run's final state were kept in "
                f"{spool_dir}: run `seedboard sync` to upload them"
            )
        for note in notes:
            warnings.warn(f"seedboard: {note}", RuntimeWarning, stacklevel=3)
        return FinishResult(
            status=status,
            points_logged=self._logged,
            points_sent=stats.sent,
            points_spooled=spooled,
            points_rejected=stats.rejected,
            warnings=tuple(stats.warnings) + tuple(notes),
            spool_dir=spool_dir,
            points_already_stored=stats.already_stored,
        )

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.finish("finished" if exc_type is None else "failed")


class _FinishedQueue(deque[Entry]):
    """Stands in for the queue of a finished run, so log() needs no "finished?" test."""

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id

    def append(self, entry: Entry) -> None:
        raise RuntimeError(f"run {self.run_id} is finished; start a new one with seedboard.init")


def _checked_step(step: Any) -> int:
    if isinstance(step, bool) or not hasattr(type(step), "__index__"):
        raise TypeError(f"step must be an int, got {type(step).__name__}")
    value = int(step.__index__())  # numpy integers
    if not 0 <= value < MAX_STEP:
        raise ValueError(f"step must be in [0, 2**63), got {value}")
    return value


def _bad_key(key: Any) -> None:
    if not isinstance(key, str):
        raise TypeError(f"metric keys must be str, got {type(key).__name__} {key!r}")
    raise ValueError(f"metric keys must have 1 to {MAX_KEY_LENGTH} characters, got {key!r}")


def _check_project(project: str) -> str:
    parts = project.split("/") if isinstance(project, str) else []
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"project must look like 'team/project', got {project!r}")
    return project


def init(
    project: str,
    *,
    model: str,
    config: Mapping[str, Any] | None = None,
    seed: int | None = None,
    task: str | None = None,
    tags: Sequence[str] | None = None,
    name: str | None = None,
    notes: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    url: str | None = None,
    token: str | None = None,
    mode: str | None = None,
    dir: str | os.PathLike[str] | None = None,
    id: str | None = None,
    resume: str | None = None,
    flush_timeout: float | None = None,
) -> Run:
    """Start a run and return it (use it as a context manager).

    Args:
        project: ``"team/project"``; created on first use if you belong to the team.
        model: the model family, e.g. ``"resnet18"`` (required).
        config, seed, task, tags, name, notes: stored on the run; `config` must be
            JSON-like (nested dicts, lists, numbers, strings). Runs of one project with the
            same model and config (minus seed) are grouped as seeds of one variant.
        metadata: merged over the captured metadata (git, host, Python, packages, argv).
        url, token, mode, dir, flush_timeout: override ``SEEDBOARD_URL``, ``SEEDBOARD_TOKEN``,
            ``SEEDBOARD_MODE`` (``online``/``offline``), ``SEEDBOARD_DIR`` and
            ``SEEDBOARD_FLUSH_TIMEOUT``.
        id: the run's id, a UUID (default: ``SEEDBOARD_RUN_ID``, else a new UUID4). Reusing
            an id without `resume` continues that run as a retry would (points are appended).
        resume: continue a run after its process was preempted or crashed (default:
            ``SEEDBOARD_RESUME``): ``"must"`` (the run `id` has to exist), ``"allow"`` (resume
            it, or create it with that id), ``"never"`` (the id has to be new). A resumed run
            is running again, `Run.next_step` is one past its last stored step, and points
            logged again at steps it had stored are not stored twice (a warning counts them).
            Model, seed and config have to be the stored run's.

    Any optional argument may be given as None, meaning "not given".

    Raises:
        ConfigurationError: online mode without a URL or token.
        AuthenticationError, NotFoundError, BadRequestError, ConflictError: the server
            refused the run (bad token, another team's project, invalid config, id taken).
        ValueError, TypeError: bad arguments.

    When the server cannot be reached, init warns and carries on: the run is created
    as soon as it answers, and the points wait in memory or in the spool meanwhile.
    """
    _check_project(project)
    task, name, notes = task or "", name or "", notes or ""
    tags = () if tags is None else tags
    id = id if id is not None else _env("SEEDBOARD_RUN_ID")
    resume = resume if resume is not None else _env("SEEDBOARD_RESUME")
    if resume is not None and resume not in RESUME_MODES:
        raise ValueError(f"resume must be one of {RESUME_MODES}, got {resume!r}")
    if resume == "must" and id is None:
        raise ValueError("resume='must' needs the run's id (id= or SEEDBOARD_RUN_ID)")
    for label, text, limit in (("model", model, 200), ("task", task, 200), ("name", name, 250)):
        if not isinstance(text, str) or len(text) > limit:
            raise ValueError(f"{label} must be a str of at most {limit} characters")
    if not model:
        raise ValueError("model must name the model family, e.g. model='resnet18'")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"seed must be an int or None, got {seed!r}")
    if isinstance(tags, str) or not all(isinstance(t, str) for t in tags):
        raise TypeError("tags must be a list of str")
    settings = resolve_settings(
        url=url, token=token, mode=mode, dir=dir, flush_timeout=flush_timeout
    )
    run_id = str(uuid.UUID(id)) if id is not None else str(uuid.uuid4())
    meta = collect_metadata()
    meta.update(jsonable(dict(metadata or {}), "metadata"))
    create: dict[str, Any] = {
        "project": project,
        "id": run_id,
        "name": name,
        "model": model,
        "config": jsonable(dict(config or {}), "config"),
        "seed": seed,
        "task": task,
        "tags": list(tags),
        "notes": notes,
        "metadata": meta,
        "status": "running",
    }
    client: Client | None = None
    created = False
    record: Any = None
    if settings.mode == "online":
        server_url, server_token = settings.server()
        client = Client(server_url, server_token)
        created, record = _create(client, create, resume=resume, reused_id=id is not None)
    run = Run(
        run_id=run_id,
        project=project,
        create=create,
        settings=settings,
        client=client,
        created=created,
        resume=resume,
        record=record if isinstance(record, dict) else None,
    )
    run._sender.start()
    hooks.register(run)
    return run


def _create(
    client: Client, create: dict[str, Any], *, resume: str | None, reused_id: bool
) -> tuple[bool, Any]:
    """POST the run (or resume it); (created, the server's record), or (False, None) with a
    warning when the server is unreachable for now."""
    deadline = time.monotonic() + INIT_BUDGET
    try:
        if resume is not None:
            body = resume_body(create, resume)
            record = client.post(f"runs/{create['id']}/resume/", json=body, deadline=deadline)
        else:
            record = client.post("runs/", json=create, deadline=deadline)
        stopped = isinstance(record, dict) and record.get("status") != "running"
        if resume is None and reused_id and stopped:
            client.patch(f"runs/{create['id']}/", json={"status": "running"}, deadline=deadline)
    except (TransportError, ServerError, RateLimitError) as exc:
        warnings.warn(
            f"seedboard: cannot create the run now ({exc}); it will be created "
            "when the server answers, and points are kept meanwhile",
            RuntimeWarning,
            stacklevel=3,
        )
        return False, None
    except BaseException:
        client.close()
        raise
    return True, record


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None
