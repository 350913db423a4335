"""Variant labels: the one place a variant's short, readable name is made.

Pure functions (no Django). A label is the model, plus, when the variants shown have several of
that model, the config values that tell them apart: `resnet18 (lr=0.03)`. The keys are chosen
among the variants shown (a comparison's, a page's, a project's), greedily: first the key that
separates the most pairs of same-model variants, then the next, until every variant reads
differently. A key a variant does not have is left out of its label. Only when no config value
tells two variants apart (configs that differ in nothing readable) does a fingerprint's start
appear. The API's variant blocks, the comparisons' sentences, the SDK's frames, the CLI and the
web UI all show labels made here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import orjson

FINGERPRINT_CHARS = 8
_ABSENT = "\x00absent"  # a key the variant's config lacks: unequal to every JSON value


def _flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def _identity(value: Any) -> str:
    """A comparable text of a config value (1 and 1.0 are one value, as in the fingerprint)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        value = int(value)
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return repr(value)


def _shown(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return str(value)


def distinguishing_keys(configs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The flattened config keys, in the order chosen, that tell the given configs apart
    (fewest keys first, greedily); [] for a single config or configs with no difference."""
    flat = {
        name: {key: _identity(value) for key, value in _flatten(config).items()} for name, config in configs.items()
    }
    keys = sorted({key for values in flat.values() for key in values})
    presence = {key: sum(key in values for values in flat.values()) for key in keys}
    unresolved = [(a, b) for a, b in combinations(flat, 2) if flat[a] != flat[b]]
    chosen: list[str] = []
    while unresolved:
        separated = {
            key: sum(flat[a].get(key, _ABSENT) != flat[b].get(key, _ABSENT) for a, b in unresolved)
            for key in keys
            if key not in chosen
        }
        # Most pairs separated, then the key most variants have, then the name: stable labels.
        best = min(separated, key=lambda key: (-separated[key], -presence[key], key), default=None)
        if best is None or separated[best] == 0:
            break
        chosen.append(best)
        unresolved = [(a, b) for a, b in unresolved if flat[a].get(best, _ABSENT) == flat[b].get(best, _ABSENT)]
    return chosen


def variant_labels(variants: Sequence[tuple[str, str, Mapping[str, Any]]]) -> dict[str, str]:
    """Labels for (fingerprint, model, config) triples, by fingerprint; a fingerprint listed
    more than once (one variant on several tasks) is one variant."""
    configs: dict[str, dict[str, Mapping[str, Any]]] = {}
    for fingerprint, model, config in variants:
        configs.setdefault(model, {}).setdefault(fingerprint, config)
    labels: dict[str, str] = {}
    for model, members in configs.items():
        if len(members) == 1:
            labels[next(iter(members))] = model
            continue
        keys = distinguishing_keys(members)
        texts = {}
        for fingerprint, config in members.items():
            flat = _flatten(config)
            texts[fingerprint] = ", ".join(f"{key}={_shown(flat[key])}" for key in keys if key in flat)
        seen: dict[str, int] = {}
        for text in texts.values():
            seen[text] = seen.get(text, 0) + 1
        for fingerprint, text in texts.items():
            if not text or seen[text] > 1:  # nothing readable tells it apart
                short = fingerprint[:FINGERPRINT_CHARS]
                text = f"{text}, {short}" if text else short
            labels[fingerprint] = f"{model} ({text})"
    return labels
