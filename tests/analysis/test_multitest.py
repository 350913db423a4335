"""Holm and Benjamini-Hochberg against hand-computed cases and scipy."""

from __future__ import annotations

import numpy as np
from scipy import stats

from server.analysis import bh_adjust, holm_adjust
from server.analysis.multitest import family_size


def test_holm_steps_down_and_keeps_input_order() -> None:
    # Sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, then max(0.06, 0.04*1) = 0.06.
    np.testing.assert_allclose(holm_adjust([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_and_is_monotone() -> None:
    np.testing.assert_allclose(holm_adjust([0.5, 0.6]), [1.0, 1.0])
    np.testing.assert_allclose(holm_adjust([0.04]), [0.04])


def test_holm_leaves_undefined_tests_out_of_the_family() -> None:
    got = holm_adjust([0.01, np.nan, 0.04])
    np.testing.assert_allclose(got[[0, 2]], [0.02, 0.04])
    assert np.isnan(got[1])
    assert family_size([0.01, np.nan, 0.04]) == 2


def test_holm_handles_ties_and_an_empty_family() -> None:
    np.testing.assert_allclose(holm_adjust([0.02, 0.02, 0.02]), [0.06, 0.06, 0.06])
    assert holm_adjust([]).size == 0


def test_bh_matches_scipy() -> None:
    p = np.random.default_rng(0).uniform(0, 0.2, size=25)
    np.testing.assert_allclose(bh_adjust(p), stats.false_discovery_control(p, method="bh"))


def test_holm_matches_the_definition_on_random_families() -> None:
    rng = np.random.default_rng(1)
    for m in range(1, 12):
        p = rng.uniform(0, 0.3, size=m)
        order = np.argsort(p)
        expected = np.empty(m)
        running = 0.0
        for j, i in enumerate(order):
            running = max(running, min(1.0, (m - j) * p[i]))
            expected[i] = running
        np.testing.assert_allclose(holm_adjust(p), expected)
