"""The MLflow tracking API's operations on Seedboard's projects and runs.

An MLflow experiment is a Seedboard project; its id is the project's id. A name such as
`acme/cifar10` names team and project; a bare name is a project of the caller's own team
(the first, by slug, of the teams the user may write to; else of those it reads), its slug
made from the name (`My Exp 1` -> `my-exp-1`). Experiment "0", MLflow's `Default`, is the
project `default` of that team, created with the first run logged to it.

An MLflow run is a Seedboard run (its id is the run's UUID as 32 hex digits), whose writes go
through the same services as the native API's: params regroup its variant, metric batches
take the ingestion path, each exactly once (a content-derived batch id), status changes
mark its statistics stale.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone

from server.accounts.models import Membership, Team, slug_validator
from server.accounts.selectors import ROLES_FOR, team_get_for
from server.core.errors import InvalidInput, NotFound
from server.core.jsonvalues import json_value_check
from server.mlflow_compat import mapping, search
from server.mlflow_compat.wire import MlflowError, double, float_out, int64, invalid
from server.stats import changes
from server.tracking import points
from server.tracking import selectors as tracking_selectors
from server.tracking import services as tracking_services
from server.tracking.batches import batch_parse
from server.tracking.models import MetricSummary, Project, Run

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"
DEFAULT_PROJECT_SLUG = "default"
# Ids of metric batches derived from their content: a retried log-batch gets the same id.
BATCH_NAMESPACE = uuid.UUID("0d3c7a52-6b1e-5f0a-8c4e-9a2b71f3d6e8")
MAX_PARAMS_PER_BATCH = 1000
MAX_TAGS_PER_BATCH = 1000
MAX_PARAM_VALUE_CHARS = 6000  # MLflow's own limits
MAX_TAG_VALUE_CHARS = 8000
MAX_KEY_CHARS = 250
MAX_RESULTS = 50_000
# A run logged by MLflow sends no heartbeats: its writes count as one, at most this often.
HEARTBEAT_EVERY = 30.0


def _not_found(message: str) -> MlflowError:
    return MlflowError("RESOURCE_DOES_NOT_EXIST", message)


def ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


# ---------------------------------------------------------------------------- caller


class Caller:
    """The user of a request, and its own team (where bare experiment names and "0" live)."""

    def __init__(self, user: User) -> None:
        self.user = user
        self._team: Team | None = None

    @property
    def team(self) -> Team:
        if self._team is None:
            memberships = list(Membership.objects.filter(user=self.user).select_related("team"))
            if not memberships:
                raise _not_found("This user is in no team: Seedboard keeps experiments in a team's projects.")
            writable = ROLES_FOR["write"]
            chosen = min(memberships, key=lambda m: (m.role not in writable, m.team.slug))
            self._team = chosen.team
        return self._team

    def is_default(self, project: Project) -> bool:
        return project.slug == DEFAULT_PROJECT_SLUG and project.team_id == self.team.pk


# ---------------------------------------------------------------------------- experiments


def slug_of(name: str) -> str:
    slug = re.sub(r"[^a-z0-9_.-]+", "-", name.strip().lower())
    slug = re.sub(r"^[^a-z0-9]+", "", slug)[:63].rstrip("-")
    try:
        slug_validator(slug)
    except ValidationError:
        raise invalid("name", f"{name!r} has no letters or digits to make a project name of") from None
    return slug


def _name_parts(caller: Caller, name: str) -> tuple[str, str]:
    """(team slug, project name) of an experiment name: `team/project`, or a bare name."""
    team_slug, sep, rest = name.partition("/")
    if sep and rest and re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,62}", team_slug):
        return team_slug, rest
    return caller.team.slug, name


def experiment_out(caller: Caller, project: Project | None) -> dict[str, Any]:
    """An experiment in MLflow's shape; None is the Default experiment before its first run."""
    if project is None or caller.is_default(project):
        experiment_id, name = DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME
    else:
        experiment_id = str(project.pk)
        shown = project.name or project.slug
        name = shown if project.team_id == caller.team.pk else f"{project.team.slug}/{shown}"
    created = ms(project.created_at) if project is not None else 0
    return {
        "experiment_id": experiment_id,
        "name": name,
        "artifact_location": "",
        "lifecycle_stage": "active",
        "creation_time": created,
        "last_update_time": created,
        "tags": [{"key": "seedboard.project", "value": project.path}] if project is not None else [],
    }


def _default_project(caller: Caller, *, write: bool) -> Project | None:
    team = caller.team
    if write:
        return tracking_services.project_for_new_run(
            user=caller.user, team_slug=team.slug, project_slug=DEFAULT_PROJECT_SLUG
        )
    return Project.objects.select_related("team").filter(team=team, slug=DEFAULT_PROJECT_SLUG).first()


def experiment_project(caller: Caller, experiment_id: Any, *, write: bool = False) -> Project | None:
    """The project of an experiment id the caller may read (or write); None for a Default
    experiment that has no project yet. Another team's private project is not found, with
    the same message as a missing one."""
    text = str(experiment_id if experiment_id is not None else "").strip()
    if text == DEFAULT_EXPERIMENT_ID:
        return _default_project(caller, write=write)
    missing = _not_found(f"Could not find experiment with ID {text}")
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise missing
    found = Project.objects.filter(pk=int(text)).values_list("team__slug", "slug").first()
    if found is None:
        raise missing
    try:
        return tracking_selectors.project_get(user=caller.user, team_slug=found[0], project_slug=found[1], write=write)
    except NotFound:
        raise missing from None


def experiment_by_name(caller: Caller, name: str) -> Project | None:
    if name == DEFAULT_EXPERIMENT_NAME:
        return _default_project(caller, write=False)
    team_slug, project_name = _name_parts(caller, name)
    candidates = Project.objects.filter(team__slug=team_slug).filter(
        Q(slug=slug_of(project_name)) | Q(name=project_name)
    )
    found = candidates.order_by("pk").values_list("slug", flat=True).first()
    if found is None:
        raise _not_found(f"Could not find experiment with name {name}")
    try:
        return tracking_selectors.project_get(user=caller.user, team_slug=team_slug, project_slug=found)
    except NotFound:
        raise _not_found(f"Could not find experiment with name {name}") from None


def experiment_create(caller: Caller, name: str) -> Project:
    if name == DEFAULT_EXPERIMENT_NAME:
        raise MlflowError("RESOURCE_ALREADY_EXISTS", f"Experiment '{name}' already exists.")
    team_slug, project_name = _name_parts(caller, name)
    try:
        team = team_get_for(user=caller.user, slug=team_slug, need="write")
    except NotFound:
        raise _not_found(f"No team {team_slug!r} of yours for experiment {name!r}.") from None
    slug = slug_of(project_name)
    if Project.objects.filter(team=team, slug=slug).exists():
        raise MlflowError("RESOURCE_ALREADY_EXISTS", f"Experiment '{name}' already exists.")
    project = tracking_services.project_create(team=team, slug=slug, name=project_name[:200])
    project.team = team
    return project


def experiments_search(
    caller: Caller, *, filter_string: str | None, max_results: int | None, page_token: str | None, view_type: Any
) -> tuple[list[dict[str, Any]], str | None]:
    """The experiments the caller may read; filters on `name` (=, !=, LIKE, ILIKE)."""
    if _view_type(view_type) == "deleted":
        return [], None
    experiments = [experiment_out(caller, project) for project in tracking_selectors.project_list(user=caller.user)]
    for clause in search.filter_parse(filter_string):
        if clause.key != "run_name":  # `name`, as experiments have no other searchable fields here
            raise MlflowError("INVALID_PARAMETER_VALUE", "Experiments are searched by name only.")
        experiments = [e for e in experiments if _text_matches(e["name"], clause.op, clause.value)]
    return _page(experiments, max_results, page_token, default=1000)


def _text_matches(text: str, op: str, value: Any) -> bool:
    if op == "=":
        return bool(text == value)
    if op == "!=":
        return bool(text != value)
    if op in ("LIKE", "ILIKE"):
        flags = re.IGNORECASE if op == "ILIKE" else 0
        return re.match(search._like_regex(value), text, flags) is not None
    return (text in value) == (op == "IN")


def _page(
    items: list[Any], max_results: int | None, page_token: str | None, *, default: int
) -> tuple[list[Any], str | None]:
    limit = default if max_results is None else max_results
    if not 1 <= limit <= MAX_RESULTS:
        raise invalid("max_results", f"must be between 1 and {MAX_RESULTS}, got {limit}")
    offset = _offset(page_token)
    page = items[offset : offset + limit]
    return page, _token(offset + limit) if offset + limit < len(items) else None


def _offset(page_token: str | None) -> int:
    if not page_token:
        return 0
    try:
        offset = orjson.loads(base64.urlsafe_b64decode(page_token.encode()))["offset"]
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise invalid("page_token", "not a token of this server") from None
    if not isinstance(offset, int) or offset < 0:
        raise invalid("page_token", "not a token of this server")
    return offset


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"offset": offset})).decode()


def _view_type(value: Any) -> str:
    """MLflow's ViewType, by name or number: active (the default), deleted or all."""
    names = {"ACTIVE_ONLY": "active", "DELETED_ONLY": "deleted", "ALL": "all", 1: "active", 2: "deleted", 3: "all"}
    if value in (None, ""):
        return "active"
    key = int(value) if isinstance(value, str) and value.isdigit() else value
    if isinstance(key, str):
        key = key.upper()
    if key not in names:
        raise invalid("view_type", f"ACTIVE_ONLY, DELETED_ONLY or ALL, got {value!r}")
    return names[key]


# ---------------------------------------------------------------------------- runs: reading


def _mlflow_of(run: Run) -> dict[str, Any]:
    stored = run.metadata.get("mlflow") if isinstance(run.metadata, dict) else None
    return stored if isinstance(stored, dict) else {}


def run_info(caller: Caller, run: Run) -> dict[str, Any]:
    stored = _mlflow_of(run)
    info: dict[str, Any] = {
        "run_id": run.uuid.hex,
        "run_uuid": run.uuid.hex,
        "run_name": run.name,
        "experiment_id": experiment_out(caller, run.project)["experiment_id"],
        "user_id": stored.get("user_id", ""),
        "status": search.STATUS_TO_MLFLOW.get(run.status, "RUNNING"),
        "start_time": stored.get("start_time") or ms(run.started_at or run.created_at),
        "artifact_uri": "",
        "lifecycle_stage": stored.get("lifecycle_stage", "active"),
    }
    end_time = stored.get("end_time") or ms(run.ended_at)
    if end_time is not None and run.status != Run.Status.RUNNING:
        info["end_time"] = end_time
    return info


def _latest_metrics(run_pks: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Each run's metrics as MLflow's run data lists them: the value at the last step, with
    the time it was logged. One query for a whole page of runs."""
    if not run_pks:
        return {}
    logged_at = RawSQL(
        f"(SELECT p.wall_time FROM {points.TABLE} p WHERE p.run_id = tracking_metricsummary.run_id "
        "AND p.key_id = tracking_metricsummary.key_id AND p.step = tracking_metricsummary.last_step LIMIT 1)",
        [],
    )
    rows = (
        MetricSummary.objects.filter(run_id__in=list(run_pks))
        .annotate(logged_at=logged_at)
        .order_by("run_id", "key__name")
        .values_list("run_id", "key__name", "last_value", "last_step", "logged_at")
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for run_pk, key, value, step, logged in rows:
        found.setdefault(run_pk, []).append(
            {
                "key": key,
                "value": float_out(value if value is not None else float("nan")),
                "timestamp": int((logged or 0) * 1000),
                "step": step,
            }
        )
    return found


def _run_out(caller: Caller, run: Run, metrics: list[dict[str, Any]]) -> dict[str, Any]:
    stored = _mlflow_of(run)
    if stored:
        params = dict(stored.get("params", {}))
        tags = dict(stored.get("tags", {}))
    else:  # a run logged through Seedboard's own API
        params = mapping.flat_params(run.config)
        if run.seed is not None:
            params.setdefault("seed", str(run.seed))
        tags = mapping.tags_of_seedboard(run.tags)
    tags[mapping.RUN_NAME_TAG] = run.name
    if run.notes:
        tags[mapping.NOTE_TAG] = run.notes
    return {
        "info": run_info(caller, run),
        "data": {
            "metrics": metrics,
            "params": [{"key": k, "value": v} for k, v in sorted(params.items())],
            "tags": [{"key": k, "value": v} for k, v in sorted(tags.items())],
        },
        "inputs": {},
    }


def run_get(caller: Caller, run_id: str, *, write: bool = False) -> Run:
    if not run_id:
        raise MlflowError("INVALID_PARAMETER_VALUE", "Missing value for required parameter 'run_id'.")
    try:
        return tracking_selectors.run_get(user=caller.user, run_id=run_id, write=write)
    except NotFound:
        raise _not_found(f"Run '{run_id}' not found.") from None


def run_out(caller: Caller, run: Run) -> dict[str, Any]:
    return _run_out(caller, run, _latest_metrics([run.pk]).get(run.pk, []))


def runs_search(
    caller: Caller,
    *,
    experiment_ids: list[Any],
    filter_string: str | None,
    view_type: Any,
    max_results: int | None,
    order_by: list[str],
    page_token: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    projects = [experiment_project(caller, experiment_id) for experiment_id in experiment_ids]
    project_pks = [project.pk for project in projects if project is not None]
    queryset: QuerySet[Run] = Run.objects.filter(project_id__in=project_pks).select_related("project__team")
    lifecycle = _view_type(view_type)
    if lifecycle != "all":
        # As text, so that a run without the key (NULL) counts as active rather than unknown.
        stage = Cast(KeyTextTransform("lifecycle_stage", "metadata__mlflow"), TextField())
        queryset = queryset.annotate(mlflow_lifecycle=stage)
        deleted = Q(mlflow_lifecycle="deleted")
        queryset = queryset.filter(deleted if lifecycle == "deleted" else Q(mlflow_lifecycle__isnull=True) | ~deleted)
    queryset = search.runs_order(search.runs_filter(queryset, search.filter_parse(filter_string)), order_by)
    limit = 1000 if max_results is None else max_results
    if not 1 <= limit <= MAX_RESULTS:
        raise invalid("max_results", f"must be between 1 and {MAX_RESULTS}, got {limit}")
    offset = _offset(page_token)
    runs = list(queryset[offset : offset + limit + 1])
    token = _token(offset + limit) if len(runs) > limit else None
    runs = runs[:limit]
    metrics = _latest_metrics([run.pk for run in runs])
    return [_run_out(caller, run, metrics.get(run.pk, [])) for run in runs], token


def metric_history(caller: Caller, run_id: str, key: str) -> list[dict[str, Any]]:
    run = run_get(caller, run_id)
    if not key:
        raise MlflowError("INVALID_PARAMETER_VALUE", "Missing value for required parameter 'metric_key'.")
    try:
        history = tracking_selectors.run_histories(run=run, keys=[key])[key]
    except InvalidInput as exc:
        raise invalid("metric_key", exc.message) from None
    series = history.series
    return [
        {"key": key, "value": float_out(value), "timestamp": int(moment * 1000), "step": step}
        for step, value, moment in zip(
            series.steps.tolist(), series.values.tolist(), series.times.tolist(), strict=True
        )
    ]


# ---------------------------------------------------------------------------- runs: writing


def run_create(
    caller: Caller,
    *,
    experiment_id: Any,
    run_name: str,
    start_time: int | None,
    user_id: str,
    tags: list[tuple[str, str]],
) -> Run:
    _pairs_check(tags, "tags", MAX_TAGS_PER_BATCH, MAX_TAG_VALUE_CHARS)
    project = experiment_project(caller, experiment_id or DEFAULT_EXPERIMENT_ID, write=True)
    assert project is not None
    tag_map = dict(tags)
    name = run_name or tag_map.get(mapping.RUN_NAME_TAG, "")
    if name:
        tag_map[mapping.RUN_NAME_TAG] = name
    stored: dict[str, Any] = {"params": {}, "tags": tag_map, "user_id": user_id}
    if start_time is not None:
        stored["start_time"] = start_time
    metadata = {"mlflow": stored}
    json_value_check(metadata, field="metadata")
    run, _ = changes.run_create(
        project=project,
        name=name[:250],
        model=mapping.DEFAULT_MODEL,
        config={},
        tags=mapping.seedboard_tags(tag_map),
        notes=tag_map.get(mapping.NOTE_TAG, ""),
        metadata=metadata,
    )
    return run


def _pairs_check(pairs: list[tuple[str, str]], field: str, most: int, value_chars: int) -> None:
    if len(pairs) > most:
        raise invalid(field, f"at most {most} per request, got {len(pairs)}")
    for key, value in pairs:
        if not 1 <= len(key) <= MAX_KEY_CHARS:
            raise invalid(field, f"keys have 1 to {MAX_KEY_CHARS} characters, got {key[:40]!r}")
        if len(value) > value_chars:
            raise invalid(field, f"the value of {key!r} has {len(value)} characters, at most {value_chars}")


def _run_locked(caller: Caller, run_id: str) -> Run:
    """The run, for a write, locked until the transaction ends (params and tags are read,
    merged and written back)."""
    run = run_get(caller, run_id, write=True)
    Run.objects.select_for_update().filter(pk=run.pk).values_list("pk").get()
    run.refresh_from_db(fields=["metadata", "config", "model", "seed", "tags", "name", "notes", "status"])
    return run


def _apply(
    run: Run,
    *,
    params: Sequence[tuple[str, str]] = (),
    tags: Sequence[tuple[str, str]] = (),
    deleted_tags: Sequence[str] = (),
    fields: dict[str, Any] | None = None,
) -> Run:
    """Merge params and tags into a locked run: its config and variant, name, notes, tags and
    the MLflow text kept in metadata. A param logged again must keep its value (MLflow's rule)."""
    stored = _mlflow_of(run)
    stored = {**stored, "params": dict(stored.get("params", {})), "tags": dict(stored.get("tags", {}))}
    if not _mlflow_of(run):
        stored["tags"] = mapping.tags_of_seedboard(run.tags)
    new_params: dict[str, str] = {}
    for key, value in params:
        before = stored["params"].get(key, new_params.get(key))
        if before is not None and before != value:
            raise MlflowError(
                "INVALID_PARAMETER_VALUE",
                f"Changing param values is not allowed. Param with key='{key}' was already logged with "
                f"value='{before}' for run ID='{run.uuid.hex}'. Attempted logging new value '{value}'.",
            )
        new_params[key] = value
    old_tags = mapping.seedboard_tags(stored["tags"])
    for key in deleted_tags:
        if key not in stored["tags"]:
            raise _not_found(f"No tag with name: {key} in run with id {run.uuid.hex}")
        del stored["tags"][key]
    stored["tags"].update(dict(tags))
    stored["params"].update(new_params)
    update: dict[str, Any] = dict(fields or {})
    tag_map = stored["tags"]
    if mapping.RUN_NAME_TAG in dict(tags) or "name" in update:
        name = update.get("name") or tag_map.get(mapping.RUN_NAME_TAG, run.name)
        update["name"] = name[:250]
        tag_map[mapping.RUN_NAME_TAG] = name
    if mapping.NOTE_TAG in dict(tags) or mapping.NOTE_TAG in deleted_tags:
        update["notes"] = tag_map.get(mapping.NOTE_TAG, "")
    if tags or deleted_tags:
        native = [tag for tag in run.tags if tag not in old_tags]
        update["tags"] = list(dict.fromkeys(native + mapping.seedboard_tags(tag_map)))[: mapping.MAX_TAGS]
    metadata = {**run.metadata, "mlflow": stored}
    if metadata != run.metadata:
        json_value_check(metadata, field="metadata")
        update["metadata"] = metadata
    if update:
        run = changes.run_update(run=run, fields=update)
    if new_params:
        model, config, seed = mapping.definition_of(stored["params"], config=run.config, model=run.model, seed=run.seed)
        json_value_check(config, field="config")
        run = changes.run_definition_set(run=run, model=model, config=config, seed=seed)
    return run


def run_update(caller: Caller, run_id: str, *, status: str, end_time: int | None, run_name: str) -> Run:
    fields: dict[str, Any] = {}
    if status:
        if status.upper() not in search.STATUS_TO_SEEDBOARD:
            raise invalid("status", f"one of {sorted(search.STATUS_TO_SEEDBOARD)}, got {status!r}")
        fields["status"] = search.STATUS_TO_SEEDBOARD[status.upper()]
    if run_name:
        fields["name"] = run_name
    with transaction.atomic():
        run = _run_locked(caller, run_id)
        if end_time is not None:
            stored = _mlflow_of(run)
            fields["metadata"] = {**run.metadata, "mlflow": {**stored, "end_time": end_time}}
        return _apply(run, fields=fields)


def run_lifecycle_set(caller: Caller, run_id: str, *, deleted: bool) -> None:
    """MLflow's delete-run and restore-run: the run is hidden from (or back in) MLflow's
    searches. It stays in Seedboard and in its statistics."""
    with transaction.atomic():
        run = _run_locked(caller, run_id)
        stored = dict(_mlflow_of(run))
        if deleted:
            stored["lifecycle_stage"] = "deleted"
        else:
            stored.pop("lifecycle_stage", None)
        _apply(run, fields={"metadata": {**run.metadata, "mlflow": stored}})


def tags_change(
    caller: Caller, run_id: str, *, set_tags: Sequence[tuple[str, str]] = (), delete: Sequence[str] = ()
) -> None:
    _pairs_check(list(set_tags), "tags", MAX_TAGS_PER_BATCH, MAX_TAG_VALUE_CHARS)
    with transaction.atomic():
        _apply(_run_locked(caller, run_id), tags=list(set_tags), deleted_tags=delete)


def inputs_accept(caller: Caller, run_id: str) -> None:
    """log-inputs (datasets): accepted and not stored, for a run the caller may write."""
    run_get(caller, run_id, write=True)


def _metric_columns(metrics: Any) -> dict[str, list[Any]]:
    """MLflow metrics ({key, value, timestamp, step}) as a columnar batch's points."""
    if not isinstance(metrics, list):
        raise invalid("metrics", "expected a list of {key, value, timestamp, step}")
    columns: dict[str, list[Any]] = {"key": [], "step": [], "value": [], "time": []}
    now_ms = int(time.time() * 1000)
    for index, metric in enumerate(metrics):
        if not isinstance(metric, dict):
            raise invalid(f"metrics[{index}]", "expected an object {key, value, timestamp, step}")
        key = metric.get("key")
        if not isinstance(key, str) or not key:
            raise invalid(f"metrics[{index}].key", "a metric needs a key")
        step = int64(metric.get("step"), f"metrics[{index}].step")
        if step is not None and step < 0:
            raise invalid(f"metrics[{index}].step", f"Seedboard keeps steps from 0 up, got {step}")
        stamp = int64(metric.get("timestamp"), f"metrics[{index}].timestamp")
        columns["key"].append(key)
        columns["step"].append(step or 0)
        columns["value"].append(double(metric.get("value"), f"metrics[{index}].value"))
        columns["time"].append((now_ms if stamp is None else stamp) / 1000)
    return columns


def _batch_of(run_uuid: uuid.UUID, metrics: Any) -> Any:
    """The metrics as a checked MetricBatch whose id is derived from the run and the content."""
    columns = _metric_columns(metrics)
    try:
        batch = batch_parse(
            {"batch_id": str(BATCH_NAMESPACE), "points": columns}, max_points=settings.SEEDBOARD_MAX_BATCH_POINTS
        )
    except InvalidInput as exc:
        message = re.sub(r"points\.(\w+)\[(\d+)\]", r"metrics[\2].\1", exc.message).replace("points.", "metrics.")
        raise MlflowError("INVALID_PARAMETER_VALUE", message.replace(".time", ".timestamp")) from None
    digest = hashlib.sha256(run_uuid.bytes)
    digest.update("\x00".join(batch.key_names).encode())
    for column in (batch.key_codes, batch.steps, batch.values, batch.times):
        digest.update(column.tobytes())
    return dataclasses.replace(batch, batch_id=uuid.uuid5(BATCH_NAMESPACE, digest.hexdigest()))


def log_batch(
    caller: Caller, run_id: str, *, metrics: Any, params: list[tuple[str, str]], tags: list[tuple[str, str]]
) -> None:
    """MLflow's log-batch (and log-metric, log-parameter, set-tag): params and tags applied,
    then the metrics stored through the ingestion path, all in one transaction.

    The batch id is derived from the run and the metrics, so a log-batch the client sends
    again stores its points once. Two calls logging the very same points (key, value, step and
    millisecond timestamp) are thereby one; MLflow's own store keeps such duplicates once too.
    """
    _pairs_check(params, "params", MAX_PARAMS_PER_BATCH, MAX_PARAM_VALUE_CHARS)
    _pairs_check(tags, "tags", MAX_TAGS_PER_BATCH, MAX_TAG_VALUE_CHARS)
    if not params and not tags:
        try:
            ref = tracking_selectors.run_ref_for_write(user=caller.user, run_id=run_id)
        except NotFound:
            raise _not_found(f"Run '{run_id}' not found.") from None
        if metrics:
            batch = _batch_of(uuid.UUID(run_id), metrics)
            changes.metrics_ingest(run=ref, batch=batch)
        _heartbeat(caller, ref)
        return
    with transaction.atomic():
        run = _run_locked(caller, run_id)
        batch = _batch_of(run.uuid, metrics) if metrics else None
        run = _apply(run, params=params, tags=tags)
        if batch is not None:
            changes.metrics_ingest(run=tracking_selectors.RunRef(run.pk, run.status), batch=batch)


def _heartbeat(caller: Caller, ref: tracking_selectors.RunRef) -> None:
    """A write to a run is its heartbeat (MLflow clients send none), at most every HEARTBEAT_EVERY
    seconds; a run marked crashed for its silence is running again."""
    now = timezone.now()
    if ref.status == Run.Status.CRASHED:
        run = Run.objects.select_related("project__team").get(pk=ref.pk)
        changes.run_update(run=run, fields={"heartbeat": True})
        return
    stale = now - timedelta(seconds=HEARTBEAT_EVERY)
    Run.objects.filter(pk=ref.pk, status=Run.Status.RUNNING, heartbeat_at__lt=stale).update(heartbeat_at=now)
