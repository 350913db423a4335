from django.contrib import admin

from server.benchmarks.models import Benchmark, Leaderboard, Submission


@admin.register(Benchmark)
class BenchmarkAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["slug", "name", "team", "metric", "min_seeds", "open", "created_at"]
    search_fields = ["slug", "name"]


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["benchmark", "team", "label", "variant", "submitted_by", "submitted_at", "withdrawn_at"]
    list_filter = ["benchmark"]


@admin.register(Leaderboard)
class LeaderboardAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["benchmark", "status", "computed_at", "claims"]
