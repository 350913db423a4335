"""A small hyperparameter study for the run and project-page tests: 2 models x 3 learning rates x 3 seeds."""

from __future__ import annotations

from server.tracking.models import Project
from tests.stats.conftest import log_run

LRS = (0.001, 0.01, 0.1)
FINAL = {
    ("resnet18", 0.001): [0.80, 0.82, 0.81],
    ("resnet18", 0.01): [0.90, 0.91, 0.93],
    ("resnet18", 0.1): [0.86, 0.84, 0.85],
    ("vit", 0.001): [0.70, 0.74, 0.72],
    ("vit", 0.01): [0.88, 0.87, 0.89],
    ("vit", 0.1): [0.83, 0.80, 0.86],
}


def log_pages_study(project: Project) -> dict[tuple[str, float], str]:
    """(model, lr) -> variant fingerprint; every run has 20 steps of val/acc and train/loss."""
    variants = {}
    for (model, lr), finals in FINAL.items():
        for seed, final in enumerate(finals):
            run = log_run(
                project,
                model=model,
                config={"optimizer": {"lr": lr}, "depth": 18 if model == "resnet18" else 12},
                seed=seed,
                points={
                    "val/acc": [final * (0.5 + 0.5 * step / 19) for step in range(20)],
                    "train/loss": [1.0 / (1 + step + seed) for step in range(20)],
                },
                summary={"val/acc": final},
            )
            variants[(model, lr)] = run.variant.fingerprint
    return variants
