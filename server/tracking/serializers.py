"""Request shapes (checked here, acted on by services) and response shapes of the tracking API."""

from __future__ import annotations

import math
from typing import Any

from rest_framework import serializers

from server.accounts.models import Visibility, slug_validator
from server.core.serializers import JSONObjectField, StrictSerializer
from server.tracking.models import Project, Run

MAX_TAGS = 100
INT64 = 2**63


class NoiseKeysField(serializers.ListField):  # type: ignore[type-arg]
    child = serializers.RegexField(r"^[^.\s]+(\.[^.\s]+)*$", max_length=250)
    max_length = 100


class ProjectCreateInput(StrictSerializer):
    team = serializers.CharField(max_length=63)
    slug = serializers.CharField(max_length=63, validators=[slug_validator])
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)
    noise_keys = NoiseKeysField(required=False, default=list)
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PRIVATE)


class ProjectUpdateInput(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    noise_keys = NoiseKeysField(required=False)
    visibility = serializers.ChoiceField(
        choices=Visibility.choices, required=False, help_text="Changing it takes the team's admin role."
    )


class ProjectOutput(serializers.ModelSerializer):  # type: ignore[type-arg]
    path = serializers.CharField()
    team = serializers.CharField(source="team.slug")
    run_count = serializers.IntegerField(required=False)
    role = serializers.CharField(
        required=False, allow_null=True, help_text="The caller's role in the team; `reader` on an internal project."
    )

    class Meta:
        model = Project
        fields = [
            "path",
            "team",
            "slug",
            "name",
            "description",
            "noise_keys",
            "visibility",
            "created_at",
            "run_count",
            "role",
        ]


# Tags and notes read back exactly as written: no whitespace trimming.
class TagsField(serializers.ListField):  # type: ignore[type-arg]
    child = serializers.CharField(max_length=100, trim_whitespace=False)
    max_length = MAX_TAGS


class RunCreateInput(StrictSerializer):
    project = serializers.CharField(max_length=127, help_text="'team/project'; created on first use.")
    id = serializers.UUIDField(required=False, help_text="Client-chosen run id; repeating it is idempotent.")
    name = serializers.CharField(max_length=250, required=False, allow_blank=True, default="")
    model = serializers.CharField(max_length=200, help_text="Model family label, e.g. 'resnet18'.")
    config = JSONObjectField(required=False, default=dict)
    seed = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=-INT64, max_value=INT64 - 1
    )
    task = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    tags = TagsField(required=False, default=list)
    notes = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=100_000, trim_whitespace=False
    )
    metadata = JSONObjectField(required=False, default=dict)
    status = serializers.ChoiceField(choices=Run.Status.choices, required=False, default=Run.Status.RUNNING)


class RunResumeInput(StrictSerializer):
    project = serializers.CharField(max_length=127, help_text="'team/project'; created on first use.")
    mode = serializers.ChoiceField(
        choices=["allow", "must", "never"],
        required=False,
        default="must",
        help_text="must: the run has to exist; allow: resume it or create it with this id; never: the id has "
        "to be new.",
    )
    name = serializers.CharField(max_length=250, required=False, allow_blank=True, default="")
    model = serializers.CharField(max_length=200, help_text="Has to be the stored run's model.")
    config = JSONObjectField(required=False, default=dict, help_text="Has to be the stored run's config.")
    seed = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=-INT64, max_value=INT64 - 1,
        help_text="Has to be the stored run's seed.",
    )  # fmt: skip
    task = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    tags = TagsField(required=False, default=list)
    notes = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=100_000, trim_whitespace=False
    )
    metadata = JSONObjectField(required=False, default=dict)


class RunUpdateInput(StrictSerializer):
    status = serializers.ChoiceField(choices=Run.Status.choices, required=False)
    summary = JSONObjectField(required=False, help_text="Merged into the stored summary; null removes a key.")
    tags = TagsField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=100_000, trim_whitespace=False)
    name = serializers.CharField(max_length=250, required=False, allow_blank=True)
    heartbeat = serializers.BooleanField(required=False, default=False)


class RunOutput(serializers.Serializer):  # type: ignore[type-arg]
    # A plain Serializer: ModelSerializer rebuilds its field mapping on every instantiation,
    # which was most of the CPU of creating a run.
    id = serializers.UUIDField(source="uuid")
    project = serializers.CharField(source="project.path")
    name = serializers.CharField()
    model = serializers.CharField()
    config = serializers.JSONField()
    seed = serializers.IntegerField(allow_null=True)
    task = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    notes = serializers.CharField()
    status = serializers.ChoiceField(choices=Run.Status.choices)
    variant = serializers.CharField(source="variant.fingerprint")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    heartbeat_at = serializers.DateTimeField(allow_null=True)
    metadata = serializers.JSONField()
    summary = serializers.JSONField()


class WireFloatField(serializers.FloatField):
    """A float whose non-finite values are written as "NaN", "Infinity", "-Infinity"."""

    def to_representation(self, value: Any) -> Any:
        number = float(value)
        if math.isfinite(number):
            return number
        return "NaN" if number != number else ("Infinity" if number > 0 else "-Infinity")


class MetricSummaryOutput(serializers.Serializer):  # type: ignore[type-arg]
    count = serializers.IntegerField()
    first_step = serializers.IntegerField()
    last_step = serializers.IntegerField()
    last_value = WireFloatField(allow_null=True, help_text="null when the last value was NaN on SQLite.")
    min = WireFloatField(allow_null=True, help_text="Over non-NaN values; null when all were NaN.")
    max = WireFloatField(allow_null=True)


class RunDetailOutput(RunOutput):
    metrics = serializers.DictField(child=MetricSummaryOutput(), help_text="Per-key summaries of the logged metrics.")


class RunResumeOutput(RunDetailOutput):
    resumed = serializers.BooleanField(help_text="True: an existing run was resumed; false: it was created.")


class RunMetricsField(serializers.DictField):  # type: ignore[type-arg]
    """A run's summaries from the context's `metric_summaries`, {run pk: {key: summary}}, read
    for the whole page in one query; left out of the output when the context has none."""

    def get_attribute(self, instance: Run) -> Any:
        summaries = self.context.get("metric_summaries")
        if summaries is None:
            raise serializers.SkipField
        return summaries.get(instance.pk, {})


class RunListOutput(RunOutput):
    metrics = RunMetricsField(
        child=MetricSummaryOutput(),
        required=False,
        help_text="Only with the `metrics` parameter: the summaries of the keys it names that this run "
        "logged (a key it never logged is absent).",
    )


class RunPageOutput(serializers.Serializer):  # type: ignore[type-arg]
    next = serializers.URLField(allow_null=True)
    results = RunListOutput(many=True)


class ProjectPageOutput(serializers.Serializer):  # type: ignore[type-arg]
    next = serializers.URLField(allow_null=True)
    results = ProjectOutput(many=True)


class NumberOrNonFinite(serializers.JSONField):
    """A number, or one of the strings "NaN", "Infinity", "-Infinity"."""


class MetricColumnsInput(serializers.Serializer):  # type: ignore[type-arg]
    key = serializers.ListField(child=serializers.CharField(max_length=250))
    step = serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=INT64 - 1))
    value = serializers.ListField(child=NumberOrNonFinite())
    time = serializers.ListField(child=serializers.FloatField(), required=False, help_text="Unix seconds.")


class MetricBatchInput(serializers.Serializer):  # type: ignore[type-arg]
    """Documentation only: the batch is parsed by `batches.batch_parse` (one pass per column)."""

    batch_id = serializers.UUIDField(help_text="Client-generated; a repeated batch is stored once.")
    points = MetricColumnsInput(help_text="Equal-length columns, at most 50,000 points.")


class MetricBatchOutput(serializers.Serializer):  # type: ignore[type-arg]
    batch_id = serializers.UUIDField()
    stored = serializers.IntegerField()
    duplicate = serializers.BooleanField()
    already_stored = serializers.IntegerField(
        help_text="Points left out because a resumed run already stored their (key, step); 0 for other runs."
    )


class SeriesOutput(serializers.Serializer):  # type: ignore[type-arg]
    step = serializers.ListField(child=serializers.IntegerField())
    value = serializers.ListField(child=NumberOrNonFinite())
    time = serializers.ListField(child=serializers.FloatField())
    count = serializers.IntegerField(help_text="Points in the step range before downsampling.")
    downsampled = serializers.BooleanField()


class RunHistoryOutput(serializers.Serializer):  # type: ignore[type-arg]
    run = serializers.UUIDField()
    metrics = serializers.DictField(child=SeriesOutput())


class RunSeriesOutput(SeriesOutput):
    run = serializers.UUIDField()


class ProjectHistoryOutput(serializers.Serializer):  # type: ignore[type-arg]
    key = serializers.CharField()
    runs = RunSeriesOutput(many=True)


class HistoryQuery(StrictSerializer):
    max_points = serializers.IntegerField(required=False, min_value=2, max_value=1_000_000)
    min_step = serializers.IntegerField(required=False, min_value=0, max_value=INT64 - 1)
    max_step = serializers.IntegerField(required=False, min_value=0, max_value=INT64 - 1)

    def to_internal_value(self, data: Any) -> Any:
        # Only the scalar parameters are checked here; key/run lists are read by the view.
        scalars = {name: data[name] for name in self.fields if name in data}
        return super().to_internal_value(scalars)


class VariantOutput(serializers.Serializer):  # type: ignore[type-arg]
    variant = serializers.CharField(source="fingerprint")
    # A field named like Field.label, which mypy takes for an override.
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="The model plus the config values that tell it from the project's other variants of that model."
    )
    model = serializers.CharField()
    config = serializers.JSONField(help_text="The config that defines the variant: without seed and noise keys.")
    n_runs = serializers.IntegerField()
    n_finished = serializers.IntegerField(help_text="Finished runs: the seeds a comparison counts.")
    created_at = serializers.DateTimeField()


class VariantPageOutput(serializers.Serializer):  # type: ignore[type-arg]
    next = serializers.URLField(allow_null=True)
    results = VariantOutput(many=True)
