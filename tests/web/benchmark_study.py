"""A benchmark with entries of two teams, its leaderboard computed in-process, for the page tests."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from server.accounts.models import Team
from server.accounts.services import token_create_for, user_set_password
from server.benchmarks import services as benchmark_services
from server.benchmarks.models import Benchmark
from server.tracking import services as tracking_services
from tests.benchmarks.conftest import log_variant
from tests.web.conftest import PASSWORD

__all__ = ["PASSWORD", "log_benchmark_study"]
ENTRIES = {
    ("acme", "vision", "resnet18"): {"cifar10": [0.90, 0.91, 0.92, 0.93], "svhn": [0.80, 0.82, 0.81, 0.83]},
    ("vision-lab", "private-study", "vit"): {"cifar10": [0.86, 0.87, 0.85], "svhn": [0.88, 0.87, 0.89]},
    ("vision-lab", "private-study", "convnext"): {"cifar10": [0.70, 0.72, 0.71], "svhn": [0.60, 0.61, 0.62]},
}
BUDGETS = {"resnet18": {"trials": 10}, "vit": {"trials": 60, "gpu_hours": 12.0}, "convnext": {"trials": 8}}


def log_benchmark_study(tasks: tuple[str, ...] = ("cifar10", "svhn")) -> dict[str, Any]:
    """alice (acme admin, with PASSWORD) owns benchmark `small`; bob (vision-lab member, same
    password) submitted two entries from a project acme cannot read. Call with eager tasks."""
    token_create_for(team_slug="acme", username="alice", role="admin")
    token_create_for(team_slug="vision-lab", username="bob", role="member")
    for name in ("alice", "bob"):
        user_set_password(username=name, password=PASSWORD)
    alice, bob = User.objects.get(username="alice"), User.objects.get(username="bob")
    benchmark = benchmark_services.benchmark_create(
        user=alice, team="acme", slug="small", name="Small vision", tasks=list(tasks), metric="val/acc"
    )
    submissions = {}
    for (team, slug, model), scores in ENTRIES.items():
        project = tracking_services.project_get_or_create(team=Team.objects.get(slug=team), slug=slug)
        variant = log_variant(project, model=model, scores={task: scores[task] for task in tasks})
        submissions[model] = benchmark_services.submission_create(
            user=alice if team == "acme" else bob,
            benchmark=Benchmark.objects.get(pk=benchmark.pk),
            project=f"{team}/{slug}",
            variant=variant,
            budget=BUDGETS[model],
        )
    return {"benchmark": benchmark, "submissions": submissions}
