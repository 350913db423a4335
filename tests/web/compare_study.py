"""A small study for the compare page's tests: 3 variants x 3 seeds, 30 steps of val/acc each."""

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
