"""Keyset (cursor) pagination over one sort expression plus the primary key.

Unlike offset pagination its cost does not grow with the page number, and unlike DRF's
CursorPagination it copes with a nullable, non-unique sort value (a metric summary that
some runs lack): NULLs always come last, ties are broken by the primary key.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any, TypeVar

import orjson
from django.db.models import (
    CharField,
    DateTimeField,
    F,
    Field,
    FloatField,
    IntegerField,
    Model,
    Q,
    QuerySet,
    TextField,
)
from rest_framework.request import Request

from server.core.errors import InvalidInput

M = TypeVar("M", bound=Model)
SORT = "sort_value"


def _encode_value(value: Any) -> list[Any]:
    if value is None:
        return ["null", None]
    if isinstance(value, dt.datetime):
        return ["datetime", value.isoformat()]
    if isinstance(value, float) and value != value:
        return ["float", "NaN"]
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return ["float", "Infinity" if value > 0 else "-Infinity"]
    return ["plain", value]


INT64 = 2**63
_MALFORMED = "cursor: malformed; use the 'next' link of the previous page"


def _decode_value(kind: str, raw: Any, sort_field: Field[Any, Any] | None) -> Any:
    """The sort value a cursor carries, checked against the type of the sort column: a cursor
    is client input, and a value of the wrong type would fail in the database, not here."""
    if kind == "null" and raw is None:
        return None
    if kind == "datetime" and isinstance(raw, str) and isinstance(sort_field, DateTimeField):
        value = dt.datetime.fromisoformat(raw)
        if value.tzinfo is None:
            raise ValueError(raw)
        return value
    if kind == "float" and raw in {"NaN", "Infinity", "-Infinity"} and isinstance(sort_field, FloatField):
        return float(raw)
    if kind == "plain":
        if isinstance(sort_field, FloatField) and isinstance(raw, (int, float)) and not isinstance(raw, bool):
            if isinstance(raw, int) and not -INT64 <= raw < INT64:
                raise ValueError(raw)
            return raw
        if isinstance(sort_field, IntegerField) and isinstance(raw, int) and not isinstance(raw, bool):
            if not -INT64 <= raw < INT64:
                raise ValueError(raw)
            return raw
        if isinstance(sort_field, (CharField, TextField)) and isinstance(raw, str) and "\x00" not in raw:
            return raw
    raise ValueError(kind)


def cursor_encode(value: Any, pk: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([*_encode_value(value), pk])).decode().rstrip("=")


def cursor_decode(cursor: str, sort_field: Field[Any, Any] | None = None) -> tuple[Any, bool, int]:
    """(value, is_null, pk) from a cursor string, the value checked against `sort_field` (the
    sort column); InvalidInput for anything malformed or of another ordering."""
    try:
        kind, raw, pk = orjson.loads(base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4)))
        if not isinstance(pk, int) or isinstance(pk, bool) or not 0 < pk < INT64:
            raise ValueError(pk)
        return _decode_value(kind, raw, sort_field), kind == "null", pk
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidInput(_MALFORMED, field="cursor") from None


def keyset_page(
    queryset: QuerySet[M], *, descending: bool, cursor: str | None, page_size: int
) -> tuple[list[M], str | None]:
    """One page of `queryset` (annotated with `sort_value`) and the cursor of the next page, if any."""
    direction = "lt" if descending else "gt"
    if cursor:
        value, is_null, pk = cursor_decode(cursor, queryset.query.annotations[SORT].output_field)
        if is_null:
            queryset = queryset.filter(**{f"{SORT}__isnull": True, f"pk__{direction}": pk})
        else:
            queryset = queryset.filter(
                Q(**{f"{SORT}__{direction}": value})
                | Q(**{SORT: value, f"pk__{direction}": pk})
                | Q(**{f"{SORT}__isnull": True})
            )
    sort = F(SORT).desc(nulls_last=True) if descending else F(SORT).asc(nulls_last=True)
    rows = list(queryset.order_by(sort, "-pk" if descending else "pk")[: page_size + 1])
    if len(rows) <= page_size:
        return rows, None
    last = rows[page_size - 1]
    return rows[:page_size], cursor_encode(getattr(last, SORT), last.pk)


def next_link(request: Request, cursor: str | None) -> str | None:
    """The URL of the next page: this request's URL with `cursor` replaced, or None on the last page."""
    if cursor is None:
        return None
    params = request.query_params.copy()
    params["cursor"] = cursor
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
