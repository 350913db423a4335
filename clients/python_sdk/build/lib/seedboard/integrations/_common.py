"""What the framework integrations share: the run's settings, config cleaning, run lifecycle.

An integration collects model, config and seed from its framework, lets the user's
arguments override them, and opens the run with the public `seedboard.init`. Framework
configs hold objects that are not JSON (enums, paths, dtypes, callables); `config_value`
turns them into stable strings, never into reprs with memory addresses, which would give
every run a variant of its own.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from ..run import Run, init

__all__ = [
    "RunSettings",
    "config_value",
    "finish_quietly",
    "log_numbers",
    "merge_config",
    "seed_value",
]

PROJECT_VARIABLE = (
    "SEEDBOARD_PROJECT"  # the project when the integration is built without arguments
)
_MAX_DEPTH = 20


def config_value(value: Any, depth: int = 0) -> Any:
    """A JSON-like copy of a framework's config value (best effort, never raises)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if depth > _MAX_DEPTH:
        return _label(value)
    if isinstance(value, enum.Enum):
        return config_value(value.value, depth + 1)
    if isinstance(value, Mapping):
        return {str(k): config_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [config_value(v, depth + 1) for v in items]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name, None) for f in dataclasses.fields(value)}
        return config_value(fields, depth + 1)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    item = getattr(value, "item", None)  # numpy scalars, 0-d tensors
    if callable(item) and getattr(value, "ndim", None) == 0:
        try:
            return config_value(item(), depth + 1)
        except Exception:
            return _label(value)
    if type(value).__name__ == "Namespace" and hasattr(value, "__dict__"):  # argparse
        return config_value(vars(value), depth + 1)
    return _label(value)


def _label(value: Any) -> str:
    if isinstance(value, type) or callable(value):
        return str(getattr(value, "__qualname__", None) or type(value).__qualname__)
    text = str(value)
    # A default repr names a memory address: different in every process.
    return type(value).__qualname__ if " at 0x" in text else text


def merge_config(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `override` merged in, recursively for nested dicts (override wins)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_config(merged[key], value)
        else:
            merged[key] = value
    return merged


def seed_value(value: Any) -> int | None:
    """`value` as a seed (an int), or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


@dataclasses.dataclass
class RunSettings:
    """The user's arguments to an integration; None means "take it from the framework".

    `project` is ``team/project``, or a project name with `team`; without either,
    ``SEEDBOARD_PROJECT``. Other keyword arguments of `seedboard.init` (``task``, ``tags``,
    ``name``, ``notes``, ``metadata``, ``url``, ``token``, ``mode``, ``dir``) go in `init`.
    """

    project: str | None = None
    team: str | None = None
    model: str | None = None
    seed: int | None = None
    config: Mapping[str, Any] | None = None
    init: dict[str, Any] = dataclasses.field(default_factory=dict)

    def project_path(self) -> str:
        project = self.project or os.environ.get(PROJECT_VARIABLE, "").strip()
        if not project:
            raise ValueError(
                f"no Seedboard project: pass project='team/project' or set {PROJECT_VARIABLE}"
            )
        if self.team:
            return f"{self.team}/{project.rsplit('/', 1)[-1]}"
        return project

    def start(
        self,
        *,
        model: str,
        config: Mapping[str, Any],
        seed: int | None,
        tags: Sequence[str] = (),
    ) -> Run:
        """`seedboard.init` with the framework's values under the user's overrides."""
        kwargs = dict(self.init)
        kwargs["tags"] = [*kwargs.get("tags", ()), *tags]
        kwargs.update(
            model=self.model or model,
            config=merge_config(config_value(dict(config)), config_value(dict(self.config or {}))),
            seed=self.seed if self.seed is not None else seed,
        )
        self._started = kwargs
        return init(self.project_path(), **kwargs)

    def reopen(self, run: Run) -> Run:
        """The finished `run` running again, with the arguments it was started with."""
        return init(run.project, id=run.id, **self._started)

    _started: dict[str, Any] = dataclasses.field(default_factory=dict, init=False, repr=False)


def finish_quietly(run: Run | None, status: str) -> None:
    """Finish `run` (if any) without letting a Seedboard problem end the training."""
    if run is None:
        return
    try:
        run.finish(status)
    except Exception as exc:  # finish never raises for the network; this is a last guard
        warnings.warn(
            f"seedboard: could not finish run {run.id}: {exc}", RuntimeWarning, stacklevel=2
        )


def log_numbers(run: Run, metrics: Mapping[str, Any], step: int | None) -> None:
    """Log the numeric values of `metrics` at `step` (None: the next one); others are left out."""
    # float() now: a tensor handed over could change before the sender thread reads it.
    numbers = {key: float(value) for key, value in metrics.items() if _is_number(value)}
    if numbers:
        run.log(numbers, step=step)


def _is_number(value: Any) -> bool:
    if isinstance(value, (str, bytes)) or value is None:
        return False
    if isinstance(value, (int, float)):
        return True
    # numpy scalars and 0-d tensors; a tensor of several values is not a metric
    return hasattr(value, "__float__") and getattr(value, "ndim", 0) == 0
