"""Keyset (cursor) pagination over one sort expression plus the primary key.

Unlike offset pagination its cost does not grow with the page number, and unlike DRF's
CursorPagination it copes with a nullable, non-unique sort value (a metric summary that
some runs lack): NULLs always come last, ties are broken by the primary key.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any, TypeVar

import orjson
from django.db.models import F, Model, Q, QuerySet
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


def _decode_value(kind: str, raw: Any) -> Any:
    if kind == "datetime":
        return dt.datetime.fromisoformat(raw)
    if kind == "float":
        return float(raw)
    return raw


def cursor_encode(value: Any, pk: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([*_encode_value(value), pk])).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[Any, bool, int]:
    """(value, is_null, pk) from a cursor string; InvalidInput for anything malformed."""
    try:
        kind, raw, pk = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if kind not in {"null", "datetime", "float", "plain"} or not isinstance(pk, int):
            raise ValueError(kind)
        return _decode_value(kind, raw), kind == "null", pk
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise InvalidInput("cursor: malformed; use the 'next' link of the previous page", field="cursor") from None


def keyset_page(
    queryset: QuerySet[M], *, descending: bool, cursor: str | None, page_size: int
) -> tuple[list[M], str | None]:
    """One page of `queryset` (annotated with `sort_value`) and the cursor of the next page, if any."""
    direction = "lt" if descending else "gt"
    if cursor:
        value, is_null, pk = cursor_decode(cursor)
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
