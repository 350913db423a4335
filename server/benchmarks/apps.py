from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    name = "server.benchmarks"
    label = "benchmarks"

    def ready(self) -> None:
        # `stats` marks statistics stale when runs change, but may not import this app (it
        # imports `stats`): registering here lets that same transaction mark the leaderboards
        # too, and lets the requeue sweep find lost leaderboard recomputes.
        from server.benchmarks import services
        from server.stats import recompute

        recompute.dependent_register(
            recompute.Dependent(
                model=services.Leaderboard,
                enqueue=services.leaderboard_enqueue,
                fields=("benchmark_id",),
                mark_stale=services.leaderboards_mark_stale_for,
            )
        )
