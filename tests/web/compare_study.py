"""Small studies for the compare page's tests: 3 variants x 3 seeds on one task, or 4 x 3 on 3 tasks."""

from __future__ import annotations

from server.tracking.models import Project
from tests.stats.conftest import log_run

STEPS = 30
FINAL = {
    "resnet18": [0.91, 0.92, 0.935],
    "resnet50": [0.84, 0.85, 0.86],
    "vit": [0.88, 0.90, 0.87],
}


def curve(final: float, seed: int) -> list[float]:
    """A rising curve that ends exactly at `final` (the run's summary)."""
    return [
        final * (1 - 0.6 * (1 - step / (STEPS - 1)) ** 2) + 0.002 * ((step + seed) % 3 - 1) * (step < STEPS - 1)
        for step in range(STEPS)
    ]


def log_study(project: Project) -> dict[str, str]:
    """Model -> variant fingerprint."""
    variants = {}
    for model, finals in FINAL.items():
        for seed, final in enumerate(finals):
            run = log_run(
                project, model=model, seed=seed, points={"val/acc": curve(final, seed)}, summary={"val/acc": final}
            )
            variants[model] = run.variant.fingerprint
    return variants


# Several tasks: 4 models x 3 tasks x 3 seeds, ranked the same on every task (resnet50 first,
# mlp last), so that Friedman's test rejects equal average ranks and the critical-difference
# diagram is drawn; resnet18 and vit stay within the critical difference of their neighbours.
TASKS = {"cifar10": 0.0, "cifar100": -0.25, "svhn": 0.04}
MODEL_SCORES = {"resnet50": 0.92, "resnet18": 0.90, "vit": 0.875, "mlp": 0.70}
SEED_OFFSETS = [-0.004, 0.0, 0.005]


def multitask_finals() -> dict[str, dict[str, list[float]]]:
    """Task -> model -> the seeds' final val/acc."""
    return {
        task: {
            model: [round(score + shift + offset, 4) for offset in SEED_OFFSETS]
            for model, score in MODEL_SCORES.items()
        }
        for task, shift in TASKS.items()
    }


def log_multitask_study(project: Project) -> dict[str, str]:
    """Every model on every task (short curves), model -> variant fingerprint (a variant spans tasks)."""
    variants = {}
    for task, by_model in multitask_finals().items():
        for model, finals in by_model.items():
            for seed, final in enumerate(finals):
                run = log_run(
                    project,
                    model=model,
                    seed=seed,
                    task=task,
                    points={"val/acc": [*curve(final, seed)[::3], final]},
                    summary={"val/acc": final},
                )
                variants[model] = run.variant.fingerprint
    return variants
