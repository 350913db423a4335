"""The read API: `seedboard.Api` for runs, projects and metric histories.

Results are plain Python data (lists of dicts, dicts of lists) with a ``to_pandas()``
method for when pandas is installed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Union

from .client import Client, RetryPolicy
from .config import resolve_settings
from .encoding import decode_value

if TYPE_CHECKING:  # pandas is an optional extra
    import pandas

__all__ = ["Api", "History", "RunList"]

ParamValue = Union[str, int, float, bool, None, Sequence[Any]]
MAX_PAGE_SIZE = 500


def _require_pandas() -> Any:
    try:
        import pandas
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("to_pandas() needs pandas: pip install 'seedboard[pandas]'") from None
    return pandas


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for k, v in value.items():
            _flatten(f"{prefix}.{k}", v, out)
    else:
        out[prefix] = value


class RunList(list[dict[str, Any]]):
    """A list of run records (dicts, as the server sends them)."""

    def to_pandas(self) -> pandas.DataFrame:
        """One row per run; `config` and `summary` are flattened to ``config.a.b`` columns."""
        pd = _require_pandas()
        rows = []
        for record in self:
            row = {k: v for k, v in record.items() if k not in ("config", "summary", "metrics")}
            for part in ("config", "summary"):
                for k, v in (record.get(part) or {}).items():
                    _flatten(f"{part}.{k}", v, row)
            rows.append(row)
        frame: pandas.DataFrame = pd.DataFrame(rows)
        return frame


class History(dict[str, dict[str, list[Any]]]):
    """``{key: {"step": [...], "value": [...], "time": [...]}}``, values as floats.

    `downsampled` tells, per key, whether the server reduced the series (``max_points``).
    """

    def __init__(self) -> None:
        super().__init__()
        self.downsampled: dict[str, bool] = {}

    def to_pandas(self) -> pandas.DataFrame:
        """A long table with columns ``key, step, value, time``."""
        pd = _require_pandas()
        frames = [
            pd.DataFrame({"key": key, "step": s["step"], "value": s["value"], "time": s["time"]})
            for key, s in self.items()
        ]
        frame: pandas.DataFrame = (
            pd.concat(frames, ignore_index=True)
            if frames
            else pd.DataFrame(columns=["key", "step", "value", "time"])
        )
        return frame


def _param(value: Any) -> str:
    """A filter value as the server parses it: JSON when not a plain string."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, set)):  # for the ``__in`` lookup
        return ",".join(_param(v) for v in value)
    return json.dumps(value)


class Api:
    """Read access to a Seedboard server.

    Args:
        url, token: default to ``SEEDBOARD_URL``/``SEEDBOARD_TOKEN`` or the login file.
        timeout: seconds to wait for each response.
        retry_budget: seconds to keep retrying a failing request (connection errors,
            429, 5xx) before raising.

    Every method raises `APIError` subclasses (`NotFoundError`, `AuthenticationError`...)
    or `TransportError`. Use as a context manager, or call `close()`.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        retry_budget: float = 10.0,
        dir: str | os.PathLike[str] | None = None,
    ) -> None:
        settings = resolve_settings(url=url, token=token, dir=dir, mode="online")
        server_url, server_token = settings.server()
        self._client = Client(
            server_url, server_token, timeout=timeout, retry=RetryPolicy(budget=retry_budget)
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def whoami(self) -> dict[str, Any]:
        """``{"user": ..., "teams": [...]}`` of the token."""
        return dict(self._client.get("auth/whoami/"))

    def projects(self) -> list[dict[str, Any]]:
        """Projects of the caller's teams (all pages)."""
        return list(self._pages("projects/", [("page_size", MAX_PAGE_SIZE)], limit=None))

    def project(self, path: str) -> dict[str, Any]:
        """One project by ``team/project``."""
        return dict(self._client.get(f"projects/{path.strip('/')}/"))

    def run(self, run_id: str) -> dict[str, Any]:
        """One run record, with its ``metrics`` block of per-key summaries."""
        return dict(self._client.get(f"runs/{run_id}/"))

    def runs(
        self,
        project: str,
        *,
        status: str | None = None,
        model: str | None = None,
        task: str | None = None,
        tag: str | Sequence[str] | None = None,
        variant: str | None = None,
        seed: int | None = None,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
        ordering: str | None = None,
        limit: int | None = None,
        page_size: int | None = None,
    ) -> RunList:
        """Runs of a project matching every given filter, following all pages.

        `config` filters by dotted path with an optional lookup, e.g.
        ``config={"optimizer.lr__gt": 0.01, "optimizer.name__in": ["sgd", "adam"]}``.
        `ordering` is ``created_at``, ``name``, ``seed``, ``status`` or
        ``metric:<key>[:last|min|max|count]``, ``-`` first for descending.
        `limit` stops after that many runs.
        """
        params: list[tuple[str, Any]] = [("project", project)]
        simple = {
            "status": status,
            "model": model,
            "task": task,
            "variant": variant,
            "seed": seed,
            "name": name,
            "ordering": ordering,
        }
        params += [(k, _param(v)) for k, v in simple.items() if v is not None]
        tags = [tag] if isinstance(tag, str) else list(tag or [])
        params += [("tag", t) for t in tags]
        for path, value in (config or {}).items():
            params.append((f"config.{path}", _param(value)))
        size = page_size or (min(limit, MAX_PAGE_SIZE) if limit else 100)
        params.append(("page_size", max(1, min(size, MAX_PAGE_SIZE))))
        return RunList(self._pages("runs/", params, limit=limit))

    def history(
        self,
        run_id: str,
        keys: Iterable[str] | None = None,
        *,
        min_step: int | None = None,
        max_step: int | None = None,
        max_points: int | None = None,
    ) -> History:
        """The metric history of a run: every key, or those in `keys`.

        Values are floats with NaN and infinities restored. With `max_points` each series
        is downsampled by the server (extremes and end points kept).
        """
        params: list[tuple[str, Any]] = [
            ("key", k) for k in ([keys] if isinstance(keys, str) else keys or [])
        ]
        for name, value in (
            ("min_step", min_step),
            ("max_step", max_step),
            ("max_points", max_points),
        ):
            if value is not None:
                params.append((name, int(value)))
        body = self._client.get(f"runs/{run_id}/metrics/", params=params)
        history = History()
        for key, series in (body.get("metrics") or {}).items():
            history[key] = {
                "step": [int(s) for s in series.get("step", [])],
                "value": [decode_value(v) for v in series.get("value", [])],
                "time": [float(t) if t is not None else None for t in series.get("time", [])],
            }
            history.downsampled[key] = bool(series.get("downsampled", False))
        return history

    def _pages(
        self, path: str, params: list[tuple[str, Any]], *, limit: int | None
    ) -> Iterator[dict[str, Any]]:
        count = 0
        url: str | None = path
        query: list[tuple[str, Any]] | None = params
        while url:
            body = self._client.get(url, params=query)
            for record in body.get("results", []):
                yield record
                count += 1
                if limit is not None and count >= limit:
                    return
            url = body.get("next")
            query = None  # the next URL carries the query string already
