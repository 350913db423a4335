"""PyTorch Lightning: `SeedboardLogger`, a ``Logger`` for ``Trainer(logger=...)``.

::

    from seedboard.integrations.lightning import SeedboardLogger

    trainer = lightning.Trainer(logger=SeedboardLogger(project="team/project"))

- model: the LightningModule's class name; config: its hyperparameters
  (``self.save_hyperparameters()``) and the datamodule's, as Lightning hands them to
  loggers; seed: ``seed_everything``'s (``PL_GLOBAL_SEED``), else a ``seed``
  hyperparameter (taken out of the config, since seeds of one variant share a config).
- Metrics are logged when Lightning logs them (``log_every_n_steps``, epoch ends), at
  Lightning's step (optimizer steps so far).
- The run is created when fit starts and finished when Lightning finalizes its loggers:
  ``finished`` on success, ``failed`` on an exception or Ctrl-C. Metrics logged later
  (``trainer.test`` after ``fit``) go into the same run, which is reopened for them.

Works with the ``lightning`` package, or ``pytorch_lightning`` when only that is installed.
"""

from __future__ import annotations

import os
from argparse import Namespace
from collections.abc import Mapping
from typing import Any

from ..run import Run
from ._common import RunSettings, config_value, finish_quietly, log_numbers, seed_value

try:
    from lightning.pytorch.loggers import Logger
    from lightning.pytorch.utilities import rank_zero_only
except ImportError:  # the older package name
    from pytorch_lightning.loggers import Logger
    from pytorch_lightning.utilities import rank_zero_only

__all__ = ["SeedboardLogger"]

SEED_KEYS = ("seed", "random_seed")  # hyperparameters that are a seed, not a config value


class SeedboardLogger(Logger):
    """Log a Lightning training into a Seedboard run.

    Args:
        project: ``"team/project"`` (or a project name with `team`); default
            ``SEEDBOARD_PROJECT``.
        model, seed: override the detected model label and seed.
        config: merged over the detected hyperparameters (yours win).
        **init_kwargs: other arguments of `seedboard.init` (``task``, ``tags``, ``name``,
            ``notes``, ``metadata``, ``url``, ``token``, ``mode``, ``dir``).
    """

    def __init__(
        self,
        project: str | None = None,
        *,
        team: str | None = None,
        model: str | None = None,
        seed: int | None = None,
        config: Mapping[str, Any] | None = None,
        **init_kwargs: Any,
    ) -> None:
        super().__init__()
        self._settings = RunSettings(
            project=project, team=team, model=model, seed=seed, config=config, init=init_kwargs
        )
        self._hparams: dict[str, Any] = {}
        self._model_name: str | None = None
        self._run: Run | None = None
        self._finished = False

    # -- what Lightning asks of a logger ---------------------------------------------
    @property
    def name(self) -> str:
        """The project, for Lightning's progress output."""
        return self._settings.project or ""

    @property
    def version(self) -> str | None:
        """The run id, once the run exists."""
        return self._run.id if self._run is not None else None

    @property
    def experiment(self) -> Run | None:
        """The `seedboard.Run` once fit has started (None before), e.g. to log extra values.

        Lightning reads this property before it hands over the hyperparameters; creating
        the run then would fix its config too early.
        """
        return self._run

    @rank_zero_only
    def log_hyperparams(
        self, params: Mapping[str, Any] | Namespace, *args: Any, **kwargs: Any
    ) -> None:
        """Collect hyperparameters; they become the config when the run starts."""
        if isinstance(params, Namespace):
            params = vars(params)
        if self._run is not None:
            return  # the config of a started run is fixed (it defines the variant)
        self._hparams.update(config_value(dict(params)))

    @rank_zero_only
    def log_graph(self, model: Any, input_array: Any = None) -> None:
        """Called by Lightning when fit starts, after the hyperparameters: start the run."""
        self._model_name = type(model).__name__
        self._ensure_run()

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Log Lightning's metrics at its step (returns at once)."""
        run = self._ensure_run()
        log_numbers(run, metrics, step)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        """End the run with the training: ``"success"`` finishes it, ``"failed"`` fails it."""
        if self._run is not None and not self._finished:
            self._finished = True
            # "finished" comes from Lightning's SLURM requeue handler, "failed" on exceptions.
            ok = status in ("success", "finished")
            finish_quietly(self._run, "finished" if ok else "failed")

    # -- the run ---------------------------------------------------------------------
    def _ensure_run(self) -> Run:
        if self._run is None:
            config = dict(self._hparams)
            found = [seed_value(config.pop(key)) for key in SEED_KEYS if key in config]
            global_seed = seed_value(os.environ.get("PL_GLOBAL_SEED"))  # seed_everything sets it
            seed = (
                global_seed
                if global_seed is not None
                else next((s for s in found if s is not None), None)
            )
            self._run = self._settings.start(
                model=self._model_name or "LightningModule", config=config, seed=seed
            )
        elif self._finished:
            # Logged to after finalize (trainer.test after fit): reopen the same run.
            self._finished = False
            self._run = self._settings.reopen(self._run)
        return self._run
