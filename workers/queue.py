"""Queue a task by its name, for services: they need not import `workers.tasks`, which imports them.

The signature resolves the task in the app's registry, so the embedded default still runs it
eagerly (in-process) and a broker setup sends it to Redis.
"""

from __future__ import annotations

from typing import Any

from workers.celery import app


def enqueue(task_name: str, *args: Any) -> None:
    app.signature(task_name, args=args).delay()
