"""A demo benchmark across two teams: `cifar10-small`, owned by the demo team.

The second team (vision-lab) logs three seeds each of two models of its own through the SDK;
the demo team creates the benchmark and submits two of its variants from the demo study
(demo_study.py), vision-lab submits its two, and the leaderboard is printed once a worker has
computed it. Budgets are declared unequally on purpose, so the leaderboard's warnings show.

    SEEDBOARD_URL=http://127.0.0.1:8000 SEEDBOARD_TOKEN=<demo token> \
        python demo_benchmark.py --lab-token <a vision-lab token>
"""

from __future__ import annotations

import argparse
import contextlib
import math
import random
import zlib

import seedboard

LAB_MODELS = {
    "convnext_tiny": (0.928, {"lr": 0.05, "optimizer": "adamw"}),
    "resnet18": (0.921, {"lr": 0.05}),
}
LAB_SEEDS = range(3)
EPOCHS = 30
DEMO_ENTRIES = {"resnet18": 0.03, "vit_small": 0.03}  # model -> lr, from demo_study.py


def log_lab_run(token: str, project: str, model: str, seed: int) -> None:
    ceiling, config = LAB_MODELS[model]
    rng = random.Random(zlib.crc32(f"lab|{model}|{seed}".encode()))  # the same runs every time
    ceiling += rng.gauss(0, 0.004)
    with seedboard.init(
        project=project, model=model, config=config, seed=seed, task="cifar10", token=token
    ) as run:
        for epoch in range(EPOCHS):
            acc = (
                ceiling
                - (ceiling - 0.1) * math.exp(-5.0 * (epoch + 1) / EPOCHS)
                + rng.gauss(0, 0.003)
            )
            run.log({"val/acc": acc}, step=epoch)


def variant_of(api: seedboard.Api, project: str, model: str, lr: float) -> str:
    """The fingerprint of `model` at learning rate `lr` in `project`."""
    for run in api.runs(project, model=model, limit=200):
        if run["config"].get("lr") == lr and run["status"] == "finished":
            return str(run["variant"])
    raise SystemExit(f"no finished run of {model} at lr={lr} in {project}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--benchmark", default="cifar10-small")
    parser.add_argument(
        "--owner", default="demo", help="the owner team (the token's user must be an admin)"
    )
    parser.add_argument("--project", default="demo/cifar10", help="the demo study's project")
    parser.add_argument("--lab-project", default="vision-lab/cifar10")
    parser.add_argument("--lab-token", required=True)
    args = parser.parse_args()
    api = seedboard.Api()
    lab = seedboard.Api(token=args.lab_token)
    for model in LAB_MODELS:
        for seed in LAB_SEEDS:
            log_lab_run(args.lab_token, args.lab_project, model, seed)
    print(f"  logged vision-lab: {len(LAB_MODELS)} models x {len(LAB_SEEDS)} seeds", flush=True)

    with contextlib.suppress(seedboard.ConflictError):  # created on an earlier start
        api.create_benchmark(
            args.owner,
            args.benchmark,
            "CIFAR-10, small models",
            ["cifar10"],
            "val/acc",
            goal="max",
            summary="last",
            description="Small image classifiers on CIFAR-10; val/acc at the last epoch.",
            min_seeds=3,
        )
    for model, lr in DEMO_ENTRIES.items():
        variant = variant_of(api, args.project, model, lr)
        api.submit(args.benchmark, args.project, variant, budget={"trials": 9, "gpu_hours": 4.5})
    for model in LAB_MODELS:
        variant = variant_of(lab, args.lab_project, model, LAB_MODELS[model][1]["lr"])
        lab.submit(
            args.benchmark, args.lab_project, variant, budget={"trials": 48, "gpu_hours": 30.0}
        )

    board = api.leaderboard(args.benchmark, timeout=120)
    blocks = {block["variant"]: block for block in board.variants}
    print(f"\nBenchmark {args.benchmark}: {len(board.submissions)} submissions from 2 teams")
    for entry in sorted(board.ranking["entries"], key=lambda e: e["rank"]):
        block = blocks[entry["variant"]]
        print(
            f"  {entry['rank']:>4g}  P(best) {entry['p_best']:.2f}  mean {block['mean']:.4f}"
            f"  ({block['n']} seeds)  {block['label']} [{block['team']}]"
        )
    for warning in board.warnings:
        print(f"  ! {warning}")
    site = str(board.url or "").split("/api/v1/")[0]
    print(f"Its leaderboard in the web UI: {site}/benchmarks/{args.benchmark}/")


if __name__ == "__main__":
    main()
