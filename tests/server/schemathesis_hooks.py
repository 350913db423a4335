"""schemathesis hooks for tests/server/test_api_fuzz.py (loaded through SCHEMATHESIS_HOOKS).

The schema documents run-list config filters as one free-form object exploded into query
parameters; this names its generated properties `config.<name>`, so that every generated
name (`config.`, `config.a.regex`, `config.x__in`, ...) reaches the filter parser.
"""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.hook
def map_query(context: Any, query: dict[str, Any] | None) -> dict[str, Any] | None:
    if not isinstance(query, dict):
        return query
    config = query.pop("config", None)
    if isinstance(config, dict):
        query.update({f"config.{name}": value for name, value in config.items()})
    elif config is not None:
        query["config."] = config
    return query
