"""The HTTP shape of the export endpoints (projects and comparisons): parameters, documented
answers and the streamed response of a `server.tracking.exports.Export`."""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from server.core.api import ERRORS
from server.tracking import exports

EXPORT_PARAMETERS = [
    OpenApiParameter(
        "format", str, enum=list(exports.FORMATS), default="csv", description="The file format: csv or parquet."
    ),
    OpenApiParameter(
        "key",
        str,
        many=True,
        description=f"Only these metric keys (repeat for several, at most {exports.MAX_KEYS}); none: every key.",
    ),
]
EXPORT_RESPONSES: dict[Any, Any] = {
    (200, "text/csv"): OpenApiTypes.STR,
    (200, exports.FORMATS["parquet"]): OpenApiTypes.BINARY,
    **ERRORS,
}
EXPORT_DESCRIPTION = (
    "Every stored point of the selected runs, streamed as a CSV or Parquet file in long format: project, "
    "run_id, name, model, task, variant, seed, status, config (JSON), key, step, value (float64, NaN and "
    "infinities kept), wall_time (seconds since the epoch). The `X-Seedboard-Runs` and `X-Seedboard-Points` "
    "headers give the number of runs and of points stored when the export started."
)


def export_response(export: exports.Export, fmt: exports.Format, filename: str) -> StreamingHttpResponse:
    """The streamed file of an export: its name, runs and points in the headers."""
    response = StreamingHttpResponse(exports.export_chunks(export, fmt), content_type=exports.FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response["X-Seedboard-Runs"] = str(export.run_count)
    response["X-Seedboard-Points"] = str(export.points)
    return response
