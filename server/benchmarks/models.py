"""Benchmarks: instance-wide task sets with a metric rule, teams' submissions, and leaderboards.

A benchmark belongs to an owner team (whose admins create and edit it) and every signed-in
user reads it. A submission names a variant (by fingerprint) of a project of the submitting
team; the leaderboard reads that variant's finished runs on the benchmark's tasks whenever it
is computed, so later seeds join by themselves. The leaderboard row follows the recompute
protocol of `server.stats.models.Recomputed`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from server.accounts.models import Team, slug_validator
from server.core.jsonvalues import StoredJSONDecoder
from server.stats.models import Goal, Recomputed, Summary
from server.tracking.models import Project


class Benchmark(models.Model):
    slug = models.CharField(max_length=63, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="benchmarks")  # the owner
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    tasks = models.JSONField(decoder=StoredJSONDecoder, default=list)  # sorted task names, at least one
    metric = models.CharField(max_length=250)
    # The summary rule, in the vocabulary of server.stats.models.MetricDefinition.
    goal = models.CharField(max_length=3, choices=Goal.choices)
    summary = models.CharField(max_length=16, choices=Summary.choices, default=Summary.LAST)
    k = models.BigIntegerField(null=True, blank=True)  # mean_last_k only
    step = models.BigIntegerField(null=True, blank=True)  # at_step only
    min_seeds = models.PositiveIntegerField(default=3)
    # Per task {"random": x, "reference": y}, as server.stats.models.Comparison.normalize.
    normalize = models.JSONField(decoder=StoredJSONDecoder, null=True, blank=True)
    open = models.BooleanField(default=True)  # False: only `allowed_teams` may submit
    allowed_teams = models.ManyToManyField(Team, related_name="+", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["-created_at", "-id"], name="benchmark_created")]

    def __str__(self) -> str:
        return self.slug


class Submission(models.Model):
    """A team's entry: one variant of one of its projects, with what it declared.

    Withdrawing keeps the row (`withdrawn_at`) for the audit; only active ones are ranked.
    """

    benchmark = models.ForeignKey(Benchmark, on_delete=models.CASCADE, related_name="submissions")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    variant = models.CharField(max_length=32)  # the fingerprint: the leaderboard reads its runs when computed
    label = models.CharField(max_length=200)
    model = models.CharField(max_length=200)
    config = models.JSONField(decoder=StoredJSONDecoder, default=dict)  # the variant's config when submitted
    budget = models.JSONField(decoder=StoredJSONDecoder, default=dict)  # {"trials": int, "gpu_hours": float}
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            # A variant enters a benchmark once at a time: two concurrent submissions of it
            # race on this index, and the loser gets a 409 instead of a duplicate entry.
            models.UniqueConstraint(
                fields=["benchmark", "project", "variant"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="submission_unique_active_variant",
            )
        ]
        indexes = [
            # The stale mark of a finished run: active submissions of its project.
            models.Index(fields=["project"], condition=models.Q(withdrawn_at__isnull=True), name="submission_active"),
        ]


class Leaderboard(Recomputed):
    """The computed ranking of a benchmark's active submissions (one row per benchmark)."""

    benchmark = models.OneToOneField(Benchmark, on_delete=models.CASCADE, related_name="leaderboard")
    payload = models.JSONField(decoder=StoredJSONDecoder, default=dict)

    class Meta:
        indexes = [models.Index(fields=["marked_at"], condition=models.Q(pending=True), name="leaderboard_pending")]
