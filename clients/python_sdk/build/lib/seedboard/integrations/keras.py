"""Keras 3: `SeedboardCallback` for ``model.fit(..., callbacks=[...])``, on any backend.

::

    from seedboard.integrations.keras import SeedboardCallback

    model.fit(x, y, epochs=10, callbacks=[SeedboardCallback(project="team/project")])

- model: the model's name when you gave it one (``keras.Sequential(name="mlp")``), else
  its class name; config: ``model`` (``model.get_config()`` without layer names, which
  Keras numbers per process), ``optimizer`` (``optimizer.get_config()``), ``loss`` and
  ``fit`` (epochs, steps per epoch); seed: the one last given to
  ``keras.utils.set_random_seed`` in this process, or the `seed` argument.
- Epoch logs (``loss``, ``val_loss``, metrics) are logged at the end of each epoch with
  the epoch as step; with ``log_every_n_batches=N`` the running batch logs too, as
  ``batch/<key>`` at the global batch step.
- The run starts with ``fit`` and finishes with it. Keras calls no callback when ``fit``
  raises: an exception that ends the program fails the run (the SDK's exit hooks), and a
  callback reused after a ``fit`` that raised fails the earlier run before starting the
  next; use the callback as a context manager to fail it at once::

      with SeedboardCallback(project="team/project") as callback:
          model.fit(x, y, callbacks=[callback])
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import keras

from ..run import Run
from ._common import RunSettings, config_value, finish_quietly, log_numbers, seed_value

__all__ = ["SeedboardCallback"]


class SeedboardCallback(keras.callbacks.Callback):
    """Log a Keras ``fit`` into a Seedboard run.

    Args:
        project: ``"team/project"`` (or a project name with `team`); default
            ``SEEDBOARD_PROJECT``.
        model, seed: override the detected model label and seed.
        config: merged over the detected config (yours win).
        log_every_n_batches: also log the batch logs every N batches (default: epochs only).
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
        log_every_n_batches: int | None = None,
        **init_kwargs: Any,
    ) -> None:
        super().__init__()
        if log_every_n_batches is not None and log_every_n_batches < 1:
            raise ValueError(f"log_every_n_batches must be >= 1, got {log_every_n_batches}")
        self._settings = RunSettings(
            project=project, team=team, model=model, seed=seed, config=config, init=init_kwargs
        )
        self._every = log_every_n_batches
        self._batches = 0
        self.run: Run | None = None
        """The current (or last) run."""
        self._open = False

    # -- Keras hooks -----------------------------------------------------------------
    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        if self._open:  # the previous fit raised: Keras never called on_train_end
            self._end("failed")
        self._batches = 0
        self.run = self._settings.start(
            model=_model_label(self.model), config=self._config(), seed=_global_seed()
        )
        self._open = True

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._batches += 1
        if self._every and self.run is not None and self._batches % self._every == 0:
            log_numbers(self.run, {f"batch/{k}": v for k, v in (logs or {}).items()}, self._batches)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        if self.run is not None and self._open:
            log_numbers(self.run, logs or {}, epoch)

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        self._end("finished")

    # -- context manager: fails the run when fit raises ------------------------------
    def __enter__(self) -> SeedboardCallback:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._end("finished" if exc_type is None else "failed")

    # -- helpers ---------------------------------------------------------------------
    def _end(self, status: str) -> None:
        if self._open:
            self._open = False
            finish_quietly(self.run, status)

    def _config(self) -> dict[str, Any]:
        model = self.model
        config: dict[str, Any] = {"fit": {k: self.params.get(k) for k in ("epochs", "steps")}}
        model_config = _quiet_config(model)
        if model_config is not None:
            config["model"] = _without_names(model_config)
        optimizer = getattr(model, "optimizer", None)
        optimizer_config = _quiet_config(optimizer) if optimizer is not None else None
        if optimizer_config is not None:
            config["optimizer"] = _without_names(optimizer_config)
        loss = getattr(model, "loss", None)
        if loss is not None:
            config["loss"] = config_value(getattr(loss, "name", None) or loss)
        return config


def _quiet_config(obj: Any) -> dict[str, Any] | None:
    try:
        config = obj.get_config()
    except Exception:  # a subclassed model without get_config
        return None
    return dict(config) if isinstance(config, Mapping) else None


def _without_names(value: Any) -> Any:
    """`value` without its ``name`` entries: Keras numbers default names per process
    (``dense_3``), and a name does not change the training."""
    if isinstance(value, Mapping):
        return {k: _without_names(v) for k, v in value.items() if k != "name"}
    if isinstance(value, (list, tuple)):
        return [_without_names(v) for v in value]
    return value


def _model_label(model: Any) -> str:
    cls = type(model).__name__
    name = str(getattr(model, "name", "") or "")
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", cls).lower()
    # Keras names unnamed models after their class, numbered: "sequential_2", "functional".
    if not name or re.fullmatch(rf"{re.escape(snake)}(_\d+)?", name):
        return cls
    return name


def _global_seed() -> int | None:
    """The seed given to ``keras.utils.set_random_seed``: Keras keeps it in its global state."""
    try:
        from keras.src.utils.rng_utils import get_random_seed  # not exported by Keras 3.15
    except ImportError:
        getter = getattr(keras.utils, "get_random_seed", None)
        return seed_value(getter()) if callable(getter) else None
    return seed_value(get_random_seed())
