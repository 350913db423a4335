"""Load benchmark: SDK clients logging runs while readers browse, against gunicorn, PostgreSQL and Celery.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/seedboard REDIS_URL=redis://127.0.0.1:6379/13 \\
        .venv/bin/python bench/load.py [--duration 60] [--writers 50] [--readers 20] [--keep]

Creates a scratch database (`<name>_load_bench`), flushes the Redis database REDIS_URL names
(the broker), and starts gunicorn (gunicorn.conf.py: 4 sync workers per core) and one Celery
worker, all on this machine. A short seed study is logged first, a saved comparison of the
project is made and computed, and a benchmark with the project's variants is made when the
server has benchmarks (`/api/v1/benchmarks/`; otherwise the leaderboard is reported as skipped).

Then, for `--duration` seconds:
- Writers: `--writers` concurrent SDK runs, as 5 threads per process (a training script with a
  few jobs at a time; each run has its own sender thread, as in one process per run). Each
  thread repeatedly runs `with seedboard.init(...) as run:` for a model, config, seed and task
  drawn from 4 models x 3 learning rates x 2 tasks (24 variants whose seeds accumulate, so the
  worker recomputes their statistics while readers read), logging `train/loss` and `lr` every
  step and `val/loss`, `val/acc` every 50 steps, 500-2,000 steps at `--step-ms` a step (200
  steps/s by default: a fast training loop). Runs still going at the end stop logging there.
- Readers: `--readers` concurrent threads (5 per process), each with a bearer token and a web
  session signed in once through the login form, cycling through the request kinds: the saved
  comparison's results, the variants' statistics of a task, the run list with `val/acc`, one
  run's history of two keys (as `Api.history`), the history of `val/acc` for 5 runs, the project
  page, a run page and, when present, the benchmark's leaderboard, with a pause of about
  `--think-ms` between two requests (1 s: people browsing and pages polling; with 0 the readers
  saturate the machine and their latency measures its capacity instead).

It prints throughput (points and runs written per second, requests per second per reader kind),
latency per reader kind (p50/p95/p99/max, client side), the writers' requests by kind as the
server timed them (its access log), errors, and whether every point handed to `run.log()` is
stored exactly once: per run and key, PostgreSQL's row count and distinct steps must both equal
the points logged, and the sum of steps must match. Errors: any reader response other than 200
or a connection error, any 5xx in the server's access log, any SDK warning or `FinishResult`
that is not ok, and any task error in the worker's log. The exit status is 1 when points were
lost or duplicated or any error happened; the reads' p99 is judged against its target (300 ms)
in the output only, since on a shared machine it says as much about the neighbours.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import multiprocessing as mp
import os
import queue
import re
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import load_clients as clients  # noqa: E402  (found through the sys.path line above)
from load_clients import METRIC, PROJECT, TASKS  # noqa: E402

READ_P99_TARGET_MS = 300.0


# -- set-up ---------------------------------------------------------------------------------
def wait_fresh(api: httpx.Client, path: str, params: list | None = None, timeout: float = 120) -> str:
    """Poll `path` until its `status` is fresh (or `timeout` seconds pass); the last status."""
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        status = api.get(path, params=params).json().get("status", "")
        if status == "fresh":
            break
        time.sleep(0.5)
    return status


def benchmark_setup(api: httpx.Client) -> str | None:
    """A benchmark over the project's variants when the server has benchmarks; its slug, else None."""
    if api.get("/api/v1/benchmarks/").status_code == 404:
        return None
    slug = "bench-load"
    created = api.post(
        "/api/v1/benchmarks/",
        json={
            "name": "Load benchmark",
            "slug": slug,
            "team": PROJECT.split("/")[0],
            "tasks": list(TASKS),
            "metric": METRIC,
            "goal": "max",
        },
    )
    assert created.status_code in (200, 201), created.text
    variants = api.get(f"/api/v1/projects/{PROJECT}/variants/", params={"metric": METRIC}).json()["results"]
    for fingerprint in sorted({v["variant"] for v in variants}):
        made = api.post(f"/api/v1/benchmarks/{slug}/submissions/", json={"project": PROJECT, "variant": fingerprint})
        assert made.status_code in (200, 201), made.text
    return slug


# -- checks and figures ---------------------------------------------------------------------
def stored_points(db_url: str) -> dict[tuple[str, str], tuple[int, int, int]]:
    """Per (run id, key) of the project: (rows, distinct steps, sum of steps) in PostgreSQL."""
    import psycopg

    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            """
            SELECT r.uuid::text, k.name, count(*), count(DISTINCT p.step), sum(p.step)
            FROM tracking_metric_point p
            JOIN tracking_run r ON r.id = p.run_id
            JOIN tracking_metrickey k ON k.id = p.key_id
            JOIN tracking_project pr ON pr.id = r.project_id
            JOIN accounts_team t ON t.id = pr.team_id
            WHERE t.slug = %s AND pr.slug = %s
            GROUP BY 1, 2
            """,
            (clients.TEAM, clients.PROJECT_SLUG),
        ).fetchall()
    return {(run, key): (int(n), int(distinct), int(total)) for run, key, n, distinct, total in rows}


def exactly_once(records: list[dict], stored: dict[tuple[str, str], tuple[int, int, int]]) -> list[str]:
    """Every mismatch between what the writers logged and what PostgreSQL holds (none: exactly once)."""
    problems = []
    expected = {}
    for record in records:
        for key, count in record["counts"].items():
            expected[(record["run"], key)] = (count, count, record["sums"][key])
    for where in sorted(expected.keys() | stored.keys()):
        want, have = expected.get(where), stored.get(where, (0, 0, 0))
        if want is None:
            problems.append(f"{where}: {have[0]} points stored that no writer logged")
        elif have != want:
            lost, duplicated = want[0] - have[1], have[0] - have[1]
            problems.append(f"{where}: logged {want[0]}, stored {have[0]} ({lost} lost, {duplicated} duplicated)")
    return problems


def percentile(sorted_values: list[float], q: float) -> float:
    """The nearest-rank percentile (q in 0-100) of an ascending list."""
    return sorted_values[max(0, math.ceil(q / 100 * len(sorted_values)) - 1)]


def access_log(path: Path) -> tuple[Counter[str], dict[str, list[float]]]:
    """gunicorn's access log ('status method path seconds'): the statuses of every request, and
    the server's time in ms of each request by kind (clients.READS and clients.WRITES)."""
    statuses: Counter[str] = Counter()
    times: dict[str, list[float]] = defaultdict(list)
    kinds = [(kind, method, re.compile(f"^{path}$")) for kind, method, path in clients.READS + clients.WRITES]
    for line in path.read_text().splitlines():
        fields = line.strip("\0").split()
        if len(fields) != 4:
            continue
        status, method, url_path, seconds = fields
        statuses[status] += 1
        for kind, verb, pattern in kinds:
            if method == verb and pattern.match(url_path):
                times[kind].append(float(seconds) * 1000)
                break
    return statuses, times


def worker_errors(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if re.search(r"\bERROR/|Traceback", line)]


def broker_backlog(redis_url: str) -> int:
    import redis

    return int(redis.Redis.from_url(redis_url).llen("celery"))


def cpu_seconds(server: int, worker: int, database: str) -> dict[str, float]:
    """CPU seconds so far of the web server (gunicorn and its workers), the Celery worker and its
    children, PostgreSQL's backends serving `database`, and the whole machine (busy time)."""
    import psutil

    parts: Counter[str] = Counter()
    for root, part in ((server, "web"), (worker, "worker")):
        try:
            tree = [psutil.Process(root), *psutil.Process(root).children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for process in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                parts[part] += sum(process.cpu_times()[:2])
    for process in psutil.process_iter(["cmdline"]):
        title = " ".join(process.info["cmdline"] or [])
        if title.startswith("postgres:") and f" {database} " in title:
            with contextlib.suppress(psutil.NoSuchProcess):
                parts["PostgreSQL"] += sum(process.cpu_times()[:2])
    machine = psutil.cpu_times()
    parts["machine"] = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
    return dict(parts)


def table(title: str, rows: dict[str, list[float]], seconds: float, server: dict[str, list[float]]) -> list[float]:
    """Print requests/s, p50/p95/p99/max per kind and the server's p50/p99 of the same kind;
    returns each kind's p99."""
    print(f"\n{title:<26} {'requests':>8} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}"
          f"   server p50 / p99 ms")  # fmt: skip
    p99s = []
    for kind, values in rows.items():
        ms = sorted(values)
        if not ms:
            print(f"{kind:<26} {0:>8}")
            continue
        p99s.append(percentile(ms, 99))
        own = sorted(server.get(kind, []))
        on_server = f"{percentile(own, 50):>9.0f} / {percentile(own, 99):.0f}" if own else ""
        print(
            f"{kind:<26} {len(ms):>8} {len(ms) / seconds:>6.1f} {percentile(ms, 50):>7.0f} {percentile(ms, 95):>7.0f} "
            f"{p99s[-1]:>7.0f} {ms[-1]:>7.0f}   {on_server}"
        )
    return p99s


def collect(procs: list[mp.process.BaseProcess], out: mp.Queue, timeout: float) -> list[dict]:
    """One result per process, waiting at most `timeout` seconds; SystemExit if one died without one."""
    results = []
    deadline = time.monotonic() + timeout
    while len(results) < len(procs):
        try:
            results.append(out.get(timeout=1))
        except queue.Empty:
            if time.monotonic() > deadline or any(p.exitcode not in (None, 0) for p in procs):
                sys.exit(f"{len(procs) - len(results)} client process(es) ended without a result")
    return results


def shares(total: int) -> list[int]:
    """`total` clients as processes of clients.THREADS_PER_PROCESS threads (the last may have fewer)."""
    size = clients.THREADS_PER_PROCESS
    return [min(size, total - lo) for lo in range(0, total, size)]


# -- main -----------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60, help="seconds of load (default 60)")
    parser.add_argument("--writers", type=int, default=50, help="concurrent SDK runs (default 50)")
    parser.add_argument("--readers", type=int, default=20, help="concurrent reader threads (default 20)")
    parser.add_argument(
        "--warmup",
        type=float,
        default=0.0,
        help="seconds the writers log before the readers start (default 0: all start together, so the "
        "readers meet the burst of 50 runs being created at once)",
    )
    parser.add_argument(
        "--think-ms",
        type=float,
        default=1000.0,
        help="a reader's pause between requests, jittered by +-50%% (default 1000: someone browsing, a "
        "dashboard polling; 0: back-to-back requests, which measures capacity rather than latency)",
    )
    parser.add_argument("--step-ms", type=float, default=5.0, help="a training step's time (default 5 ms)")
    parser.add_argument("--min-steps", type=int, default=500)
    parser.add_argument("--max-steps", type=int, default=2_000)
    parser.add_argument("--celery-concurrency", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--keep", action="store_true", help="leave the database and the broker's queue")
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url.startswith("redis"):
        sys.exit("set REDIS_URL to a Redis database for the Celery broker (the benchmark flushes it)")
    import redis
    from harness import (
        celery_worker_start,
        database_drop,
        free_port,
        gunicorn_start,
        migrate_and_token,
        scratch_database,
        stop,
        wait_healthy,
    )

    # SIGTERM and SIGHUP end the benchmark as Ctrl-C does: through the `finally` below.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda received, _frame: sys.exit(128 + received))
    redis.Redis.from_url(redis_url).flushdb()
    db_url = scratch_database("_load_bench")
    logs = REPO / "var" / "bench-load"
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url, "SEEDBOARD_THROTTLE_ENABLED": "false",
           "DJANGO_SETTINGS_MODULE": "server.settings", "SEEDBOARD_DIR": str(logs / "sdk"),
           "PYTHONPATH": str(REPO)}  # fmt: skip
    os.environ.update(env)  # the client processes inherit it (the SDK's spool directory)
    token = migrate_and_token(env, team=clients.TEAM, user="bench")
    subprocess.run([sys.executable, "manage.py", "setpassword", "bench", "--password-stdin"], cwd=REPO, env=env,
                   input=clients.PASSWORD, text=True, check=True, capture_output=True)  # fmt: skip
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    procs: list[mp.process.BaseProcess] = []
    worker = celery_worker_start(env, concurrency=args.celery_concurrency, logfile=logs / "worker.log")
    server = gunicorn_start(env, port=port, flags=["--access-logfile", str(logs / "access.log"),
                                                   "--access-logformat", "%(s)s %(m)s %(U)s %(L)s"])  # fmt: skip
    try:
        wait_healthy(url, process=server)
        setup_started = time.perf_counter()
        seed_warnings = clients.warnings_recorded()
        seeded = clients.seed_study(url, token)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
            made = api.post("/api/v1/comparisons/", json={"metric": METRIC, "projects": [PROJECT]})
            assert made.status_code == 202, made.text
            comparison = made.json()["id"]
            status = wait_fresh(api, f"/api/v1/comparisons/{comparison}/")
            benchmark = benchmark_setup(api)
            run_ids = [r["id"] for r in api.get("/api/v1/runs/", params={"project": PROJECT}).json()["results"]]
        kinds = clients.KINDS + ([clients.LEADERBOARD] if benchmark else [])
        print(f"set-up: {len(seeded)} seed runs logged, comparison {status}, "
              f"{'benchmark made' if benchmark else 'no /api/v1/benchmarks/ (leaderboard skipped)'} "
              f"in {time.perf_counter() - setup_started:.1f} s")  # fmt: skip
        (logs / "access.log").write_text("")  # from here on, the load only

        ctx = mp.get_context("spawn")
        out: mp.Queue = ctx.Queue()
        start = time.time() + 5  # the clients import the SDK before the clock starts
        deadline = start + args.warmup + args.duration
        plan = {"step_s": args.step_ms / 1000, "min_steps": args.min_steps, "max_steps": args.max_steps}
        reader_ctx = {
            "kinds": kinds,
            "comparison": comparison,
            "benchmark": benchmark,
            "run_ids": run_ids,
            "think_s": args.think_ms / 1000,
            "start_at": time.time() + 5 + args.warmup,  # after the writers' first runs are under way
        }
        procs += [ctx.Process(target=clients.writer_main, args=(i, n, url, token, plan, deadline, out))
                  for i, n in enumerate(shares(args.writers))]  # fmt: skip
        procs += [ctx.Process(target=clients.reader_main, args=(i, n, url, token, reader_ctx, deadline, out))
                  for i, n in enumerate(shares(args.readers))]  # fmt: skip
        workers = int(os.environ.get("WEB_CONCURRENCY", str(4 * (os.cpu_count() or 1))))  # as gunicorn.conf.py
        print(f"load: {args.writers} writers, {args.readers} readers ({len(procs)} processes of up to "
              f"{clients.THREADS_PER_PROCESS} threads, {args.think_ms:.0f} ms between a reader's requests) "
              f"for {args.duration:.0f} s; gunicorn {workers} sync workers, "
              f"{args.celery_concurrency} Celery worker process(es); {os.cpu_count()} cores")  # fmt: skip
        for process in procs:
            process.start()
        time.sleep(max(0.0, start - time.time()))
        cpu_before = cpu_seconds(server.pid, worker.pid, db_url.rsplit("/", 1)[1])
        results = collect(procs, out, timeout=args.warmup + args.duration + 180)
        ended = time.time()
        cpu_after = cpu_seconds(server.pid, worker.pid, db_url.rsplit("/", 1)[1])
        for process in procs:
            process.join()
        backlog = broker_backlog(redis_url)
        drain_started = time.monotonic()
        while broker_backlog(redis_url) and time.monotonic() - drain_started < 120:
            time.sleep(0.5)
        return report(
            kinds=kinds,
            results=[*results, {"warnings": seed_warnings}],
            seeded=seeded,
            seconds=ended - start,
            cpu={part: cpu_after[part] - cpu_before.get(part, 0.0) for part in cpu_after},
            db_url=db_url,
            logs=logs,
            backlog=(backlog, time.monotonic() - drain_started, broker_backlog(redis_url)),
        )
    finally:
        for process in procs:
            if process.is_alive():
                process.terminate()
                process.join(10)
        stop(server)
        stop(worker)
        if not args.keep:
            database_drop(db_url)
            redis.Redis.from_url(redis_url).flushdb()


def report(
    *,
    kinds: list[str],
    results: list[dict],
    seeded: list[dict],
    seconds: float,
    cpu: dict[str, float],
    db_url: str,
    logs: Path,
    backlog: tuple[int, float, int],
) -> int:
    """Print the figures; 1 when a point was lost or duplicated or an error happened, else 0."""
    written = [r for result in results for r in result.get("records", [])]
    samples = [s for result in results for s in result.get("samples", [])]
    points = sum(r["logged"] for r in written)
    print(f"\n{seconds:.1f} s until every writer finished: {points:,} points in {len(written)} runs written, "
          f"{points / seconds:,.0f} points/s, {len(written) / seconds:.1f} runs/s")  # fmt: skip
    statuses, server = access_log(logs / "access.log")
    reads: dict[str, list[float]] = {kind: [] for kind in kinds}
    for kind, _, ms in samples:
        reads[kind].append(ms)
    p99s = table("reader kind (client side)", reads, seconds, server)
    table("all reads", {"all reads": [s[2] for s in samples]}, seconds, {})
    writes = {kind: server[kind] for kind, _, _ in clients.WRITES if kind in server}
    print("\nwriters' requests, as the server timed them (client-side waits not included):")
    for kind, ms in writes.items():
        ms.sort()
        print(f"  {kind:<26} {len(ms):>6} requests, p50 {percentile(ms, 50):.0f} ms, p99 {percentile(ms, 99):.0f} ms, "
              f"max {ms[-1]:.0f} ms")  # fmt: skip
    print(f"all requests by status (access log): {dict(sorted(statuses.items()))}")
    client_cpu: Counter[str] = Counter()
    for result in results:
        if "cpu" in result:
            client_cpu[result["cpu"][0]] += result["cpu"][1]  # the process's whole life: a little over the load
    parts = {**{k: v for k, v in cpu.items() if k != "machine"}, **client_cpu}
    others = cpu["machine"] - sum(parts.values())
    print("CPU over the load, in cores: " + ", ".join(f"{k} {v / seconds:.2f}" for k, v in parts.items())
          + f", everything else on the machine {max(others, 0) / seconds:.2f} (of {os.cpu_count()})")  # fmt: skip
    queued, waited, left = backlog
    state = "drained" if not left else f"{left} left"
    print(f"worker backlog at the end of the load: {queued} task(s), {state} {waited:.0f} s later")

    errors: dict[str, Counter[str]] = defaultdict(Counter)
    for kind, status, _ in samples:
        if status != "200":
            errors[f"reader {kind}"][status] += 1
    for status, n in statuses.items():
        if status.startswith("5"):
            errors["server (access log)"][status] += n
    for result in results:
        for message in result.get("warnings", []) + result.get("failures", []):
            errors["clients"][message[:160]] += 1
    for record in written + seeded:
        if not record["ok"]:
            errors["FinishResult not ok"]["; ".join(record["warnings"])[:160] or "points not all sent"] += 1
    for line in worker_errors(logs / "worker.log"):
        errors["worker"][line[:160]] += 1
    print("errors: none" if not errors else "errors:")
    for where, counter in errors.items():
        for what, n in counter.most_common():
            print(f"  {where}: {n} x {what}")

    problems = exactly_once(written + seeded, stored_points(db_url))
    everything = points + sum(r["logged"] for r in seeded)
    if problems:
        print(f"exactly once: NO, {len(problems)} (run, key) series differ, for example:")
        for line in problems[:10]:
            print(f"  {line}")
    else:
        print(f"exactly once: yes, all {everything:,} points logged (seed study included) are stored once")
    worst = max(p99s, default=0.0)
    print(f"reads p99 (worst kind): {worst:.0f} ms, target < {READ_P99_TARGET_MS:.0f} ms: "
          f"{'met' if worst < READ_P99_TARGET_MS else 'MISSED'}")  # fmt: skip
    return 1 if problems or errors else 0


if __name__ == "__main__":
    sys.exit(main())
