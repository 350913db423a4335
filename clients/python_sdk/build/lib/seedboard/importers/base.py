"""What every importer shares: the mapping of a source run to a Seedboard run, and its upload.

A source (TensorBoard, MLflow, W&B) lists its runs as `RunReader` objects; `import_runs`
reads each one (`RunReader.read` -> `SourceRun`) and uploads it:

- identity: the run's id is a UUID derived from the project, the source kind and the run's
  id in the source (`run_uuid`), so a second import finds the run it made the first time;
- create (``POST /runs/``, idempotent by id) or, when the run exists already, read how many
  points of each key the server holds and skip that many of the key's points: batches are
  all-or-nothing and sent in the source's order, so what an earlier, complete or interrupted,
  import stored is a prefix of each key's points, and only what follows it is sent;
- points in batches of `MAX_BATCH_POINTS`, each with a ``batch_id`` derived from the run, the
  batch's position and its content, so a batch retried after a lost answer, or sent again by
  two imports racing, is stored once (the server claims each ``batch_id`` once per run);
- finally the run's status (and summary values the source has that no series carries).

Mapping, the same for every source: the config is nested (``optimizer.lr`` becomes
``{"optimizer": {"lr": ...}}``); the seed is the config value named by `seed_param` (default
``seed``, then ``random_seed``), taken out of the config; the model is `model`, else the
config's `model_param` value (default ``model``, also taken out), else the source's own
model label, else the source kind.
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from ..batch import MAX_BATCH_POINTS
from ..client import Client
from ..encoding import dumps, encode_float, jsonable
from ..errors import NotFoundError, SeedboardError, TransportError
from ..progress import Progress, rate

__all__ = [
    "DEFAULT_SEED_PARAMS",
    "ImportOptions",
    "ImportReport",
    "RunReader",
    "Series",
    "SourceRun",
    "config_nest",
    "import_runs",
    "parse_param",
    "run_uuid",
]

# Namespace of the run ids importers derive (uuid5), fixed forever: changing it would make a
# second import create every run again.
IMPORT_NAMESPACE = uuid.UUID("5b0c7a1e-4f8e-5d7a-9a53-3c1f2e6d8b90")
DEFAULT_SEED_PARAMS = ("seed", "random_seed")
MAX_STEP = 2**63  # exclusive, as on the server
STATUSES = ("running", "finished", "failed", "crashed")


@dataclass(frozen=True)
class Series:
    """The points of one key, in the source's order."""

    key: str
    steps: Sequence[Any]
    values: Sequence[Any]
    times: Sequence[Any]


@dataclass
class SourceRun:
    """One run as a source describes it, before the mapping of `ImportOptions`."""

    source_id: str  # stable id within the source (a run id, a folder and its files...)
    name: str
    config: dict[str, Any]
    series: Iterable[Series]
    status: str = "finished"
    model: str | None = None  # the source's own model label, if it has one
    tags: list[str] = field(default_factory=list)
    notes: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)  # numbers no series carries
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> values not imported


class RunReader(Protocol):
    """A run of a source, listed cheaply and read when its turn comes."""

    label: str

    def read(self) -> SourceRun: ...


@dataclass(frozen=True)
class ImportOptions:
    """Where the runs go and how their fields map (see the module docstring)."""

    project: str
    model: str | None = None
    model_param: str = "model"
    seed_param: str | None = None
    task: str = ""
    tags: Sequence[str] = ()


@dataclass
class ImportReport:
    """What an import did. `ok` is False when a run could not be imported."""

    source: str
    runs: int = 0
    runs_created: int = 0
    runs_existing: int = 0
    points_read: int = 0
    points_stored: int = 0
    points_present: int = 0  # on the server already (a second import), not sent again
    batches_duplicate: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every run was imported."""
        return not self.errors

    @property
    def values_skipped(self) -> int:
        """Values of the source that are not points (text, images, bad steps)."""
        return sum(self.skipped.values())

    def summary(self) -> str:
        """One line: runs, points stored and already there, values skipped, time and rate."""
        line = (
            f"imported {self.runs} {self.source} run(s) ({self.runs_created} new, "
            f"{self.runs_existing} already there): {self.points_stored:,} point(s) stored, "
            f"{self.points_present:,} already stored, {self.values_skipped:,} value(s) skipped, "
            f"in {self.seconds:.1f} s ({rate(self.points_read, self.seconds)} read)"
        )
        if self.errors:
            line += f"; {len(self.errors)} run(s) failed"
        return line

    def details(self) -> list[str]:
        """What was skipped, by reason, and each error: lines to show after the summary."""
        lines = [f"skipped: {count:,} {reason}" for reason, count in sorted(self.skipped.items())]
        return lines + [f"error: {error}" for error in self.errors]

    def _skip(self, reasons: Mapping[str, int]) -> None:
        for reason, count in reasons.items():
            if count:
                self.skipped[reason] = self.skipped.get(reason, 0) + count


def run_uuid(project: str, source: str, source_id: str) -> str:
    """The id of the Seedboard run imported from `source_id` of `source` into `project`."""
    return str(uuid.uuid5(IMPORT_NAMESPACE, f"{project}\n{source}\n{source_id}"))


def parse_param(text: str) -> Any:
    """A parameter stored as text (MLflow, CSV headers) as the value it most likely was:
    integers, floats (``nan``, ``inf`` too) and booleans (``True``, ``false``) are parsed,
    anything else stays text."""
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(stripped)
    except ValueError:
        pass
    try:
        number = float(stripped)
    except ValueError:
        return text
    # "nan", "inf" and "1e5" parse; keep non-finite values in their JSON-safe spelling.
    return encode_float(number) if not math.isfinite(number) else number


def config_nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted names as nested dicts: ``{"optimizer.lr": 0.1}`` -> ``{"optimizer": {"lr": 0.1}}``.

    A name that is both a value and a prefix of another (``a`` and ``a.b``) stays flat for
    the longer one, so no value is lost.
    """
    nested: dict[str, Any] = {}
    for name in sorted(flat, key=lambda n: n.count(".")):  # "a" before "a.b"
        parts = name.split(".")
        node = nested
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):  # "a" holds a value: "a.b" stays flat
                node, parts = nested, [name]
                break
            node = child
        node[parts[-1]] = flat[name]
    return nested


def _take(config: dict[str, Any], dotted: str, convert: Callable[[Any], Any]) -> Any:
    """`convert` of the value at a dotted path (or a top-level key with dots), removed from
    the config when `convert` accepts it (not None); None, and the config unchanged, else."""
    node: Any = config
    if dotted in config:
        last = dotted
    else:
        parts = dotted.split(".")
        last = parts[-1]
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict) or last not in node:
        return None
    converted = convert(node[last])
    if converted is not None:
        del node[last]
    return converted


def _model_name(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _as_seed(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else None
    if isinstance(value, float) and value.is_integer():
        return _as_seed(int(value))
    if isinstance(value, str):
        try:
            return _as_seed(int(value.strip()))
        except ValueError:
            return None
    return None


def create_body(run: SourceRun, options: ImportOptions, *, source: str) -> dict[str, Any]:
    """The ``POST /runs/`` body of a source run, mapped by `options` (module docstring)."""
    config = jsonable(dict(run.config), "config")
    seed: int | None = None
    for name in [options.seed_param] if options.seed_param else DEFAULT_SEED_PARAMS:
        seed = _take(config, name, _as_seed)
        if seed is not None:
            break
    model = options.model or _take(config, options.model_param, _model_name) or run.model or source
    tags = list(dict.fromkeys([*run.tags, *options.tags]))
    metadata = {**run.metadata, "imported_from": {"source": source, "id": run.source_id}}
    return {
        "project": options.project,
        "id": run_uuid(options.project, source, run.source_id),
        "name": run.name[:250],
        "model": model[:200],
        "config": config,
        "seed": seed,
        "task": options.task,
        "tags": tags,
        "notes": run.notes,
        "metadata": jsonable(metadata, "metadata"),
        "status": "running",
    }


def _step_ok(step: Any) -> int | None:
    """`step` as an int in the server's range (integral floats and numpy ints too), or None."""
    if isinstance(step, bool):
        return None
    if isinstance(step, float):
        if not step.is_integer():
            return None
        step = int(step)
    elif not isinstance(step, int):
        index = getattr(type(step), "__index__", None)
        if index is None:
            return None
        step = int(index(step))
    return step if 0 <= step < MAX_STEP else None


def _value_ok(value: Any) -> float | str | None:
    if isinstance(value, (str, bytes, bytearray)) or value is None:
        return None
    try:
        return encode_float(float(value))
    except (TypeError, ValueError, OverflowError):
        return None


class _Uploader:
    """Points of one run into batches with derived ids, skipping what the server holds.

    Batches are sent by one thread while the next one is read from the source (reading is
    Python work, sending mostly waiting), one at a time and in order: the server must store
    them as a prefix of the source for a later import to know what to skip. At most two
    batches are held in memory.
    """

    def __init__(
        self, client: Client, run_id: str, present: Mapping[str, int], progress: Progress
    ) -> None:
        self.client = client
        self.run_id = run_id
        self.namespace = uuid.UUID(run_id)
        self.present = dict(present)
        self.progress = progress
        self.position = 0  # points of the run read so far, the batch ids' position
        self.read = self.stored = self.skipped_present = self.duplicates = 0
        self.rejected: dict[str, int] = {}
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seedboard-import")
        self._sending: Future[None] | None = None
        self._reset()

    def _reset(self) -> None:
        self.first = 0  # position of the batch's first point in the run
        self.keys: list[str] = []
        self.steps: list[int] = []
        self.values: list[float | str] = []
        self.times: list[float] = []

    def add(self, series: Series) -> None:
        key = series.key
        if not isinstance(key, str) or not 0 < len(key) <= 250 or "\x00" in key:
            self._reject("values of a key that is not 1-250 characters", len(series.steps))
            return
        skip = self.present.get(key, 0)
        for step, raw, when in zip(series.steps, series.values, series.times):
            checked_step = _step_ok(step)
            if checked_step is None:
                self._reject("values at a step that is not an integer in [0, 2**63)", 1)
                continue
            value = _value_ok(raw)
            if value is None:
                self._reject("values that are not numbers", 1)
                continue
            self.read += 1
            self.position += 1
            if skip:  # stored by an earlier import: a prefix of the key's points
                skip -= 1
                self.skipped_present += 1
                continue
            if not self.keys:
                self.first = self.position - 1
            self.keys.append(key)
            self.steps.append(checked_step)
            self.values.append(value)
            self.times.append(_time_ok(when))
            if len(self.keys) >= MAX_BATCH_POINTS:
                self.flush()
        self.present[key] = skip

    def _reject(self, reason: str, count: int) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + count

    def flush(self) -> None:
        if not self.keys:
            self._reset()
            return
        points = dumps(
            {"key": self.keys, "step": self.steps, "value": self.values, "time": self.times}
        )
        digest = hashlib.sha256(points).hexdigest()
        batch_id = uuid.uuid5(self.namespace, f"{self.first}:{len(self.keys)}:{digest}")
        body = b'{"batch_id":"' + str(batch_id).encode() + b'","points":' + points + b"}"
        self.wait()  # the previous batch first: stored in order, or not at all
        self._sending = self._sender.submit(self._send, body, len(self.keys))
        self._reset()

    def _send(self, body: bytes, count: int) -> None:
        answer = self.client.post(f"runs/{self.run_id}/metrics/", content=body)
        if isinstance(answer, dict):
            self.stored += int(answer.get("stored") or 0)
            self.duplicates += bool(answer.get("duplicate"))
        self.progress.points(count)

    def wait(self) -> None:
        """Until the batch being sent is stored; raises what sending it raised."""
        sending, self._sending = self._sending, None
        if sending is not None:
            sending.result()

    def close(self) -> None:
        """Stop the sending thread (after the batch it sends, if any)."""
        self._sender.shutdown(wait=True)


def _time_ok(when: Any) -> float:
    try:
        value = float(when)
    except (TypeError, ValueError):
        return time.time()
    return value if math.isfinite(value) else time.time()


def _project_run_ids(client: Client, project: str) -> set[str]:
    """Ids of the project's runs (none when the project does not exist yet): one listing for
    the whole import instead of a lookup, mostly answered 404, per run."""
    ids: set[str] = set()
    try:
        page = client.get("runs/", params=[("project", project), ("page_size", 500)])
        while True:
            ids.update(str(run["id"]) for run in page.get("results") or [])
            if not page.get("next"):
                return ids
            page = client.get(page["next"])
    except NotFoundError:
        return ids


def _import_one(
    client: Client,
    reader: RunReader,
    options: ImportOptions,
    source: str,
    progress: Progress,
    known: set[str],
) -> tuple[bool, _Uploader, SourceRun]:
    run = reader.read()
    body = create_body(run, options, source=source)
    run_id = body["id"]
    # Created by an earlier import: read what it holds. (Created since the listing, by an
    # import running at the same time: the POST finds it, and its batches' ids dedupe.)
    existing: dict[str, Any] | None = client.get(f"runs/{run_id}/") if run_id in known else None
    if existing is None:
        client.post("runs/", json=body)
        present: dict[str, int] = {}
    else:
        present = {k: int(s.get("count") or 0) for k, s in (existing.get("metrics") or {}).items()}
    uploader = _Uploader(client, run_id, present, progress)
    try:
        for series in run.series:
            uploader.add(series)
        uploader.flush()
        uploader.wait()
    finally:
        uploader.close()
    final: dict[str, Any] = {}
    status = run.status if run.status in STATUSES else "finished"
    if existing is None or existing.get("status") != status:
        final["status"] = status
    stored_summary = (existing or {}).get("summary") or {}
    summary = {
        k: v for k, v in jsonable(run.summary, "summary").items() if stored_summary.get(k) != v
    }
    if summary:
        final["summary"] = summary
    if final:
        client.patch(f"runs/{run_id}/", json=final)
    return existing is None, uploader, run


def import_runs(
    readers: Sequence[RunReader],
    options: ImportOptions,
    *,
    source: str,
    client: Client,
    progress: Progress | None = None,
) -> ImportReport:
    """Import every run of `readers` into `options.project` (see the module docstring).

    A run that fails (a file that cannot be read, a refused request) is reported in the
    result's ``errors`` and the others go on; once the server is unreachable, the rest are
    reported as not imported rather than each waiting for its retry budget.
    """
    progress = progress or Progress(enabled=False)
    report = ImportReport(source=source)
    progress.runs_total(len(readers))
    try:
        known = _project_run_ids(client, options.project)
    except TransportError as exc:
        report.errors.append(f"no run imported, the server is unreachable: {exc}")
        report.seconds = progress.elapsed()
        return report
    unreachable = False
    for reader in readers:
        progress.run(reader.label)
        report.runs += 1
        if unreachable:
            report.errors.append(f"{reader.label}: not imported, the server was unreachable")
            progress.run_done()
            continue
        try:
            created, uploader, run = _import_one(client, reader, options, source, progress, known)
        except (SeedboardError, OSError, ValueError) as exc:
            unreachable = isinstance(exc, TransportError)
            report.errors.append(f"{reader.label}: {exc}")
        else:
            report.runs_created += created
            report.runs_existing += not created
            report.points_read += uploader.read
            report.points_stored += uploader.stored
            report.points_present += uploader.skipped_present
            report.batches_duplicate += uploader.duplicates
            report._skip(uploader.rejected)
            report._skip(run.skipped)
        progress.run_done()
    report.seconds = progress.elapsed()
    return report
