"""A demo study logged through the SDK: 3 models x 3 learning rates x 5 seeds on CIFAR-10.

The curves are synthetic but shaped like real ones: accuracy rises towards a ceiling that
depends on the model and the learning rate, the seed moves it by a realistic amount
(about 0.3-0.8 points), training loss falls with minibatch noise, and one seed of one
variant diverges late (a NaN loss) as real runs sometimes do.

    SEEDBOARD_URL=http://127.0.0.1:8000 SEEDBOARD_TOKEN=... \
        python demo_study.py [--project demo/cifar10]
"""

from __future__ import annotations

import argparse
import math
import random
import zlib
from typing import Any

import seedboard

MODELS = {"resnet18": 0.930, "vit_small": 0.915, "mlp_mixer": 0.885}  # ceiling at the best lr
LEARNING_RATES = {0.01: -0.012, 0.03: 0.0, 0.1: -0.006}  # shift of the ceiling
SEEDS = range(5)
EPOCHS = 30
STEPS_PER_EPOCH = 100


def log_run(project: str, model: str, lr: float, seed: int) -> None:
    rng = random.Random(zlib.crc32(f"{model}|{lr}|{seed}".encode()))  # the same study every time
    ceiling = MODELS[model] + LEARNING_RATES[lr] + rng.gauss(0, 0.004)
    speed = 6.0 * (0.03 / lr) ** 0.3 + rng.gauss(0, 0.4)
    diverges = model == "mlp_mixer" and lr == 0.1 and seed == 3
    config = {
        "lr": lr,
        "optimizer": {"name": "sgd", "momentum": 0.9, "weight_decay": 5e-4},
        "batch_size": 128,
        "epochs": EPOCHS,
        "data": {"augment": "crop+flip", "num_workers": 4},
    }
    with seedboard.init(
        project=project, model=model, config=config, seed=seed, task="cifar10", tags=["demo"]
    ) as run:
        acc = 0.1
        for epoch in range(EPOCHS):
            for i in range(STEPS_PER_EPOCH):
                step = epoch * STEPS_PER_EPOCH + i
                progress = step / (EPOCHS * STEPS_PER_EPOCH)
                loss = (
                    2.3 * math.exp(-speed * progress)
                    + 0.25 * (1 - ceiling)
                    + abs(rng.gauss(0, 0.05))
                )
                if diverges and epoch >= 24:
                    loss = float("nan")
                run.log(
                    {"train/loss": loss, "train/lr": lr * 0.5 * (1 + math.cos(math.pi * progress))},
                    step=step,
                )
            acc = (
                ceiling
                - (ceiling - 0.1) * math.exp(-speed * (epoch + 1) / EPOCHS)
                + rng.gauss(0, 0.003)
            )
            if diverges and epoch >= 24:
                acc = 0.1
            run.log(
                {"val/acc": acc, "val/loss": 1.0 - acc + rng.gauss(0, 0.01)},
                step=(epoch + 1) * STEPS_PER_EPOCH - 1,
            )
        run.summary["test/acc"] = acc - abs(rng.gauss(0.004, 0.002))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--project", default="demo/cifar10")
    args = parser.parse_args()
    for model in MODELS:
        for lr in LEARNING_RATES:
            for seed in SEEDS:
                log_run(args.project, model, lr, seed)
        print(
            f"  logged {model}: {len(LEARNING_RATES)} learning rates x {len(SEEDS)} seeds",
            flush=True,
        )
    show_comparison(seedboard.Api(), args.project)


def show_comparison(api: seedboard.Api, project: str) -> None:
    """Which variant is really best on val/acc (each run's last value), and how sure is that?"""
    result = api.compare(project, "val/acc", timeout=120)
    blocks = {block["variant"]: block for block in result.variants}
    print(f"\nLeaderboard on val/acc (last value of each run; {len(blocks)} variants):")
    header = ("rank", "95% rank set", "P(best)", "mean", "95% CI")
    print("  {:>4}  {:>17}  {:>7}  {:>6}  {:>15}  seeds  variant".format(*header))
    ranked = [entry for entry in result.ranking["entries"] if entry["rank"] is not None]
    for entry in sorted(ranked, key=lambda e: e["rank"]):
        block = blocks[entry["variant"]]
        # The simultaneous rank set follows from the verdicts below, so it never contradicts them.
        rank_set = entry.get("rank_set")
        interval = f"{rank_set['lower']}-{rank_set['upper']}" if rank_set else "needs 2 seeds"
        ci = f"{block['ci_low']:.4f}-{block['ci_high']:.4f}" if block["ci_low"] is not None else "-"
        seeds = f"{block['n']}" + (f" (+{block['n_failed']} failed)" if block["n_failed"] else "")
        print(
            f"  {entry['rank']:>4g}  {interval:>17}  {entry['p_best']:>7.2f}  {block['mean']:.4f}"
            f"  {ci:>15}  {seeds:<5}  {block['label']}"
        )
    print(
        "  95% rank set: 1 + the variants verdicts call better, to k - those they call worse;"
        "\n  all sets hold at once (Mogstad et al. 2024). P(best) is a bootstrap over seeds."
    )
    leader = result.ranking["leader"]
    rank_of = {entry["variant"]: entry["rank"] for entry in ranked}

    def rival_rank(pair: dict[str, Any]) -> float:
        return float(rank_of.get(pair["b"] if pair["a"] == leader else pair["a"], math.inf))

    print("\nThe leader against the others, in rank order:")
    against_leader = [pair for pair in result.pairs if leader in (pair["a"], pair["b"])]
    for pair in sorted(against_leader, key=rival_rank):
        print(f"  - {pair['statement']}")
    print(f"\nThe whole comparison (it updates itself as new seeds finish): {result.url}")
    site = str(result.url or "").split("/api/v1/")[0]
    if site:
        print(f"Its charts in the web UI: {site}/compare/{result.id}/")


if __name__ == "__main__":
    main()
