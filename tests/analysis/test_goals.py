from __future__ import annotations

import numpy as np
import pytest

from server.analysis import goal_for_key, goal_orient, goal_resolve


@pytest.mark.parametrize(
    "key", ["loss", "val/loss", "train_error", "err", "top1_err", "MSE", "val_mae", "rmse", "Perplexity"]
)
def test_loss_like_keys_are_minimised(key: str) -> None:
    assert goal_for_key(key) == "min"


@pytest.mark.parametrize("key", ["acc", "val/accuracy", "bleu", "f1", "reward", "auc"])
def test_other_keys_are_maximised(key: str) -> None:
    assert goal_for_key(key) == "max"


def test_an_explicit_goal_wins_over_the_key_rule() -> None:
    assert goal_resolve("max", key="val/loss") == "max"
    assert goal_resolve(None, key="val/loss") == "min"
    assert goal_resolve(None) == "max"


def test_an_unknown_goal_is_refused() -> None:
    with pytest.raises(ValueError, match="goal"):
        goal_resolve("maximize")


def test_orienting_flips_losses_only() -> None:
    np.testing.assert_array_equal(goal_orient([1.0, -2.0], "min"), [-1.0, 2.0])
    np.testing.assert_array_equal(goal_orient([1.0, -2.0], "max"), [1.0, -2.0])
