"""`SeedboardCallback` in a real Keras 3 fit on the torch backend (CPU), against a live server.

Keras's own ``History`` is the reference for what was logged and when.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import seedboard

os.environ.setdefault("KERAS_BACKEND", "torch")  # before Keras is imported; no TensorFlow here
pytest.importorskip("torch")
keras = pytest.importorskip("keras")

from seedboard.integrations.keras import SeedboardCallback  # noqa: E402


def tiny_model(**kwargs: Any) -> Any:
    model = keras.Sequential(
        [keras.Input(shape=(3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)], **kwargs
    )
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse", metrics=["mae"])
    return model


def data() -> tuple[Any, Any]:
    import numpy as np

    x = np.random.default_rng(0).normal(size=(40, 3)).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


def test_a_fit_is_logged_per_epoch_with_the_model_optimizer_and_seed_then_finished(
    project: str, api: seedboard.Api
) -> None:
    assert keras.backend.backend() == "torch"
    keras.utils.set_random_seed(5)
    x, y = data()
    callback = SeedboardCallback(project=project, log_every_n_batches=2)
    history = tiny_model().fit(x, y, epochs=3, batch_size=8, validation_split=0.2, callbacks=[callback], verbose=0)
    assert callback.run is not None

    record = api.run(callback.run.id)
    assert (record["status"], record["model"], record["seed"]) == ("finished", "Sequential", 5)
    config = record["config"]
    assert config["optimizer"]["learning_rate"] == pytest.approx(0.05)
    assert (config["loss"], config["fit"]) == ("mse", {"epochs": 3, "steps": 4})
    assert [layer["class_name"] for layer in config["model"]["layers"]] == ["InputLayer", "Dense", "Dense"]
    stored = api.history(callback.run.id)
    for key in ("loss", "val_loss", "mae", "val_mae"):
        assert stored[key]["step"] == [0, 1, 2], key
        assert stored[key]["value"] == pytest.approx(history.history[key], rel=1e-6), key
    assert stored["batch/loss"]["step"] == [2, 4, 6, 8, 10, 12]  # every 2nd of 4 batches x 3 epochs


def test_a_named_model_is_the_label_and_a_fit_that_raises_fails_the_run(project: str, api: seedboard.Api) -> None:
    class Diverge(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            if epoch == 1:
                raise FloatingPointError("loss is NaN")

    x, y = data()
    with pytest.raises(FloatingPointError), SeedboardCallback(project=project, seed=3) as callback:
        tiny_model(name="mlp").fit(x, y, epochs=3, batch_size=8, callbacks=[callback, Diverge()], verbose=0)
    assert callback.run is not None

    record = api.run(callback.run.id)
    assert (record["status"], record["model"], record["seed"]) == ("failed", "mlp", 3)
    assert api.history(callback.run.id)["loss"]["step"] == [0, 1]
