"""The client processes of bench/load.py: SDK writers and HTTP readers, and the seed study.

They run in processes started with `spawn`, so this module imports nothing of the server.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import random
import re
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

TEAM, PROJECT_SLUG = "bench", "load"
PROJECT = f"{TEAM}/{PROJECT_SLUG}"
METRIC = "val/acc"
MODELS = {"resnet18": 0.90, "resnet50": 0.92, "vit-s": 0.91, "mlp": 0.78}  # final accuracy on cifar10
LRS = (0.1, 0.01, 0.001)
TASKS = ("cifar10", "cifar100")
EVAL_EVERY = 50
THREADS_PER_PROCESS = 5
PASSWORD = "bench-load-password-7"
LEADERBOARD = "leaderboard"
# Each reader kind and the writers' requests, as the server's access log shows them: (kind, method, path).
READS = [
    ("comparison", "GET", r"/api/v1/comparisons/[^/]+/"),
    ("variants", "GET", r"/api/v1/projects/[^/]+/[^/]+/variants/"),
    ("runs", "GET", r"/api/v1/runs/"),
    ("run history", "GET", r"/api/v1/runs/[^/]+/metrics/"),
    ("5-run history", "GET", r"/api/v1/projects/[^/]+/[^/]+/metrics/"),
    ("project page", "GET", rf"/{PROJECT}/"),
    ("run page", "GET", r"/runs/[^/]+/"),
    (LEADERBOARD, "GET", r"/api/v1/benchmarks/[^/]+/leaderboard/"),
]
WRITES = [
    ("create run", "POST", r"/api/v1/runs/"),
    ("metric batch", "POST", r"/api/v1/runs/[^/]+/metrics/"),
    ("update run (beat, finish)", "PATCH", r"/api/v1/runs/[^/]+/"),
]
KINDS = [kind for kind, _, _ in READS if kind != LEADERBOARD]


# -- writers --------------------------------------------------------------------------------
def log_run(
    url: str,
    token: str,
    rng: random.Random,
    seed: int,
    steps: int,
    step_s: float,
    deadline: float,
    variant: tuple[str, float, str] | None = None,
) -> dict:
    """One training run through the SDK, of `variant` (model, lr, task; drawn when None); returns
    what was handed to `run.log()`, per key: the number of points and the sum of their steps, and
    the run's `FinishResult`."""
    import seedboard

    model, lr, task = variant or (rng.choice(list(MODELS)), rng.choice(LRS), rng.choice(TASKS))
    final = MODELS[model] - 0.03 * abs(math.log10(lr) + 2) - (0.25 if task == "cifar100" else 0) + rng.gauss(0, 0.01)
    config = {"lr": lr, "batch_size": 128, "optimizer": {"name": "sgd", "momentum": 0.9}, "epochs": 30}
    counts: Counter[str] = Counter()
    sums: Counter[str] = Counter()
    chunk = 10  # steps between sleeps: a real loop's pace without a sleep per step
    with seedboard.init(PROJECT, model=model, config=config, seed=seed, task=task, url=url, token=token) as run:
        next_tick = time.monotonic()
        for step in range(steps):
            if step % chunk == 0:
                if time.time() >= deadline:
                    break
                next_tick += chunk * step_s
                time.sleep(max(0.0, next_tick - time.monotonic()))
            progress = 1.0 - math.exp(-step / 300)
            metrics = {"train/loss": 2.3 * (1 - progress) + 0.05 + rng.gauss(0, 0.02), "lr": lr}
            if step % EVAL_EVERY == EVAL_EVERY - 1 or step == steps - 1:
                metrics["val/acc"] = final * progress + rng.gauss(0, 0.005)
                metrics["val/loss"] = 2.3 * (1 - progress) + 0.3
            run.log(metrics, step=step)
            for key in metrics:
                counts[key] += 1
                sums[key] += step
    result = run.finish()  # the result of the finish the `with` block did
    return {
        "run": run.id,
        "counts": dict(counts),
        "sums": dict(sums),
        "logged": result.points_logged,
        "ok": result.ok and result.points_sent == result.points_logged,
        "warnings": list(result.warnings),
    }


def warnings_recorded() -> list[str]:
    """From now on, every warning of this process (the SDK's among them) is appended to the list
    returned, instead of printed."""
    seen: list[str] = []

    def record(message: Any, category: type[Warning], *rest: Any, **kwargs: Any) -> None:
        seen.append(f"{category.__name__}: {message}")  # list.append is atomic: threads may warn

    warnings.simplefilter("always")
    warnings.showwarning = record
    return seen


def writer_main(number: int, threads: int, url: str, token: str, args: dict, deadline: float, out: mp.Queue) -> None:
    """A process of `threads` writers, each logging runs until `deadline` (wall clock)."""
    seen = warnings_recorded()
    records: list[dict] = []
    failures: list[str] = []

    def loop(slot: int) -> None:
        rng = random.Random(number * 100 + slot)
        for index in range(10**6):
            if time.time() >= deadline:
                return
            steps = rng.randint(args["min_steps"], args["max_steps"])
            seed = (number * 100 + slot) * 1000 + index
            try:
                records.append(log_run(url, token, rng, seed, steps, args["step_s"], deadline))
            except Exception as exc:  # init refused the run: report it, keep the others going
                failures.append(f"{type(exc).__name__}: {exc}")
                time.sleep(1)

    run_threads(loop, threads)
    out.put({"records": records, "warnings": seen, "failures": failures, "cpu": ("writers", time.process_time())})


# -- readers --------------------------------------------------------------------------------
def sign_in(client: httpx.Client, username: str) -> None:
    """Post the login form with its CSRF token, as a browser does; the session cookie stays in `client`."""
    form = client.get("/login/")
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert form.status_code == 200 and match, f"no login form: HTTP {form.status_code}"
    done = client.post(
        "/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": match.group(1), "next": "/"},
    )
    assert done.status_code == 302 and "sessionid" in client.cookies, f"sign-in failed: HTTP {done.status_code}"


def reader_request(kind: str, rng: random.Random, ctx: dict, run_ids: list[str]) -> tuple[str, str, list]:
    """(client: "api" or "web", path, query parameters) of one request of `kind`."""
    run_id = rng.choice(run_ids)
    if kind == "comparison":
        return "api", f"/api/v1/comparisons/{ctx['comparison']}/", []
    if kind == "variants":
        return "api", f"/api/v1/projects/{PROJECT}/variants/", [("metric", METRIC), ("task", rng.choice(TASKS))]
    if kind == "runs":
        return "api", "/api/v1/runs/", [("project", PROJECT), ("metrics", METRIC), ("page_size", 50)]
    if kind == "run history":
        return "api", f"/api/v1/runs/{run_id}/metrics/", [("key", "train/loss"), ("key", METRIC)]
    if kind == "5-run history":
        runs = rng.sample(run_ids, min(5, len(run_ids)))
        return (
            "api",
            f"/api/v1/projects/{PROJECT}/metrics/",
            [("key", METRIC), ("max_points", 1000)] + [("run", r) for r in runs],
        )
    if kind == "project page":
        return "web", f"/{PROJECT}/", []
    if kind == "run page":
        return "web", f"/runs/{run_id}/", []
    if kind == LEADERBOARD:
        return "api", f"/api/v1/benchmarks/{ctx['benchmark']}/leaderboard/", []
    raise ValueError(kind)


def reader_main(number: int, threads: int, url: str, token: str, ctx: dict, deadline: float, out: mp.Queue) -> None:
    """A process of `threads` readers cycling through `ctx["kinds"]` until `deadline` (wall clock)."""
    samples: list[tuple[str, str, float]] = []  # (kind, status, milliseconds)
    failures: list[str] = []

    def loop(slot: int) -> None:
        rng = random.Random(10_000 + number * 100 + slot)
        timeout = httpx.Timeout(30.0)
        with (
            httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout) as api,
            httpx.Client(base_url=url, timeout=timeout) as web,
        ):
            try:
                sign_in(web, "bench")
            except (AssertionError, httpx.TransportError) as exc:
                failures.append(f"sign-in: {exc}")
                return
            run_ids = list(ctx["run_ids"])
            kinds = ctx["kinds"]
            time.sleep(max(0.0, ctx["start_at"] - time.time()))
            turn = number * threads + slot  # readers start at different kinds
            while time.time() < deadline:
                kind = kinds[turn % len(kinds)]
                turn += 1
                side, path, params = reader_request(kind, rng, ctx, run_ids)
                started = time.perf_counter()
                try:
                    response = (api if side == "api" else web).get(path, params=params)
                    status = str(response.status_code)
                except httpx.TransportError as exc:
                    response, status = None, f"connection error ({type(exc).__name__})"
                samples.append((kind, status, (time.perf_counter() - started) * 1000))
                if kind == "runs" and response is not None and response.status_code == 200:
                    run_ids = [run["id"] for run in response.json()["results"]] or run_ids
                if ctx["think_s"]:  # a person or a dashboard between two requests, jittered
                    time.sleep(ctx["think_s"] * rng.uniform(0.5, 1.5))

    run_threads(loop, threads)
    out.put({"samples": samples, "failures": failures, "cpu": ("readers", time.process_time())})


# -- the seed study -------------------------------------------------------------------------
def seed_study(url: str, token: str) -> list[dict]:
    """Three short runs (seeds) of every model, learning rate and task, so that pages, statistics,
    the comparison and a benchmark (3 seeds per task at least) have something to show when the
    readers start (8 at a time)."""
    rng = random.Random(0)
    variants = [(model, lr, task) for model in MODELS for lr in LRS for task in TASKS]
    plan = [(seed, rng.randint(200, 400), variants[seed % len(variants)]) for seed in range(3 * len(variants))]
    records: list[dict] = []

    def work(share: list[tuple[int, int, tuple[str, float, str]]]) -> None:
        local = random.Random(share[0][0])
        for seed, steps, variant in share:
            records.append(log_run(url, token, local, 10**9 + seed, steps, 0.0, float("inf"), variant))

    run_threads(lambda i: work(plan[i::8]), 8)
    return records


def run_threads(target: Callable[[int], None], count: int) -> None:
    """target(0) ... target(count - 1), each in its own thread; returns when all have."""
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
