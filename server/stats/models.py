"""Statistics state: metric definitions, maintained per-variant statistics, saved comparisons.

Results are JSON documents computed by Celery workers (see services.py). Each result row
carries how current it is, and the recompute protocol of `Recomputed` keeps one recompute
per row queued at a time:

- A change marks the row stale: `pending` goes from false to true in a conditional UPDATE,
  and only the transaction that flipped it enqueues a task, after commit. A later change finds
  `pending` already true and enqueues nothing, because the queued task has not started yet and
  will read that change too: a burst of 500 finishing runs queues one task, not 500.
- The task claims the row (`pending` false, `status` computing, `claims` + 1) before it reads
  its inputs; a change after that flips `pending` again and queues the next task.
- The task writes only if no later claim has written already (`written_claim`), so a slow
  older task never replaces newer results; `status` becomes fresh, or stays stale when a
  change arrived meanwhile.
- A claim that finds the row still `computing` follows one that never ended: its worker was
  killed (out of memory, SIGKILL) and the broker re-delivered the task. `interrupted` counts
  such claims in a row (a change, a finish or a recorded error resets it, as they leave the row
  stale or fresh). The claim that would be the third attempt after two interrupted ones
  (`SEEDBOARD_STATS_MAX_INTERRUPTED`) computes nothing: the row becomes `failed` with a readable
  `error`, so a computation that kills its worker is not re-delivered forever. The next change
  of its inputs queues it again.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from server.accounts.models import Team
from server.core.jsonvalues import StoredJSONDecoder
from server.tracking.models import Project


class Goal(models.TextChoices):
    MAX = "max"
    MIN = "min"


class Summary(models.TextChoices):
    LAST = "last"
    BEST = "best"
    MIN = "min"
    MAX = "max"
    MEAN_LAST_K = "mean_last_k"
    AT_STEP = "at_step"


class Status(models.TextChoices):
    FRESH = "fresh"
    STALE = "stale"  # inputs changed; a recompute is queued
    COMPUTING = "computing"
    FAILED = "failed"  # stopped twice without finishing; waits for a change of its inputs


class MetricDefinition(models.Model):
    """A project's declared direction and summary rule for one metric key.

    `key` is the metric's name, not a MetricKey id: a script may declare a metric before it
    logs the first point of it.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="metric_definitions")
    key = models.CharField(max_length=250)
    goal = models.CharField(max_length=3, choices=Goal.choices)
    summary = models.CharField(max_length=16, choices=Summary.choices, default=Summary.LAST)
    k = models.BigIntegerField(null=True, blank=True)  # mean_last_k only
    step = models.BigIntegerField(null=True, blank=True)  # at_step only
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "key"], name="metric_definition_unique_project_key")]


class Recomputed(models.Model):
    """Freshness and recompute bookkeeping of a result row (protocol in the module docstring)."""

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STALE)
    pending = models.BooleanField(default=False)  # a recompute is queued and has not started
    marked_at = models.DateTimeField(null=True, blank=True)  # when `pending` was last set
    claimed_at = models.DateTimeField(null=True, blank=True)
    claims = models.PositiveIntegerField(default=0)  # recomputes started, ever
    written_claim = models.PositiveIntegerField(default=0)  # the claim whose results are stored
    interrupted = models.PositiveIntegerField(default=0)  # claims in a row whose worker never ended them
    computed_at = models.DateTimeField(null=True, blank=True)
    # blake2b of everything the results depend on: a recompute with an equal one writes nothing.
    inputs_fingerprint = models.CharField(max_length=64, blank=True)
    method_version = models.CharField(max_length=20, blank=True)
    bootstrap_seed = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)  # why the last recompute failed, if it did

    class Meta:
        abstract = True


class MetricStats(Recomputed):
    """Per-variant statistics of one metric of a project, for every task; one recompute writes them all."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="metric_stats")
    metric = models.CharField(max_length=250)
    # The rule the stored results were computed with (the definition may have changed since).
    goal = models.CharField(max_length=3, choices=Goal.choices, blank=True)
    summary = models.CharField(max_length=16, choices=Summary.choices, blank=True)
    k = models.BigIntegerField(null=True, blank=True)
    step = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "metric"], name="metric_stats_unique_project_metric")]
        indexes = [
            # The requeue sweep looks only at rows waiting for a recompute: a small partial index.
            models.Index(fields=["marked_at"], condition=models.Q(pending=True), name="metric_stats_pending"),
        ]


class VariantStatsResult(models.Model):
    """The per-variant statistics of one (project, metric, task): a list of variant blocks."""

    stats = models.ForeignKey(MetricStats, on_delete=models.CASCADE, related_name="results")
    task = models.CharField(max_length=200, blank=True)
    payload = models.JSONField(decoder=StoredJSONDecoder, default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["stats", "task"], name="variant_stats_unique_stats_task")]


class Comparison(Recomputed):
    """A saved, shareable comparison of variants on one metric, within or across projects.

    A bigint key for keyset pagination; the UUID is the public id.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="comparisons")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    metric = models.CharField(max_length=250)
    projects = models.ManyToManyField(Project, related_name="comparisons")
    # The selection: variant fingerprints, or model names, or neither (every variant).
    variants = models.JSONField(decoder=StoredJSONDecoder, null=True, blank=True)
    model_names = models.JSONField(decoder=StoredJSONDecoder, null=True, blank=True)
    task = models.CharField(max_length=200, null=True, blank=True)  # None: every task
    baseline = models.CharField(max_length=32, null=True, blank=True)
    # Per-task {"random": x, "reference": y}: benchmark scores normalised to (x - random)/(reference - random).
    normalize = models.JSONField(decoder=StoredJSONDecoder, null=True, blank=True)
    payload = models.JSONField(decoder=StoredJSONDecoder, default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="comparison_created"),
            models.Index(fields=["marked_at"], condition=models.Q(pending=True), name="comparison_pending"),
        ]
