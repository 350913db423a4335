"""Import MLflow runs: ``seedboard import mlflow --tracking-uri URI [--experiment NAME]``.

URI is a tracking server (``http://host:5000``) or a local store (an ``mlruns`` folder, as
a path or a ``file:`` URI), read through MLflow's own client (`mlflow.MlflowClient`), so
any store MLflow can read works. Every active run of the experiment (default: of every
active experiment) is imported:

- params -> config (MLflow keeps them as text: numbers and booleans are parsed back, dotted
  names nested), the seed param -> seed, ``mlflow.runName`` -> name, the run's user tags ->
  tags (``key=value``, or ``key`` alone when empty), MLflow's system tags (``mlflow.*``: git
  commit, source, user) -> metadata;
- every metric's full history (`MlflowClient.get_metric_history`) -> points, with MLflow's
  step and timestamp;
- status FINISHED -> finished, FAILED -> failed, KILLED -> crashed, RUNNING and SCHEDULED
  -> running (a later import, after the run ends, adds the new points and the status).

A run's identity is its MLflow run id. Needs ``pip install "seedboard[mlflow]"``. Recent
MLflow versions refuse to open an ``mlruns`` folder (the file store is in maintenance mode)
unless ``MLFLOW_ALLOW_FILE_STORE`` is set: the importer sets it while it opens one, as it
only reads.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .base import RunReader, Series, SourceRun, config_nest, parse_param

__all__ = ["mlflow_runs", "tracking_uri"]

SOURCE = "mlflow"
_STATUSES = {
    "FINISHED": "finished",
    "FAILED": "failed",
    "KILLED": "crashed",
    "RUNNING": "running",
    "SCHEDULED": "running",
}
_PAGE = 1000


def _mlflow() -> Any:
    try:
        import mlflow
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "importing MLflow runs needs mlflow: pip install 'seedboard[mlflow]'"
        ) from None
    return mlflow


def tracking_uri(uri: str) -> str:
    """`uri` as MLflow takes it: an existing local folder becomes a ``file:`` URI."""
    if "://" not in uri and not uri.startswith("file:") and Path(uri).is_dir():
        return Path(uri).resolve().as_uri()
    return uri


@contextlib.contextmanager
def _file_store_allowed(uri: str) -> Iterator[None]:
    """``MLFLOW_ALLOW_FILE_STORE=true`` while a client of a local store is made."""
    if not uri.startswith("file:") or "MLFLOW_ALLOW_FILE_STORE" in os.environ:
        yield
        return
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        yield
    finally:
        os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)


class _MlflowRun:
    def __init__(self, client: Any, run: Any, experiment: str) -> None:
        self._client = client
        self._run = run
        self._experiment = experiment
        info = run.info
        self.label = run.data.tags.get("mlflow.runName") or info.run_name or info.run_id
        self.source_id = info.run_id

    def read(self) -> SourceRun:
        run, info = self._run, self._run.info
        tags = run.data.tags
        user_tags = [
            name if value == "" else f"{name}={value}"
            for name, value in sorted(tags.items())
            if not name.startswith("mlflow.")
        ]
        system = {name: value for name, value in sorted(tags.items()) if name.startswith("mlflow.")}
        return SourceRun(
            source_id=info.run_id,
            name=self.label,
            config=config_nest(
                {name: parse_param(value) for name, value in run.data.params.items()}
            ),
            series=self._series(sorted(run.data.metrics)),
            status=_STATUSES.get(str(info.status), "finished"),
            tags=[tag[:200] for tag in user_tags],
            metadata={
                "mlflow": {
                    "run_id": info.run_id,
                    "experiment": self._experiment,
                    "experiment_id": info.experiment_id,
                    "start_time": info.start_time,
                    "end_time": info.end_time,
                    "tags": system,
                }
            },
        )

    def _series(self, keys: list[str]) -> Any:
        # A generator: one key's history in memory at a time.
        for key in keys:
            history = self._client.get_metric_history(self._run.info.run_id, key)
            yield Series(
                key=key,
                steps=[metric.step for metric in history],
                values=[metric.value for metric in history],
                times=[metric.timestamp / 1000.0 for metric in history],
            )


def mlflow_runs(uri: str, *, experiment: str | None = None) -> list[RunReader]:
    """The active runs of one experiment (by name) or of every active experiment of `uri`,
    oldest first."""
    mlflow = _mlflow()
    from mlflow.entities import ViewType

    resolved = tracking_uri(os.fspath(uri))
    with _file_store_allowed(resolved):
        client = mlflow.MlflowClient(tracking_uri=resolved)  # opens the store
    if experiment is not None:
        found = client.get_experiment_by_name(experiment)
        if found is None:
            raise ValueError(f"no MLflow experiment named {experiment!r} at {uri}")
        experiments = [found]
    else:
        experiments = client.search_experiments(view_type=ViewType.ACTIVE_ONLY)
    readers: list[RunReader] = []
    for found in experiments:
        token = None
        while True:
            page = client.search_runs(
                [found.experiment_id],
                run_view_type=ViewType.ACTIVE_ONLY,
                max_results=_PAGE,
                order_by=["attributes.start_time ASC"],
                page_token=token,
            )
            readers += [_MlflowRun(client, run, found.name) for run in page]
            token = page.token
            if not token:
                break
    return readers
