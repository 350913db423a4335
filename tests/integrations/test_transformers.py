"""`SeedboardCallback` in a real Transformers Trainer on CPU, against a live server.

The Trainer's own ``state.log_history`` is the reference for what was logged and when.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import seedboard

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from seedboard.integrations.transformers import SeedboardCallback  # noqa: E402


def tiny_model() -> Any:
    config = transformers.BertConfig(
        vocab_size=32,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=16,
        num_labels=2,
    )
    return transformers.BertForSequenceClassification(config)


def dataset(n: int = 24) -> list[dict[str, Any]]:
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(1, 32, (n, 6), generator=generator)
    labels = (ids[:, 0] > 16).long()  # learnable from the first token
    return [
        {"input_ids": ids[i], "attention_mask": torch.ones(6, dtype=torch.long), "labels": labels[i]} for i in range(n)
    ]


def training_args(tmp_path: Path, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "output_dir": str(tmp_path / "out"),
        "max_steps": 6,
        "per_device_train_batch_size": 4,
        "per_device_eval_batch_size": 8,
        "learning_rate": 1e-3,
        "logging_steps": 2,
        "eval_strategy": "steps",
        "eval_steps": 3,
        "save_strategy": "no",
        "seed": 11,
        "report_to": "none",
        "use_cpu": True,
        "disable_tqdm": True,
    }
    values.update(overrides)
    return transformers.TrainingArguments(**values)


def test_a_training_is_logged_with_its_arguments_model_config_and_seed_then_finished(
    project: str, api: seedboard.Api, tmp_path: Path
) -> None:
    callback = SeedboardCallback(project=project, tags=["hf"])
    trainer = transformers.Trainer(
        model=tiny_model(), args=training_args(tmp_path), train_dataset=dataset(), eval_dataset=dataset(8),
        callbacks=[callback],
    )  # fmt: skip
    trainer.train()
    trainer.evaluate(metric_key_prefix="test")
    assert callback.run is not None

    record = api.run(callback.run.id)
    assert (record["status"], record["model"], record["seed"], record["tags"]) == (
        "finished",
        "BertForSequenceClassification",
        11,
        ["hf"],
    )
    args = record["config"]["args"]
    assert (args["learning_rate"], args["max_steps"], args["logging_steps"]) == (1e-3, 6, 2)
    assert not {"seed", "output_dir", "logging_dir", "report_to"} & args.keys()
    assert record["config"]["model"]["hidden_size"] == 8
    history = api.history(callback.run.id)
    log = trainer.state.log_history
    for key, name in (("train/loss", "loss"), ("eval/loss", "eval_loss"), ("test/loss", "test_loss")):
        rows = [row for row in log if name in row]
        assert rows and history[key]["step"] == [row["step"] for row in rows], key
        assert history[key]["value"] == pytest.approx([row[name] for row in rows], rel=1e-6), key
    assert history["train/loss"]["step"] == [2, 4, 6]
    assert record["summary"]["train_runtime"] > 0


class Diverge(transformers.TrainerCallback):  # type: ignore[misc]
    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.global_step == 3:
            raise FloatingPointError("loss is NaN")


def test_a_training_that_raises_fails_the_run(project: str, api: seedboard.Api, tmp_path: Path) -> None:
    with pytest.raises(FloatingPointError), SeedboardCallback(project=project, seed=5) as callback:
        transformers.Trainer(
            model=tiny_model(), args=training_args(tmp_path, eval_strategy="no"), train_dataset=dataset(),
            callbacks=[callback, Diverge()],
        ).train()  # fmt: skip
    assert callback.run is not None

    record = api.run(callback.run.id)
    assert (record["status"], record["seed"]) == ("failed", 5)  # the argument wins over args.seed
    assert api.history(callback.run.id)["train/loss"]["step"] == [2]


def test_report_to_seedboard_logs_into_the_project_of_the_environment(
    project: str, api: seedboard.Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEDBOARD_PROJECT", project)
    trainer = transformers.Trainer(
        model=tiny_model(), args=training_args(tmp_path, report_to="seedboard", eval_strategy="no", max_steps=2),
        train_dataset=dataset(8),
    )  # fmt: skip
    trainer.train()

    (run,) = api.runs(project)
    assert (run["status"], run["seed"]) == ("finished", 11)
