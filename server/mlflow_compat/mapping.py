"""How MLflow's run data maps onto a Seedboard run (pure functions, no Django).

- params -> config: MLflow keeps params as text; numbers and booleans are parsed back
  (`"0.1"` -> 0.1, `"32"` -> 32, `"true"` -> true, `"nan"` -> "NaN"), anything else stays
  text, and dotted names nest (`optimizer.lr` -> {"optimizer": {"lr": 0.1}}). This is the
  rule of `seedboard import mlflow` (clients/python_sdk/src/seedboard/importers/base.py), so
  a run logged live and the same run imported later land in the same variant.
- the `seed` param (else `random_seed`) -> the run's seed, `model` -> its model; both are
  taken out of the config, as the importer does.
- tags: `mlflow.runName` -> the name, `mlflow.note.content` -> the notes, every other tag not
  under `mlflow.` -> a Seedboard tag `key=value` (`key` alone when the value is empty).

MLflow's own text of params and tags is kept in the run's metadata (`metadata.mlflow`), so
MLflow clients read back exactly what they wrote.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

SEED_PARAMS = ("seed", "random_seed")
MODEL_PARAM = "model"
DEFAULT_MODEL = "mlflow"
RUN_NAME_TAG = "mlflow.runName"
NOTE_TAG = "mlflow.note.content"
SYSTEM_TAG_PREFIX = "mlflow."
MAX_TAG_CHARS = 100  # a Seedboard tag (server/tracking/serializers.py)
MAX_TAGS = 100
_INT64 = (-(2**63), 2**63 - 1)


def parse_param(text: str) -> Any:
    """A param's text as the value it most likely was: integers (within int64), floats
    (non-finite ones as "NaN", "Infinity", "-Infinity") and booleans; anything else stays text."""
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        number = int(stripped)
        return number if _INT64[0] <= number <= _INT64[1] else text
    except ValueError:
        pass
    try:
        real = float(stripped)
    except ValueError:
        return text
    if math.isnan(real):
        return "NaN"
    if math.isinf(real):
        return "Infinity" if real > 0 else "-Infinity"
    return real


def config_nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted names as nested dicts; a name that is both a value and a prefix of another
    (`a` and `a.b`) keeps the longer one flat, so no value is lost."""
    nested: dict[str, Any] = {}
    for name in sorted(flat, key=lambda n: n.count(".")):
        parts = name.split(".")
        node = nested
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                node, parts = nested, [name]
                break
            node = child
        node[parts[-1]] = flat[name]
    return nested


def _merged(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def as_seed(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and _INT64[0] <= value <= _INT64[1]:
        return value
    return None


def definition_of(
    params: Mapping[str, str], *, config: dict[str, Any], model: str, seed: int | None
) -> tuple[str, dict[str, Any], int | None]:
    """(model, config, seed) of a run whose MLflow params are `params`: the params, parsed
    and nested, merged into the run's config; seed and model taken out of them."""
    nested = config_nest({name: parse_param(value) for name, value in params.items()})
    for name in SEED_PARAMS:
        if name in nested and as_seed(nested[name]) is not None:
            seed = as_seed(nested.pop(name))
            break
    if isinstance(nested.get(MODEL_PARAM), str) and nested[MODEL_PARAM]:
        model = nested.pop(MODEL_PARAM)[:200]
    return model, _merged(config, nested), seed


def seedboard_tags(tags: Mapping[str, str]) -> list[str]:
    """The Seedboard tags of MLflow's user tags (system tags, `mlflow.*`, stay in metadata)."""
    found = [
        (key if value == "" else f"{key}={value}")[:MAX_TAG_CHARS]
        for key, value in sorted(tags.items())
        if not key.startswith(SYSTEM_TAG_PREFIX)
    ]
    return list(dict.fromkeys(found))[:MAX_TAGS]


def flat_params(config: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """A config as MLflow params (dotted names, text values), for runs not logged by MLflow."""
    flat: dict[str, str] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flat_params(value, f"{name}."))
        elif isinstance(value, str):
            flat[name] = value
        elif isinstance(value, bool):
            flat[name] = "True" if value else "False"
        else:
            flat[name] = str(value)
    return flat


def tags_of_seedboard(tags: list[str]) -> dict[str, str]:
    """Seedboard tags as MLflow tags, for runs not logged by MLflow: `k=v` -> k: v, `k` -> k: ""."""
    pairs = {}
    for tag in tags:
        key, _, value = tag.partition("=")
        pairs[key] = value
    return pairs
