"""Reads for the UI's pages, always scoped by what the signed-in user may read.

Access itself is decided where the API decides it (the rules of server/accounts/selectors.py),
so a page never shows what the API would answer 404 for.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Count, Max, QuerySet
from django.db.models.functions import Coalesce

from server.accounts.models import Team, Visibility
from server.accounts.selectors import member_team_ids, readable_projects_q
from server.stats.models import Comparison
from server.stats.selectors import comparison_list
from server.tracking.models import Project, Run

RUNNING_LIMIT = 50
COMPARISONS_LIMIT = 10
SEARCH_LIMIT = 100


@dataclass(frozen=True)
class TeamProjects:
    team: Team
    projects: list[Project]  # annotated: run_count, variant_count, last_activity


def projects_overview(*, user: User) -> list[TeamProjects]:
    """The user's teams (even those without projects yet), each with its projects and their counts.

    Two queries. The counts use DISTINCT because runs and variants are joined side by side; the
    last activity is a run's latest heartbeat, end or creation.
    """
    teams = list(Team.objects.filter(memberships__user=user).order_by("slug"))
    projects = (
        Project.objects.filter(team__in=teams)
        .select_related("team")
        .annotate(
            run_count=Count("runs", distinct=True),
            variant_count=Count("variants", distinct=True),
            last_activity=Max(Coalesce("runs__heartbeat_at", "runs__ended_at", "runs__created_at")),
        )
        .order_by("slug")
    )
    by_team: dict[int, list[Project]] = {team.pk: [] for team in teams}
    for project in projects:
        by_team[project.team_id].append(project)
    return [TeamProjects(team=team, projects=by_team[team.pk]) for team in teams]


def projects_shared(*, user: User) -> list[Project]:
    """Internal projects of teams the user is not in (every signed-in user may read them)."""
    return list(
        Project.objects.filter(visibility=Visibility.INTERNAL)
        .exclude(team_id__in=member_team_ids(user))
        .select_related("team")
        .annotate(run_count=Count("runs"))
        .order_by("team__slug", "slug")
    )


def project_paths(*, user: User) -> list[str]:
    """`team/project` of every project the user can read, for the top bar's switcher (one query)."""
    return [
        f"{team}/{slug}"
        for team, slug in Project.objects.filter(readable_projects_q(user))
        .order_by("team__slug", "slug")
        .values_list("team__slug", "slug")
    ]


def _readable_runs(user: User) -> QuerySet[Run]:
    return Run.objects.filter(readable_projects_q(user, "project__")).select_related("project__team", "variant")


def runs_running(*, user: User, limit: int = RUNNING_LIMIT) -> list[Run]:
    return list(_readable_runs(user).filter(status=Run.Status.RUNNING).order_by("-created_at", "-id")[:limit])


def runs_search(*, user: User, text: str, limit: int = SEARCH_LIMIT) -> list[Run]:
    """Runs whose name contains `text` (case-insensitive), newest first, in the user's projects."""
    if not text:
        return []
    return list(_readable_runs(user).filter(name__icontains=text).order_by("-created_at", "-id")[:limit])


def comparisons_recent(*, user: User, limit: int = COMPARISONS_LIMIT) -> list[Comparison]:
    return list(comparison_list(user=user).order_by("-created_at", "-id")[:limit])
