"""`SeedboardLogger` in a real Lightning fit on CPU, against a live server.

Lightning's own CSVLogger, given the same fit, is the reference for what was logged and when.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import seedboard

torch = pytest.importorskip("torch")
lightning = pytest.importorskip("lightning")

from lightning.pytorch.loggers import CSVLogger  # noqa: E402
from seedboard.integrations.lightning import SeedboardLogger  # noqa: E402


class TinyRegressor(lightning.LightningModule):
    def __init__(self, lr: float = 0.05, hidden: int = 4, seed: int = 0, fail_at_step: int | None = None) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["fail_at_step"])
        self.fail_at_step = fail_at_step
        self.net = torch.nn.Sequential(torch.nn.Linear(3, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        if self.fail_at_step is not None and self.global_step == self.fail_at_step:
            raise RuntimeError("diverged")
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("val/loss", torch.nn.functional.mse_loss(self.net(x), y))

    def test_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("test/loss", torch.nn.functional.mse_loss(self.net(x), y))

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def loader() -> Any:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(32, 3, generator=generator)
    data = torch.utils.data.TensorDataset(x, x.sum(dim=1, keepdim=True))
    return torch.utils.data.DataLoader(data, batch_size=4)


def trainer(loggers: list[Any], tmp_path: Path) -> Any:
    return lightning.Trainer(
        max_epochs=2,
        logger=loggers,
        log_every_n_steps=3,
        accelerator="cpu",
        devices=1,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )


def csv_series(logger: Any, key: str) -> tuple[list[int], list[float]]:
    with open(Path(logger.log_dir) / "metrics.csv") as file:
        rows = [row for row in csv.DictReader(file) if row.get(key)]
    return [int(row["step"]) for row in rows], [float(row[key]) for row in rows]


def test_a_fit_is_logged_with_its_hyperparameters_seed_and_lightnings_steps_then_finished(
    project: str, api: seedboard.Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PL_GLOBAL_SEED", "0")  # restored afterwards; seed_everything sets it
    lightning.seed_everything(7)
    logger = SeedboardLogger(project=project, task="synthetic", config={"data": "sum-of-3"})
    reference = CSVLogger(tmp_path)
    fit = trainer([logger, reference], tmp_path)
    module = TinyRegressor(lr=0.05, hidden=4, seed=3)
    fit.fit(module, loader(), loader())
    fit.test(module, dataloaders=loader(), verbose=False)

    record = api.run(logger.version)
    assert (record["status"], record["model"], record["seed"], record["task"]) == (
        "finished",
        "TinyRegressor",
        7,  # seed_everything's seed wins over the `seed` hyperparameter
        "synthetic",
    )
    assert record["config"] == {"lr": 0.05, "hidden": 4, "data": "sum-of-3"}
    history = api.history(logger.version)
    for key in ("train/loss", "val/loss", "test/loss"):
        steps, values = csv_series(reference, key)
        assert steps and history[key]["step"] == steps, key
        assert history[key]["value"] == pytest.approx(values, rel=1e-6), key
    assert history["train/loss"]["step"] == [2, 5, 8, 11, 14]  # every 3rd of 16 optimizer steps


def test_an_exception_in_training_fails_the_run(project: str, api: seedboard.Api, tmp_path: Path) -> None:
    logger = SeedboardLogger(project=project)
    with pytest.raises(RuntimeError, match="diverged"):
        trainer([logger], tmp_path).fit(TinyRegressor(seed=5, fail_at_step=4), loader())

    record = api.run(logger.version)
    assert (record["status"], record["seed"]) == ("failed", 5)  # no seed_everything: the hyperparameter
    assert api.history(logger.version)["train/loss"]["step"] == [2]
