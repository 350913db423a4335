"""The run-list filter language, parsed from query parameters against an allow-list.

    status=finished  model=resnet18  task=cifar10  tag=baseline  variant=<hex>  seed=3  name=...
    config.<dotted.path>[__op]=<value>   op: exact (default), ne, gt, gte, lt, lte, in (comma separated)
    ordering=[-](created_at|name|seed|status|metric:<key>[:last|min|max|count])

Config values are parsed as JSON when they can be (`0.01`, `true`, `null`, `"0.01"`) and taken
as strings otherwise, so `config.optimizer.name=sgd` and `config.lr__gt=0.01` both work.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from server.core.errors import InvalidInput
from server.tracking.models import Run

PLAIN_FILTERS = {"status", "model", "task", "name"}
CONFIG_OPS = {"exact", "ne", "gt", "gte", "lt", "lte", "in"}
ORDER_FIELDS = {"created_at", "name", "seed", "status"}
METRIC_STATS = {"last": "last_value", "min": "min_value", "max": "max_value", "count": "count"}
# Path segments become Django JSON key transforms, so "__" (the lookup separator) is excluded.
_SEGMENT = re.compile(r"^(?!.*__)[A-Za-z0-9_\-]+$")
# Parameters the list endpoints accept besides filters.
RESERVED = {"project", "ordering", "cursor", "page_size", "key", "run", "max_points", "min_step", "max_step", "format"}


@dataclass(frozen=True)
class Ordering:
    field: str  # a Run field, or "metric"
    descending: bool
    metric_key: str | None = None
    metric_stat: str | None = None  # a MetricSummary column


def _json_or_text(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _config_filter(param: str, raw: str) -> Q:
    path_and_op = param[len("config.") :]
    path, _, op = path_and_op.partition("__")
    op = op or "exact"
    segments = path.split(".")
    if op not in CONFIG_OPS or not all(_SEGMENT.match(s) for s in segments):
        raise InvalidInput(
            f"{param}: use config.<dotted.path>[__op] with letters, digits, '_' or '-' in the path "
            f"and op one of {', '.join(sorted(CONFIG_OPS))}",
            field=param,
        )
    lookup = "config__" + "__".join(segments)
    if op == "in":
        return Q(**{f"{lookup}__in": [_json_or_text(v) for v in raw.split(",")]})
    value = _json_or_text(raw)
    if op in {"gt", "gte", "lt", "lte"} and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise InvalidInput(f"{param}: {op} needs a number, got {raw!r}", field=param)
    if op == "ne":
        return ~Q(**{lookup: value})
    return Q(**{f"{lookup}__{op}" if op != "exact" else lookup: value})


def _tag_filter(tag: str, queryset: QuerySet[Run]) -> QuerySet[Run]:
    if connection.vendor == "postgresql":
        return queryset.filter(tags__contains=[tag])
    # SQLite has no JSON containment operator; json_each scans the (short) tag list.
    return queryset.extra(where=["EXISTS (SELECT 1 FROM json_each(tracking_run.tags) WHERE value = %s)"], params=[tag])


def runs_filter(queryset: QuerySet[Run], params: dict[str, list[str]]) -> QuerySet[Run]:
    """Apply the filters in `params` (a QueryDict's lists); unknown parameters are errors."""
    for param, raws in params.items():
        if param in RESERVED:
            continue
        for raw in raws:
            if param in PLAIN_FILTERS:
                if param == "status" and raw not in Run.Status.values:
                    raise InvalidInput(f"status: one of {', '.join(Run.Status.values)}", field="status")
                queryset = queryset.filter(**{param: raw})
            elif param == "tag":
                queryset = _tag_filter(raw, queryset)
            elif param == "variant":
                queryset = queryset.filter(variant__fingerprint=raw)
            elif param == "seed":
                try:
                    queryset = queryset.filter(seed=int(raw))
                except ValueError:
                    raise InvalidInput(f"seed: must be an integer, got {raw!r}", field="seed") from None
            elif param.startswith("config."):
                queryset = queryset.filter(_config_filter(param, raw))
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
