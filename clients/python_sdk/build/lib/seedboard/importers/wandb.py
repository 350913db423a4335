"""Import Weights & Biases runs: ``seedboard import wandb PATH``.

PATH is one of:

- a W&B run folder (``wandb/offline-run-*`` or ``wandb/run-*``), a ``.wandb`` file, or any
  folder above them (``wandb/``, a project folder): every ``.wandb`` file under it is a run,
  record by record (the file's framing is read here, as recent ``wandb`` releases read it
  only in their Go core; each record is decoded by ``wandb``'s own protobuf classes).
  Config -> config (nested as logged), history -> points (``_step`` as the step,
  ``_timestamp`` as the time; keys starting with ``_`` are W&B's own), summary numbers no
  history key carries -> summary, display name, tags and notes as they are, exit code 0
  -> finished, another -> failed, no exit record (killed) -> crashed. The run's identity is
  its W&B project and run id. Needs ``pip install "seedboard[wandb]"``.
- a history export, CSV or Parquet (``.parquet`` needs ``seedboard[parquet]``), in one of
  W&B's two shapes: a run's history (``run.history()`` or the history export: a ``_step``
  column and a column per key; one run, named after the file), or a chart's CSV export (a
  ``Step`` column and ``<run name> - <key>`` columns, ``__MIN``/``__MAX`` columns ignored;
  one run per run name). Exports hold no config, so runs get none (and no seed). An empty
  cell is "not logged at this step"; ``NaN`` and ``inf`` are values. The run's identity is
  the file's name and the run's name.

Values that are not numbers (media, tables, text) are counted as skipped.
"""

from __future__ import annotations

import csv
import json
import os
import re
import struct
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .base import RunReader, Series, SourceRun

__all__ = ["wandb_runs"]

SOURCE = "wandb"
EXPORT_SUFFIXES = (".csv", ".parquet")
NOT_NUMBERS = "W&B values that are not numbers (media, tables, text)"
_CHART_COLUMN = re.compile(r"^(?P<run>.+) - (?P<key>.+?)$")


def _records_module() -> Any:
    try:
        from wandb.proto import wandb_internal_pb2
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "importing W&B run folders needs wandb: pip install 'seedboard[wandb]'"
        ) from None
    return wandb_internal_pb2


# The .wandb file: a 7-byte header (":W&B", magic 0xBEE1, version 0), then LevelDB's log
# format: 32 KiB blocks of records, each a 7-byte header (CRC-32 of the type byte and the data,
# length, type) and its data; a record that does not fit a block is split into FIRST, MIDDLE
# and LAST fragments, and a block's tail shorter than a header is zero padding. Newer wandb
# releases read it in their Go core only, so it is read here; the records themselves are
# decoded by wandb's own protobuf classes.
_HEADER = struct.Struct("<4sHB")
_RECORD = struct.Struct("<IHB")
_BLOCK = 32768
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4
_TYPE_CRC = {kind: zlib.crc32(bytes([kind])) for kind in (_FULL, _FIRST, _MIDDLE, _LAST)}


def _log_records(path: Path) -> Iterator[bytes]:
    """The records of a .wandb file, whole; a torn record at the end (a run still being
    written, or killed mid-write) ends the scan, a damaged one elsewhere is an error."""
    data = path.read_bytes()
    if len(data) < _HEADER.size or _HEADER.unpack_from(data)[:2] != (b":W&B", 0xBEE1):
        raise ValueError(f"{path}: not a W&B run file (no :W&B header)")
    offset, parts = _HEADER.size, []
    while offset + _RECORD.size <= len(data):
        left = _BLOCK - offset % _BLOCK
        if left < _RECORD.size:  # padding at the end of a block
            offset += left
            continue
        checksum, length, kind = _RECORD.unpack_from(data, offset)
        start, offset = offset + _RECORD.size, offset + _RECORD.size + length
        chunk = data[start:offset]
        if kind == 0 and length == 0:  # zeros: preallocated, never written
            return
        if len(chunk) < length or kind not in _TYPE_CRC:
            return  # torn at the end
        if zlib.crc32(chunk, _TYPE_CRC[kind]) != checksum:
            if offset >= len(data):
                return
            raise ValueError(f"{path}: damaged record at byte {start - _RECORD.size}")
        if kind == _FULL:
            yield chunk
        elif kind == _FIRST:
            parts = [chunk]
        elif kind == _MIDDLE:
            parts.append(chunk)
        else:
            yield b"".join([*parts, chunk])
            parts = []


def _item_key(item: Any) -> str:
    return ".".join(item.nested_key) if len(item.nested_key) else str(item.key)


def _json(text: str) -> Any:
    try:
        return json.loads(text)  # W&B writes NaN and Infinity bare, which json reads
    except ValueError:
        return text


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


class _Collector:
    """A run's history, key by key, in the order W&B logged it."""

    def __init__(self) -> None:
        self.series: dict[str, tuple[list[Any], list[Any], list[Any]]] = {}
        self.not_numbers = 0

    def add(self, key: str, step: Any, value: Any, when: Any) -> None:
        number = _number(value)
        if number is None:
            self.not_numbers += 1
            return
        steps, values, times = self.series.setdefault(key, ([], [], []))
        steps.append(step)
        values.append(number)
        times.append(when)

    def to_series(self) -> list[Series]:
        return [Series(key, *columns) for key, columns in self.series.items()]


class _OfflineRun:
    def __init__(self, path: Path, root: Path) -> None:
        self.path = path
        self.label = path.parent.name if path.parent != root.parent else path.stem
        self.source_id = ""  # known once read: the W&B project and run id

    def _records(self) -> Iterator[Any]:
        pb = _records_module()
        for data in _log_records(self.path):
            record = pb.Record()
            record.ParseFromString(data)
            yield record

    def read(self) -> SourceRun:
        config: dict[str, Any] = {}
        summary: dict[str, Any] = {}
        history = _Collector()
        run_id = project = name = notes = ""
        tags: list[str] = []
        exit_code: int | None = None
        for record in self._records():
            kind = record.WhichOneof("record_type")
            if kind == "run":
                run = record.run
                run_id, project = run.run_id, run.project
                name, notes, tags = run.display_name, run.notes, list(run.tags)
                _config_update(config, run.config)
            elif kind == "config":
                _config_update(config, record.config)
            elif kind == "history":
                values = {_item_key(item): _json(item.value_json) for item in record.history.item}
                step = values.get("_step", record.history.step.num)
                when = values.get("_timestamp")
                for key, value in values.items():
                    if not key.startswith("_"):
                        history.add(key, step, value, when)
            elif kind == "summary":
                for item in record.summary.update:
                    summary[_item_key(item)] = _json(item.value_json)
                for item in record.summary.remove:
                    summary.pop(_item_key(item), None)
            elif kind == "exit":
                exit_code = record.exit.exit_code
        if not run_id:
            raise ValueError(f"{self.path}: no run record (not a W&B run file?)")
        self.source_id = f"{project}/{run_id}"
        status = "crashed" if exit_code is None else "finished" if exit_code == 0 else "failed"
        return SourceRun(
            source_id=self.source_id,
            name=name or run_id,
            config=config,
            series=history.to_series(),
            status=status,
            tags=[tag[:200] for tag in tags],
            notes=notes,
            metadata={"wandb": {"run_id": run_id, "project": project, "file": self.path.name}},
            summary={
                key: value
                for key, value in summary.items()
                if not key.startswith("_")
                and key not in history.series
                and _number(value) is not None
            },
            skipped={NOT_NUMBERS: history.not_numbers},
        )


def _config_update(config: dict[str, Any], record: Any) -> None:
    for item in record.update:
        path = list(item.nested_key) or [item.key]
        if path[0].startswith("_wandb"):
            continue  # W&B's own bookkeeping
        value = _json(item.value_json)
        # Online runs store {"value": x, "desc": ...}; offline records hold the value itself.
        if isinstance(value, Mapping) and set(value) <= {"value", "desc"} and "value" in value:
            value = value["value"]
        node = config
        for part in path[:-1]:
            child = node.get(part)
            node = node.setdefault(part, {}) if not isinstance(child, dict) else child
        node[path[-1]] = value
    for item in record.remove:
        path = list(item.nested_key) or [item.key]
        node = config
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None  # type: ignore[assignment]
        if isinstance(node, dict):
            node.pop(path[-1], None)


# ----------------------------------------------------------------------------- exports


def _cell(value: str) -> Any:
    """A CSV cell as a number, None when empty (not logged), the text itself otherwise."""
    text = value.strip()
    if not text:
        return None
    try:
        return float(text)  # also "nan", "inf", "-Infinity"
    except ValueError:
        return text


def _table(path: Path) -> tuple[list[str], Iterator[list[Any]]]:
    """The columns and rows of a CSV or Parquet export."""
    if path.suffix.lower() == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError(
                "importing Parquet exports needs pyarrow: pip install 'seedboard[parquet]'"
            ) from None
        table = pq.read_table(path)

        def parquet_rows() -> Iterator[list[Any]]:
            for batch in table.to_batches():
                for row in zip(*(column.to_pylist() for column in batch.columns)):
                    yield list(row)

        return list(table.column_names), parquet_rows()

    def csv_rows() -> Iterator[list[Any]]:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            for row in reader:
                yield [_cell(cell) for cell in row]

    with open(path, newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), [])
    return header, csv_rows()


class _ExportRun:
    def __init__(self, path: Path, name: str, series: list[Series], skipped: int) -> None:
        self.label = name
        self.source_id = f"{path.name}:{name}"
        self._run = SourceRun(
            source_id=self.source_id,
            name=name,
            config={},
            series=series,
            metadata={"wandb": {"export": path.name}},
            skipped={NOT_NUMBERS: skipped},
        )

    def read(self) -> SourceRun:
        return self._run


def _export_runs(path: Path) -> list[RunReader]:
    columns, rows = _table(path)
    index = {name: i for i, name in enumerate(columns)}
    if "_step" in index:  # a run's history: one run
        targets = {
            i: (path.stem, name) for i, name in enumerate(columns) if not name.startswith("_")
        }
        step_at, time_at = index["_step"], index.get("_timestamp")
    elif "Step" in index:  # a chart's export: "<run> - <key>" columns
        targets = {}
        for i, name in enumerate(columns):
            match = _CHART_COLUMN.match(name)
            if match and not name.endswith(("__MIN", "__MAX")):
                targets[i] = (match["run"], match["key"])
        step_at, time_at = index["Step"], None
    else:
        raise ValueError(f"{path}: no _step or Step column: not a W&B history export")
    runs: dict[str, _Collector] = {}
    for row in rows:
        step = row[step_at] if step_at < len(row) else None
        if step is None:
            continue
        when = row[time_at] if time_at is not None and time_at < len(row) else None
        for i, (run, key) in targets.items():
            value = row[i] if i < len(row) else None
            if value is None:
                continue  # not logged at this step: an empty cell, a Parquet null
            runs.setdefault(run, _Collector()).add(key, step, value, when)
    return [
        _ExportRun(path, name, collector.to_series(), collector.not_numbers)
        for name, collector in runs.items()
    ]


def wandb_runs(path: str | os.PathLike[str]) -> list[RunReader]:
    """The runs under a W&B folder, in a ``.wandb`` file, or in a CSV/Parquet export."""
    root = Path(path)
    if root.is_file() and root.suffix.lower() in EXPORT_SUFFIXES:
        return _export_runs(root)
    if root.is_file():
        _records_module()
        return [_OfflineRun(root, root)]
    if not root.is_dir():
        raise FileNotFoundError(f"{path}: no such file or folder")
    files = sorted(root.rglob("*.wandb"))
    if not files:
        raise ValueError(f"{path}: no .wandb run file under it (a W&B run folder or export?)")
    _records_module()  # fail early, before any run is created, when the package is missing
    return [_OfflineRun(file, root) for file in files]
