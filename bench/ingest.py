"""Ingestion benchmark: SDK -> REST API -> PostgreSQL, against a raw binary COPY of the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/seedboard .venv/bin/python bench/ingest.py

Creates a scratch database (`<name>_bench`), starts gunicorn with sync workers on it, and
logs a synthetic study through the Python SDK: 100 runs x 5 keys x 2,000 steps = 1,000,000
points, first from 1 client process, then from 8 concurrent ones. A phase ends when every
client's `run.finish()` has returned with every point acknowledged by the server (none
spooled). It prints end-to-end points per second, CPU microseconds per point for the
clients, the web workers and PostgreSQL, and the web server's peak resident memory.

Then it stores the same rows again from this one process through the service layer
(batch-id row, one binary COPY and the summary upsert, one transaction per 10,000 points,
no HTTP): the HTTP path's rate is reported as a ratio of that. Last, it times `run.log()`
in a training loop (the call only enqueues).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
KEYS = ["train/loss", "train/acc", "val/loss", "val/acc", "lr"]


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def postgres_cpu() -> dict[int, float]:
    """CPU seconds of every PostgreSQL process (backends come and go, so keyed by pid)."""
    usage = {}
    for process in psutil.process_iter(["name"]):
        if process.info["name"] in ("postgres", "postmaster"):
            try:
                times = process.cpu_times()
                usage[process.pid] = times.user + times.system
            except psutil.NoSuchProcess:
                pass
    return usage


def postgres_cpu_since(before: dict[int, float]) -> float:
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in postgres_cpu().items())


def client_main(url: str, token: str, runs: list[int], steps: int, out: mp.Queue) -> None:
    """One client process: log its runs one after another, as a training script would."""
    import seedboard

    started = time.process_time()
    sent = spooled = 0
    for index in runs:
        with seedboard.init(
            project="bench/ingest",
            model=f"model{index % 10}",
            config={"lr": 0.1 * (index % 3 + 1)},
            seed=index,
            url=url,
            token=token,
            dir=os.environ["BENCH_SDK_DIR"],
        ) as run:
            for step in range(steps):
                run.log({"train/loss": 1.0 / (step + 1), "train/acc": step / steps, "val/loss": 0.5,
                         "val/acc": 0.9, "lr": 0.1}, step=step)  # fmt: skip
        result = run.finish()
        sent += result.points_sent
        spooled += result.points_spooled
    out.put({"cpu": time.process_time() - started, "sent": sent, "spooled": spooled})


def log_overhead(steps: int = 200_000, chunk: int = 1_000) -> tuple[float, float]:
    """run.log() with two keys in a tight loop, offline so no network is involved.

    Returns microseconds per call as (median over 1,000-call chunks, overall mean). The mean
    includes the moments the background thread holds the interpreter lock to convert and
    write the points; a real training step (GPU kernels, data loading) hides most of that.
    """
    import statistics

    import seedboard

    with seedboard.init(project="bench/overhead", model="m", mode="offline", dir=os.environ["BENCH_SDK_DIR"]) as run:
        chunks = []
        started = time.perf_counter()
        for lo in range(0, steps, chunk):
            t0 = time.perf_counter()
            for step in range(lo, lo + chunk):
                run.log({"train/loss": 0.5, "val/acc": 0.9}, step=step)
            chunks.append((time.perf_counter() - t0) / chunk * 1e6)
        mean = (time.perf_counter() - started) / steps * 1e6
    return statistics.median(chunks), mean


class PeakMemory(threading.Thread):
    """Samples the summed RSS of a process tree (the gunicorn master and its workers)."""

    def __init__(self, root: psutil.Process) -> None:
        super().__init__(daemon=True)
        self.root, self.peak, self.stopped = root, 0, threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.05):
            try:
                tree = [self.root, *self.root.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in tree))
            except psutil.NoSuchProcess:
                pass


def run_phase(url: str, token: str, server: psutil.Process, clients: int, n_runs: int, steps: int) -> dict[str, float]:
    queue: mp.Queue = mp.get_context("spawn").Queue()
    shares = [list(range(i, n_runs, clients)) for i in range(clients)]
    web = [server, *server.children(recursive=True)]
    web_cpu, pg_before = cpu_seconds(web), postgres_cpu()
    memory = PeakMemory(server)
    memory.start()
    started = time.perf_counter()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=client_main, args=(url, token, share, steps, queue)) for share in shares]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join()
    memory.stopped.set()
    points = sum(r["sent"] for r in results)
    assert sum(r["spooled"] for r in results) == 0, "points were spooled: the server did not keep up"
    assert points == n_runs * steps * len(KEYS), f"acknowledged {points} points"
    return {
        "points": points,
        "seconds": elapsed,
        "rate": points / elapsed,
        "client_us": sum(r["cpu"] for r in results) / points * 1e6,
        "web_us": (cpu_seconds(web) - web_cpu) / points * 1e6,
        "pg_us": postgres_cpu_since(pg_before) / points * 1e6,
        "peak_mb": memory.peak / 2**20,
    }


def raw_copy_rate(n_runs: int, steps: int) -> float:
    """Points/s of the service layer alone: batch row + binary COPY + summary upsert per 10,000 points."""
    import django

    django.setup()
    import numpy as np

    from server.accounts.services import team_get_or_create
    from server.tracking import ingestion, services
    from server.tracking.batches import MetricBatch

    team = team_get_or_create(slug="bench")
    project = services.project_get_or_create(team=team, slug="raw")
    batches = []
    for index in range(n_runs):
        run, _ = services.run_create(project=project, model=f"model{index % 10}", config={}, seed=index)
        per_batch = 2_000  # 2,000 steps x 5 keys = 10,000 points, the SDK's batch size for this study
        for lo in range(0, steps, per_batch):
            step_col = np.repeat(np.arange(lo, min(lo + per_batch, steps), dtype=np.int64), len(KEYS))
            codes = np.tile(np.arange(len(KEYS), dtype=np.int32), len(step_col) // len(KEYS))
            values = np.full(len(step_col), 0.5)
            times = np.full(len(step_col), time.time())
            batches.append((run, MetricBatch(uuid.uuid4(), KEYS, codes, step_col, values, times)))
    started = time.perf_counter()
    for run, batch in batches:
        ingestion.metrics_ingest(run_pk=run.pk, batch=batch)
    return sum(len(b) for _, b in batches) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--steps", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=4 * (os.cpu_count() or 1), help="gunicorn sync workers")
    parser.add_argument("--port", type=int, default=8799)
    args = parser.parse_args()
    from harness import bench_server, scratch_database

    db_url = scratch_database()
    sdk_dir = REPO / "var" / "bench-sdk"
    env = {**os.environ, "DATABASE_URL": db_url, "SEEDBOARD_THROTTLE_ENABLED": "false", "REDIS_URL": "",
           "DJANGO_SETTINGS_MODULE": "server.settings", "BENCH_SDK_DIR": str(sdk_dir),
           "PYTHONPATH": str(REPO)}  # fmt: skip
    os.environ.update(env)
    with bench_server(env, port=args.port, workers=args.workers) as (url, token, server):
        total = args.runs * args.steps * len(KEYS)
        print(f"study: {args.runs} runs x {len(KEYS)} keys x {args.steps} steps = {total:,} points; "
              f"gunicorn {args.workers} sync workers; {os.cpu_count()} cores")  # fmt: skip
        phases = {}
        # The study as specified, then the same number of points as 8 long runs (one per
        # client): the difference is the per-run cost (create, final update, three commits).
        long_steps = args.runs * args.steps // 8
        for label, clients, n_runs, steps in [
            ("study, 1 client  ", 1, args.runs, args.steps),
            ("study, 8 clients ", 8, args.runs, args.steps),
            (f"8 runs x {long_steps:,} steps, 8 clients", 8, 8, long_steps),
        ]:
            p = run_phase(url, token, psutil.Process(server.pid), clients, n_runs, steps)
            phases[label.strip()] = p
            print(
                f"{label}: {p['rate']:>9,.0f} points/s end to end ({p['seconds']:.2f} s); CPU per point: "
                f"client {p['client_us']:.2f} us, web {p['web_us']:.2f} us, PostgreSQL {p['pg_us']:.2f} us; "
                f"web peak memory {p['peak_mb']:.0f} MB"
            )
    raw = raw_copy_rate(args.runs, args.steps)
    print(f"raw binary COPY through the service layer, 1 process: {raw:,.0f} points/s")
    for label, p in phases.items():
        print(f"HTTP path / raw COPY ({label}): {p['rate'] / raw:.2f}x")
    median, mean = log_overhead()
    print(f"run.log() with 2 keys in a tight loop: {median:.2f} us per call (median), {mean:.2f} us (mean)")


if __name__ == "__main__":
    main()
