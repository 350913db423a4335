"""Settings resolution and the synchronous checks of `Run.log`, without a server."""

from __future__ import annotations

import json
import timeit
from pathlib import Path

import pytest
import seedboard
from seedboard.config import resolve_settings, save_login


def test_arguments_beat_the_environment_which_beats_the_login_file(tmp_path: Path) -> None:
    save_login(tmp_path, url="http://saved:1", token="saved-token")
    env = {"SEEDBOARD_DIR": str(tmp_path)}
    assert (resolve_settings(environ=env).url, resolve_settings(environ=env).token) == ("http://saved:1", "saved-token")

    env |= {"SEEDBOARD_URL": "http://env:2/api/v1/", "SEEDBOARD_TOKEN": "env-token", "SEEDBOARD_FLUSH_TIMEOUT": "4"}
    from_env = resolve_settings(environ=env)
    assert (from_env.url, from_env.token, from_env.flush_timeout) == ("http://env:2", "env-token", 4.0)

    from_args = resolve_settings(url="http://arg:3", token="arg-token", mode="offline", environ=env)
    assert (from_args.url, from_args.token, from_args.mode) == ("http://arg:3", "arg-token", "offline")


def test_a_saved_token_is_not_sent_to_another_server(tmp_path: Path) -> None:
    save_login(tmp_path, url="http://saved:1", token="saved-token")
    settings = resolve_settings(environ={"SEEDBOARD_DIR": str(tmp_path), "SEEDBOARD_URL": "http://other:9"})
    assert settings.token is None
    with pytest.raises(seedboard.ConfigurationError, match="token"):
        settings.server()


def test_bad_settings_fail_loudly(tmp_path: Path) -> None:
    with pytest.raises(seedboard.ConfigurationError, match="SEEDBOARD_MODE"):
        resolve_settings(environ={"SEEDBOARD_DIR": str(tmp_path), "SEEDBOARD_MODE": "sometimes"})
    with pytest.raises(seedboard.ConfigurationError, match="SEEDBOARD_FLUSH_TIMEOUT"):
        resolve_settings(environ={"SEEDBOARD_DIR": str(tmp_path), "SEEDBOARD_FLUSH_TIMEOUT": "soon"})


def test_log_refuses_bad_keys_and_steps_at_once_and_copies_the_dict(tmp_path: Path) -> None:
    run = seedboard.init(project="acme/p", model="m", mode="offline", dir=str(tmp_path))
    for bad_key in ("", "k" * 251):
        with pytest.raises(ValueError, match="keys"):
            run.log({bad_key: 1.0})
    with pytest.raises(TypeError, match="keys"):
        run.log({1: 1.0})  # type: ignore[dict-item]
    for bad_step in (-1, 2**63):
        with pytest.raises(ValueError, match="step"):
            run.log({"a": 1.0}, step=bad_step)
    with pytest.raises(TypeError, match="step"):
        run.log({"a": 1.0}, step=1.5)  # type: ignore[arg-type]

    metrics = {"a": 1.0}
    run.log(metrics)  # step 0
    metrics["a"] = 2.0  # the caller reuses its dict
    run.log(metrics, step=10)
    run.log({"a": 3.0})  # step 11
    with pytest.warns(RuntimeWarning, match="offline run kept"):
        result = run.finish()

    assert (result.points_logged, result.points_spooled) == (3, 3)
    (batch,) = [p for p in (tmp_path / "spool" / run.id).glob("*.json") if p.name != "run.json"]
    points = json.loads(batch.read_bytes())["points"]
    assert list(zip(points["step"], points["value"])) == [(0, 1.0), (10, 2.0), (11, 3.0)]  # noqa: B905 (3.9)


def test_log_costs_microseconds_not_a_network_round_trip(tmp_path: Path) -> None:
    run = seedboard.init(project="acme/p", model="m", mode="offline", dir=str(tmp_path))
    metrics = {"train/loss": 0.25, "val/acc": 0.5}
    calls = 20_000
    per_call = min(timeit.repeat(lambda: run.log(metrics), number=calls, repeat=3)) / calls
    with pytest.warns(RuntimeWarning, match="offline run kept"):
        run.finish()
    assert per_call < 20e-6  # ~0.5 µs on a laptop; loose for a busy CI machine
