"""Bring runs logged with other trackers into Seedboard: TensorBoard, MLflow, W&B.

::

    from seedboard.importers import import_mlflow, import_tensorboard, import_wandb

    report = import_tensorboard("runs/", project="acme/cifar10", model="resnet18")
    print(report.summary())

Each reads its source with the tool's own package (an optional extra:
``pip install "seedboard[tensorboard]"``, ``[mlflow]``, ``[wandb]``), maps model, config and
seed the same way, and is idempotent: importing the same source again stores nothing twice
and adds only what is new (see `seedboard.importers.base`). The command line does the
same: ``seedboard import tensorboard LOGDIR --project team/project``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Callable

from ..client import Client
from ..config import resolve_settings
from ..progress import Progress
from .base import ImportOptions, ImportReport, RunReader, SourceRun, import_runs
from .mlflow import mlflow_runs
from .tensorboard import tensorboard_runs
from .wandb import wandb_runs

__all__ = [
    "ImportOptions",
    "ImportReport",
    "RunReader",
    "SourceRun",
    "import_mlflow",
    "import_runs",
    "import_tensorboard",
    "import_wandb",
]


def _import(
    source: str,
    list_runs: Callable[[], list[RunReader]],
    options: ImportOptions,
    *,
    url: str | None,
    token: str | None,
    dir: str | os.PathLike[str] | None,
    progress: Progress | None,
) -> ImportReport:
    settings = resolve_settings(url=url, token=token, dir=dir, mode="online")
    server_url, server_token = settings.server()
    readers = list_runs()
    with Client(server_url, server_token) as client:
        return import_runs(readers, options, source=source, client=client, progress=progress)


def import_tensorboard(
    logdir: str | os.PathLike[str],
    project: str,
    *,
    model: str | None = None,
    model_param: str = "model",
    seed_param: str | None = None,
    task: str = "",
    tags: Sequence[str] = (),
    url: str | None = None,
    token: str | None = None,
    dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import every run of a TensorBoard log directory into `project` (``team/project``).

    `model` names the model of every run (default: the hparam named `model_param`, else
    ``"tensorboard"``); `seed_param` the hparam holding the seed (default ``seed``, then
    ``random_seed``). See `seedboard.importers.tensorboard`.
    """
    options = ImportOptions(project, model, model_param, seed_param, task, tuple(tags))
    return _import(
        "tensorboard", lambda: tensorboard_runs(logdir), options,
        url=url, token=token, dir=dir, progress=progress,
    )  # fmt: skip


def import_mlflow(
    tracking_uri: str,
    project: str,
    *,
    experiment: str | None = None,
    model: str | None = None,
    model_param: str = "model",
    seed_param: str | None = None,
    task: str = "",
    tags: Sequence[str] = (),
    url: str | None = None,
    token: str | None = None,
    dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import the runs of an MLflow tracking server or ``mlruns`` folder into `project`.

    `experiment` limits the import to one experiment (by name); `model`, `model_param` and
    `seed_param` as in `import_tensorboard`, on the runs' params. See
    `seedboard.importers.mlflow`.
    """
    options = ImportOptions(project, model, model_param, seed_param, task, tuple(tags))
    return _import(
        "mlflow", lambda: mlflow_runs(tracking_uri, experiment=experiment), options,
        url=url, token=token, dir=dir, progress=progress,
    )  # fmt: skip


def import_wandb(
    path: str | os.PathLike[str],
    project: str,
    *,
    model: str | None = None,
    model_param: str = "model",
    seed_param: str | None = None,
    task: str = "",
    tags: Sequence[str] = (),
    url: str | None = None,
    token: str | None = None,
    dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import W&B runs (offline run folders, ``.wandb`` files, or CSV/Parquet history
    exports) into `project`; `model`, `model_param` and `seed_param` as in
    `import_tensorboard`, on the runs' config. See `seedboard.importers.wandb`.
    """
    options = ImportOptions(project, model, model_param, seed_param, task, tuple(tags))
    return _import(
        "wandb", lambda: wandb_runs(path), options,
        url=url, token=token, dir=dir, progress=progress,
    )  # fmt: skip
