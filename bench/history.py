"""History benchmark: one key for 50 runs x 100,000 steps, downsampled to 1,000 points each.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/seedboard .venv/bin/python bench/history.py

Loads the points through the service layer (binary COPY) into a scratch database, then
times `GET /api/v1/projects/{team}/{project}/metrics/?key=...&max_points=1000` in-process
(server time: query, transfer from PostgreSQL, downsampling and JSON), best of 5, and the
same request at full fidelity for one run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--max-points", type=int, default=1_000)
    args = parser.parse_args()
    from ingest import scratch_database

    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL server (the benchmark creates its own scratch database)")
    os.environ.update(
        DATABASE_URL=scratch_database(base),
        DJANGO_SETTINGS_MODULE="server.settings",
        SEEDBOARD_THROTTLE_ENABLED="false",
    )
    import django

    django.setup()
    import numpy as np
    from django.core.management import call_command
    from django.test import Client

    from server.accounts.services import token_create_for
    from server.tracking import services
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
            services.metrics_ingest(run_pk=run.pk, batch=batch)
    total = args.runs * args.steps
    from django.db import connection

    with connection.cursor() as cursor:  # as autovacuum would after a bulk load
        cursor.execute("ANALYZE tracking_metric_point")
    print(f"loaded {total:,} points in {time.perf_counter() - started:.1f} s")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = f"/api/v1/projects/bench/hist/metrics/?key=val/acc&max_points={args.max_points}"
    timings = []
    for _ in range(5):
        t0 = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - t0)
        assert response.status_code == 200
    body = response.json()
    assert len(body["runs"]) == args.runs and all(len(r["step"]) <= args.max_points for r in body["runs"])
    print(
        f"{args.runs} runs x {args.steps:,} steps of one key, downsampled to {args.max_points:,} points each: "
        f"{min(timings) * 1000:.0f} ms (best of 5; budget 150 ms)"
    )
    one = body["runs"][0]["run"]
    t0 = time.perf_counter()
    full = client.get(f"/api/v1/runs/{one}/metrics/?key=val/acc")
    print(f"one run at full fidelity ({args.steps:,} points): {(time.perf_counter() - t0) * 1000:.0f} ms")
    assert len(full.json()["metrics"]["val/acc"]["step"]) == args.steps


if __name__ == "__main__":
    main()
