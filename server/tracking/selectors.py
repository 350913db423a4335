"""Reads for projects, runs and metric histories, always scoped by the access rules of
server/accounts/selectors.py: an object the caller may not read is reported as not found
(404), never as forbidden, so ids of other teams' private data leak nothing.
"""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import psycopg
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery

from server.accounts.models import Membership, Team
from server.accounts.selectors import Need, access_require, project_role, readable_projects_q, team_get_for
from server.core.errors import InvalidInput, NotFound, UnknownMetric
from server.tracking import points
from server.tracking.batches import MAX_KEY_LENGTH, MAX_STEP
from server.tracking.downsample import downsample_minmax, request_grid
from server.tracking.filters import Ordering
from server.tracking.labels import variant_labels
from server.tracking.models import MetricKey, MetricSummary, Project, Run, Variant
from server.tracking.overviews import (
    OVERVIEW_MIN_POINTS,
    Overview,
    Plan,
    overview_answer,
    overview_level_for,
    overview_plan,
)

MAX_RUNS_PER_HISTORY = 200
MAX_LABELED_VARIANTS = 5000  # variants read to label a page of variants among their models' others
CLOSE_MATCHES = 5
MAX_KEYS_PER_HISTORY = 100  # metric keys one request may name (history of one run, run-list summaries)


def _role_of(user: User, team_ref: Any) -> Subquery:
    return Subquery(Membership.objects.filter(team=team_ref, user=user).values("role")[:1])


def _need(write: bool, admin: bool) -> Need:
    return "admin" if admin else "write" if write else "read"


def team_for_member(*, user: User, slug: str, write: bool = False) -> Team:
    return team_get_for(user=user, slug=slug, need=_need(write, False))


def project_path_split(path: str, field: str = "project") -> tuple[str, str]:
    team_slug, sep, project_slug = path.partition("/")
    if not sep or not team_slug or not project_slug or "/" in project_slug:
        raise InvalidInput(f"{field}: must be 'team/project', got {path!r}", field=field)
    return team_slug, project_slug


def project_get(*, user: User, team_slug: str, project_slug: str, write: bool = False, admin: bool = False) -> Project:
    """The project, annotated with the caller's effective `role` (access rules: server/accounts/selectors.py)."""
    project = (
        Project.objects.select_related("team")
        .filter(team__slug=team_slug, slug=project_slug)
        .annotate(role=_role_of(user, OuterRef("team")))
        .first()
    )
    role = project_role(project.role, project.visibility) if project is not None else None  # type: ignore[attr-defined]
    access_require(role, need=_need(write, admin), what=f"Project {team_slug}/{project_slug}")
    assert project is not None
    project.role = role  # type: ignore[attr-defined]
    return project


def projects_readable(*, user: User) -> QuerySet[Project]:
    return Project.objects.filter(readable_projects_q(user))


def project_list(*, user: User) -> QuerySet[Project]:
    return (
        projects_readable(user=user)
        .select_related("team")
        .annotate(run_count=Count("runs"), role=_role_of(user, OuterRef("team")))
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
    role = project_role(run.role, run.project.visibility) if run is not None else None  # type: ignore[attr-defined]
    access_require(role, need=_need(write, False), what=f"Run {run_uuid}")
    assert run is not None
    return run


class RunRef(NamedTuple):
    pk: int
    status: str
    resumed: bool = False  # a resumed run's batches are checked for steps already stored


def run_ref_for_write(*, user: User, run_id: str) -> RunRef:
    """The internal key and status of a run the user may write to: the one lookup on the
    ingestion path, so it reads a few small columns instead of the run's JSON columns."""
    try:
        run_uuid = uuid.UUID(run_id)
    except ValueError:
        raise NotFound(f"Run {run_id!r} not found.") from None
    found = (
        Run.objects.filter(uuid=run_uuid)
        .annotate(role=_role_of(user, OuterRef("project__team")))
        .values_list("pk", "status", "role", "project__visibility", "resumed_at")
        .first()
    )
    role = project_role(found[2], found[3]) if found else None
    access_require(role, need="write", what=f"Run {run_uuid}")
    assert found is not None
    return RunRef(int(found[0]), str(found[1]), found[4] is not None)


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


# MetricSummary columns in the order `_summary` takes them.
_SUMMARY_COLUMNS = ("count", "first_step", "last_step", "last_value", "min_value", "max_value")


def _summary(
    count: int, first_step: int, last_step: int, last_value: float | None, low: float | None, high: float | None
) -> dict[str, Any]:
    """A MetricSummary row in the API's shape (serializers.MetricSummaryOutput)."""
    return {
        "count": count,
        "first_step": first_step,
        "last_step": last_step,
        "last_value": last_value,
        "min": low,
        "max": high,
    }


def run_metric_summaries(*, run: Run) -> dict[str, dict[str, Any]]:
    rows = MetricSummary.objects.filter(run=run).order_by("key__name").values_list("key__name", *_SUMMARY_COLUMNS)
    return {name: _summary(*values) for name, *values in rows}


def run_metric_summaries_for(*, run_pks: Sequence[int], keys: Sequence[str]) -> dict[int, dict[str, dict[str, Any]]]:
    """Summaries of `keys` for each run, {run pk: {key: summary}}, keys in the order given.

    A run lacks the keys it never logged, and a run that logged none of them is absent. One
    query for any number of runs and keys (none when either is empty): a page of 200 runs
    reads its summaries together instead of one request or query per run.
    """
    if not run_pks or not keys:
        return {}
    rows = MetricSummary.objects.filter(run_id__in=run_pks, key__name__in=keys).values_list(
        "run_id", "key__name", *_SUMMARY_COLUMNS
    )
    found: dict[int, dict[str, dict[str, Any]]] = {}
    for run_pk, name, *values in rows:
        found.setdefault(run_pk, {})[name] = _summary(*values)
    return {run_pk: {key: by_key[key] for key in keys if key in by_key} for run_pk, by_key in found.items()}


def metric_keys_parse(raws: Sequence[str], field: str = "metrics") -> list[str]:
    """The metric keys named by a repeatable, comma-separated query parameter, in order and
    without repeats; InvalidInput for an empty or overlong key, or more than MAX_KEYS_PER_HISTORY."""
    keys = list(dict.fromkeys(key for raw in raws for key in raw.split(",")))
    if len(keys) > MAX_KEYS_PER_HISTORY:
        raise InvalidInput(f"{field}: at most {MAX_KEYS_PER_HISTORY} keys per request, got {len(keys)}", field=field)
    for key in keys:
        # Keys are stored as written, so none is trimmed here; NUL never reaches this far (middleware).
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            shown = f"{key[:40]!r}{'…' if len(key) > 40 else ''}"
            raise InvalidInput(
                f"{field}: each key has 1 to {MAX_KEY_LENGTH} characters, got {shown}; separate keys with ','",
                field=field,
            )
    return keys


@dataclass(frozen=True)
class History:
    series: points.Series
    count: int  # points in the requested step range before downsampling
    downsampled: bool


def metric_histories(
    *,
    runs: list[Run],
    key: str,
    max_points: int | None = None,
    min_step: int | None = None,
    max_step: int | None = None,
) -> dict[int, History]:
    """History of one key for each run (by run pk); runs that never logged it get an empty one.

    With `max_points`, a run whose overview is current and fine enough is answered from it
    (plus at most two short raw reads at the edges of a zoom), the others from their raw
    points; both give the same points (see overviews.py). At most five queries in all: the key,
    the summaries, the overviews, the raw points and the zoom edges.
    """
    if len(runs) > MAX_RUNS_PER_HISTORY:
        raise InvalidInput(f"At most {MAX_RUNS_PER_HISTORY} runs per request, got {len(runs)}.", field="run")
    key_id = MetricKey.objects.filter(name=key).values_list("id", flat=True).first()
    if key_id is None:
        return {run.pk: _full(None) for run in runs}
    found = _histories(
        _Series("run_id", [run.pk for run in runs], key_id), max_points=max_points, min_step=min_step, max_step=max_step
    )
    return {run.pk: found[run.pk] for run in runs}


def run_histories(
    *,
    run: Run,
    keys: list[str] | None = None,
    max_points: int | None = None,
    min_step: int | None = None,
    max_step: int | None = None,
) -> dict[str, History]:
    """History of each of `keys` (default: every key the run logged, by name) of one run; keys it
    never logged get an empty one. The same reads as `metric_histories`, each for all keys at
    once: at most six queries however many keys (the run's keys, their ids, then five)."""
    if keys is None:
        keys = run_metric_keys(run=run)
        if len(keys) > MAX_KEYS_PER_HISTORY:
            raise InvalidInput(
                f"This run logged {len(keys)} keys; at most {MAX_KEYS_PER_HISTORY} per request: "
                "choose them with key= (repeat it).",
                field="key",
            )
    keys = list(dict.fromkeys(keys))
    if len(keys) > MAX_KEYS_PER_HISTORY:
        raise InvalidInput(f"At most {MAX_KEYS_PER_HISTORY} keys per request, got {len(keys)}.", field="key")
    key_ids = dict(MetricKey.objects.filter(name__in=keys).values_list("name", "id"))
    found = _histories(
        _Series("key_id", list(key_ids.values()), run.pk), max_points=max_points, min_step=min_step, max_step=max_step
    )
    return {key: found[key_ids[key]] if key in key_ids else _full(None) for key in keys}


@dataclass(frozen=True)
class _Series:
    """The series a history read covers: `by` (run_id or key_id) = each of `ids`, and the other
    column = `other` (one key of many runs, or many keys of one run)."""

    by: points.GroupBy
    ids: list[int]
    other: int

    @property
    def fixed(self) -> points.GroupBy:
        return points.GROUP_COLUMNS[self.by]


def _histories(
    series: _Series, *, max_points: int | None, min_step: int | None, max_step: int | None
) -> dict[int, History]:
    """History of each series, by id."""
    if max_points is None:
        found = points.points_read_grouped(
            by=series.by, ids=series.ids, other=series.other, min_step=min_step, max_step=max_step
        )
        return {id_: _full(found.get(id_)) for id_ in series.ids}
    return _downsampled_histories(series, max_points=max_points, min_step=min_step, max_step=max_step)


def _full(series: points.Series | None) -> History:
    series = series or points.Series(*points.empty_columns())
    return History(series, len(series), False)


def _downsampled_histories(
    series: _Series, *, max_points: int, min_step: int | None, max_step: int | None
) -> dict[int, History]:
    first, last = 0 if min_step is None else min_step, MAX_STEP if max_step is None else max_step
    # Each series' logged steps within the range, and the overview level that could answer it.
    summaries = MetricSummary.objects.filter(**{series.fixed: series.other, f"{series.by}__in": series.ids})
    extents: dict[int, tuple[int, int]] = {}
    wanted: dict[int, tuple[int, int]] = {}
    for id_, count, first_step, last_step in summaries.values_list(series.by, "count", "first_step", "last_step"):
        lo, hi = max(first, first_step), min(last, last_step)
        if lo > hi:
            continue  # nothing logged in the range
        extents[id_] = (lo, hi)
        level = overview_level_for(
            series_first=first_step, series_last=last_step, first=lo, last=hi, max_points=max_points
        )
        if level is not None and count > OVERVIEW_MIN_POINTS:
            # Current: built from as many points as the summary counts now.
            wanted[id_] = (level, count)
    planned: dict[int, tuple[Overview, Plan]] = {}
    for id_, payload in _overview_payloads(series, wanted):
        overview = Overview.from_bytes(payload)
        lo, hi = extents[id_]
        if (plan := overview_plan(overview, first=lo, last=hi, max_points=max_points)) is not None:
            planned[id_] = (overview, plan)
    raw_ids = [id_ for id_ in extents if id_ not in planned]
    raw = points.points_read_grouped(
        by=series.by, ids=raw_ids, other=series.other, min_step=min_step, max_step=max_step
    )
    edges = points.points_read_ranges_grouped(
        by=series.by,
        other=series.other,
        ranges=[
            (id_, *bounds)
            for id_, (_, plan) in planned.items()
            for bounds in (plan.left, plan.right)
            if bounds is not None
        ],
    )
    histories = {}
    for id_ in series.ids:
        if id_ in planned:
            overview, plan = planned[id_]
            edge = edges.get(id_) or points.Series(*points.empty_columns())
            kept, count = overview_answer(overview, plan, (edge.steps, edge.values, edge.times))
            histories[id_] = History(points.Series(*kept), count, True)
        else:
            lo, hi = extents.get(id_, (first, last))
            histories[id_] = _downsampled(raw.get(id_), lo, hi, max_points)
    return histories


def _overview_payloads(series: _Series, wanted: dict[int, tuple[int, int]]) -> list[tuple[int, bytes]]:
    """(id, payload) of the wanted overviews, {id: (level, count)}, in one query."""
    if not wanted:
        return []
    # `by` IN (...) as well as the triples: an index condition, however the planner joins the VALUES.
    sql = (
        f"SELECT {series.by}, payload FROM tracking_metricoverview WHERE {series.fixed} = %s "
        f"AND {series.by} IN ({', '.join(['%s'] * len(wanted))}) "
        f"AND ({series.by}, level, count) IN (VALUES {', '.join(['(%s, %s, %s)'] * len(wanted))})"
    )
    triples = (value for id_, (level, count) in wanted.items() for value in (id_, level, count))
    params = [series.other, *wanted, *triples]
    if points.is_postgresql():
        # Binary results: bytea arrives as stored, not as hex text (half the bytes, no decoding).
        # Django's cursors bind parameters client-side, which rules binary results out.
        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql, params, binary=True)
            return cursor.fetchall()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _downsampled(series: points.Series | None, first: int, last: int, max_points: int) -> History:
    """Raw points downsampled on the grid of [first, last], the run's logged steps within the range."""
    if series is None or len(series) <= max_points:
        return _full(series)
    # Points stored since the summary was read widen the range rather than exceed max_points.
    first, last = min(first, int(series.steps[0])), max(last, int(series.steps[-1]))
    grid = request_grid(first, last, max_points)
    return History(series.take(downsample_minmax(series.steps, series.values, grid)), len(series), True)


def run_metric_keys(*, run: Run) -> list[str]:
    return list(MetricSummary.objects.filter(run=run).order_by("key__name").values_list("key__name", flat=True))


def variant_list(*, project: Project, model: str | None = None) -> QuerySet[Variant]:
    """A project's variants, oldest first, annotated with `sort_value` (the pk) for keyset pages and
    with their runs: `n_runs` and `n_finished` (the seeds a comparison would count)."""
    queryset = Variant.objects.filter(project=project)
    if model is not None:
        queryset = queryset.filter(model=model)
    return queryset.annotate(
        sort_value=F("pk"),
        n_runs=Count("runs"),
        n_finished=Count("runs", filter=Q(runs__status=Run.Status.FINISHED)),
    )


def variant_labels_for(*, project: Project, variants: Sequence[Variant]) -> dict[str, str]:
    """Labels of `variants` among every variant of their models in the project, so a variant
    reads the same on every page (server/tracking/labels.py)."""
    models = {variant.model for variant in variants}
    siblings = list(
        Variant.objects.filter(project=project, model__in=models)
        .order_by("pk")
        .values_list("fingerprint", "model", "config")[:MAX_LABELED_VARIANTS]
    )
    known = {fingerprint for fingerprint, _, _ in siblings}
    siblings += [(v.fingerprint, v.model, v.config) for v in variants if v.fingerprint not in known]
    return variant_labels(siblings)


def _unknown_metric(key: str, where: str, known: Sequence[str]) -> UnknownMetric:
    close = difflib.get_close_matches(key, known, n=CLOSE_MATCHES, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(k) for k in close)}?" if close else "."
    return UnknownMetric(f"{where} never logged a metric {key!r}{hint}", field="key")


def project_metric_keys(*, project: Project) -> list[str]:
    """The keys any run of the project logged, and those its metric definitions declare."""
    logged = MetricSummary.objects.filter(run__project=project).values_list("key__name", flat=True).distinct()
    declared = project.metric_definitions.values_list("key", flat=True)  # type: ignore[attr-defined]
    return sorted(set(logged) | set(declared))


def project_metric_unknown(*, project: Project, key: str, field: str = "key") -> UnknownMetric:
    """The 404 for a key no run of the project logged, naming the project's closest keys."""
    error = _unknown_metric(key, f"No run of {project.path}", project_metric_keys(project=project))
    error.field = field
    return error


def project_metric_require(*, project: Project, key: str, field: str = "key") -> None:
    """UnknownMetric (404) when no run of the project logged `key` and no definition declares it;
    a key that exists but has no points in a step range is no error."""
    if MetricSummary.objects.filter(run__project=project, key__name=key).exists():
        return
    if not project.metric_definitions.filter(key=key).exists():  # type: ignore[attr-defined]
        raise project_metric_unknown(project=project, key=key, field=field)


def run_metric_require(*, run: Run, keys: Sequence[str]) -> None:
    """UnknownMetric (404) for the first of `keys` that neither the run nor any run of its project
    logged (nor a definition declares), with the run's closest keys. A key its project knows is
    an empty series: a running run polled before its first `val/acc` point is no error."""
    known = run_metric_keys(run=run)
    missing = [key for key in keys if key not in known]
    if not missing:
        return
    project_keys = set(project_metric_keys(project=run.project))
    for key in missing:
        if key not in project_keys:
            raise _unknown_metric(key, "This run", known)
