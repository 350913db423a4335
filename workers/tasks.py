"""Thin tasks: JSON arguments, one service call, idempotent bodies (tasks are acks_late).

Only the database's transient errors are retried; anything else is a bug to see in the logs
(the statistics row keeps the error and stays stale; a run's overviews stay out of date, so
its histories are read from the raw points).
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from server.benchmarks import services as benchmark_services
from server.stats import changes
from server.stats import services as stats_services
from server.tracking import services as tracking_services

RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_jitter": True,
    "max_retries": 5,
    "acks_late": True,
}


@shared_task(name="seedboard.runs_mark_crashed", **RETRY)
def runs_mark_crashed() -> int:
    """Mark running runs whose heartbeat stopped as crashed, and their statistics stale; returns how many."""
    return len(changes.runs_mark_crashed())


@shared_task(name="seedboard.overviews_build", ignore_result=True, **RETRY)
def overviews_build(run_id: int) -> int:
    """Build the history overviews of a run's long series that are missing or out of date."""
    return tracking_services.metric_overviews_build(run_pk=run_id)


@shared_task(name="seedboard.overviews_requeue", **RETRY)
def overviews_requeue() -> int:
    """Queue again the overview builds that a broker outage or a lost message left behind; returns how many."""
    return tracking_services.overviews_requeue()


@shared_task(name="seedboard.stats_recompute", ignore_result=True, **RETRY)
def stats_recompute(project_id: int, metric: str) -> str:
    """Recompute the per-variant statistics of one metric of a project (all its tasks)."""
    return stats_services.stats_recompute(project_id=project_id, metric=metric)


@shared_task(name="seedboard.comparison_recompute", ignore_result=True, **RETRY)
def comparison_recompute(comparison_id: str) -> str:
    """Recompute a saved comparison."""
    return stats_services.comparison_recompute(comparison_id=comparison_id)


@shared_task(name="seedboard.leaderboard_recompute", ignore_result=True, **RETRY)
def leaderboard_recompute(benchmark_id: int) -> str:
    """Recompute a benchmark's leaderboard."""
    return benchmark_services.leaderboard_recompute(benchmark_id=benchmark_id)


@shared_task(name="seedboard.stats_requeue", **RETRY)
def stats_requeue() -> int:
    """Queue again the recomputes that a broker outage or a lost worker left behind; returns how many."""
    return stats_services.stats_requeue()
