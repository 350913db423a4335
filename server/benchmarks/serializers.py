"""Request shapes (checked here, acted on by services) and response shapes of the benchmarks API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from server.accounts.models import slug_validator
from server.core.jsonvalues import json_value_check
from server.core.serializers import StrictSerializer
from server.stats.models import Goal, Status, Summary
from server.stats.serializers import (
    INT64,
    MAX_NORMALIZED_TASKS,
    ComparisonVariantOutput,
    FingerprintField,
    PairOutput,
    RankingOutput,
    TaskNormalizationInput,
    TaskNormalizationOutput,
)

MAX_TASKS = 100
MAX_TEAMS = 200
MAX_MIN_SEEDS = 1000


def _task_field() -> serializers.CharField:
    # Task names are taken exactly as logged: no whitespace trimming.
    return serializers.CharField(max_length=200, allow_blank=True, trim_whitespace=False)


def _slug_field(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(max_length=63, validators=[slug_validator], **kwargs)


class _BenchmarkFields(StrictSerializer):
    """The editable fields; creation adds the owner team and the slug and requires some."""

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10_000, allow_blank=True, required=False)
    tasks = serializers.ListField(
        child=_task_field(), min_length=1, max_length=MAX_TASKS, help_text="The task names runs are logged with."
    )
    metric = serializers.CharField(max_length=250, trim_whitespace=False)
    goal = serializers.ChoiceField(
        choices=Goal.choices, required=False, allow_null=True, help_text="Default: from the metric's name."
    )
    summary = serializers.ChoiceField(choices=Summary.choices, required=False)
    k = serializers.IntegerField(
        min_value=1, max_value=INT64 - 1, required=False, allow_null=True, help_text="mean_last_k only."
    )
    step = serializers.IntegerField(
        min_value=0, max_value=INT64 - 1, required=False, allow_null=True, help_text="at_step only."
    )
    min_seeds = serializers.IntegerField(
        min_value=2, max_value=MAX_MIN_SEEDS, required=False, help_text="Finished seeds per task a submission needs."
    )
    normalize = serializers.DictField(
        child=TaskNormalizationInput(),
        allow_empty=False,
        required=False,
        allow_null=True,
        help_text="Per task {random, reference}: the cross-task aggregate uses (x - random)/(reference - random).",
    )
    open = serializers.BooleanField(required=False, help_text="false: only the listed `teams` may submit.")
    teams = serializers.ListField(
        child=_slug_field(), max_length=MAX_TEAMS, required=False, help_text="Teams allowed to submit when not open."
    )

    def validate_normalize(self, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and (len(value) > MAX_NORMALIZED_TASKS or any(len(task) > 200 for task in value)):
            raise serializers.ValidationError(f"At most {MAX_NORMALIZED_TASKS} tasks of at most 200 characters.")
        if value is not None:
            json_value_check(value, field="normalize")
        return value

    def validate_tasks(self, value: list[str]) -> list[str]:
        json_value_check(value, field="tasks")  # no NUL
        return value


class BenchmarkCreateInput(_BenchmarkFields):
    team = _slug_field(help_text="The owner team; you must be one of its admins.")
    slug = _slug_field()


class BenchmarkUpdateInput(_BenchmarkFields):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every field optional, but not `partial=True`: that would also let a nested
        # normalisation without its `reference` through.
        for field in self.fields.values():
            field.required = False


class BudgetInput(StrictSerializer):
    trials = serializers.IntegerField(
        min_value=1, max_value=10**9, required=False, allow_null=True, help_text="Configurations tried while tuning."
    )
    gpu_hours = serializers.FloatField(
        min_value=0, max_value=1e9, required=False, allow_null=True, help_text="GPU hours spent tuning and training."
    )


class SubmissionCreateInput(StrictSerializer):
    project = serializers.CharField(max_length=127, help_text="'team/project': a project of your team.")
    variant = FingerprintField()
    label = serializers.CharField(  # type: ignore[assignment]
        max_length=200, required=False, allow_null=True, help_text="Default: the variant's label in its project."
    )
    budget = BudgetInput(required=False, help_text="The declared tuning budget.")

    def validate_label(self, value: str | None) -> str | None:
        if value is not None:
            json_value_check(value, field="label")
        return value


class PageQuery(StrictSerializer):
    cursor = serializers.CharField(max_length=1000, required=False)
    page_size = serializers.IntegerField(min_value=1, max_value=500, required=False, default=50)


class SubmissionListQuery(PageQuery):
    withdrawn = serializers.BooleanField(required=False, default=False, help_text="Include withdrawn submissions.")


# ---------------------------------------------------------------------------- outputs


class BenchmarkOutput(serializers.Serializer):  # type: ignore[type-arg]
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    team = serializers.CharField(help_text="The owner team.")
    tasks = serializers.ListField(child=serializers.CharField(allow_blank=True))
    metric = serializers.CharField()
    goal = serializers.ChoiceField(choices=Goal.choices)
    summary = serializers.ChoiceField(choices=Summary.choices)
    k = serializers.IntegerField(allow_null=True)
    step = serializers.IntegerField(allow_null=True)
    min_seeds = serializers.IntegerField()
    normalize = serializers.DictField(child=TaskNormalizationOutput(), allow_null=True)
    open = serializers.BooleanField()
    teams = serializers.ListField(child=serializers.CharField(), help_text="Teams allowed to submit when not open.")
    n_submissions = serializers.IntegerField(help_text="Active submissions.")
    status = serializers.ChoiceField(choices=Status.choices, help_text="The leaderboard's.")
    created_at = serializers.DateTimeField()


class BenchmarkPageOutput(serializers.Serializer):  # type: ignore[type-arg]
    next = serializers.URLField(allow_null=True)
    results = BenchmarkOutput(many=True)


class BudgetOutput(serializers.Serializer):  # type: ignore[type-arg]
    trials = serializers.IntegerField(required=False)
    gpu_hours = serializers.FloatField(required=False)


class SubmissionOutput(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    team = serializers.CharField()
    # A field named like Field.label, which mypy takes for an override.
    label = serializers.CharField()  # type: ignore[assignment]
    model = serializers.CharField()
    variant = serializers.CharField(help_text="The variant fingerprint.")
    config = serializers.JSONField(help_text="The variant's config when it was submitted.")
    budget = BudgetOutput()
    project = serializers.CharField(allow_null=True, help_text="'team/project'; null unless you may read it.")
    submitted_by = serializers.CharField(allow_null=True)
    submitted_at = serializers.DateTimeField()
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    n_seeds = serializers.DictField(
        child=serializers.IntegerField(),
        allow_null=True,
        help_text="Finished seeds with a finite score per task, as of the last computation (null before).",
    )


class SubmissionPageOutput(serializers.Serializer):  # type: ignore[type-arg]
    next = serializers.URLField(allow_null=True)
    results = SubmissionOutput(many=True)


class LeaderboardFailedRunOutput(serializers.Serializer):  # type: ignore[type-arg]
    run = serializers.UUIDField(allow_null=True, help_text="null unless you may read the project.")
    status = serializers.CharField()
    reason = serializers.ChoiceField(choices=["failed", "crashed", "missing", "nonfinite"])


class LeaderboardBlockOutput(ComparisonVariantOutput):
    failed_runs = LeaderboardFailedRunOutput(many=True, help_text="Failed, crashed, missing and non-finite runs.")  # type: ignore[assignment]
    submission = serializers.IntegerField()
    team = serializers.CharField()
    fingerprint = serializers.CharField(help_text="The submitted variant; `variant` names the entry.")


class LeaderboardOutput(serializers.Serializer):  # type: ignore[type-arg]
    status = serializers.ChoiceField(choices=Status.choices)
    computed_at = serializers.DateTimeField(allow_null=True)
    method_version = serializers.CharField(allow_null=True)
    bootstrap_seed = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_null=True, help_text="Why the last recompute failed, if it did.")
    metric = serializers.CharField()
    goal = serializers.ChoiceField(choices=Goal.choices)
    summary = serializers.ChoiceField(choices=Summary.choices)
    k = serializers.IntegerField(allow_null=True)
    step = serializers.IntegerField(allow_null=True)
    tasks = serializers.ListField(child=serializers.CharField(allow_blank=True))
    warnings = serializers.ListField(child=serializers.CharField())
    submissions = SubmissionOutput(many=True, help_text="The active submissions.")
    variants = LeaderboardBlockOutput(
        many=True,
        help_text=(
            "Per submission and task: seed scores and statistics. `variant` is the submission id as text; "
            "`projects` and run ids are empty unless you may read the project."
        ),
    )
    pairs = PairOutput(many=True)
    ranking = RankingOutput(allow_null=True)
    benchmark = serializers.DictField(
        allow_null=True, help_text="server.analysis' BenchmarkResult over the tasks when there are several."
    )
