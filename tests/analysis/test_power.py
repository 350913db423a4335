"""Power helpers against the Welch/Colas formulas, Noether's N and exact rank-test minima."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from server.analysis import (
    detectable_difference,
    min_p_mannwhitney,
    min_p_wilcoxon,
    noether_seeds,
    power_plan,
    seeds_needed,
)


def _colas_needed(sa: float, sb: float, eps: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Smallest N >= 2 with N >= (t_{1-a/2,nu} + t_{power,nu})^2 (sa^2 + sb^2) / eps^2, by counting up."""
    n = 2
    while True:
        nu = (n - 1) * (sa**2 + sb**2) ** 2 / (sa**4 + sb**4)
        need = (stats.t.ppf(1 - alpha / 2, nu) + stats.t.ppf(power, nu)) ** 2 * (sa**2 + sb**2) / eps**2
        if need <= n:
            return n
        n += 1


@pytest.mark.parametrize(("sa", "sb", "eps"), [(1, 1, 1), (1, 1, 0.3), (0.02, 0.05, 0.01), (0.5, 0, 0.2), (3, 1, 10)])
def test_seeds_needed_is_the_smallest_n_meeting_colas_formula(sa: float, sb: float, eps: float) -> None:
    assert seeds_needed(sa, sb, eps) == _colas_needed(sa, sb, eps)


def test_seeds_needed_is_undefined_without_difference_or_variance() -> None:
    assert np.isnan(seeds_needed(1.0, 1.0, 0.0))
    assert np.isnan(seeds_needed(0.0, 0.0, 1.0))
    assert np.isnan(seeds_needed(1.0, 1.0, 1e-9))  # beyond a million seeds


def test_seeds_needed_falls_as_the_difference_grows() -> None:
    needed = seeds_needed(1.0, 1.0, np.array([0.2, 0.5, 1.0, 2.0]))
    assert list(needed) == sorted(needed, reverse=True)


def test_detectable_difference_is_welch_quantiles_times_the_standard_error() -> None:
    sa, na, sb, nb = 0.03, 5, 0.05, 8
    va, vb = sa**2 / na, sb**2 / nb
    nu = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    expected = (stats.t.ppf(0.975, nu) + stats.t.ppf(0.8, nu)) * math.sqrt(va + vb)
    assert detectable_difference(sa, na, sb, nb) == pytest.approx(expected, rel=1e-12)


def test_single_variant_detectable_difference_uses_twice_the_degrees_of_freedom() -> None:
    s, n = 0.02, 5
    expected = (stats.t.ppf(0.975, 2 * (n - 1)) + stats.t.ppf(0.8, 2 * (n - 1))) * s * math.sqrt(2 / n)
    assert detectable_difference(s, n) == pytest.approx(expected, rel=1e-12)
    assert np.isnan(detectable_difference(s, 1))
    assert np.isnan(detectable_difference(0.0, 5))


def test_noether_gives_29_seeds_for_p_075() -> None:
    assert noether_seeds() == 29


def test_smallest_attainable_p_values_match_scipy_exact_tests() -> None:
    assert min_p_mannwhitney(3, 3) == pytest.approx(stats.mannwhitneyu([1, 2, 3], [4, 5, 6], method="exact").pvalue)
    assert min_p_mannwhitney(3, 3) == pytest.approx(0.1)
    assert min_p_mannwhitney(4, 4) == pytest.approx(2 / 70)
    assert min_p_mannwhitney(2, 2) == pytest.approx(1 / 3)
    assert min_p_wilcoxon(4) == pytest.approx(stats.wilcoxon([1, 2, 3, 4]).pvalue) == pytest.approx(0.125)
    assert min_p_wilcoxon(0) == 1.0


def test_power_plan_reports_mde_and_seeds_for_a_chosen_difference() -> None:
    plan = power_plan(0.02, 5, delta=0.01)
    assert plan.mde == pytest.approx(float(detectable_difference(0.02, 5)))
    assert plan.seeds_needed == _colas_needed(0.02, 0.02, 0.01)
    assert plan.to_dict()["noether_seeds"] == 29
    undecided = power_plan(0.02, 1)
    assert undecided.mde is None and undecided.seeds_needed is None
    assert set(undecided.reasons) == {"mde", "seeds_needed"}
