"""Optuna: `SeedboardCallback` logs every trial of a study as a run of one search.

::

    from seedboard.integrations.optuna import SeedboardCallback

    callback = SeedboardCallback("team/project", metric_name="val/acc", model="mlp")
    study.optimize(objective, n_trials=50, callbacks=[callback])

    seedboard.Api().tuning("team/project", "val/acc", tag="optuna:" + study.study_name)

- Each finished trial becomes a run: model (default: the study's name), config (the
  trial's params), seed (the `seed` argument, else a ``seed`` param or user attribute,
  kept out of the config), tags ``optuna:<study name>`` (the search: filter on it) and
  ``optuna:pruned`` for pruned trials; the trial's number, state, times and user
  attributes are in the run's metadata.
- The trial's intermediate values (``trial.report``) are logged at their steps under
  `metric_name`, and its value is the run's summary of `metric_name` (the score the
  statistics use), so Seedboard's tuning-budget curve works on the study.
- Complete trials finish their run; failed and pruned ones fail it (a pruned trial has
  no final score, so the tuning curve lists it with the failed trials).
- The metric is defined once per callback with the study's direction as its goal (pass
  ``define_metric=False`` to keep your own definition).

The run is created when Optuna reports the trial, after it ended: the server records its
own start and end times, not the trial's, so use the tuning curve against the number of
trials (the trial's own duration is in the metadata).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import optuna

from ._common import RunSettings, config_value, finish_quietly, seed_value

__all__ = ["SeedboardCallback"]

MAX_TAG = 100  # the server's limit on a tag's length


class SeedboardCallback:
    """An Optuna study callback: ``study.optimize(..., callbacks=[SeedboardCallback(...)])``.

    Args:
        project: ``"team/project"`` (or a project name with `team`); default
            ``SEEDBOARD_PROJECT``.
        metric_name: the key of the objective's value; a list of keys for a
            multi-objective study (default: ``value``, or ``value_0``, ``value_1``...).
        model: the model label of every trial (default: the study's name).
        seed: the seed of every trial (default: a ``seed`` param or user attribute).
        config: merged over each trial's params (yours win).
        define_metric: define `metric_name` with the study's direction as goal.
        **init_kwargs: other arguments of `seedboard.init` (``task``, ``tags``, ``notes``,
            ``metadata``, ``url``, ``token``, ``mode``, ``dir``).
    """

    def __init__(
        self,
        project: str | None = None,
        *,
        metric_name: str | Sequence[str] = "value",
        team: str | None = None,
        model: str | None = None,
        seed: int | None = None,
        config: Mapping[str, Any] | None = None,
        define_metric: bool = True,
        **init_kwargs: Any,
    ) -> None:
        self._metric_name = metric_name
        self._settings = RunSettings(
            project=project, team=team, model=model, seed=seed, config=config, init=init_kwargs
        )
        self._define_metric = define_metric
        self._defined: set[str] = set()
        self._lock = threading.Lock()  # n_jobs > 1 calls back from several threads
        self.run_ids: dict[int, str] = {}
        """Trial number -> id of its run."""

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        """Log `trial` (just ended) as a finished, or failed, run."""
        names = self._names(len(study.directions))
        params = dict(trial.params)
        seed = seed_value(params.pop("seed", trial.user_attrs.get("seed")))
        state = trial.state
        tags = [f"optuna:{study.study_name}"[:MAX_TAG]]
        if state == optuna.trial.TrialState.PRUNED:
            tags.append("optuna:pruned")
        info = {"optuna": _trial_info(study, trial)}
        settings = dataclasses.replace(
            self._settings,
            init={
                "name": f"trial-{trial.number}",
                **self._settings.init,
                "metadata": {**self._settings.init.get("metadata", {}), **info},
            },
        )
        run = settings.start(model=study.study_name, config=params, seed=seed, tags=tags)
        with self._lock:
            self.run_ids[trial.number] = run.id
            if self._define_metric:
                for name, direction in zip(names, study.directions):
                    if name not in self._defined:
                        self._defined.add(name)
                        goal = "max" if direction == optuna.study.StudyDirection.MAXIMIZE else "min"
                        run.define_metric(name, goal=goal)
        values = trial.values or []
        if len(names) == 1 and trial.intermediate_values:
            for step, value in sorted(trial.intermediate_values.items()):
                run.log({names[0]: value}, step=step)
        elif values:
            run.log(dict(zip(names, values)), step=0)
        for name, value in zip(names, values):
            run.summary[name] = value
        complete = state == optuna.trial.TrialState.COMPLETE
        finish_quietly(run, "finished" if complete else "failed")

    def _names(self, n_objectives: int) -> list[str]:
        if isinstance(self._metric_name, str):
            if n_objectives == 1:
                return [self._metric_name]
            return [f"{self._metric_name}_{i}" for i in range(n_objectives)]
        names = list(self._metric_name)
        if len(names) != n_objectives:
            raise ValueError(
                f"metric_name has {len(names)} name(s) for {n_objectives} objective(s)"
            )
        return names


def _trial_info(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    start, end = trial.datetime_start, trial.datetime_complete
    return {
        "study": study.study_name,
        "trial": trial.number,
        "state": trial.state.name.lower(),
        "datetime_start": start.isoformat() if start else None,
        "datetime_complete": end.isoformat() if end else None,
        "duration_s": (end - start).total_seconds() if start and end else None,
        "user_attrs": config_value(trial.user_attrs),
    }
