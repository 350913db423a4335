"""Expected best validation score vs number of trials (Dodge et al. 2019), against enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from server.analysis import trials_expected_max

TRIALS = np.array([0.61, 0.72, 0.55, 0.72, 0.80])


def test_with_replacement_equals_enumerating_every_draw() -> None:
    r = trials_expected_max(TRIALS)
    for n in (1, 2, 3):
        draws = [max(combo) for combo in itertools.product(TRIALS, repeat=n)]
        assert r.expected[n - 1] == pytest.approx(np.mean(draws))
        assert r.sd[n - 1] == pytest.approx(np.std(draws))  # population sd of the max over draws


def test_without_replacement_equals_enumerating_every_subset() -> None:
    r = trials_expected_max(TRIALS)
    for n in range(1, TRIALS.size + 1):
        maxima = [max(combo) for combo in itertools.combinations(TRIALS, n)]
        assert r.expected_without_replacement[n - 1] == pytest.approx(np.mean(maxima))


def test_one_trial_gives_the_mean_and_all_trials_give_the_max_without_replacement() -> None:
    r = trials_expected_max(TRIALS)
    assert r.expected[0] == pytest.approx(TRIALS.mean())
    assert r.expected_without_replacement[-1] == pytest.approx(TRIALS.max())
    assert r.expected[-1] < TRIALS.max()
    assert list(r.expected) == sorted(r.expected)
    for low, mid, high in zip(r.band_low, r.expected, r.band_high, strict=True):
        assert TRIALS.min() <= low <= mid <= high <= TRIALS.max()


def test_losses_give_the_expected_minimum() -> None:
    r = trials_expected_max(TRIALS, goal="min")
    draws = [min(combo) for combo in itertools.product(TRIALS, repeat=2)]
    assert r.expected[1] == pytest.approx(np.mean(draws))
    assert r.expected_without_replacement[-1] == pytest.approx(TRIALS.min())
    assert r.band_low[1] <= r.expected[1] <= r.band_high[1]


def test_budget_axis_and_custom_trial_counts() -> None:
    r = trials_expected_max(TRIALS, n_trials=[1, 3, 8], runtimes=[10.0, 20.0, 30.0])
    assert r.n_trials == (1, 3, 8) and r.budget == (20.0, 60.0, 160.0)
    assert r.expected_without_replacement[2] is None and "up to n = N" in r.reasons["expected_without_replacement"]


def test_no_finished_trials_give_nulls() -> None:
    r = trials_expected_max([np.nan], n_trials=[1, 2])
    assert r.n == 0 and r.n_failed == 1 and r.expected == (None, None)
