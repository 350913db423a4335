"""Plain-word verdicts: sentences that claim no more than the tests."""

from __future__ import annotations

import numpy as np
import pytest

from server.analysis import pairs_compare
from server.stats.verdicts import pair_statement


def _pair(a, b, goal="max", **kwargs):
    family = pairs_compare({"A": np.asarray(a, float), "B": np.asarray(b, float)}, goal=goal, **kwargs)
    record = family.pairs[0].to_dict()
    return record, pair_statement(record, label_a="A-label", label_b="B-label", metric="val/acc")


def test_a_clear_winner_is_named_first_with_its_margin_interval_and_holm_p():
    record, text = _pair([0.90, 0.91, 0.92, 0.93, 0.94], [0.80, 0.81, 0.82, 0.83, 0.84])
    assert record["verdict"] == "a_better"
    assert text.startswith("A-label is better than B-label on val/acc: 0.1 higher (95% CI ")
    assert f"{record['p_holm']:.3g}" in text and "Holm-adjusted" in text


def test_for_a_loss_the_lower_variant_wins_and_the_sentence_says_lower():
    record, text = _pair([0.50, 0.52, 0.51, 0.53], [0.30, 0.31, 0.29, 0.32], goal="min")
    assert record["verdict"] == "b_better"
    assert text.startswith("B-label is better than A-label") and " lower " in text


def test_an_inconclusive_pair_says_what_the_seeds_can_detect_and_how_many_are_needed():
    rng = np.random.default_rng(3)
    record, text = _pair(rng.normal(0.80, 0.02, 4), rng.normal(0.805, 0.02, 4))
    assert record["verdict"] == "inconclusive" and record["seeds_needed"] is not None
    assert text.startswith("No verdict between A-label and B-label") and "within seed noise" in text
    assert f"about {record['seeds_needed']} seeds per variant" in text
    assert "no difference" not in text


@pytest.mark.parametrize("a", [[0.9], [0.9, 0.9, 0.9]])
def test_degenerate_pairs_give_a_sentence_with_the_reason(a):
    record, text = _pair(a, [0.9, 0.9, 0.9])
    assert record["verdict"] == "inconclusive"
    assert text.startswith("No verdict between A-label and B-label on val/acc: ") and "seeds" in text


def test_the_winners_interval_is_of_its_margin_whichever_side_wins():
    record, text = _pair([0.30, 0.31, 0.29, 0.32], [0.50, 0.52, 0.51, 0.53])
    assert record["verdict"] == "b_better" and record["diff"] < 0
    low, high = -record["diff_ci_high"], -record["diff_ci_low"]
    assert f"(95% CI {low:.3g} to {high:.3g})" in text and 0 < low < high


def test_a_pair_significant_alone_but_not_after_holm_says_so_instead_of_calling_it_noise():
    record, _ = _pair([0.90, 0.91, 0.92, 0.93, 0.94], [0.87, 0.88, 0.89, 0.90, 0.915])
    assert record["p_value"] < 0.05
    corrected = {**record, "p_holm": 0.2, "family_size": 10, "verdict": "inconclusive"}
    text = pair_statement(corrected, label_a="A-label", label_b="B-label", metric="val/acc")
    assert "on its own but Holm-adjusted p = 0.2 over 10 pairs" in text and "within seed noise" not in text
    assert "withholds the verdict" in text
