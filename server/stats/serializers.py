"""Request shapes (checked here, acted on by services) and response shapes of the statistics API.

The output serializers document the responses in the OpenAPI schema; the views return the
stored documents as they are (their fields are the `to_dict()` of server.analysis' results),
so only the main fields are listed and objects may carry more.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from server.core.jsonvalues import json_value_check
from server.core.serializers import StrictSerializer
from server.stats.models import Goal, Status, Summary

INT64 = 2**63
FINGERPRINT = r"^[0-9a-f]{32}$"
MAX_CURVE_POINTS = 2000
MAX_TUNING_GRID = 1000
MAX_NORMALIZED_TASKS = 1000


class FingerprintField(serializers.RegexField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "A variant fingerprint (32 hex digits).")
        super().__init__(FINGERPRINT, **kwargs)


def _metric_field(**kwargs: Any) -> serializers.CharField:
    # Keys are taken exactly as logged: no whitespace trimming.
    return serializers.CharField(max_length=250, trim_whitespace=False, **kwargs)


def _task_field(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(max_length=200, allow_blank=True, trim_whitespace=False, **kwargs)


# ---------------------------------------------------------------------------- inputs


class MetricDefinitionInput(StrictSerializer):
    key = _metric_field()
    goal = serializers.ChoiceField(
        choices=Goal.choices,
        required=False,
        allow_null=True,
        default=None,
        help_text="Default: min for keys containing loss, error, err, mse, mae, rmse or perplexity, else max.",
    )
    summary = serializers.ChoiceField(choices=Summary.choices, required=False, default=Summary.LAST)
    k = serializers.IntegerField(
        min_value=1, max_value=INT64 - 1, required=False, allow_null=True, default=None, help_text="mean_last_k only."
    )
    step = serializers.IntegerField(
        min_value=0, max_value=INT64 - 1, required=False, allow_null=True, default=None, help_text="at_step only."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name, summary in (("k", Summary.MEAN_LAST_K), ("step", Summary.AT_STEP)):
            if attrs["summary"] == summary and attrs[name] is None:
                raise serializers.ValidationError({name: [f"Required with summary {summary}."]})
            if attrs["summary"] != summary and attrs[name] is not None:
                raise serializers.ValidationError({name: [f"Only used with summary {summary}."]})
        return attrs


class VariantStatsQuery(StrictSerializer):
    metric = _metric_field()
    task = _task_field(required=False)
    include = serializers.ChoiceField(
        choices=["charts"], required=False, help_text="charts: add the web UI's Vega-Lite chart specs (`charts`)."
    )


class CurvesQuery(StrictSerializer):
    metric = _metric_field()
    task = _task_field(required=False)
    variant = serializers.ListField(child=FingerprintField(), required=False, max_length=200)
    points = serializers.IntegerField(min_value=2, max_value=MAX_CURVE_POINTS, required=False, default=200)
    include = serializers.ChoiceField(
        choices=["charts"], required=False, help_text="charts: add the web UI's Vega-Lite chart specs (`charts`)."
    )


class TuningQuery(StrictSerializer):
    """The tuning endpoint's own parameters; the others are run-list filters (server/tracking/filters.py)."""

    metric = _metric_field()
    per = serializers.ChoiceField(
        choices=["run", "variant"], required=False, default="run", help_text="What one trial is."
    )
    max_trials = serializers.IntegerField(
        min_value=1,
        max_value=MAX_TUNING_GRID,
        required=False,
        allow_null=True,
        default=None,
        help_text="The curve for n = 1..max_trials (default: the number of trials).",
    )


class TaskNormalizationInput(StrictSerializer):
    random = serializers.FloatField(help_text="The score that normalises to 0 (e.g. a random policy).")
    reference = serializers.FloatField(help_text="The score that normalises to 1 (e.g. a human or a published model).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["random"] == attrs["reference"]:
            raise serializers.ValidationError({"reference": ["Must differ from random."]})
        return attrs


class ComparisonCreateInput(StrictSerializer):
    metric = _metric_field()
    projects = serializers.ListField(
        child=serializers.CharField(max_length=127), min_length=1, max_length=20, help_text="'team/project' each."
    )
    variants = serializers.ListField(
        child=FingerprintField(), min_length=1, max_length=500, required=False, allow_null=True, default=None
    )
    models = serializers.ListField(
        child=serializers.CharField(max_length=200),
        min_length=1,
        max_length=100,
        required=False,
        allow_null=True,
        default=None,
        help_text="Model names; instead of variants.",
    )
    task = _task_field(required=False, allow_null=True, default=None, help_text="null: every task.")
    baseline = FingerprintField(required=False, allow_null=True, default=None)
    normalize = serializers.DictField(
        child=TaskNormalizationInput(),
        allow_empty=False,
        required=False,
        allow_null=True,
        default=None,
        help_text=(
            "Per task {random, reference}: the cross-task benchmark uses (x - random)/(reference - random), "
            "so 0 is random and 1 the reference; tasks without one are left out of it."
        ),
    )

    def validate_normalize(self, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and (len(value) > MAX_NORMALIZED_TASKS or any(len(task) > 200 for task in value)):
            raise serializers.ValidationError(f"At most {MAX_NORMALIZED_TASKS} tasks of at most 200 characters.")
        if value is not None:
            json_value_check(value, field="normalize")  # task names are free keys: no NUL
        return value


class ComparisonListQuery(StrictSerializer):
    project = serializers.CharField(max_length=127, required=False)
    cursor = serializers.CharField(max_length=1000, required=False)
    page_size = serializers.IntegerField(min_value=1, max_value=500, required=False, default=50)


# ---------------------------------------------------------------------------- outputs


def _number() -> serializers.FloatField:
    """A statistic: a finite number, or null when it cannot be computed (see `reasons`)."""
    return serializers.FloatField(allow_null=True)


def _numbers() -> serializers.ListField:  # type: ignore[type-arg]
    return serializers.ListField(child=serializers.FloatField(allow_null=True))


def _reasons() -> serializers.DictField:  # type: ignore[type-arg]
    return serializers.DictField(child=serializers.CharField(), help_text="Why a field is null.")


class MetricDefinitionOutput(serializers.Serializer):  # type: ignore[type-arg]
    key = serializers.CharField()
    goal = serializers.ChoiceField(choices=Goal.choices)
    summary = serializers.ChoiceField(choices=Summary.choices)
    k = serializers.IntegerField(allow_null=True)
    step = serializers.IntegerField(allow_null=True)
    declared = serializers.BooleanField(help_text="false: a logged key shown with its default rule.")


class MetricDefinitionListOutput(serializers.Serializer):  # type: ignore[type-arg]
    results = MetricDefinitionOutput(many=True)


class FailedRunOutput(serializers.Serializer):  # type: ignore[type-arg]
    run = serializers.UUIDField()
    status = serializers.CharField()
    reason = serializers.ChoiceField(choices=["failed", "crashed", "missing", "nonfinite"])


class VariantBlockOutput(serializers.Serializer):  # type: ignore[type-arg]
    variant = serializers.CharField()
    # A field named like Field.label, which mypy takes for an override.
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="The model plus the config values that tell its variants apart."
    )
    model = serializers.CharField()
    config = serializers.JSONField()
    task = serializers.CharField(allow_blank=True)
    runs = serializers.ListField(child=serializers.UUIDField(), help_text="Scored runs, in score order.")
    seeds = serializers.ListField(child=serializers.IntegerField(allow_null=True))
    scores = serializers.ListField(child=serializers.FloatField(allow_null=True), help_text="null: non-finite.")
    failed_runs = FailedRunOutput(many=True, help_text="Failed, crashed, missing and non-finite runs.")
    n_missing = serializers.IntegerField()
    n = serializers.IntegerField()
    n_failed = serializers.IntegerField(help_text="Failed, crashed, missing and non-finite runs.")
    n_nonfinite = serializers.IntegerField()
    mean = _number()
    std = _number()
    sem = _number()
    median = _number()
    iqm = _number()
    min = _number()
    max = _number()
    q1 = _number()
    q3 = _number()
    mad = _number()
    ci_low = _number()
    ci_high = _number()
    mean_boot_ci_low = _number()
    mean_boot_ci_high = _number()
    median_ci_low = _number()
    median_ci_high = _number()
    iqm_ci_low = _number()
    iqm_ci_high = _number()
    bootstrap_approximate = serializers.BooleanField()
    outliers = serializers.ListField(child=serializers.IntegerField(), help_text="Positions in `runs`.")
    shapiro_p = _number()
    mde = _number()
    n_boot = serializers.IntegerField()
    seed = serializers.IntegerField(help_text="The bootstrap seed.")
    method_version = serializers.CharField()
    reasons = _reasons()
    reason = serializers.CharField(allow_null=True)


class VariantStatsOutput(serializers.Serializer):  # type: ignore[type-arg]
    charts = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Only with include=charts: Vega-Lite specs by name, drawn as the web UI draws them.",
    )
    metric = serializers.CharField()
    goal = serializers.ChoiceField(choices=Goal.choices)
    summary = serializers.ChoiceField(choices=Summary.choices)
    k = serializers.IntegerField(allow_null=True)
    step = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=Status.choices)
    computed_at = serializers.DateTimeField(allow_null=True)
    method_version = serializers.CharField(allow_null=True)
    bootstrap_seed = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_null=True, help_text="Why the last recompute failed, if it did.")
    results = VariantBlockOutput(many=True)


class CurveOutput(serializers.Serializer):  # type: ignore[type-arg]
    variant = serializers.CharField()
    model = serializers.CharField()
    task = serializers.CharField(allow_blank=True)
    runs = serializers.ListField(child=serializers.UUIDField())
    steps = serializers.ListField(child=serializers.FloatField())
    mean = _numbers()
    std = _numbers()
    ci_low = _numbers()
    ci_high = _numbers()
    n = serializers.ListField(child=serializers.IntegerField(), help_text="Runs present at each step.")
    complete = serializers.ListField(child=serializers.BooleanField(), help_text="Every run present.")
    intersection_low = _number()
    intersection_high = _number()
    n_runs = serializers.IntegerField()
    n_runs_used = serializers.IntegerField()
    level = serializers.FloatField()
    method_version = serializers.CharField()
    reasons = _reasons()


class CurvesOutput(serializers.Serializer):  # type: ignore[type-arg]
    charts = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Only with include=charts: Vega-Lite specs by name, drawn as the web UI draws them.",
    )
    metric = serializers.CharField()
    curves = CurveOutput(many=True)


class TrialOutput(serializers.Serializer):  # type: ignore[type-arg]
    run = serializers.UUIDField(allow_null=True, help_text="The run (per=run); null per variant.")
    variant = serializers.CharField()
    model = serializers.CharField()
    config = serializers.JSONField()
    runs = serializers.ListField(child=serializers.UUIDField(), help_text="The scored runs behind the value.")
    n_seeds = serializers.IntegerField()
    value = serializers.FloatField(help_text="The run's score, or the mean of the variant's scored seeds.")
    runtime = serializers.FloatField(allow_null=True, help_text="Seconds from start to end (summed per variant).")


class TuningOutput(serializers.Serializer):  # type: ignore[type-arg]
    metric = serializers.CharField()
    goal = serializers.ChoiceField(choices=Goal.choices)
    summary = serializers.ChoiceField(choices=Summary.choices)
    k = serializers.IntegerField(allow_null=True)
    step = serializers.IntegerField(allow_null=True)
    per = serializers.ChoiceField(choices=["run", "variant"])
    task = serializers.CharField(allow_null=True, allow_blank=True, help_text="null: no run selected.")
    n = serializers.IntegerField(help_text="Trials.")
    n_failed = serializers.IntegerField(help_text="Failed, crashed, missing and non-finite runs.")
    runs = serializers.ListField(child=serializers.UUIDField(), help_text="Every scored run used.")
    trials = TrialOutput(many=True)
    best = TrialOutput(allow_null=True)
    failed_runs = FailedRunOutput(many=True)
    n_trials = serializers.ListField(child=serializers.IntegerField(), help_text="The x axis: number of trials.")
    expected = _numbers()
    sd = _numbers()
    band_low = _numbers()
    band_high = _numbers()
    expected_without_replacement = _numbers()
    budget = serializers.ListField(
        child=serializers.FloatField(), allow_null=True, help_text="n_trials x mean_runtime (seconds)."
    )
    mean_runtime = _number()
    methods = serializers.DictField(child=serializers.CharField())
    method_version = serializers.CharField()
    reasons = _reasons()


class PairOutput(serializers.Serializer):  # type: ignore[type-arg]
    task = serializers.CharField(allow_blank=True)
    a = serializers.CharField()
    b = serializers.CharField()
    n_a = serializers.IntegerField()
    n_b = serializers.IntegerField()
    goal = serializers.ChoiceField(choices=Goal.choices)
    paired = serializers.BooleanField()
    diff = _number()
    diff_ci_low = _number()
    diff_ci_high = _number()
    welch_t = _number()
    welch_df = _number()
    welch_p = _number()
    mannwhitney_u = _number()
    mannwhitney_p = _number()
    hedges_g = _number()
    cliffs_delta = _number()
    prob_improvement = _number()
    prob_improvement_ci_low = _number()
    prob_improvement_ci_high = _number()
    p_value = _number()
    p_method = serializers.CharField()
    p_holm = _number()
    family_size = serializers.IntegerField()
    verdict = serializers.ChoiceField(choices=["a_better", "b_better", "inconclusive"])
    verdict_reason = serializers.CharField()
    statement = serializers.CharField(help_text="The verdict in plain words, with the variants' labels.")
    distribution_sensitive = serializers.BooleanField(allow_null=True)
    mde = _number()
    seeds_needed = serializers.IntegerField(allow_null=True)
    method_version = serializers.CharField()
    reasons = _reasons()
    reason = serializers.CharField(allow_null=True)


class RankSetOutput(serializers.Serializer):  # type: ignore[type-arg]
    lower = serializers.IntegerField(help_text="1 + the number of variants whose verdict says they are better.")
    upper = serializers.IntegerField(help_text="k - the number of variants whose verdict says they are worse.")
    level = serializers.FloatField(help_text="1 - alpha of the pair verdicts' Holm family: all sets hold at once.")
    n_better = serializers.IntegerField()
    n_worse = serializers.IntegerField()
    n_untested = serializers.IntegerField(help_text="Ranked variants not compared with this one by a defined test.")
    complete = serializers.BooleanField(help_text="Compared with every other ranked variant.")
    method = serializers.CharField()
    note = serializers.CharField(allow_null=True, help_text="Why the sets are wider: partial pairs, one-seed variants.")


class RankEntryOutput(serializers.Serializer):  # type: ignore[type-arg]
    variant = serializers.CharField()
    task = serializers.CharField(allow_blank=True)
    n = serializers.IntegerField()
    mean = _number()
    rank = _number()
    rank_ci_low = _number()
    rank_ci_high = serializers.FloatField(
        allow_null=True,
        help_text=(
            "With rank_ci_low: a percentile-bootstrap rank interval over seeds, marginal, not simultaneous "
            "(see rank_set); null below 2 seeds."
        ),
    )
    rank_set = RankSetOutput(
        allow_null=True,
        help_text=(
            "Simultaneous rank confidence set from the Holm-adjusted pair verdicts (Mogstad et al. 2024); "
            "null below 2 seeds (see reasons.rank_set)."
        ),
    )
    p_best = _number()
    p_vs_leader = _number()
    in_top_group = serializers.BooleanField()
    reasons = _reasons()


class RankingTaskOutput(serializers.Serializer):  # type: ignore[type-arg]
    leader = serializers.CharField(allow_null=True)
    top_group = serializers.ListField(child=serializers.CharField())
    k = serializers.IntegerField()


class RankingOutput(serializers.Serializer):  # type: ignore[type-arg]
    entries = RankEntryOutput(many=True)
    rank_ci_method = serializers.CharField(allow_null=True, help_text="What rank_ci_low/rank_ci_high are.")
    leader = serializers.CharField(allow_null=True, help_text="Of the only task; null with several tasks.")
    top_group = serializers.ListField(child=serializers.CharField())
    k = serializers.IntegerField()
    tasks = serializers.DictField(child=RankingTaskOutput(), help_text="Leader and top group of each task.")


class ComparisonSelectionOutput(serializers.Serializer):  # type: ignore[type-arg]
    variants = serializers.ListField(child=serializers.CharField(), allow_null=True)
    models = serializers.ListField(child=serializers.CharField(), allow_null=True)


class TaskNormalizationOutput(serializers.Serializer):  # type: ignore[type-arg]
    random = serializers.FloatField()
    reference = serializers.FloatField()


class ComparisonSummaryOutput(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Status.choices)
    metric = serializers.CharField()
    projects = serializers.ListField(child=serializers.CharField())
    task = serializers.CharField(allow_null=True, allow_blank=True)
    selection = ComparisonSelectionOutput()
    baseline = serializers.CharField(allow_null=True)
    normalize = serializers.DictField(child=TaskNormalizationOutput(), allow_null=True)
    created_at = serializers.DateTimeField()
    computed_at = serializers.DateTimeField(allow_null=True)


class ComparisonVariantOutput(VariantBlockOutput):
    projects = serializers.ListField(child=serializers.CharField())


class ComparisonOutput(ComparisonSummaryOutput):
    charts = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Only with include=charts: Vega-Lite specs by name, drawn as the web UI draws them.",
    )
    goal = serializers.ChoiceField(choices=Goal.choices, allow_null=True, help_text="null until first computed.")
    summary = serializers.ChoiceField(choices=Summary.choices, allow_null=True)
    k = serializers.IntegerField(allow_null=True)
    step = serializers.IntegerField(allow_null=True)
    method_version = serializers.CharField(allow_null=True)
    bootstrap_seed = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    tasks = serializers.ListField(child=serializers.CharField(allow_blank=True))
    warnings = serializers.ListField(child=serializers.CharField())
    variants = ComparisonVariantOutput(many=True)
    pairs = PairOutput(many=True)
    ranking = RankingOutput(allow_null=True)
    benchmark = serializers.DictField(
        allow_null=True, help_text="server.analysis' BenchmarkResult when several tasks take part, else null."
    )


class ComparisonPageOutput(serializers.Serializer):  # type: ignore[type-arg]
    next = serializers.URLField(allow_null=True)
    results = ComparisonSummaryOutput(many=True)
