"""What every API module shares: the documented error answers and input checking by serializer."""

from __future__ import annotations

from typing import Any

from server.core.serializers import ErrorSerializer

# The error answers every endpoint may give (503: a statement cancelled at the web
# statement_timeout, server/core/database.py), documented in the schema so fuzzers accept them.
ERRORS: dict[int, Any] = {code: ErrorSerializer for code in (400, 401, 403, 404, 429, 503)}


def checked(serializer_class: type, data: Any, **kwargs: Any) -> dict[str, Any]:
    """`data` validated by `serializer_class` (a 400 naming the first bad field otherwise)."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
