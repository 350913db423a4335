"""MLflow's run search language on Seedboard's runs: filter strings and order_by clauses.

A filter is clauses joined by AND, each `<entity> <op> <value>`:

    params.optimizer = 'adam' and metrics.`val/acc` > 0.9 and tags.team != 'x'
    attributes.status = 'FINISHED'   run_name LIKE 'resnet%'   attributes.start_time >= 1700000000000

- `params.<k>` and `tags.<k>` compare text: =, !=, LIKE, ILIKE, IN (...), NOT IN (...);
- `metrics.<k>` compares the run's last value of the key: =, !=, >, >=, <, <= with a number
  (runs without the key never match, as in MLflow);
- attributes: `status`, `run_name`, `run_id` (text) and `start_time`, `end_time` (milliseconds).

Keys with spaces or other characters are quoted with backticks or double quotes. Everything is
translated to one SQL query (nothing is filtered in Python).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import F, FloatField, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast

from server.mlflow_compat.wire import MlflowError
from server.tracking.models import MetricSummary, Run

STATUS_TO_SEEDBOARD = {
    "RUNNING": "running",
    "SCHEDULED": "running",
    "FINISHED": "finished",
    "FAILED": "failed",
    "KILLED": "crashed",
}
STATUS_TO_MLFLOW = {"running": "RUNNING", "finished": "FINISHED", "failed": "FAILED", "crashed": "KILLED"}

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
      | (?P<op>!=|>=|<=|=|>|<|\(|\)|,)
      | (?P<ident>(?:[A-Za-z_][\w]*\.)?(?:`[^`]*`|[\w./:\-]+))
    )""",
    re.VERBOSE,
)
_ENTITY_PREFIXES = {
    "params": "params", "param": "params", "parameters": "params", "parameter": "params",
    "metrics": "metrics", "metric": "metrics",
    "tags": "tags", "tag": "tags",
    "attributes": "attributes", "attribute": "attributes", "attr": "attributes", "run": "attributes",
}  # fmt: skip
TEXT_ATTRIBUTES = {"status", "run_name", "run_id"}
TIME_ATTRIBUTES = {"start_time": "started_at", "end_time": "ended_at"}
_ATTRIBUTE_ALIASES = {"name": "run_name", "runname": "run_name", "run_uuid": "run_id"}


@dataclass(frozen=True)
class Clause:
    kind: str  # params, metrics, tags, attributes
    key: str
    op: str  # =, !=, >, >=, <, <=, LIKE, ILIKE, IN, NOT IN
    value: Any  # str, float, or a list of str for IN


def _bad(message: str) -> MlflowError:
    return MlflowError("INVALID_PARAMETER_VALUE", message)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _bad(f"Invalid filter string {text!r}: cannot read it from position {position}.")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "`'\"":
        return re.sub(r"\\(.)", r"\1", text[1:-1]) if text[0] != "`" else text[1:-1]
    return text


def entity_parse(ident: str) -> tuple[str, str]:
    """(kind, key) of an identifier such as `params.lr`, metrics.`val/acc` or `status`."""
    prefix, dot, rest = ident.partition(".")
    kind = _ENTITY_PREFIXES.get(prefix.lower()) if dot else None
    if kind is None:
        kind, rest = "attributes", ident
    key = _unquote(rest)
    if kind == "attributes":
        key = _ATTRIBUTE_ALIASES.get(key.lower(), key.lower())
        if key not in TEXT_ATTRIBUTES | set(TIME_ATTRIBUTES):
            raise _bad(f"Invalid attribute key {key!r}: searchable attributes are status, run_name, run_id, "
                       "start_time and end_time.")  # fmt: skip
    if not key:
        raise _bad(f"Invalid entity {ident!r}: empty key.")
    return kind, key


def filter_parse(text: str | None) -> list[Clause]:
    """The clauses of a filter string; INVALID_PARAMETER_VALUE when it does not parse."""
    if not text or not text.strip():
        return []
    tokens = _tokens(text)
    clauses: list[Clause] = []
    i = 0

    def take() -> tuple[str, str]:
        nonlocal i
        if i >= len(tokens):
            raise _bad(f"Invalid filter string {text!r}: it ends early.")
        i += 1
        return tokens[i - 1]

    while True:
        kind, ident = take()
        if kind != "ident":
            raise _bad(f"Invalid filter string {text!r}: expected an entity such as params.x, got {ident!r}.")
        entity, key = entity_parse(ident)
        op_kind, op = take()
        if op_kind == "ident" and op.upper() == "NOT":
            op_kind, op = take()
            op = "NOT " + op
        op = op.upper()
        if op in ("IN", "NOT IN"):
            if take()[1] != "(":
                raise _bad(f"Invalid filter string {text!r}: IN takes a parenthesised list.")
            values = []
            while True:
                value_kind, value = take()
                if value_kind != "string":
                    raise _bad(f"Invalid filter string {text!r}: IN lists quoted strings.")
                values.append(_unquote(value))
                separator = take()[1]
                if separator == ")":
                    break
                if separator != ",":
                    raise _bad(f"Invalid filter string {text!r}: expected ',' or ')' in an IN list.")
            clauses.append(_checked(Clause(entity, key, op, values)))
        else:
            value_kind, value = take()
            if value_kind not in ("string", "number"):
                raise _bad(f"Invalid filter string {text!r}: expected a value after {op}, got {value!r}.")
            parsed: Any = _unquote(value) if value_kind == "string" else float(value)
            clauses.append(_checked(Clause(entity, key, op, parsed)))
        if i == len(tokens):
            return clauses
        kind, word = take()
        if word.upper() != "AND":
            raise _bad(f"Invalid filter string {text!r}: clauses are joined with AND, got {word!r}.")


def _checked(clause: Clause) -> Clause:
    numeric = clause.kind == "metrics" or clause.key in TIME_ATTRIBUTES
    allowed = {"=", "!=", ">", ">=", "<", "<="} if numeric else {"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"}
    if clause.kind == "attributes" and clause.key == "status":
        allowed = {"=", "!=", "IN", "NOT IN"}
    if clause.op not in allowed:
        raise _bad(f"Invalid comparator {clause.op!r} for {clause.kind}.{clause.key}: use one of {sorted(allowed)}.")
    if numeric and not isinstance(clause.value, float):
        raise _bad(f"Expected a numeric value for {clause.kind}.{clause.key}, got {clause.value!r}.")
    if not numeric and isinstance(clause.value, float):
        raise _bad(f"Expected a quoted string value for {clause.kind}.{clause.key}, got {clause.value!r}.")
    return clause


def _like_regex(pattern: str) -> str:
    """A SQL LIKE pattern as an anchored regular expression (both databases have regex lookups)."""
    parts = []
    for char in pattern:
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
    return "^" + "".join(parts) + "$"


def _mlflow_text(section: str, key: str) -> Cast:
    """The text at metadata.mlflow.<section>.<key>: MLflow's own params and tags of a run. Cast,
    so that SQLite compares it as text too (it would compare JSON values otherwise)."""
    return Cast(KeyTextTransform(key, KeyTransform(section, KeyTransform("mlflow", "metadata"))), TextField())


def _text_q(alias: str, op: str, value: Any) -> Q:
    if op == "=":
        return Q(**{alias: value})
    if op == "!=":
        return Q(**{f"{alias}__isnull": False}) & ~Q(**{alias: value})
    if op == "LIKE":
        return Q(**{f"{alias}__regex": _like_regex(value)})
    if op == "ILIKE":
        return Q(**{f"{alias}__iregex": _like_regex(value)})
    if op == "IN":
        return Q(**{f"{alias}__in": value})
    return Q(**{f"{alias}__isnull": False}) & ~Q(**{f"{alias}__in": value})


def _number_q(alias: str, op: str, value: Any) -> Q:
    lookup = {"=": "exact", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
    if op == "!=":
        return Q(**{f"{alias}__isnull": False}) & ~Q(**{alias: value})
    return Q(**{f"{alias}__{lookup[op]}": value})


def _metric_value(key: str) -> Subquery:
    summaries = MetricSummary.objects.filter(run=OuterRef("pk"), key__name=key)
    return Subquery(summaries.values("last_value")[:1], output_field=FloatField())


def _from_ms(value: float) -> datetime:
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise _bad(f"Invalid time {value}: milliseconds since the epoch.") from None


def runs_filter(queryset: QuerySet[Run], clauses: list[Clause]) -> QuerySet[Run]:
    for index, clause in enumerate(clauses):
        alias = f"mlflow_filter_{index}"
        if clause.kind in ("params", "tags"):
            queryset = queryset.annotate(**{alias: _mlflow_text(clause.kind, clause.key)})
            queryset = queryset.filter(_text_q(alias, clause.op, clause.value))
        elif clause.kind == "metrics":
            queryset = queryset.annotate(**{alias: _metric_value(clause.key)})
            queryset = queryset.filter(_number_q(alias, clause.op, clause.value))
        elif clause.key == "status":
            values = clause.value if isinstance(clause.value, list) else [clause.value]
            statuses = sorted({STATUS_TO_SEEDBOARD.get(v.upper(), v.lower()) for v in values})
            positive = Q(status__in=statuses)
            queryset = queryset.filter(positive if clause.op in ("=", "IN") else ~positive)
        elif clause.key == "run_name":
            queryset = queryset.filter(_text_q("name", clause.op, clause.value))
        elif clause.key == "run_id":
            values = clause.value if isinstance(clause.value, list) else [clause.value]
            uuids = [_uuid_or_none(v) for v in values]
            positive = Q(uuid__in=[u for u in uuids if u is not None])
            if clause.op in ("=", "IN"):
                queryset = queryset.filter(positive)
            elif clause.op in ("!=", "NOT IN"):
                queryset = queryset.exclude(positive)
            else:
                raise _bad("run_id compares with =, !=, IN or NOT IN.")
        else:
            column = TIME_ATTRIBUTES[clause.key]
            queryset = queryset.filter(_number_q(column, clause.op, _from_ms(clause.value)))
    return queryset


def _uuid_or_none(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


_ORDER = re.compile(r"^\s*(?P<entity>.+?)\s*(?:\s(?P<direction>ASC|DESC))?\s*$", re.IGNORECASE)


def runs_order(queryset: QuerySet[Run], order_by: list[str]) -> QuerySet[Run]:
    """Order by MLflow's order_by clauses (`metrics.loss ASC`, `attributes.start_time DESC`,
    `params.lr`), then by start time, newest first, as MLflow does."""
    orderings: list[Any] = []
    for index, raw in enumerate(order_by):
        match = _ORDER.match(raw or "")
        if not raw or match is None:
            raise _bad(f"Invalid order_by clause {raw!r}.")
        descending = (match.group("direction") or "ASC").upper() == "DESC"
        kind, key = entity_parse(match.group("entity"))
        alias = f"mlflow_order_{index}"
        if kind in ("params", "tags"):
            queryset = queryset.annotate(**{alias: _mlflow_text(kind, key)})
        elif kind == "metrics":
            queryset = queryset.annotate(**{alias: _metric_value(key)})
        elif key in TIME_ATTRIBUTES:
            queryset = queryset.annotate(**{alias: F(TIME_ATTRIBUTES[key])})
        elif key == "run_name":
            queryset = queryset.annotate(**{alias: F("name")})
        elif key == "status":
            queryset = queryset.annotate(**{alias: F("status")})
        else:
            queryset = queryset.annotate(**{alias: F("uuid")})
        expression = F(alias)
        orderings.append(expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True))
    return queryset.order_by(*orderings, "-started_at", "-pk")
