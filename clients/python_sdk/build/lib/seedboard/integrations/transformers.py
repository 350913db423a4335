"""Hugging Face Transformers: `SeedboardCallback`, a ``TrainerCallback``.

::

    from seedboard.integrations.transformers import SeedboardCallback

    callback = SeedboardCallback(project="team/project")
    trainer = Trainer(model=model, args=args, train_dataset=train, callbacks=[callback])

- model: the model's class name (``BertForSequenceClassification``); config: ``args``
  (the ``TrainingArguments``, without the seed and bookkeeping such as output and logging
  directories, run name, hub settings and tokens) and ``model`` (the model config's
  values that differ from its defaults); seed: ``TrainingArguments.seed``.
- Whatever the Trainer logs (every ``logging_steps``, and at each evaluation) is logged
  at ``state.global_step``, with the Trainer's names rewritten as ``train/loss``,
  ``train/learning_rate``, ``eval/loss``, ``test/accuracy``; the end-of-training
  figures (``train_runtime``, ``train_loss``...) go to the run's summary.
- The run starts with ``trainer.train()`` and finishes with it; ``trainer.evaluate()``
  afterwards logs into the same run (reopened). The Trainer calls no callback when
  training raises: an exception that ends the program fails the run (the SDK's exit
  hooks), a callback reused after a training that raised fails the earlier run before
  starting the next, and the callback used as a context manager fails it at once::

      with SeedboardCallback(project="team/project") as callback:
          Trainer(..., callbacks=[callback]).train()

``report_to="seedboard"`` works once this module is imported: it adds itself to the
Trainer's table of reporting integrations, and takes its project from
``SEEDBOARD_PROJECT``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

from transformers import TrainerCallback

from ..run import Run
from ._common import RunSettings, config_value, finish_quietly, log_numbers, seed_value

__all__ = ["SeedboardCallback"]

# TrainingArguments that say where and how a run is recorded, not how it trains; a seed
# is the run's seed, not part of its config.
SKIPPED_ARGS = frozenset(
    {
        "seed",
        "output_dir",
        "logging_dir",
        "run_name",
        "report_to",
        "local_rank",
        "overwrite_output_dir",
    }
)
SKIPPED_PREFIXES = ("hub_", "push_to_hub")
# Figures the Trainer logs once, at the end of training.
SUMMARY_KEYS = frozenset(
    {
        "train_runtime",
        "train_samples_per_second",
        "train_steps_per_second",
        "train_loss",
        "total_flos",
    }
)


class SeedboardCallback(TrainerCallback):
    """Log a Transformers ``Trainer`` run into Seedboard.

    Args:
        project: ``"team/project"`` (or a project name with `team`); default
            ``SEEDBOARD_PROJECT`` (the only way with ``report_to="seedboard"``).
        model, seed: override the detected model label and seed.
        config: merged over the detected config (yours win).
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
        self._settings = RunSettings(
            project=project, team=team, model=model, seed=seed, config=config, init=init_kwargs
        )
        self._settings.project_path()  # no project: say so when the Trainer is built
        self.run: Run | None = None
        """The current (or last) run."""
        self._open = False
        self._training = False

    def on_train_begin(
        self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any
    ) -> None:
        if not state.is_world_process_zero:
            return
        if self._open:  # the previous train() raised: the Trainer never called on_train_end
            self._end("failed")
        config = {"args": _training_args(args), "model": _model_config(model)}
        self.run = self._settings.start(
            model=type(model).__name__ if model is not None else "transformers",
            config=config,
            seed=seed_value(getattr(args, "seed", None)),
        )
        self._open = self._training = True

    def on_log(
        self,
        args: Any,
        state: Any,
        control: Any,
        logs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not state.is_world_process_zero or self.run is None or not logs:
            return
        if not self._open:  # evaluate() after train(): into the same run
            self.run = self._settings.reopen(self.run)
            self._open = True
        metrics: dict[str, Any] = {}
        for key, value in logs.items():
            if key in SUMMARY_KEYS:
                if isinstance(value, (int, float)):
                    self.run.summary[key] = value
            else:
                metrics[key] = value
        log_numbers(self.run, _rewrite(metrics), state.global_step)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.is_world_process_zero:
            self._training = False
            self._end("finished")

    def on_evaluate(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        # An evaluate() after train() reopened the run: finished again once it is logged.
        if state.is_world_process_zero and not self._training:
            self._end("finished")

    def __enter__(self) -> SeedboardCallback:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._training = False
        self._end("finished" if exc_type is None else "failed")

    def _end(self, status: str) -> None:
        if self._open:
            self._open = False
            finish_quietly(self.run, status)


def _rewrite(logs: Mapping[str, Any]) -> dict[str, Any]:
    """The Trainer's ``eval_loss`` as ``eval/loss``, ``loss`` as ``train/loss``..."""
    evaluation = any(key.startswith(("eval_", "test_")) for key in logs)
    out = {}
    for key, value in logs.items():
        if key.startswith("eval_"):
            out["eval/" + key[5:]] = value
        elif key.startswith("test_"):
            out["test/" + key[5:]] = value
        elif not (evaluation and key == "epoch"):  # the epoch is logged with the training logs
            out["train/" + key] = value
    return out


def _training_args(args: Any) -> dict[str, Any]:
    raw = args.to_dict() if hasattr(args, "to_dict") else vars(args)
    return {
        key: config_value(value)
        for key, value in raw.items()
        if key not in SKIPPED_ARGS
        and not key.startswith(SKIPPED_PREFIXES)
        and not key.endswith("_token")
    }


def _model_config(model: Any) -> dict[str, Any]:
    config = getattr(model, "config", None)
    if config is None or not hasattr(config, "to_diff_dict"):
        return {}
    values = dict(config.to_diff_dict())
    values.pop("transformers_version", None)  # in the run's metadata; not a hyperparameter
    return dict(config_value(values))


def _register() -> None:
    """Make ``report_to="seedboard"`` name this callback, where the Trainer's table allows it."""
    try:
        from transformers.integrations import integration_utils
    except ImportError:
        return
    table = getattr(integration_utils, "INTEGRATION_TO_CALLBACK", None)
    if isinstance(table, dict):
        table.setdefault("seedboard", SeedboardCallback)


_register()
