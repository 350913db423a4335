"""Variant fingerprints: which runs are seeds of the same model variant.

Pure functions (no Django). Two runs belong to one variant when their model label and their
config, after dropping the top-level `seed` key and the project's declared noise keys, are
equal as JSON values: key order does not matter and an integral float equals the integer
(`1.0` == `1`, as JSON does not distinguish them either) within the 64-bit range. The task is not part of the
fingerprint, so one variant can be measured on several tasks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import orjson

SEED_KEY = "seed"


def _normalised(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalised(v) for v in value]
    # Integral floats beyond the 64-bit range stay floats: configs hold no such integers
    # (server/core/jsonvalues.py), and orjson could not encode them.
    if isinstance(value, float) and value.is_integer() and -(2**63) <= value < 2**63:
        return int(value)
    return value


def _without_path(config: dict[str, Any], path: list[str]) -> None:
    node: Any = config
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return
    if isinstance(node, dict):
        node.pop(path[-1], None)


def variant_config(config: dict[str, Any], noise_keys: Iterable[str] = ()) -> dict[str, Any]:
    """The config that defines a variant: normalised, without `seed` and the noise keys."""
    canonical = _normalised(config)
    canonical.pop(SEED_KEY, None)
    for dotted in noise_keys:
        _without_path(canonical, dotted.split("."))
    return canonical


def variant_fingerprint(model: str, config: dict[str, Any], noise_keys: Iterable[str] = ()) -> str:
    """128-bit hex fingerprint of (model, variant config), independent of key order."""
    payload = orjson.dumps([model, variant_config(config, noise_keys)], option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(payload, digest_size=16).hexdigest()
