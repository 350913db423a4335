"""Tracking data: projects, variants, runs and the metric tables.

The metric points table itself is not a Django model: it has no primary key (a second
index would double its write cost) and is only written by COPY and read by range scans,
so `server/tracking/points.py` owns it with plain SQL (created in migration 0002).
"""

from __future__ import annotations

import uuid

from django.db import models

from server.accounts.models import Team, Visibility, slug_validator
from server.core.jsonvalues import StoredJSONDecoder


class Project(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="projects")
    slug = models.CharField(max_length=63, validators=[slug_validator])
    name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    # Dotted config paths that do not define a variant (e.g. "data.num_workers").
    noise_keys = models.JSONField(decoder=StoredJSONDecoder, default=list, blank=True)
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "slug"], name="project_unique_team_slug")]

    @property
    def path(self) -> str:
        return f"{self.team.slug}/{self.slug}"

    def __str__(self) -> str:
        return self.path


class Variant(models.Model):
    """The seeds of one model variant: runs sharing model and config apart from seed and noise keys."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="variants")
    fingerprint = models.CharField(max_length=32)
    model = models.CharField(max_length=200)
    # The config that defines the variant: seed and noise keys removed, canonical form.
    config = models.JSONField(decoder=StoredJSONDecoder, default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "fingerprint"], name="variant_unique_project_fingerprint")
        ]


class Run(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        FINISHED = "finished"
        FAILED = "failed"
        CRASHED = "crashed"

    # A bigint key keeps the points table narrow; the UUID is the public, client-generated id.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="runs")
    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, related_name="runs")
    name = models.CharField(max_length=250, blank=True)
    model = models.CharField(max_length=200)
    config = models.JSONField(decoder=StoredJSONDecoder, default=dict, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    task = models.CharField(max_length=200, blank=True)
    tags = models.JSONField(decoder=StoredJSONDecoder, default=list, blank=True)
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    metadata = models.JSONField(decoder=StoredJSONDecoder, default=dict, blank=True)
    summary = models.JSONField(decoder=StoredJSONDecoder, default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Set when a client resumed the run (see resume.py): from then on ingestion rejects points
    # at steps already stored, so a restarted training loop cannot store a step twice.
    resumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The run list: a project's runs, newest first (keyset pagination on (created_at, id)).
            models.Index(fields=["project", "-created_at", "-id"], name="run_project_created"),
            models.Index(fields=["project", "model"], name="run_project_model"),
            models.Index(fields=["variant", "status"], name="run_variant_status"),
        ]

    def __str__(self) -> str:
        return f"{self.uuid} ({self.model})"


class MetricKey(models.Model):
    """Key dictionary: points store a 4-byte id instead of repeating `train/loss` a billion times."""

    name = models.CharField(max_length=250, unique=True)


class MetricSummary(models.Model):
    """Per (run, key): maintained in the same transaction as every ingested batch."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="metric_summaries")
    key = models.ForeignKey(MetricKey, on_delete=models.PROTECT, related_name="+")
    count = models.BigIntegerField()
    first_step = models.BigIntegerField()
    last_step = models.BigIntegerField()
    last_value = models.FloatField(null=True)
    # Over non-NaN values; null while every value was NaN.
    min_value = models.FloatField(null=True)
    max_value = models.FloatField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="metric_summary_unique_run_key")]


class MetricOverview(models.Model):
    """Per (run, key) of a long series and grid level: a stored min/max downsample (see overviews.py).

    Current while `count` equals the MetricSummary's count: points are only ever added (and the
    summary counts them in the same transaction), so an equal count means that no point arrived
    since the overview was built. Rows are written by workers (services.metric_overviews_build).
    """

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="+")
    key = models.ForeignKey(MetricKey, on_delete=models.PROTECT, related_name="+")
    level = models.SmallIntegerField()  # buckets of 2**level steps
    count = models.BigIntegerField()  # points it was built from
    first_step = models.BigIntegerField()
    last_step = models.BigIntegerField()
    payload = models.BinaryField()
    built_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "key", "level"], name="metric_overview_unique_run_key_level")
        ]


class OverviewBuild(models.Model):
    """A queued build of a run's overviews: the row exists from the mark until a worker starts it.

    Its existence coalesces marks: only the request that inserts it queues a task (see
    services.overviews_mark), so a burst of late batches queues one build.
    """

    run = models.OneToOneField(Run, on_delete=models.CASCADE, primary_key=True, related_name="+")
    marked_at = models.DateTimeField()


class IngestBatch(models.Model):
    """A stored metric batch; its unique (run, batch_id) makes retried uploads idempotent."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="+")
    batch_id = models.UUIDField()
    points = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "batch_id"], name="ingest_batch_unique_run_batch")]
