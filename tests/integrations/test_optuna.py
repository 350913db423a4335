"""`SeedboardCallback` on a real Optuna study, against a live server: every trial is a run
of one search, and Seedboard's tuning curve over them matches the study."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import seedboard

optuna = pytest.importorskip("optuna")

from seedboard.integrations.optuna import SeedboardCallback  # noqa: E402

METRIC = "val/r2"


def objective(trial: Any) -> float:
    """Fit a linear model by gradient descent for a few epochs; R² on held-out data."""
    lr = trial.suggest_float("lr", 1e-3, 0.5, log=True)
    epochs = trial.suggest_int("epochs", 2, 4)
    seed = trial.suggest_categorical("seed", [0, 1])
    if lr > 0.4:
        raise ValueError("diverged")
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(64, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=64)
    w = np.zeros(3)
    r2 = 0.0
    for epoch in range(epochs):
        w -= lr * 2 * x[:48].T @ (x[:48] @ w - y[:48]) / 48
        r2 = 1 - float(np.mean((x[48:] @ w - y[48:]) ** 2) / np.var(y[48:]))
        trial.report(r2, epoch)
        if lr < 0.01:  # learns too slowly: stopped after its first epoch
            raise optuna.TrialPruned()
    return r2


def test_each_trial_is_a_run_of_one_search_and_the_tuning_curve_follows_the_study(
    project: str, api: seedboard.Api
) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=1), study_name="gd")
    callback = SeedboardCallback(project=project, metric_name=METRIC, model="linear", task="synthetic")
    study.optimize(objective, n_trials=12, callbacks=[callback], catch=(ValueError,))

    trials = study.get_trials(deepcopy=False)
    states = {trial.state for trial in trials}
    assert states == {optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL, optuna.trial.TrialState.PRUNED}
    assert set(callback.run_ids) == {trial.number for trial in trials}
    runs = {run["id"]: run for run in api.runs(project, tag="optuna:gd")}
    assert set(runs) == set(callback.run_ids.values())
    for trial in trials:
        run = runs[callback.run_ids[trial.number]]
        params = dict(trial.params)
        complete = trial.state == optuna.trial.TrialState.COMPLETE
        assert (run["status"], run["model"], run["seed"], run["name"]) == (
            "finished" if complete else "failed",
            "linear",
            params.pop("seed"),  # the seed param is the run's seed, not config
            f"trial-{trial.number}",
        )
        assert run["config"] == params
        assert ("optuna:pruned" in run["tags"]) == (trial.state == optuna.trial.TrialState.PRUNED)
        assert run["metadata"]["optuna"]["state"] == trial.state.name.lower()
        if complete:
            assert run["summary"][METRIC] == pytest.approx(trial.value)
            history = api.history(run["id"], [METRIC])[METRIC]
            assert history["step"] == sorted(trial.intermediate_values)

    definition = {d["key"]: d for d in api.metric_definitions(project)}[METRIC]
    assert definition["goal"] == "max"
    curve = api.tuning(project, METRIC, tag="optuna:gd")
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert curve.n == len(complete)
    assert curve.best is not None and curve.best["value"] == pytest.approx(study.best_value)
    assert curve.best["run"] == callback.run_ids[study.best_trial.number]
    assert len(curve.failed_runs) == len(trials) - len(complete)
