"""The recompute protocol of result rows (`Recomputed`, protocol in models.py), for any app.

Saved comparisons, per-variant statistics and other apps' result rows (benchmark leaderboards)
share these functions: mark stale and queue after commit, claim, store unless superseded,
release on failure.

Result rows of other apps that read metric scores must turn stale in the same transaction as
the change they read, but `stats` may not import those apps (they import `stats`): they
register a `Dependent` here from their AppConfig.ready(), and `stats_mark_stale` and the
requeue sweep (services.py) call every registered one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Case, F, QuerySet, Value, When
from django.utils import timezone

from server.stats.models import Recomputed, Status

logger = logging.getLogger(__name__)


def enqueue_on_commit(send: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    """Queue a task once the current transaction commits (at once outside of one).

    robust: a broker outage must not fail the request that changed the data; the row stays
    pending and the requeue sweep sends it later. (A named function, not a partial: Django
    logs such a failure with the callback's __qualname__.)
    """

    def send_task() -> None:
        send(*args, **kwargs)

    transaction.on_commit(send_task, robust=True)


def mark(queryset: QuerySet[Any], enqueue: Callable[..., None], *arg_fields: str) -> int:
    """Set `pending` on the rows of `queryset` not pending yet, queue one task for each after commit.

    One conditional UPDATE per row, with a rowcount check: of several requests marking the same
    row at once, exactly one sees rowcount 1 and enqueues (the others wait for its row lock, then
    find pending already set). Rows go in pk order, so concurrent marks lock them in one order.
    Returns the number of tasks queued.

    The task runs SEEDBOARD_RECOMPUTE_DELAY_MS after the change: the changes of that moment (the
    other seeds of a sweep finishing, a run's last batch and its finish) find the row pending
    and ride along, so a steady stream of finishing runs recomputes a row about once per delay
    instead of once per run.
    """
    model = queryset.model
    countdown = settings.SEEDBOARD_RECOMPUTE_DELAY_MS / 1000
    now = timezone.now()
    queued = 0
    with transaction.atomic():
        for pk, *args in queryset.filter(pending=False).order_by("pk").values_list("pk", *arg_fields):
            if model._default_manager.filter(pk=pk, pending=False).update(
                pending=True, status=Status.STALE, marked_at=now
            ):
                enqueue_on_commit(enqueue, *args, countdown=countdown)
                queued += 1
    return queued


INTERRUPTED_ERROR = (
    "the computation was stopped {times} times before it finished (out of memory or killed); it is "
    "not retried until its inputs change. Compare fewer variants or tasks, or give the workers "
    "more memory (SEEDBOARD_WORKER_MAX_MEMORY_MB)."
)


def claim(model: type[Recomputed], pk: int) -> int | Literal["nothing", "failed"]:
    """Start a recompute of row `pk`: its claim number, or why there is nothing to compute.

    "nothing": the row is gone, or fresh or failed and not pending (a duplicate message whose
    work another task already did). A redelivered task of a killed worker finds the row
    computing, so it computes again; after SEEDBOARD_STATS_MAX_INTERRUPTED such claims in a row
    it is "failed" instead: the row says why, and only a change of its inputs queues it again.
    """
    with transaction.atomic():
        # UPDATE first: it takes the row lock, so concurrent claims get consecutive numbers. The
        # CASE reads the status before this UPDATE: still computing means the last claim never
        # ended (a change, a finish or a release would have left it stale or fresh).
        claimed = (
            model._default_manager.filter(pk=pk)
            .exclude(pending=False, status__in=(Status.FRESH, Status.FAILED))
            .update(
                pending=False,
                status=Status.COMPUTING,
                claims=F("claims") + 1,
                claimed_at=timezone.now(),
                interrupted=Case(When(status=Status.COMPUTING, then=F("interrupted") + 1), default=Value(0)),
            )
        )
        if not claimed:
            return "nothing"
        claim, interrupted = model._default_manager.filter(pk=pk).values_list("claims", "interrupted").get()
        if interrupted >= settings.SEEDBOARD_STATS_MAX_INTERRUPTED:
            # Computing again would most likely kill this worker too, and the broker would hand
            # the task to the next one: stop here, with the reason where the API shows it.
            model._default_manager.filter(pk=pk).update(
                status=Status.FAILED, error=INTERRUPTED_ERROR.format(times=interrupted)
            )
            logger.error("%s %s failed: stopped %d times before it finished", model.__name__, pk, interrupted)
            return "failed"
        return int(claim)


def finish(model: type[Recomputed], pk: int, claim: int, fields: dict[str, Any], write: Callable[[], None]) -> bool:
    """Store a claim's results unless a later claim stored its own already; True when stored.

    Status afterwards: stale when a change arrived meanwhile (pending again), computing while a
    later claim still runs, else fresh.
    """
    status = Case(
        When(pending=True, then=Value(Status.STALE)),
        When(claims__gt=claim, then=Value(Status.COMPUTING)),
        default=Value(Status.FRESH),
    )
    with transaction.atomic():
        stored = model._default_manager.filter(pk=pk, written_claim__lt=claim).update(
            written_claim=claim, status=status, error="", **fields
        )
        if stored:
            write()
    return bool(stored)


def release(model: type[Recomputed], pk: int, claim: int, error: BaseException) -> None:
    """After a failed recompute: stale with the error, unless a later claim took the row over."""
    try:
        model._default_manager.filter(pk=pk, claims=claim).update(status=Status.STALE, error=repr(error)[:2000])
    except DatabaseError:  # the database itself may be what failed; the retry will tell
        logger.warning("could not record the failure of %s %s", model.__name__, pk, exc_info=True)


def delay_for_tests() -> None:
    if settings.SEEDBOARD_STATS_TEST_DELAY_MS:
        time.sleep(settings.SEEDBOARD_STATS_TEST_DELAY_MS / 1000)


# ---------------------------------------------------------------------------- dependents of metric scores


@dataclass(frozen=True)
class Dependent:
    """A result model of another app that reads the metric scores of projects.

    `mark_stale(project_id, metrics)` marks its rows that read those metrics of that project, or
    any metric of it with None (returns how many tasks it queued); `enqueue(*args, countdown=)`
    queues the recompute of one row, whose arguments are the row's `fields`, as `mark` passes them.
    """

    model: type[Recomputed]
    enqueue: Callable[..., None]
    fields: tuple[str, ...]
    mark_stale: Callable[[int, Collection[str] | None], int]


_dependents: dict[str, Dependent] = {}


def dependent_register(dependent: Dependent) -> None:
    """Register (or replace, by model label: ready() may run twice in tests) a dependent."""
    _dependents[dependent.model._meta.label] = dependent


def dependents() -> list[Dependent]:
    return list(_dependents.values())
