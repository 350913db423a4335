"""Run-list benchmark: a table of 200 runs with the last values of 2 metrics, through the SDK.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/seedboard .venv/bin/python bench/runlist.py

Creates a scratch database (`<name>_bench`), starts gunicorn on it and logs 200 runs of 5 keys
x 100 steps. Then it times, from a client on the same machine, the two ways to fill the table:
the list plus one run detail per run (`api.runs()` then `api.run(id)` for each: 201 requests),
and the list with the summaries of the 2 keys (`api.runs(metrics=[...])`: 1 request). Both give
the same values (checked). For scale, the list alone. Median and best of 5, after one warm-up of each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
KEYS = ["train/loss", "train/acc", "val/loss", "val/acc", "lr"]
SHOWN = ["val/acc", "train/loss"]


def log_study(url: str, token: str, project: str, runs: int, steps: int) -> None:
    import seedboard

    for index in range(runs):
        with seedboard.init(project=project, model="m", seed=index, url=url, token=token) as run:
            for step in range(steps):
                run.log({key: (index + step) / (steps + runs) for key in KEYS}, step=step)


def timed(fill: Callable[[], dict[str, list[float]]], repeats: int) -> tuple[list[float], dict[str, list[float]]]:
    table = fill()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        table = fill()
        times.append(time.perf_counter() - started)
    return times, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--port", type=int, default=8798)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from harness import bench_server, scratch_database

    env = {**os.environ, "DATABASE_URL": scratch_database(), "SEEDBOARD_THROTTLE_ENABLED": "false", "REDIS_URL": "",
           "DJANGO_SETTINGS_MODULE": "server.settings", "SEEDBOARD_DIR": str(REPO / "var" / "bench-sdk")}  # fmt: skip
    os.environ.update(env)
    with bench_server(env, port=args.port, workers=args.workers) as (url, token, _):
        log_study(url, token, "bench/table", args.runs, args.steps)
        import seedboard

        with seedboard.Api(url=url, token=token) as api:

            def one_per_run() -> dict[str, list[float]]:
                runs = api.runs("bench/table", limit=args.runs)
                details = {run["id"]: api.run(run["id"])["metrics"] for run in runs}
                return {run_id: [m[key]["last_value"] for key in SHOWN] for run_id, m in details.items()}

            def one_request() -> dict[str, list[float]]:
                runs = api.runs("bench/table", metrics=SHOWN, limit=args.runs)
                return {run["id"]: [run["metrics"][key]["last_value"] for key in SHOWN] for run in runs}

            before, slow_table = timed(one_per_run, args.repeats)
            after, fast_table = timed(one_request, args.repeats)
            plain, _ = timed(lambda: {run["id"]: [] for run in api.runs("bench/table", limit=args.runs)}, args.repeats)
        assert slow_table == fast_table and len(fast_table) == args.runs, "the two tables differ"
        print(f"{args.runs} runs x {len(KEYS)} keys; the last values of {len(SHOWN)} of them; "
              f"gunicorn {args.workers} sync workers; {os.cpu_count()} cores")  # fmt: skip
        for label, times, requests in [
            ("list + one detail per run", before, args.runs + 1),
            ("list with metrics=", after, 1),
            ("list alone (no values)", plain, 1),
        ]:
            print(
                f"{label:26}: {requests:>3} requests, median {statistics.median(times) * 1000:7.1f} ms, "
                f"best {min(times) * 1000:7.1f} ms"
            )
        print(f"speed-up (medians): {statistics.median(before) / statistics.median(after):.0f}x")


if __name__ == "__main__":
    main()
