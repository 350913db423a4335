"""An MLflow client's `log_batch` into Seedboard's MLflow endpoint and into MLflow's own server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/seedboard .venv/bin/python bench/mlflow_compat.py

The same client code (the `mlflow` package of this virtualenv, `MlflowClient.log_batch` with
1,000 metrics per call, MLflow's own batch size) logs runs of 5 keys into

- Seedboard: a scratch database (`<name>_mlflow_bench`), gunicorn with 8 sync workers, the
  client pointed at `http://host:port/mlflow` with a Seedboard token;
- MLflow: `mlflow server` on SQLite in var/, from a virtualenv with the full `mlflow` package
  that this script creates in var/mlflow-server-venv on its first run;

first from 1 client process, then from 8 at once, and prints the points per second of each
(all points acknowledged) and Seedboard's ratio to MLflow.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
KEYS = ["train/loss", "train/acc", "val/loss", "val/acc", "lr"]
MLFLOW_VENV = REPO / "var" / "mlflow-server-venv"
MLFLOW_DATA = REPO / "var" / "mlflow-bench"


def client_process(uri: str, token: str, steps: int, runs: int, ready: mp.Barrier) -> None:
    """Log `runs` runs of len(KEYS) x `steps` points with log_batch, as a training script would."""
    os.environ["MLFLOW_TRACKING_TOKEN"] = token
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment(f"bench-{uuid.uuid4().hex[:8]}")
    ready.wait()
    for _ in range(runs):
        run_id = client.create_run(experiment_id).info.run_id
        now = int(time.time() * 1000)
        metrics = [Metric(key, 1.0 / (step + 1), now + step, step) for step in range(steps) for key in KEYS]
        for start in range(0, len(metrics), 1000):
            client.log_batch(run_id, metrics=metrics[start : start + 1000])
        client.set_terminated(run_id)


def phase(uri: str, token: str, *, clients: int, steps: int, runs: int) -> float:
    """Points per second of `clients` processes logging at once, from the barrier to the last ack."""
    context = mp.get_context("spawn")
    ready = context.Barrier(clients + 1)
    processes = [context.Process(target=client_process, args=(uri, token, steps, runs, ready)) for _ in range(clients)]
    for process in processes:
        process.start()
    ready.wait()
    started = time.perf_counter()
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"a client failed with exit code {process.exitcode}")
    return clients * runs * steps * len(KEYS) / (time.perf_counter() - started)


def mlflow_server_start(port: int) -> subprocess.Popen[bytes]:
    """`mlflow server` on SQLite, from its own virtualenv (created on first use)."""
    mlflow = MLFLOW_VENV / "bin" / "mlflow"
    if not mlflow.exists():
        subprocess.run([sys.executable, "-m", "venv", str(MLFLOW_VENV)], check=True)
        subprocess.run([str(MLFLOW_VENV / "bin" / "pip"), "install", "-q", "mlflow>=3.5,<4"], check=True)
    MLFLOW_DATA.mkdir(parents=True, exist_ok=True)
    database = MLFLOW_DATA / f"mlflow-{uuid.uuid4().hex[:8]}.db"
    argv = [str(mlflow), "server", "--backend-store-uri", f"sqlite:///{database}",
            "--default-artifact-root", str(MLFLOW_DATA / "artifacts"),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "4"]  # fmt: skip
    log = (MLFLOW_DATA / "server.log").open("ab")
    return subprocess.Popen(argv, stdout=log, stderr=log, start_new_session=True)


def mlflow_wait_healthy(url: str, server: subprocess.Popen[bytes], seconds: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"mlflow server exited with code {server.returncode} (see {MLFLOW_DATA / 'server.log'})")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    sys.exit("mlflow server did not start")


def measure(uri: str, token: str, *, steps: int, runs: int) -> dict[int, float]:
    """Points per second from 1 and from 8 clients, after a small warm-up (first requests of
    fresh server workers, MLflow's lazy database set-up)."""
    phase(uri, token, clients=2, steps=200, runs=1)
    return {n: phase(uri, token, clients=n, steps=steps, runs=runs) for n in (1, 8)}


def main() -> None:
    from harness import bench_server, database_drop, free_port, scratch_database, stop

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2000, help="steps per run (x 5 keys)")
    parser.add_argument("--runs", type=int, default=2, help="runs per client process")
    args = parser.parse_args()

    results: dict[str, dict[int, float]] = {}
    url = scratch_database("_mlflow_bench")
    env = {**os.environ, "DATABASE_URL": url, "SEEDBOARD_THROTTLE_ENABLED": "false"}
    try:
        with bench_server(env, port=free_port(), workers=8) as (server_url, token, _):
            results["seedboard"] = measure(f"{server_url}/mlflow", token, steps=args.steps, runs=args.runs)
    finally:
        database_drop(url)

    port = free_port()
    server = mlflow_server_start(port)
    try:
        mlflow_wait_healthy(f"http://127.0.0.1:{port}", server)
        results["mlflow"] = measure(f"http://127.0.0.1:{port}", "unused", steps=args.steps, runs=args.runs)
    finally:
        stop(server)

    points = args.steps * args.runs * len(KEYS)
    print(f"MLflow client log_batch (1,000 metrics per call), {points:,} points per client process")
    print(f"{'clients':>8} {'Seedboard pts/s':>16} {'MLflow pts/s':>14} {'ratio':>7}")
    for n in (1, 8):
        seedboard, mlflow = results["seedboard"][n], results["mlflow"][n]
        print(f"{n:>8} {seedboard:>16,.0f} {mlflow:>14,.0f} {seedboard / mlflow:>6.1f}x")


if __name__ == "__main__":
    main()
