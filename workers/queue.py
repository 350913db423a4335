"""Queue a task by its name, for services: they need not import `workers.tasks`, which imports them.

The task comes from the app's registry (filled when Django starts, server/core/apps.py), so the
embedded default still runs it eagerly (in-process) and a broker setup sends it to Redis. An
unknown name is a KeyError here, not a message no worker understands.
"""

from __future__ import annotations

from typing import Any

from workers.celery import app


def enqueue(task_name: str, *args: Any, countdown: float = 0.0) -> None:
    """Send the task; with `countdown`, a worker runs it no sooner than that many seconds later
    (the embedded default, which runs tasks in-process, runs it at once)."""
    app.tasks[task_name].apply_async(args, countdown=countdown or None)
