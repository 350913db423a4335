"""The run-list filter language, parsed from query parameters against an allow-list.

    status=finished  model=resnet18  task=cifar10  tag=baseline  variant=<hex>  seed=3  name=...
    config.<dotted.path>[__op]=<value>   op: exact (default), ne, gt, gte, lt, lte, in (comma separated,
                                         at most MAX_IN_VALUES)
    ordering=[-](created_at|name|seed|status|metric:<key>[:last|min|max|count])

Config values are parsed as JSON when they can be (`0.01`, `true`, `null`, `"0.01"`) and taken
as strings otherwise, so `config.optimizer.name=sgd` and `config.lr__gt=0.01` both work.
`NaN`, `Infinity` and `1e309` are not finite JSON numbers, so they are strings (matching the
strings non-finite config values travel as) and gt/gte/lt/lte refuse them.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.db.models.fields.json import KeyTransform

from server.core.errors import InvalidInput
from server.tracking.models import Run

PLAIN_FILTERS = {"status", "model", "task", "name"}
CONFIG_OPS = {"exact", "ne", "gt", "gte", "lt", "lte", "in"}
ORDER_FIELDS = {"created_at", "name", "seed", "status"}
METRIC_STATS = {"last": "last_value", "min": "min_value", "max": "max_value", "count": "count"}
# "__" separates the path from the op, so a segment cannot contain it. Segments are never
# read as Django lookups (see _config_path): `config.a.regex` is the key "regex".
_SEGMENT = re.compile(r"^(?!.*__)[A-Za-z0-9_\-]+$")
_INTEGER = re.compile(r"^-?[0-9]{1,19}$")
INT64 = 2**63
MAX_PATH_SEGMENTS = 32
MAX_VALUE_DEPTH = 32  # of a JSON value compared with a config value ([1, [2, 3]] is 2)
MAX_IN_VALUES = 1000
# Parameters the list endpoints accept besides filters.
RESERVED = {
    "project",
    "ordering",
    "cursor",
    "page_size",
    "limit",
    "metrics",
    "key",
    "run",
    "max_points",
    "min_step",
    "max_step",
    "format",
}


@dataclass(frozen=True)
class Ordering:
    field: str  # a Run field, or "metric"
    descending: bool
    metric_key: str | None = None
    metric_stat: str | None = None  # a MetricSummary column


def _finite_float(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value):  # 1e309
        raise ValueError(raw)
    return value


def _refuse_constant(raw: str) -> Any:
    raise ValueError(raw)  # NaN, Infinity: not JSON, and not storable in a jsonb


def _json_or_text(raw: str, param: str) -> Any:
    """`raw` as a JSON value when it is finite JSON, else as text; InvalidInput for values no
    config can hold (NUL characters) or too deeply nested to compare."""
    try:
        value = json.loads(raw, parse_float=_finite_float, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return raw
    stack, depth = [(value, 0)], 0
    while stack:
        item, depth = stack.pop()
        if depth > MAX_VALUE_DEPTH:
            raise InvalidInput(f"{param}: a JSON value nested at most {MAX_VALUE_DEPTH} deep", field=param)
        if isinstance(item, str) and "\x00" in item:
            raise InvalidInput(f"{param}: no NUL characters", field=param)
        if isinstance(item, dict):
            stack.extend((part, depth + 1) for pair in item.items() for part in pair)
        elif isinstance(item, list):
            stack.extend((part, depth + 1) for part in item)
    return value


def _config_path(segments: list[str]) -> KeyTransform:
    # An explicit chain of key transforms: built as `config__a__b` keyword arguments, a segment
    # named like a lookup or transform (regex, isnull, contains, ...) would become one.
    path = KeyTransform(segments[0], "config")
    for segment in segments[1:]:
        path = KeyTransform(segment, path)
    return path


def _config_filter(queryset: QuerySet[Run], param: str, raw: str, alias: str) -> QuerySet[Run]:
    path_and_op = param[len("config.") :]
    path, _, op = path_and_op.partition("__")
    op = op or "exact"
    segments = path.split(".")
    if op not in CONFIG_OPS or len(segments) > MAX_PATH_SEGMENTS or not all(_SEGMENT.match(s) for s in segments):
        raise InvalidInput(
            f"{param}: use config.<dotted.path>[__op] with at most {MAX_PATH_SEGMENTS} segments of letters, "
            f"digits, '_' or '-' and op one of {', '.join(sorted(CONFIG_OPS))}",
            field=param,
        )
    # The path is an alias, so the only lookup Django parses below is the op (from CONFIG_OPS).
    queryset = queryset.alias(**{alias: _config_path(segments)})
    if op == "in":
        raws = raw.split(",")
        if len(raws) > MAX_IN_VALUES:
            raise InvalidInput(f"{param}: at most {MAX_IN_VALUES} values, got {len(raws)}", field=param)
        return queryset.filter(**{f"{alias}__in": [_json_or_text(v, param) for v in raws]})
    value = _json_or_text(raw, param)
    if op in {"gt", "gte", "lt", "lte"} and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise InvalidInput(f"{param}: {op} needs a finite number, got {raw[:60]!r}", field=param)
    if op == "ne":
        return queryset.exclude(**{alias: value})
    return queryset.filter(**{alias if op == "exact" else f"{alias}__{op}": value})


def _tag_filter(tag: str, queryset: QuerySet[Run]) -> QuerySet[Run]:
    if connection.vendor == "postgresql":
        return queryset.filter(tags__contains=[tag])
    # SQLite has no JSON containment operator; json_each scans the (short) tag list.
    return queryset.extra(where=["EXISTS (SELECT 1 FROM json_each(tracking_run.tags) WHERE value = %s)"], params=[tag])


def runs_filter(queryset: QuerySet[Run], params: dict[str, list[str]]) -> QuerySet[Run]:
    """Apply the filters in `params` (a QueryDict's lists); unknown parameters are errors."""
    for index, (param, raws) in enumerate(params.items()):
        if param in RESERVED:
            continue
        for position, raw in enumerate(raws):
            if param in PLAIN_FILTERS:
                if param == "status" and raw not in Run.Status.values:
                    raise InvalidInput(f"status: one of {', '.join(Run.Status.values)}", field="status")
                queryset = queryset.filter(**{param: raw})
            elif param == "tag":
                queryset = _tag_filter(raw, queryset)
            elif param == "variant":
                queryset = queryset.filter(variant__fingerprint=raw)
            elif param == "seed":
                if not _INTEGER.match(raw) or not -INT64 <= int(raw) < INT64:
                    raise InvalidInput(f"seed: a 64-bit integer, got {raw[:60]!r}", field="seed")
                queryset = queryset.filter(seed=int(raw))
            elif param.startswith("config."):
                queryset = _config_filter(queryset, param, raw, alias=f"_config_filter_{index}_{position}")
            else:
                raise InvalidInput(f"Unknown filter {param!r}; see the API docs for the filter syntax.", field=param)
    return queryset


def ordering_parse(raw: str | None) -> Ordering:
    if not raw:
        return Ordering("created_at", descending=True)
    descending = raw.startswith("-")
    name = raw.lstrip("-")
    if name in ORDER_FIELDS:
        return Ordering(name, descending)
    if name.startswith("metric:"):
        key = name[len("metric:") :]
        stat = "last"
        head, sep, tail = key.rpartition(":")
        if sep and tail in METRIC_STATS:
            key, stat = head, tail
        if key:
            return Ordering("metric", descending, metric_key=key, metric_stat=METRIC_STATS[stat])
    raise InvalidInput(
        f"ordering: {raw!r} is not one of {', '.join(sorted(ORDER_FIELDS))} or metric:<key>[:last|min|max|count], "
        "optionally prefixed with '-'",
        field="ordering",
    )
