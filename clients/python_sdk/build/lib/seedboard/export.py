"""Downloads of the export endpoints: every point of a project, a run selection or a
comparison, as the CSV or Parquet file the server streams (see `Api.export`).

The file is written to a temporary name beside the target and renamed once complete, so an
interrupted download never leaves a partial file under the name asked for.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .client import Client
from .progress import Progress, rate

if TYPE_CHECKING:  # pandas and pyarrow are optional extras
    import pandas

__all__ = ["FORMATS", "ExportResult", "export_download", "export_frame"]

FORMATS = ("csv", "parquet")


@dataclass(frozen=True)
class ExportResult:
    """A finished export: the file, its format, what it holds and how long it took."""

    path: str
    format: str
    runs: int
    points: int
    bytes: int
    seconds: float

    def summary(self) -> str:
        """One line: points, runs, file, size, time and rate."""
        return (
            f"exported {self.points:,} point(s) of {self.runs} run(s) to {self.path} "
            f"({self.bytes / 1e6:,.1f} MB {self.format}) in {self.seconds:.1f} s "
            f"({rate(self.points, self.seconds)})"
        )


def check_format(format: str) -> str:
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    return format


def export_download(
    client: Client,
    endpoint: str,
    params: list[tuple[str, Any]],
    path: str | os.PathLike[str],
    *,
    format: str,
    progress: Progress | None = None,
) -> ExportResult:
    """Stream `endpoint`'s file into `path` (see the module docstring)."""
    check_format(format)
    target = Path(path)
    started = time.monotonic()
    progress = progress or Progress(enabled=False)
    # CSV rows are counted as they arrive (one line a point: no field holds a raw newline
    # but a run name could, so the count is only for the bar); Parquet is shown in bytes.
    counting_rows = format == "csv"
    written = 0
    header_seen = False
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:

            def write(chunk: bytes) -> None:
                nonlocal written, header_seen
                handle.write(chunk)
                written += len(chunk)
                if counting_rows:
                    lines = chunk.count(b"\n")
                    if not header_seen and lines:
                        header_seen, lines = True, lines - 1
                    progress.points(lines)
                else:
                    progress.points(len(chunk))

            def start(headers: dict[str, str]) -> None:
                if counting_rows:
                    progress.points_total(int(headers.get("x-seedboard-points") or 0) or None)

            headers = client.download(
                endpoint, params=_with_format(params, format), write=write, start=start
            )
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return ExportResult(
        path=str(target),
        format=format,
        runs=int(headers.get("x-seedboard-runs") or 0),
        points=int(headers.get("x-seedboard-points") or 0),
        bytes=written,
        seconds=time.monotonic() - started,
    )


def _with_format(params: list[tuple[str, Any]], format: str) -> list[tuple[str, Any]]:
    return [*(params or []), ("format", format)]


def export_frame(client: Client, endpoint: str, params: list[tuple[str, Any]]) -> pandas.DataFrame:
    """The export as a DataFrame, through Parquet in memory (exact values, typed columns)."""
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "export_frame() needs pyarrow: pip install 'seedboard[parquet]'"
        ) from None
    buffer = io.BytesIO()

    def write(chunk: bytes) -> None:
        buffer.write(chunk)

    client.download(endpoint, params=_with_format(params, "parquet"), write=write)
    buffer.seek(0)
    frame: pandas.DataFrame = pq.read_table(buffer).to_pandas()
    return frame
