"""HTTP adapters of the MLflow tracking API: read MLflow's fields, call one service, answer in
MLflow's shape. Every endpoint is one `MlflowEndpoint` with its action (urls.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from server.accounts.authentication import request_user
from server.accounts.models import ApiToken
from server.core.errors import ReadOnlyToken
from server.mlflow_compat import services, wire
from server.mlflow_compat.services import Caller
from server.mlflow_compat.wire import int64, key_values, string

Action = Callable[[Caller, Any], dict[str, Any]]


class MlflowTokenScope(permissions.BasePermission):
    """A `read` token may call the endpoints that only read, searches (POSTs in MLflow) included,
    and no endpoint that writes (TokenScopePermission judges by method instead)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not getattr(view, "writes", True) or not isinstance(token, ApiToken):
            return True
        if token.scope != ApiToken.Scope.WRITE:
            raise ReadOnlyToken(f"Token sb_{token.prefix}_… is read-only; writing needs a token with scope 'write'.")
        return True


class MlflowEndpoint(APIView):
    schema = None  # not part of Seedboard's own OpenAPI schema
    permission_classes = [permissions.IsAuthenticated, MlflowTokenScope]
    action: Action | None = None
    writes = True

    def get_exception_handler(self) -> Callable[..., Response | None]:
        return wire.exception_handler

    def _answer(self, request: Request, data: Any) -> Response:
        assert self.action is not None
        if not isinstance(data, dict):
            raise wire.MlflowError("BAD_REQUEST", "The request body must be a JSON object.")
        return Response(self.action(Caller(request_user(request)), data))

    def get(self, request: Request) -> Response:
        query = request.query_params
        return self._answer(request, {key: values[0] if len(values) == 1 else values for key, values in query.lists()})

    def post(self, request: Request) -> Response:
        return self._answer(request, request.data)


@csrf_exempt
def endpoint_not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Everything of MLflow's API that Seedboard does not serve: artifacts, registered and
    logged models, traces, experiment deletes and renames..."""
    return wire.error_response("ENDPOINT_NOT_FOUND", f"Seedboard does not serve {request.method} {request.path}.")


def _run_id(data: Any) -> str:
    return string(data, "run_id") or string(data, "run_uuid", required=True)


def _list(data: Any, field: str) -> list[Any]:
    value = data.get(field)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------------------- actions


def experiment_create(caller: Caller, data: Any) -> dict[str, Any]:
    project = services.experiment_create(caller, string(data, "name", required=True))
    return {"experiment_id": services.experiment_out(caller, project)["experiment_id"]}


def experiment_get(caller: Caller, data: Any) -> dict[str, Any]:
    project = services.experiment_project(caller, string(data, "experiment_id", required=True))
    return {"experiment": services.experiment_out(caller, project)}


def experiment_get_by_name(caller: Caller, data: Any) -> dict[str, Any]:
    project = services.experiment_by_name(caller, string(data, "experiment_name", required=True))
    return {"experiment": services.experiment_out(caller, project)}


def experiments_search(caller: Caller, data: Any) -> dict[str, Any]:
    experiments, token = services.experiments_search(
        caller,
        filter_string=string(data, "filter"),
        max_results=int64(data.get("max_results"), "max_results"),
        page_token=string(data, "page_token"),
        view_type=data.get("view_type"),
    )
    return {"experiments": experiments, **({"next_page_token": token} if token else {})}


def run_create(caller: Caller, data: Any) -> dict[str, Any]:
    run = services.run_create(
        caller,
        experiment_id=string(data, "experiment_id") or services.DEFAULT_EXPERIMENT_ID,
        run_name=string(data, "run_name"),
        start_time=int64(data.get("start_time"), "start_time"),
        user_id=string(data, "user_id"),
        tags=key_values(data, "tags"),
    )
    return {"run": services.run_out(caller, run)}


def run_get(caller: Caller, data: Any) -> dict[str, Any]:
    return {"run": services.run_out(caller, services.run_get(caller, _run_id(data)))}


def run_update(caller: Caller, data: Any) -> dict[str, Any]:
    run = services.run_update(
        caller,
        _run_id(data),
        status=string(data, "status"),
        end_time=int64(data.get("end_time"), "end_time"),
        run_name=string(data, "run_name"),
    )
    return {"run_info": services.run_info(caller, run)}


def run_delete(caller: Caller, data: Any) -> dict[str, Any]:
    services.run_lifecycle_set(caller, _run_id(data), deleted=True)
    return {}


def run_restore(caller: Caller, data: Any) -> dict[str, Any]:
    services.run_lifecycle_set(caller, _run_id(data), deleted=False)
    return {}


def runs_search(caller: Caller, data: Any) -> dict[str, Any]:
    runs, token = services.runs_search(
        caller,
        experiment_ids=_list(data, "experiment_ids"),
        filter_string=string(data, "filter"),
        view_type=data.get("run_view_type"),
        max_results=int64(data.get("max_results"), "max_results"),
        order_by=[str(clause) for clause in _list(data, "order_by")],
        page_token=string(data, "page_token"),
    )
    return {"runs": runs, **({"next_page_token": token} if token else {})}


def log_batch(caller: Caller, data: Any) -> dict[str, Any]:
    services.log_batch(
        caller,
        _run_id(data),
        metrics=_list(data, "metrics"),
        params=key_values(data, "params"),
        tags=key_values(data, "tags"),
    )
    return {}


def log_metric(caller: Caller, data: Any) -> dict[str, Any]:
    metric = {field: data.get(field) for field in ("key", "value", "timestamp", "step")}
    services.log_batch(caller, _run_id(data), metrics=[metric], params=[], tags=[])
    return {}


def log_param(caller: Caller, data: Any) -> dict[str, Any]:
    param = {"params": [{"key": data.get("key"), "value": data.get("value", "")}]}
    services.log_batch(caller, _run_id(data), metrics=[], params=key_values(param, "params"), tags=[])
    return {}


def tag_set(caller: Caller, data: Any) -> dict[str, Any]:
    tag = {"tags": [{"key": data.get("key"), "value": data.get("value", "")}]}
    services.tags_change(caller, _run_id(data), set_tags=key_values(tag, "tags"))
    return {}


def tag_delete(caller: Caller, data: Any) -> dict[str, Any]:
    services.tags_change(caller, _run_id(data), delete=[string(data, "key", required=True)])
    return {}


def inputs_log(caller: Caller, data: Any) -> dict[str, Any]:
    services.inputs_accept(caller, _run_id(data))
    return {}


def metric_history(caller: Caller, data: Any) -> dict[str, Any]:
    metrics = services.metric_history(caller, _run_id(data), string(data, "metric_key", required=True))
    return {"metrics": metrics}
