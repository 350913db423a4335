"""Reads for projects, runs and metric histories, always scoped to the caller's teams.

An object of a team the caller does not belong to is reported as not found (404), never
as forbidden, so ids of other teams' data leak nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.contrib.auth.models import User
from django.db.models import Count, F, OuterRef, QuerySet, Subquery

from server.accounts.models import Membership, Team
from server.core.errors import InvalidInput, NotFound, PermissionDenied
from server.tracking import points
from server.tracking.downsample import downsample_minmax
from server.tracking.filters import Ordering
from server.tracking.models import MetricKey, MetricSummary, Project, Run

WRITE_ROLES = {Membership.Role.ADMIN, Membership.Role.MEMBER}
MAX_RUNS_PER_HISTORY = 200


def _role_of(user: User, team_ref: Any) -> Subquery:
    return Subquery(Membership.objects.filter(team=team_ref, user=user).values("role")[:1])


def _require_role(role: str | None, *, write: bool, what: str) -> None:
    if role is None:
        raise NotFound(f"{what} not found.")
    if write and role not in WRITE_ROLES:
        raise PermissionDenied(f"Your role in this team ({role}) cannot change {what.lower()}s.")


def team_for_member(*, user: User, slug: str, write: bool = False) -> Team:
    team = Team.objects.filter(slug=slug).annotate(role=_role_of(user, OuterRef("pk"))).first()
    _require_role(getattr(team, "role", None), write=write, what=f"Team {slug!r}")
    assert team is not None
    return team


def project_path_split(path: str, field: str = "project") -> tuple[str, str]:
    team_slug, sep, project_slug = path.partition("/")
    if not sep or not team_slug or not project_slug or "/" in project_slug:
        raise InvalidInput(f"{field}: must be 'team/project', got {path!r}", field=field)
    return team_slug, project_slug


def project_get(*, user: User, team_slug: str, project_slug: str, write: bool = False) -> Project:
    project = (
        Project.objects.select_related("team")
        .filter(team__slug=team_slug, slug=project_slug)
        .annotate(role=_role_of(user, OuterRef("team")))
        .first()
    )
    _require_role(getattr(project, "role", None), write=write, what=f"Project {team_slug}/{project_slug}")
    assert project is not None
    return project


def project_list(*, user: User) -> QuerySet[Project]:
    return (
        Project.objects.filter(team__memberships__user=user)
        .select_related("team")
        .annotate(run_count=Count("runs"))
        .order_by("team__slug", "slug")
    )


def run_get(*, user: User, run_id: str | uuid.UUID, write: bool = False) -> Run:
    try:
        run_uuid = run_id if isinstance(run_id, uuid.UUID) else uuid.UUID(str(run_id))
    except ValueError:
        raise NotFound(f"Run {run_id!r} not found.") from None
    run = (
        Run.objects.select_related("project__team", "variant")
        .filter(uuid=run_uuid)
        .annotate(role=_role_of(user, OuterRef("project__team")))
        .first()
    )
    _require_role(getattr(run, "role", None), write=write, what=f"Run {run_uuid}")
    assert run is not None
    return run


class RunRef(NamedTuple):
    pk: int
    status: str


def run_ref_for_write(*, user: User, run_id: str) -> RunRef:
    """The internal key and status of a run the user may write to: the one lookup on the
    ingestion path, so it reads two small columns instead of the run's JSON columns."""
    try:
        run_uuid = uuid.UUID(run_id)
    except ValueError:
        raise NotFound(f"Run {run_id!r} not found.") from None
    found = (
        Run.objects.filter(uuid=run_uuid)
        .annotate(role=_role_of(user, OuterRef("project__team")))
        .values_list("pk", "status", "role")
        .first()
    )
    _require_role(found[2] if found else None, write=True, what=f"Run {run_uuid}")
    assert found is not None
    return RunRef(int(found[0]), str(found[1]))


def run_uuid_parse(raw: str, field: str = "run") -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidInput(f"{field}: {raw[:60]!r} is not a run id (UUID)", field=field) from None


def run_list(*, project: Project, ordering: Ordering) -> QuerySet[Run]:
    """A project's runs annotated with `sort_value` for keyset pagination."""
    queryset = Run.objects.filter(project=project).select_related("project__team", "variant")
    if ordering.field == "metric":
        assert ordering.metric_stat is not None
        summaries = MetricSummary.objects.filter(run=OuterRef("pk"), key__name=ordering.metric_key)
        return queryset.annotate(sort_value=Subquery(summaries.values(ordering.metric_stat)[:1]))
    return queryset.annotate(sort_value=F(ordering.field))


def run_metric_summaries(*, run: Run) -> dict[str, dict[str, Any]]:
    rows = MetricSummary.objects.filter(run=run).select_related("key").order_by("key__name")
    return {
        row.key.name: {
            "count": row.count,
            "first_step": row.first_step,
            "last_step": row.last_step,
            "last_value": row.last_value,
            "min": row.min_value,
            "max": row.max_value,
        }
        for row in rows
    }


@dataclass(frozen=True)
class History:
    series: points.Series
    count: int  # points in the requested step range before downsampling
    downsampled: bool


def _history(series: points.Series | None, max_points: int | None) -> History:
    if series is None:
        series = points.Series(*points.empty_columns())
    if max_points is None or len(series) <= max_points:
        return History(series, len(series), False)
    return History(series.take(downsample_minmax(series.steps, series.values, max_points)), len(series), True)


def metric_histories(
    *,
    runs: list[Run],
    key: str,
    max_points: int | None = None,
    min_step: int | None = None,
    max_step: int | None = None,
) -> dict[int, History]:
    """History of one key for each run (by run pk); runs that never logged it get an empty one."""
    if len(runs) > MAX_RUNS_PER_HISTORY:
        raise InvalidInput(f"At most {MAX_RUNS_PER_HISTORY} runs per request, got {len(runs)}.", field="run")
    key_id = MetricKey.objects.filter(name=key).values_list("id", flat=True).first()
    found = (
        {}
        if key_id is None
        else points.points_read(run_pks=[run.pk for run in runs], key_id=key_id, min_step=min_step, max_step=max_step)
    )
    return {run.pk: _history(found.get(run.pk), max_points) for run in runs}


def run_metric_keys(*, run: Run) -> list[str]:
    return list(MetricSummary.objects.filter(run=run).order_by("key__name").values_list("key__name", flat=True))
