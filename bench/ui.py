"""UI benchmark: time until every chart of a page has rendered in headless Chromium, and the bytes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/seedboard .venv/bin/python bench/ui.py

Builds a scratch database (`<name>_ui_bench`) through the services: a comparison of 10 variants
x 5 seeds x 100,000 steps of one key (computed in-process), a project of 10,000 runs, and one
run of 20 keys x 100,000 steps; points go in through `metrics_ingest` in batches of 50,000,
runs are finished and their overviews built as a worker would. Then it starts gunicorn
(gunicorn.conf.py), signs in with Playwright in Debian's Chromium and loads each page: the
compare page, the project page and the run page. A page is done when every `[data-chart]`
element holds an SVG with data marks (the project page has no chart: done at `load`).

For each page, warm (after one warm-up load), 5 loads: the time from navigation start to done
(the browser's clock), the server's share (the HTML response, `responseEnd - requestStart`),
and the bytes: transferred (resource timing `transferSize`, headers included, 0 for a cache
hit) and the page's weight (decoded bodies of HTML, JSON and static files). Median and best.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

TARGET_MS = 1500
BATCH = 50_000
PASSWORD = "bench-ui-password-7"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

# True (as performance.now(), ms since navigation start) once every chart has data marks:
# vega's SVG groups of role "mark" outside axes, legends and titles, with children.
CHARTS_DONE = """
() => {
  const charts = Array.from(document.querySelectorAll("[data-chart]"));
  if (document.readyState !== "complete") return false;
  const drawn = charts.every(el => Array.from(el.querySelectorAll("svg g.role-mark"))
    .some(g => !g.closest(".role-axis, .role-legend, .role-title") && g.children.length > 0));
  return drawn || charts.some(el => el.classList.contains("chart-error")) ? performance.now() : false;
}
"""
# The navigation and resource timing entries of the page, summed.
TIMINGS = """
() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const all = [nav, ...performance.getEntriesByType("resource")];
  const sum = key => all.reduce((n, e) => n + (e[key] || 0), 0);
  return {
    server: nav.responseEnd - nav.requestStart,
    html: nav.decodedBodySize,
    transferred: sum("transferSize"),
    encoded: sum("encodedBodySize"),
    decoded: sum("decodedBodySize"),
    requests: all.length,
    charts: document.querySelectorAll("[data-chart]").length,
    errors: document.querySelectorAll(".chart-error").length,
  };
}
"""


def ingest_series(run: Any, keys: list[str], steps: int, rng: Any) -> None:
    """Every key's `steps` points, sent through the ingestion service in batches of BATCH points."""
    import numpy as np

    from server.tracking import ingestion
    from server.tracking.batches import MetricBatch

    codes = np.repeat(np.arange(len(keys), dtype=np.int32), steps)
    all_steps = np.tile(np.arange(steps, dtype=np.int64), len(keys))
    values = np.concatenate([0.5 + np.cumsum(rng.normal(size=steps)) / 1000.0 for _ in keys])
    times = 1.7e9 + all_steps.astype(np.float64)
    for lo in range(0, len(codes), BATCH):
        part = slice(lo, lo + BATCH)
        used = sorted(set(codes[part].tolist()))  # the batch names only its own keys
        remap = np.zeros(len(keys), np.int32)
        remap[used] = np.arange(len(used), dtype=np.int32)
        batch = MetricBatch(
            uuid.uuid4(), [keys[i] for i in used], remap[codes[part]], all_steps[part], values[part], times[part]
        )
        ingestion.metrics_ingest(run_pk=run.pk, batch=batch)


def build_data(args: argparse.Namespace) -> dict[str, str]:
    """The three pages' data; returns their paths."""
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from server.accounts.services import token_create_for, user_set_password
    from server.stats import services as stats_services
    from server.stats.models import Status
    from server.tracking import services
    from server.tracking.models import Run

    call_command("migrate", verbosity=0)
    token_create_for(team_slug="bench", username="bench")
    user_set_password(username="bench", password=PASSWORD)
    user = get_user_model().objects.get(username="bench")
    rng = np.random.default_rng(0)
    paths = {}

    started = time.perf_counter()
    project = services.project_for_new_run(user=user, team_slug="bench", project_slug="compare")
    for variant in range(args.variants):
        for seed in range(args.seeds):
            run, _ = services.run_create(
                project=project, name=f"v{variant}-s{seed}", model="mlp", config={"lr": 0.01 * (variant + 1)}, seed=seed
            )
            ingest_series(run, ["val/acc"], args.steps, rng)
            services.run_update(run=run, status=Run.Status.FINISHED)
            services.metric_overviews_build(run_pk=run.pk)
    comparison = stats_services.comparison_create(user=user, metric="val/acc", projects=["bench/compare"])
    outcome = stats_services.comparison_recompute(comparison_id=str(comparison.uuid))
    comparison.refresh_from_db()
    assert comparison.status == Status.FRESH, (comparison.status, outcome)
    paths["compare"] = f"/compare/{comparison.uuid}/"
    points = args.variants * args.seeds * args.steps
    print(f"compare: {args.variants} variants x {args.seeds} seeds x {args.steps:,} steps = {points:,} points, "
          f"finished, overviews built, computed in {time.perf_counter() - started:.1f} s")  # fmt: skip

    started = time.perf_counter()
    project = services.project_for_new_run(user=user, team_slug="bench", project_slug="many")
    # The rows run_create writes (variants through the service), inserted in bulk: 100 variants x 100 seeds.
    variants = {
        i: services.variant_get_or_create(project=project, model=f"model{i % 10}", config={"lr": i}) for i in range(100)
    }
    now = timezone.now()
    Run.objects.bulk_create(
        (
            Run(
                project=project,
                variant=variants[index % 100],
                name=f"run-{index}",
                model=f"model{index % 10}",
                config={"lr": index % 100},
                seed=index // 100,
                status=Run.Status.FINISHED,
                started_at=now,
                heartbeat_at=now,
                ended_at=now,
            )
            for index in range(args.project_runs)
        ),
        batch_size=2_000,
    )
    paths["project"] = "/bench/many/"
    print(f"project: {args.project_runs:,} runs created in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    project = services.project_for_new_run(user=user, team_slug="bench", project_slug="long")
    run, _ = services.run_create(project=project, name="long", model="mlp", config={"lr": 0.1}, seed=0)
    keys = [f"{group}/metric{i:02d}" for group in ("train", "val") for i in range(args.keys // 2)]
    ingest_series(run, keys, args.steps, rng)
    services.run_update(run=run, status=Run.Status.FINISHED)
    services.metric_overviews_build(run_pk=run.pk)
    paths["run"] = f"/runs/{run.uuid}/"
    print(f"run: {len(keys)} keys x {args.steps:,} steps = {len(keys) * args.steps:,} points, finished, "
          f"overviews built in {time.perf_counter() - started:.1f} s")  # fmt: skip
    with connection.cursor() as cursor:  # as autovacuum would after a bulk load
        cursor.execute("ANALYZE")
    connection.close()
    return paths


def measure(page: Any, url: str, repeats: int) -> list[dict[str, Any]]:
    """One warm-up load, then `repeats` loads of `url`, each with its timings."""
    loads = []
    for _ in range(repeats + 1):
        t0 = time.perf_counter()
        response = page.goto(url, wait_until="commit")
        assert response is not None
        if response.status != 200:  # e.g. a query cancelled at the web statement_timeout
            page.wait_for_load_state("load")
            return [{"failed": response.status, "server": page.evaluate(TIMINGS)["server"]}]
        done = page.wait_for_function(CHARTS_DONE, timeout=60_000, polling="raf").json_value()
        wall = (time.perf_counter() - t0) * 1000
        figures = page.evaluate(TIMINGS)
        assert figures["errors"] == 0, f"{url}: {figures['errors']} charts could not be drawn"
        loads.append({**figures, "done": done, "wall": wall})
    return loads[1:]


def browse(base: str, paths: dict[str, str], repeats: int) -> dict[str, list[dict[str, Any]]]:
    from playwright.sync_api import sync_playwright

    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=base)
            page = context.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.goto("/login/")
            page.get_by_label("Username").fill("bench")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/")
            for name, path in paths.items():
                results[name] = measure(page, path, repeats)
            assert not problems, problems
        finally:
            browser.close()
    return results


def report(results: dict[str, list[dict[str, Any]]], what: dict[str, str]) -> None:
    print(f"\n{'page':<8} {'charts':>6} {'done median':>12} {'best':>7} {'server median':>14} {'best':>7} "
          f"{'wall median':>12} {'HTML KB':>8} {'sent KB':>8} {'weight KB':>10} {'reqs':>5}  target")  # fmt: skip
    for name, loads in results.items():
        if "failed" in loads[0]:
            print(f"{name:<8} FAILED: HTTP {loads[0]['failed']} after {loads[0]['server']:.0f} ms (server)")
            continue
        done = [load["done"] for load in loads]
        server = [load["server"] for load in loads]
        last = loads[-1]
        status = "ok" if statistics.median(done) < TARGET_MS else "SLOWER THAN TARGET"
        print(
            f"{name:<8} {last['charts']:>6} {statistics.median(done):>9.0f} ms {min(done):>4.0f} ms "
            f"{statistics.median(server):>11.0f} ms {min(server):>4.0f} ms "
            f"{statistics.median(load['wall'] for load in loads):>9.0f} ms {last['html'] / 1024:>8.0f} "
            f"{statistics.median(load['transferred'] for load in loads) / 1024:>8.0f} "
            f"{last['decoded'] / 1024:>10.0f} {last['requests']:>5}  < {TARGET_MS} ms {status}"
        )
    print("\ndone: navigation start to every chart drawn (browser clock); server: the HTML response,")
    print("requestStart to responseEnd; wall: goto + wait measured in this process; sent: bytes over the")
    print("wire (headers included, cached files 0); weight: decoded bodies of HTML, JSON and static files.")
    for name, text in what.items():
        print(f"  {name}: {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--project-runs", type=int, default=10_000)
    parser.add_argument("--keys", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    from harness import free_port, gunicorn_start, scratch_database, stop, wait_healthy

    # Its own scratch database, so the other benchmarks' stays. No REDIS_URL: tasks run
    # in-process (eager); the benchmark calls the services itself.
    env = {"DATABASE_URL": scratch_database("_ui_bench"), "REDIS_URL": "", "DJANGO_SETTINGS_MODULE": "server.settings",
           "SEEDBOARD_THROTTLE_ENABLED": "false", "SEEDBOARD_LOCAL_SECRET_KEY": "true"}  # fmt: skip
    os.environ.update(env)
    import django

    django.setup()
    started = time.perf_counter()
    paths = build_data(args)
    print(f"data built in {time.perf_counter() - started:.0f} s")

    port = free_port()
    server = gunicorn_start({**os.environ, "PYTHONPATH": str(REPO)}, port=port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process=server)
        results = browse(base, paths, args.repeats)
    finally:
        stop(server)
    report(
        results,
        {
            "compare": f"{args.variants} variants x {args.seeds} seeds x {args.steps:,} steps per run",
            "project": f"{args.project_runs:,} runs (the first 50 rows with 3 metric columns; no chart: done at load)",
            "run": f"{args.keys} keys x {args.steps:,} steps",
        },
    )


if __name__ == "__main__":
    main()
