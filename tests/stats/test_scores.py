"""Run scalar extraction: one number per run by the metric's summary rule (server/stats/scores.py)."""

from __future__ import annotations

import math

import pytest

from server.stats.scores import MetricRule, metric_rule, metric_scores
from server.stats.services import metric_definition_set
from server.tracking.models import Run
from tests.stats.conftest import log_run

CURVE = [0.1, 0.5, 0.3]  # steps 0, 1, 2


def scores_of(project, rule, metric="val/acc"):
    table = metric_scores(project_id=project.pk, metric=metric, rule=rule)
    return {
        run_id: (state, value)
        for run_id, state, value in zip(table.run_ids, table.states, table.values.tolist(), strict=True)
    }


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (MetricRule("max", "last"), 0.3),
        (MetricRule("min", "last"), 0.3),
        (MetricRule("max", "min"), 0.1),
        (MetricRule("max", "max"), 0.5),
        (MetricRule("max", "best"), 0.5),
        (MetricRule("min", "best"), 0.1),
        (MetricRule("max", "mean_last_k", k=2), 0.4),
        (MetricRule("max", "mean_last_k", k=10), 0.3),  # fewer points than k: all of them
        (MetricRule("max", "at_step", step=1), 0.5),
    ],
)
def test_each_summary_rule_turns_a_curve_into_its_number(db, project, rule, expected):
    run = log_run(project, points={"val/acc": CURVE})
    assert scores_of(project, rule)[str(run.uuid)] == ("ok", pytest.approx(expected))


def test_mean_last_k_counts_a_repeated_step_once_with_its_last_value(db, project):
    run = log_run(project, points={"val/acc": ([0, 1, 2, 2], [0.1, 0.5, 0.9, 0.3])})
    assert scores_of(project, MetricRule("max", "mean_last_k", k=2))[str(run.uuid)] == ("ok", pytest.approx(0.4))


def test_a_value_written_to_the_summary_wins_over_every_rule(db, project):
    run = log_run(project, points={"val/acc": CURVE}, summary={"val/acc": 0.93})
    for rule in (MetricRule("max", "last"), MetricRule("min", "best"), MetricRule("max", "at_step", step=7)):
        assert scores_of(project, rule)[str(run.uuid)] == ("ok", 0.93)


def test_a_summary_only_metric_is_scored_without_any_points(db, project):
    run = log_run(project, summary={"test/acc": 0.8})
    assert scores_of(project, MetricRule("max", "last"), metric="test/acc") == {str(run.uuid): ("ok", 0.8)}


def test_non_numeric_summary_values_leave_the_rule_in_charge(db, project):
    texts = log_run(project, seed=0, points={"val/acc": CURVE}, summary={"val/acc": "great"})
    flags = log_run(project, seed=1, points={"val/acc": CURVE}, summary={"val/acc": True})
    found = scores_of(project, MetricRule("max", "last"))
    assert found[str(texts.uuid)] == found[str(flags.uuid)] == ("ok", pytest.approx(0.3))


@pytest.mark.parametrize("written", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_summary_value_is_counted_as_non_finite_not_dropped(db, project, written):
    run = log_run(project, points={"val/acc": CURVE}, summary={"val/acc": written})
    state, value = scores_of(project, MetricRule("max", "last"))[str(run.uuid)]
    assert state == "nonfinite" and not math.isfinite(value)


def test_a_diverged_curve_is_non_finite_under_last_and_mean_last_k(db, project):
    run = log_run(project, points={"val/acc": [0.1, 0.2, "NaN"]})
    for rule in (MetricRule("max", "last"), MetricRule("max", "mean_last_k", k=2)):
        assert scores_of(project, rule)[str(run.uuid)][0] == "nonfinite"
    # min and max skip NaN points.
    assert scores_of(project, MetricRule("max", "max"))[str(run.uuid)] == ("ok", pytest.approx(0.2))


def test_failed_crashed_and_missing_runs_are_accounted_for_and_running_ones_ignored(db, project):
    config = {"lr": 0.1}
    ok = log_run(project, config=config, seed=0, points={"val/acc": CURVE})
    failed = log_run(project, config=config, seed=1, points={"val/acc": CURVE}, status=Run.Status.FAILED)
    crashed = log_run(project, config=config, seed=2, status=Run.Status.CRASHED)
    missing = log_run(project, config=config, seed=3, points={"train/loss": [1.0]})
    running = log_run(project, config=config, seed=4, points={"val/acc": CURVE}, status=Run.Status.RUNNING)
    other_variant = log_run(project, config={"lr": 0.2}, points={"train/loss": [1.0]})

    found = scores_of(project, MetricRule("max", "last"))
    assert {run_id: state for run_id, (state, _) in found.items()} == {
        str(ok.uuid): "ok",
        str(failed.uuid): "failed",
        str(crashed.uuid): "crashed",
        str(missing.uuid): "missing",
    }
    assert str(running.uuid) not in found and str(other_variant.uuid) not in found
    assert all(math.isnan(value) for run_id, (_, value) in found.items() if run_id != str(ok.uuid))


def test_at_step_is_missing_for_a_run_that_never_logged_that_step(db, project):
    run = log_run(project, points={"val/acc": ([0, 10, 20], [0.1, 0.2, 0.3])})
    assert scores_of(project, MetricRule("max", "at_step", step=15))[str(run.uuid)][0] == "missing"
    assert scores_of(project, MetricRule("max", "at_step", step=20))[str(run.uuid)] == ("ok", pytest.approx(0.3))


def test_an_undeclared_metric_takes_its_goal_from_its_name_and_a_declared_one_its_definition(db, project):
    assert metric_rule(project_id=project.pk, metric="val/loss") == MetricRule("min", "last")
    assert metric_rule(project_id=project.pk, metric="val/acc") == MetricRule("max", "last")
    metric_definition_set(project=project, key="val/loss", goal="max", summary="mean_last_k", k=3)
    assert metric_rule(project_id=project.pk, metric="val/loss") == MetricRule("max", "mean_last_k", 3, None, True)
