"""MLflow's tracking REST API (2.0 paths) under /mlflow/, and its `ajax-api` alias.

Point an MLflow client at Seedboard with MLFLOW_TRACKING_URI=http://host:8000/mlflow.
Anything else under the API's prefixes answers ENDPOINT_NOT_FOUND in MLflow's error shape.
"""

from __future__ import annotations

from django.urls import URLPattern, re_path

from server.mlflow_compat import views
from server.mlflow_compat.views import Action, MlflowEndpoint

PREFIX = r"^(?:api|ajax-api)/2\.0/mlflow/"


def endpoint(path: str, action: Action, *, method: str, writes: bool) -> URLPattern:
    view = MlflowEndpoint.as_view(action=action, writes=writes, http_method_names=[method.lower(), "options"])
    return re_path(PREFIX + path.replace("-", r"\-") + "$", view, name="mlflow-" + path.replace("/", "-"))


urlpatterns = [
    endpoint("experiments/create", views.experiment_create, method="POST", writes=True),
    endpoint("experiments/get", views.experiment_get, method="GET", writes=False),
    endpoint("experiments/get-by-name", views.experiment_get_by_name, method="GET", writes=False),
    endpoint("experiments/search", views.experiments_search, method="POST", writes=False),
    endpoint("runs/create", views.run_create, method="POST", writes=True),
    endpoint("runs/get", views.run_get, method="GET", writes=False),
    endpoint("runs/update", views.run_update, method="POST", writes=True),
    endpoint("runs/delete", views.run_delete, method="POST", writes=True),
    endpoint("runs/restore", views.run_restore, method="POST", writes=True),
    endpoint("runs/search", views.runs_search, method="POST", writes=False),
    endpoint("runs/log-metric", views.log_metric, method="POST", writes=True),
    endpoint("runs/log-parameter", views.log_param, method="POST", writes=True),
    endpoint("runs/log-batch", views.log_batch, method="POST", writes=True),
    endpoint("runs/set-tag", views.tag_set, method="POST", writes=True),
    endpoint("runs/delete-tag", views.tag_delete, method="POST", writes=True),
    endpoint("runs/log-inputs", views.inputs_log, method="POST", writes=True),
    endpoint("metrics/get-history", views.metric_history, method="GET", writes=False),
    # Artifacts, models, traces, the 3.0 paths... (docs/mlflow.md lists what is served).
    re_path(r"^(?:api|ajax-api)/(?P<rest>.*)$", views.endpoint_not_found, name="mlflow-not-found"),
]
