"""The ``seedboard`` command line, run in a child process as a user would."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path
from typing import Any

import seedboard

from .conftest import run_cli
from .test_statistics import stats_worker

__all__ = ["stats_worker"]  # the fixture, for this module


def test_runs_prints_a_table_of_the_matching_runs(server: Any, project: str, seedboard_dir: Path) -> None:
    ids = {}
    for model, seed in (("resnet18", 0), ("resnet18", 1), ("vit", 0)):
        with seedboard.init(project=project, model=model, seed=seed, name=f"{model}-s{seed}") as run:
            ids[(model, seed)] = run.id
    env = {"SEEDBOARD_URL": server.url, "SEEDBOARD_TOKEN": server.token, "SEEDBOARD_DIR": str(seedboard_dir)}

    shown = run_cli("runs", project, "--model", "resnet18", "--status", "finished", env=env)

    assert shown.returncode == 0, shown.stderr
    header, *rows = shown.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "MODEL", "SEED", "STATUS", "CREATED"]
    assert len(rows) == 2
    by_name = {row.split()[1]: row.split() for row in rows}
    assert by_name["resnet18-s1"][:5] == [ids[("resnet18", 1)][:8], "resnet18-s1", "resnet18", "1", "finished"]
    assert by_name["resnet18-s0"][0] == ids[("resnet18", 0)][:8]

    limited = run_cli("runs", project, "--limit", "1", env=env)
    assert len(limited.stdout.splitlines()) == 2


def test_runs_shows_the_last_value_of_each_named_metric_as_a_column(
    server: Any, project: str, seedboard_dir: Path
) -> None:
    for seed, acc in ((0, 0.5), (1, 0.75)):
        with seedboard.init(project=project, model="m", seed=seed, name=f"s{seed}") as run:
            run.log({"val/acc": acc, "train/loss": 1 - acc})
    with seedboard.init(project=project, model="m", seed=2, name="s2"):
        pass  # logs nothing: blank cells
    env = {"SEEDBOARD_URL": server.url, "SEEDBOARD_TOKEN": server.token, "SEEDBOARD_DIR": str(seedboard_dir)}

    shown = run_cli("runs", project, "--metrics", "val/acc,train/loss", "--ordering=-metric:val/acc", env=env)

    assert shown.returncode == 0, shown.stderr
    header, *rows = shown.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "MODEL", "SEED", "STATUS", "CREATED", "val/acc", "train/loss"]
    assert [row.split()[1] for row in rows] == ["s1", "s0", "s2"]
    assert rows[0].split()[-2:] == ["0.75", "0.25"] and rows[1].split()[-2:] == ["0.5", "0.5"]
    assert len(rows[2].split()) == len(rows[0].split()) - 2

    refused = run_cli("runs", project, "--metrics", ",".join(f"k{i}" for i in range(101)), env=env)
    assert refused.returncode == 1 and "metrics" in refused.stderr


def test_login_checks_the_token_and_saves_it_readable_by_the_owner_only(server: Any, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"SEEDBOARD_DIR": str(home), "SEEDBOARD_URL": "", "SEEDBOARD_TOKEN": ""}

    refused = run_cli("login", "--url", server.url, "--token", "sb_wrong", env=env)
    assert refused.returncode == 1 and "401" in refused.stderr
    assert not (home / "settings.json").exists()

    accepted = run_cli("login", "--url", server.url + "/api/v1/", "--token", server.token, env=env)
    assert accepted.returncode == 0, accepted.stderr
    assert "alice" in accepted.stdout and "acme" in accepted.stdout
    settings = home / "settings.json"
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600
    assert json.loads(settings.read_text()) == {"url": server.url, "token": server.token}

    # The saved settings are enough for the next commands.
    listed = run_cli("runs", "acme/nothing-here", env=env)
    assert listed.returncode == 1 and "not_found" in listed.stderr  # reached the server, authenticated


def test_version_prints_the_package_version() -> None:
    shown = run_cli("--version")
    assert shown.returncode == 0 and shown.stdout.strip() == f"seedboard {seedboard.__version__}"


def test_runs_takes_a_descending_ordering_as_its_own_argument_and_shows_config_columns(
    server: Any, project: str, seedboard_dir: Path
) -> None:
    for seed, (lr, acc) in enumerate(((0.1, 0.5), (0.01, 0.75))):
        config = {"lr": lr, "optimizer": {"name": "sgd"}}
        with seedboard.init(project=project, model="m", seed=seed, config=config, name=f"s{seed}") as run:
            run.log({"val/acc": acc})
    env = {"SEEDBOARD_URL": server.url, "SEEDBOARD_TOKEN": server.token, "SEEDBOARD_DIR": str(seedboard_dir)}

    shown = run_cli(
        "runs", project, "--ordering", "-metric:val/acc", "--columns", "lr,optimizer.name", "--metrics", "val/acc",
        env=env,
    )  # fmt: skip

    assert shown.returncode == 0, shown.stderr
    header, *rows = shown.stdout.splitlines()
    assert header.split()[-3:] == ["lr", "optimizer.name", "val/acc"]
    assert [row.split()[-3:] for row in rows] == [["0.01", "sgd", "0.75"], ["0.1", "sgd", "0.5"]]


def test_variants_lists_the_labels_the_server_gives(
    server: Any, project: str, seedboard_dir: Path, stats_worker: None
) -> None:
    for lr in (0.1, 0.01):
        for seed in range(2):
            with seedboard.init(project=project, model="m", seed=seed, config={"lr": lr, "epochs": 3}) as run:
                run.log({"val/acc": lr + seed / 100})
    env = {"SEEDBOARD_URL": server.url, "SEEDBOARD_TOKEN": server.token, "SEEDBOARD_DIR": str(seedboard_dir)}
    with seedboard.Api() as api:
        api.compare(project, "val/acc", timeout=60)  # waits until a worker has computed the statistics
    deadline = time.monotonic() + 60
    while True:
        shown = run_cli("variants", project, "val/acc", env=env)
        assert shown.returncode == 0, shown.stderr
        rows = shown.stdout.splitlines()[1:]
        if len(rows) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert sorted(row.split("  ")[0] for row in rows) == ["m (lr=0.01)", "m (lr=0.1)"]
    assert all(row.split()[2] == "2" for row in rows)  # seeds (the task column is blank)


def test_login_with_seedboard_token_set_does_not_prompt(server: Any, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"SEEDBOARD_DIR": str(home), "SEEDBOARD_URL": server.url, "SEEDBOARD_TOKEN": server.token}

    done = run_cli("login", env=env)  # stdin is closed: a prompt would fail

    assert done.returncode == 0, done.stderr
    assert "alice" in done.stdout
    assert json.loads((home / "settings.json").read_text()) == {"url": server.url, "token": server.token}
    refused = run_cli("login", env={**env, "SEEDBOARD_TOKEN": "sb_wrong"})
    assert refused.returncode == 1 and "401" in refused.stderr
