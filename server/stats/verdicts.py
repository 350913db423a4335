"""Plain words for comparisons: one sentence per pair verdict (labels: server/tracking/labels.py).

The sentences follow STATISTICS.md §12.2: a winner only when the Holm-adjusted test says so;
otherwise "no verdict", with what the seeds can detect and how many would be needed, never
"no difference". The UI and the SDK show them as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _num(value: float) -> str:
    return f"{value:.3g}"


def pair_statement(pair: Mapping[str, Any], *, label_a: str, label_b: str, metric: str) -> str:
    """One sentence saying what the comparison of A and B allows one to claim."""
    diff, low, high = pair.get("diff"), pair.get("diff_ci_low"), pair.get("diff_ci_high")
    if pair.get("paired") and pair.get("paired_diff_ci_low") is not None:
        low, high = pair["paired_diff_ci_low"], pair["paired_diff_ci_high"]
    direction = "higher" if pair.get("goal") == "max" else "lower"

    def interval(flip: bool) -> str:
        if low is None or high is None:
            return ""
        lo, hi = (-high, -low) if flip else (low, high)
        return f" (95% CI {_num(lo)} to {_num(hi)})"

    seeds = f"{pair.get('n_a')} and {pair.get('n_b')} seeds"
    p_holm, prob = pair.get("p_holm"), pair.get("prob_improvement")
    test = "paired t-test" if pair.get("p_method") == "paired_t" else "Welch test"
    family = f" over {pair['family_size']} pairs" if pair.get("family_size", 1) > 1 else ""
    verdict = pair.get("verdict")
    if verdict in ("a_better", "b_better") and diff is not None and p_holm is not None:
        winner, loser = (label_a, label_b) if verdict == "a_better" else (label_b, label_a)
        margin = abs(diff)
        chance = prob if verdict == "a_better" else (1 - prob if prob is not None else None)
        odds = f", and it wins a random pair of seeds with probability {_num(chance)}" if chance is not None else ""
        sentence = (
            f"{winner} is better than {loser} on {metric}: {_num(margin)} {direction}{interval(diff < 0)}, "
            f"{test} Holm-adjusted p = {_num(p_holm)}{family}{odds}."
        )
    elif diff is None or p_holm is None:
        why = (pair.get("reasons") or {}).get("p_value") or pair.get("verdict_reason") or "no test is possible"
        sentence = f"No verdict between {label_a} and {label_b} on {metric}: {why} ({seeds})."
    else:
        p_raw, alpha = pair.get("p_value"), pair.get("alpha", 0.05)
        opening = (
            f"No verdict between {label_a} and {label_b} on {metric}: "
            f"the mean difference, {_num(diff)}{interval(False)}"
        )
        if p_raw is not None and p_raw < alpha:
            # Significant alone, not within the family: say so rather than call it noise.
            sentence = (
                f"{opening}, has {test} p = {_num(p_raw)} on its own but Holm-adjusted p = {_num(p_holm)}{family}, "
                f"with {seeds}."
            )
        else:
            sentence = (
                f"{opening}, is within seed noise with {seeds} ({test} Holm-adjusted p = {_num(p_holm)}{family})."
            )
        needed = pair.get("seeds_needed")
        if p_raw is not None and p_raw < alpha:
            sentence += (
                " The correction for the other pairs withholds the verdict: compare fewer variants "
                "(or each against one baseline), or add seeds."
            )
        elif pair.get("mde") is not None:
            sentence += f" These seeds can detect a difference of about {_num(pair['mde'])}"
            sentence += (
                f"; detecting {_num(abs(diff))} would take about {needed} seeds per variant."
                if needed is not None and diff != 0
                else "."
            )
    if pair.get("distribution_sensitive"):
        sentence += (
            " The mean-based and rank-based tests disagree: look at the per-seed scores, one seed may have diverged."
        )
    return sentence
