"""The project page's runs table: its state from the query string, and one page of rows.

The state is the runs list API's own language (server/tracking/filters.py), so a table's URL and
the API request behind it read alike:

    ?status=finished&model=resnet18&tag=baseline&where=config.optimizer.lr__gt=0.01 seed=3
     &ordering=-metric:val/acc&metrics=val/acc,train/loss&columns=optimizer.lr&page_size=100&cursor=...

Filters are the API's parameters, plus `where`: more of them typed as `name=value` pairs
separated by spaces. Rows come from the API's selectors (`run_list`, `runs_filter`, keyset
pagination by cursor, so the 200th page of 10,000 runs costs what the first does) with the
chosen metrics' summaries in one query (`run_metric_summaries_for`).
"""

from __future__ import annotations

import csv
import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from server.core.errors import InvalidInput
from server.core.pagination import keyset_page
from server.tracking import filters
from server.tracking.labels import variant_labels
from server.tracking.models import Project, Run, Variant
from server.tracking.selectors import MAX_KEYS_PER_HISTORY, run_list, run_metric_summaries_for, run_uuid_parse
from server.tracking.serializers import MetricSummaryOutput

PAGE_SIZES = (50, 100, 200, 500)
DEFAULT_METRIC_COLUMNS = 3
DEFAULT_CONFIG_COLUMNS = 4
MAX_CONFIG_COLUMNS = 20
MAX_CONFIG_CHOICES = 60  # config paths offered in the column chooser
MAX_VARIANT_CONFIGS = 1000  # read to find them
LIVE_MAX_RUNS = max(PAGE_SIZES)
# The table's own parameters; every other one is a filter of the API's language.
TABLE_PARAMETERS = {"where", "ordering", "cursor", "page_size", "metrics", "columns", "format"}
CSV_MAX_ROWS = 10_000  # a download of the filtered runs, in the table's order
ORDER_FIELDS = ("name", "status", "seed", "created_at")


def listed(query: QueryDict, name: str) -> list[str]:
    """A repeatable, comma-separable parameter's values, in order, without blanks or repeats."""
    values = (part.strip() for raw in query.getlist(name) for part in raw.split(","))
    return list(dict.fromkeys(value for value in values if value))


@dataclass(frozen=True)
class TableState:
    params: dict[str, list[str]]  # the API's filter parameters given as such
    where: str
    ordering: str
    page_size: int
    cursor: str | None
    metrics: list[str]
    columns: list[str]  # dotted config paths

    def filters(self) -> dict[str, list[str]]:
        """The filter parameters, `where`'s pairs included; InvalidInput for a malformed `where`."""
        chosen = {name: list(values) for name, values in self.params.items()}
        try:
            pairs = shlex.split(self.where)
        except ValueError as exc:  # an unclosed quote
            raise InvalidInput(f"where: {exc}", field="where") from None
        for pair in pairs:
            name, sep, value = pair.partition("=")
            if not sep or not name:
                raise InvalidInput(f"where: {pair[:60]!r} is not name=value, e.g. config.lr__gt=0.01", field="where")
            chosen.setdefault(name, []).append(value)
        return chosen


def table_state(query: QueryDict, *, metric_keys: Sequence[str], config_paths: Sequence[str]) -> TableState:
    """The table's state; without metric or config columns chosen, the first metrics and the
    config paths that vary across the project's variants."""
    params = {
        name: [value for value in values if value.strip()]
        for name, values in query.lists()
        if name not in TABLE_PARAMETERS
    }
    raw_size = query.get("page_size", "")
    page_size = int(raw_size) if raw_size.isascii() and raw_size.isdigit() and int(raw_size) in PAGE_SIZES else 50
    explicit = "metrics" in query or "columns" in query  # an emptied chooser stays empty
    return TableState(
        params={name: values for name, values in params.items() if values},
        where=query.get("where", "").strip(),
        ordering=query.get("ordering", "") or "-created_at",
        page_size=page_size,
        cursor=query.get("cursor") or None,
        metrics=listed(query, "metrics")[:MAX_KEYS_PER_HISTORY]
        if explicit
        else list(metric_keys[:DEFAULT_METRIC_COLUMNS]),
        columns=listed(query, "columns")[:MAX_CONFIG_COLUMNS]
        if explicit
        else list(config_paths[:DEFAULT_CONFIG_COLUMNS]),
    )


@dataclass(frozen=True)
class Row:
    run: Run
    label: str  # the variant's short name among the page's variants
    config: list[Any]  # values of the state's config columns (None: absent)
    metrics: list[dict[str, Any] | None]  # summaries of the state's metrics (None: never logged)


@dataclass(frozen=True)
class TablePage:
    rows: list[Row]
    next_cursor: str | None


def table_page(*, project: Project, state: TableState) -> TablePage:
    """One page of runs; InvalidInput for a filter, ordering or cursor the API would refuse."""
    return _rows(project=project, state=state, page_size=state.page_size, cursor=state.cursor)


def table_csv(*, project: Project, state: TableState, out: Any) -> None:
    """The filtered runs (at most CSV_MAX_ROWS, from the first) with the table's columns, as CSV
    written to `out`; InvalidInput as table_page."""
    page = _rows(project=project, state=state, page_size=CSV_MAX_ROWS, cursor=None)
    writer = csv.writer(out)
    fixed = ["id", "name", "status", "model", "variant", "variant_label", "task", "seed", "tags", "created_at"]
    writer.writerow(fixed + [f"config.{path}" for path in state.columns] + state.metrics)
    for row in page.rows:
        run = row.run
        cells = [run.uuid, run.name, run.status, run.model, run.variant.fingerprint, row.label, run.task]
        cells += ["" if run.seed is None else run.seed, " ".join(run.tags), run.created_at.isoformat()]
        cells += [
            "" if value is None else (value if isinstance(value, str) else json.dumps(value)) for value in row.config
        ]
        cells += [
            "" if summary is None or summary["last_value"] is None else summary["last_value"] for summary in row.metrics
        ]
        writer.writerow(cells)


def _rows(*, project: Project, state: TableState, page_size: int, cursor: str | None) -> TablePage:
    ordering = filters.ordering_parse(state.ordering)
    runs = filters.runs_filter(run_list(project=project, ordering=ordering), state.filters())
    # The table shows neither a run's metadata and summary nor its variant's config: not decoded.
    runs = runs.select_related("variant").defer("metadata", "summary", "notes", "variant__config")
    page, next_cursor = keyset_page(runs, descending=ordering.descending, cursor=cursor, page_size=page_size)
    summaries = run_metric_summaries_for(run_pks=[run.pk for run in page], keys=state.metrics)
    variants = {run.variant.fingerprint: (run.variant.fingerprint, run.model, run.config) for run in page}
    labels = variant_labels(list(variants.values()))
    rows = [
        Row(
            run=run,
            label=labels[run.variant.fingerprint],
            config=[config_value(run.config, path) for path in state.columns],
            metrics=[summaries.get(run.pk, {}).get(key) for key in state.metrics],
        )
        for run in page
    ]
    return TablePage(rows=rows, next_cursor=next_cursor)


def config_value(config: Any, path: str) -> Any:
    """The value at a dotted path of a nested config, or None."""
    for segment in path.split("."):
        if not isinstance(config, Mapping) or segment not in config:
            return None
        config = config[segment]
    return config


def project_config_paths(*, project: Project) -> list[str]:
    """`config_paths` of the project's variants (the first MAX_VARIANT_CONFIGS)."""
    return config_paths(
        list(
            Variant.objects.filter(project=project)
            .order_by("pk")
            .values_list("config", flat=True)[:MAX_VARIANT_CONFIGS]
        )
    )


def config_paths(configs: Sequence[Mapping[str, Any]]) -> list[str]:
    """Dotted leaf paths of the configs: the ones whose value differs between configs first
    (what tells variants apart), then the others, each group by name; at most MAX_CONFIG_CHOICES."""
    seen: dict[str, set[str]] = {}

    def walk(config: Mapping[str, Any], prefix: str) -> None:
        for key, value in config.items():
            if isinstance(value, Mapping) and value:
                walk(value, f"{prefix}{key}.")
            else:
                seen.setdefault(f"{prefix}{key}", set()).add(repr(value))

    for config in configs:
        if isinstance(config, Mapping):
            walk(config, "")
    varying = sorted(path for path, values in seen.items() if len(values) > 1 or len(configs) == 1)
    fixed = sorted(path for path in seen if path not in varying)
    return (varying + fixed)[:MAX_CONFIG_CHOICES]


def ordering_links(state: TableState) -> dict[str, str]:
    """For each sortable column (ORDER_FIELDS and metric:<key>), the ordering its header sets:
    descending first, ascending when it is already descending."""
    columns = [*ORDER_FIELDS, *(f"metric:{key}" for key in state.metrics)]
    return {column: column if state.ordering == f"-{column}" else f"-{column}" for column in columns}


def live_rows(*, project: Project, run_ids: Sequence[str], metrics: Sequence[str]) -> list[dict[str, Any]]:
    """Status, heartbeat and the chosen metrics' last values of some of the project's runs (the
    page's running ones), for the table's polling: one query for the runs, one for the summaries."""
    uuids = [run_uuid_parse(run_id) for run_id in run_ids[:LIVE_MAX_RUNS]]
    runs = list(Run.objects.filter(project=project, uuid__in=uuids))
    summaries = run_metric_summaries_for(run_pks=[run.pk for run in runs], keys=list(metrics))
    return [
        {
            "id": str(run.uuid),
            "status": run.status,
            "heartbeat_at": run.heartbeat_at.isoformat() if run.heartbeat_at else None,
            # The API's shape, non-finite values as the strings the API writes (JSON has no NaN).
            "metrics": {key: MetricSummaryOutput(summary).data for key, summary in summaries.get(run.pk, {}).items()},
        }
        for run in runs
    ]
