"""History benchmark: one key for 50 runs x 100,000 steps, downsampled to 1,000 points each.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/seedboard .venv/bin/python bench/history.py

Loads the points through the service layer (binary COPY) into a scratch database and finishes
the runs, then times `GET /api/v1/projects/{team}/{project}/metrics/?key=...&max_points=1000`
in-process (server time: queries, transfer from PostgreSQL, downsampling and JSON), best of 5:
first from the raw points, then from the overviews, built by calling the build service for
each run as a worker would (timed too), and checks that both answers are the same. Last, a
zoom on the middle half (overviews plus raw edges) and one run at full fidelity.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--max-points", type=int, default=1_000)
    args = parser.parse_args()
    from harness import scratch_database

    os.environ.update(
        DATABASE_URL=scratch_database(),
        DJANGO_SETTINGS_MODULE="server.settings",
        SEEDBOARD_THROTTLE_ENABLED="false",
    )
    import django

    django.setup()
    import numpy as np
    from django.core.management import call_command
    from django.test import Client

    from server.accounts.services import token_create_for
    from server.tracking import ingestion, services
    from server.tracking.batches import MetricBatch

    call_command("migrate", verbosity=0)
    token = token_create_for(team_slug="bench", username="bench")
    project = services.project_for_new_run(
        user=django.contrib.auth.get_user_model().objects.get(username="bench"), team_slug="bench", project_slug="hist"
    )
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    for index in range(args.runs):
        run, _ = services.run_create(project=project, model="m", config={}, seed=index)
        curve = np.cumsum(rng.normal(size=args.steps)) / 100.0
        for lo in range(0, args.steps, 50_000):
            steps = np.arange(lo, min(lo + 50_000, args.steps), dtype=np.int64)
            batch = MetricBatch(
                uuid.uuid4(),
                ["val/acc"],
                np.zeros(len(steps), np.int32),
                steps,
                curve[steps],
                np.full(len(steps), 1.7e9),
            )
            ingestion.metrics_ingest(run_pk=run.pk, batch=batch)
    total = args.runs * args.steps
    from django.db import connection

    from server.tracking.models import Run

    # Finished without the marks a PATCH makes: the overviews are built below, on the clock.
    Run.objects.filter(project=project).update(status=Run.Status.FINISHED)
    with connection.cursor() as cursor:  # as autovacuum would after a bulk load
        cursor.execute("ANALYZE tracking_metric_point")
    print(f"loaded {total:,} points in {time.perf_counter() - started:.1f} s")
    # A host the default ALLOWED_HOSTS accepts (the test client says "testserver" otherwise).
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    url = f"/api/v1/projects/bench/hist/metrics/?key=val/acc&max_points={args.max_points}"
    what = f"{args.runs} runs x {args.steps:,} steps of one key, downsampled to {args.max_points:,} points each"

    raw_ms, raw_body = best_of(client, url, 3)
    print(f"{what}, from the raw points: {raw_ms:.0f} ms (best of 3)")
    t0 = time.perf_counter()
    written = sum(services.metric_overviews_build(run_pk=pk) for pk in Run.objects.values_list("pk", flat=True))
    build_s = time.perf_counter() - t0
    each = build_s / max(written, 1) * 1000
    print(f"overviews built: {written} in {build_s:.2f} s ({each:.0f} ms each, in one process)")
    ms, body = best_of(client, url, 5)
    print(f"{what}, from the overviews: {ms:.0f} ms (best of 5; budget 150 ms)")
    assert body == raw_body, "the overviews must answer exactly as the raw points do"
    assert len(body["runs"]) == args.runs and all(len(r["step"]) <= args.max_points for r in body["runs"])
    assert all(r["downsampled"] and r["count"] == args.steps for r in body["runs"])
    points_out = sum(len(r["step"]) for r in body["runs"])
    print(f"  {points_out:,} points returned ({points_out / args.runs:.0f} a run)")

    zoom = f"{url}&min_step={args.steps // 4 + 7}&max_step={3 * args.steps // 4 + 7}"
    ms, _ = best_of(client, zoom, 5)
    print(f"the same request zoomed on the middle half (overviews and raw edges): {ms:.0f} ms (best of 5)")

    one = body["runs"][0]["run"]
    t0 = time.perf_counter()
    full = client.get(f"/api/v1/runs/{one}/metrics/?key=val/acc")
    print(f"one run at full fidelity ({args.steps:,} points): {(time.perf_counter() - t0) * 1000:.0f} ms")
    assert len(full.json()["metrics"]["val/acc"]["step"]) == args.steps


def best_of(client: Any, url: str, repeat: int) -> tuple[float, Any]:
    """The best server time of `repeat` GETs of `url` in milliseconds, and the last answer."""
    timings = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.content[:500]
    return min(timings) * 1000, response.json()


if __name__ == "__main__":
    main()
