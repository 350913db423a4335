"""Import and export benchmark: a TensorBoard log of 1,000,000 points in, Parquet and CSV out.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/seedboard .venv/bin/python bench/export.py

Writes a TensorBoard log directory with tensorboard's own event writer (20 runs, each with its
hyperparameters, of 5 scalars x 10,000 steps, one event per step holding the 5 values as TF1's
merged summaries do), starts gunicorn (2 sync workers) on a scratch database and times, from
this process:

- import: `seedboard.importers.import_tensorboard`, reading the event files with TensorBoard's
  loader and uploading every point through the API; then the same import again, which is
  idempotent (it reads the files and the runs' summaries and stores nothing);
- export: `Api.export` to Parquet and to CSV (the server reads the points page by page and
  streams the file, the SDK writes it) and `Api.export_frame` (Parquet into pandas), each
  checked to hold every point; and the web workers' peak resident memory during the exports.

Rates are points per second, end to end.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "clients" / "python_sdk" / "src"))
KEYS = ["train/loss", "train/acc", "val/loss", "val/acc", "lr"]


def write_logdir(root: Path, *, runs: int, steps: int) -> int:
    """A TensorBoard log directory of `runs` runs x len(KEYS) keys x `steps` steps; the points."""
    import numpy as np
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.plugins.hparams import summary_v2 as hparams_summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    rng = np.random.default_rng(0)
    for index in range(runs):
        lr, seed = (0.1, 0.03, 0.01, 0.003)[index % 4], index // 4
        writer = EventFileWriter(str(root / f"lr{lr}-seed{seed}"))
        hparams = hparams_summary.hparams_pb({"lr": lr, "optimizer": "sgd", "seed": seed}, start_time_secs=1.7e9)
        writer.add_event(event_pb2.Event(wall_time=1.7e9, step=0, summary=hparams))
        values = rng.normal(size=(steps, len(KEYS))).tolist()
        for step in range(steps):
            summary = summary_pb2.Summary(
                value=[
                    summary_pb2.Summary.Value(tag=key, simple_value=v)
                    for key, v in zip(KEYS, values[step], strict=True)
                ]
            )
            writer.add_event(event_pb2.Event(wall_time=1.7e9 + step * 0.5, step=step, summary=summary))
        writer.close()
    return runs * steps * len(KEYS)


def count_lines(path: str) -> int:
    with open(path, "rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


class PeakMemory:
    """Peak resident memory of a process's children (the gunicorn workers), sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.parent = psutil.Process(pid)
        self.peak = 0
        self.before = max(child.memory_info().rss for child in self.parent.children())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            for child in self.parent.children():
                with contextlib.suppress(psutil.NoSuchProcess):  # a worker restarting
                    self.peak = max(self.peak, child.memory_info().rss)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    import pyarrow.parquet as pq
    import seedboard
    from harness import bench_server, database_drop, free_port, scratch_database
    from seedboard.importers import import_tensorboard

    database = scratch_database("_export_bench")
    env = {**os.environ, "DATABASE_URL": database, "SEEDBOARD_THROTTLE_ENABLED": "false"}
    env.pop("REDIS_URL", None)  # no worker: statistics are not measured here
    project = "bench/import-export"
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        started = time.perf_counter()
        points = write_logdir(root / "logs", runs=args.runs, steps=args.steps)
        print(f"TensorBoard log: {args.runs} runs, {points:,} points, written in {time.perf_counter() - started:.1f} s")
        try:
            with bench_server(env, port=free_port(), workers=2) as (url, token, server):
                print("\n| operation | points | seconds | points/s | notes |\n|---|---:|---:|---:|---|")

                def row(name: str, count: int, seconds: float, notes: str = "") -> None:
                    print(f"| {name} | {count:,} | {seconds:.2f} | {count / seconds:,.0f} | {notes} |", flush=True)

                for attempt in ("import", "import again"):
                    report = import_tensorboard(root / "logs", project, model="mlp", url=url, token=token)
                    assert report.ok, report.details()
                    row(
                        f"{attempt} (TensorBoard -> API)", report.points_read, report.seconds,
                        f"{report.points_stored:,} stored, {report.points_present:,} already there",
                    )  # fmt: skip
                with seedboard.Api(url=url, token=token, timeout=300) as api, PeakMemory(server.pid) as memory:
                    for fmt in ("parquet", "csv"):
                        result = api.export(project, root / f"out.{fmt}", format=fmt)
                        assert result.points == points, result
                        if fmt == "parquet":
                            assert pq.ParquetFile(result.path).metadata.num_rows == points
                        else:
                            assert count_lines(result.path) == points + 1  # and the header
                        row(f"export {fmt} (API -> file)", points, result.seconds, f"{result.bytes / 1e6:,.1f} MB")
                    started = time.perf_counter()
                    frame = api.export_frame(project)
                    assert len(frame) == points
                    row("export_frame (API -> pandas)", points, time.perf_counter() - started)
                print(
                    f"\nweb workers' peak resident memory during the exports: {memory.peak / 2**20:,.0f} MiB "
                    f"({memory.before / 2**20:,.0f} MiB before)"
                )
        finally:
            if not args.keep:
                database_drop(database)


if __name__ == "__main__":
    main()
