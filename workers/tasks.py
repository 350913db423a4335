"""Thin tasks: JSON arguments, one service call, idempotent bodies (tasks are acks_late)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from server.tracking import services


@shared_task(
    name="seedboard.runs_mark_crashed",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def runs_mark_crashed() -> int:
    """Mark running runs whose heartbeat stopped as crashed; returns how many."""
    return services.runs_mark_crashed()
