"""The read API: `seedboard.Api` for runs, projects, metric histories and statistics.

Results are plain Python data (lists of dicts, dicts of lists) with a ``to_pandas()``
method for when pandas is installed (see `records`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, Union
from urllib.parse import quote

from .access import AccessApi
from .client import Client, RetryPolicy
from .config import resolve_settings
from .definitions import definitions_path, metric_definition, project_endpoint, project_parts
from .encoding import decode_value
from .errors import ComparisonFailed, ComparisonTimeout
from .export import ExportResult, check_format, export_download, export_frame
from .progress import Progress
from .records import (
    Comparison,
    CurveList,
    History,
    Leaderboard,
    RecordList,
    RunList,
    TuningCurve,
    VariantList,
)

if TYPE_CHECKING:  # pandas is an optional extra
    import pandas

__all__ = ["Api", "ExportResult", "History", "RunList"]

ParamValue = Union[str, int, float, bool, None, Sequence[Any]]
MAX_PAGE_SIZE = 500


def _param(value: Any) -> str:
    """A filter value as the server parses it: JSON when not a plain string."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, set)):  # for the ``__in`` lookup
        return ",".join(_param(v) for v in value)
    return json.dumps(value)


def _meta(body: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a list response besides its records and pagination."""
    return {k: v for k, v in body.items() if k not in ("results", "curves", "next")}


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__} {value!r}")
    if not value:
        raise ValueError(f"{name} must not be empty")
    return value


def _names(name: str, value: Any, field: str) -> list[str] | None:
    """None, one name, or several: plain strings or records holding `field` (so that
    ``variants=api.variants(...)[:2]`` works). Duplicates are dropped, order is kept."""
    if value is None:
        return None
    items = [value] if isinstance(value, (str, Mapping)) else list(value)
    if not items:
        raise ValueError(f"{name} is empty: pass None to include every variant")
    names = []
    for item in items:
        names.append(_text(name, item.get(field) if isinstance(item, Mapping) else item))
    return list(dict.fromkeys(names))


def _normalization(task: str, pair: Any) -> dict[str, float]:
    """``(random, reference)`` or a mapping with both, in the server's shape."""
    if isinstance(pair, Mapping):
        pair = (pair.get("random"), pair.get("reference"))
    try:
        random, reference = (float(x) for x in pair)
    except (TypeError, ValueError):
        raise TypeError(
            f"normalize[{task!r}] must be (random, reference) numbers, got {pair!r}"
        ) from None
    return {"random": random, "reference": reference}


def _filter_params(
    *, tag: str | Sequence[str] | None, config: Mapping[str, Any] | None, **plain: Any
) -> list[tuple[str, Any]]:
    """Run-list filters as query parameters: `plain` ones by name (None: absent), each tag,
    and ``config.<path>[__op]`` for each item of `config`."""
    params = [(k, _param(v)) for k, v in plain.items() if v is not None]
    params += [("tag", t) for t in ([tag] if isinstance(tag, str) else list(tag or []))]
    params += [(f"config.{path}", _param(value)) for path, value in (config or {}).items()]
    return params


def _metric_keys(value: str | Sequence[str] | None) -> list[str]:
    """The keys of ``runs(metrics=...)``: one or several, as the ``metrics`` parameter."""
    if value is None:
        return []
    keys = [value] if isinstance(value, str) else list(value)
    if not keys:
        raise ValueError("metrics is empty: pass None for runs without metric summaries")
    for key in keys:
        # The server splits the parameter on commas, so such a key would name two others.
        if "," in _text("metrics", key):
            raise ValueError(f"metrics: {key!r} holds a comma, which the server reads as two keys")
    return list(dict.fromkeys(keys))


def _projects(value: str | Sequence[str]) -> list[str]:
    paths = [value] if isinstance(value, str) else list(value)
    if not paths:
        raise ValueError("compare() needs at least one project")
    for path in paths:
        project_parts(path)
    return paths


C = TypeVar("C", bound=Comparison)


def _wait_fresh(
    record: C,
    fetch: Callable[[], C],
    *,
    deadline: float,
    timeout: float,
    poll_interval: float,
    what: str,
    later: str,
) -> C:
    """Poll `fetch` every `poll_interval` seconds until the record's status is ``fresh``."""
    while record.status != "fresh":
        if record.status == "failed":
            raise ComparisonFailed(
                f"{what} failed on the server: {record.error}", comparison=record
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            # A recompute that failed leaves the statistics stale with its error.
            error = f" (last error: {record.error})" if record.error else ""
            raise ComparisonTimeout(
                f"{what} is still {record.status!r} after {timeout:g} s{error}; {later}",
                comparison=record,
            )
        time.sleep(min(poll_interval, remaining))
        record = fetch()
    return record


def _benchmark_path(slug: str, rest: str = "") -> str:
    return f"benchmarks/{quote(_text('slug', slug), safe='')}/{rest}"


class Api(AccessApi):
    """Access to a Seedboard server: runs, histories, metric definitions, statistics,
    and teams, tokens and project visibility (`seedboard.access.AccessApi`).

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
        """``{"user": ..., "teams": [...], "scope": "read" | "write"}`` of the token."""
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
        metrics: Sequence[str] | None = None,
        limit: int | None = None,
        page_size: int | None = None,
    ) -> RunList:
        """Runs of a project matching every given filter, following all pages.

        `config` filters by dotted path with an optional lookup, e.g.
        ``config={"optimizer.lr__gt": 0.01, "optimizer.name__in": ["sgd", "adam"]}``.
        `ordering` is ``created_at``, ``name``, ``seed``, ``status`` or
        ``metric:<key>[:last|min|max|count]``, ``-`` first for descending.
        `metrics` names up to 100 keys whose summaries each record then carries, read
        with each page: ``run["metrics"]["val/acc"]["last_value"]`` (also ``count``,
        ``first_step``, ``last_step``, ``min``, ``max``, as `run` gives them). A key the
        run never logged is absent from its ``metrics``.
        `limit` stops after that many runs.
        """
        keys = _metric_keys(metrics)
        params: list[tuple[str, Any]] = [("project", project)]
        params += _filter_params(
            status=status,
            model=model,
            task=task,
            variant=variant,
            seed=seed,
            name=name,
            ordering=ordering,
            tag=tag,
            config=config,
        )
        params += [("metrics", key) for key in keys]
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

    # -- export ---------------------------------------------------------------------
    def export(
        self,
        project: str,
        path: str | os.PathLike[str],
        *,
        format: str = "parquet",
        runs: Sequence[str] | None = None,
        keys: Sequence[str] | None = None,
        status: str | None = None,
        model: str | None = None,
        task: str | None = None,
        tag: str | Sequence[str] | None = None,
        variant: str | None = None,
        seed: int | None = None,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
        progress: Progress | None = None,
    ) -> ExportResult:
        """Write every point of a project's runs to `path`, as ``"parquet"`` or ``"csv"``.

        One row per point (long format): ``project, run_id, name, model, task, variant,
        seed, status, config`` (JSON text), ``key, step, value, wall_time``. Values are the
        stored float64s, NaN and infinities included (bit for bit in Parquet; in CSV the
        shortest text that reads back as the same float, ``nan``/``inf``/``-inf``).
        `runs` (ids) and the filters of `runs` select runs; `keys` limits the metric keys.
        The server streams the file and it is written as it arrives (memory stays flat).
        """
        params = self._export_params(
            runs, keys, status=status, model=model, task=task, tag=tag, variant=variant,
            seed=seed, name=name, config=config,
        )  # fmt: skip
        endpoint = project_endpoint(project, "export/")
        return export_download(
            self._client, endpoint, params, path, format=check_format(format), progress=progress
        )

    def export_comparison(
        self,
        comparison_id: str,
        path: str | os.PathLike[str],
        *,
        format: str = "parquet",
        keys: Sequence[str] | None = None,
        progress: Progress | None = None,
    ) -> ExportResult:
        """Write every point of the runs a saved comparison covers (its variants or models,
        its task) to `path`; columns and formats as in `export`."""
        endpoint = f"comparisons/{quote(_text('comparison_id', comparison_id), safe='')}/export/"
        params = self._export_params(None, keys)
        return export_download(
            self._client, endpoint, params, path, format=check_format(format), progress=progress
        )

    def export_frame(
        self,
        project: str,
        *,
        runs: Sequence[str] | None = None,
        keys: Sequence[str] | None = None,
        status: str | None = None,
        model: str | None = None,
        task: str | None = None,
        tag: str | Sequence[str] | None = None,
        variant: str | None = None,
        seed: int | None = None,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> pandas.DataFrame:
        """`export` as a pandas DataFrame, one row per point, values exact (read from
        Parquet in memory: needs ``pip install "seedboard[parquet]"``). The ``config`` column
        is JSON text: ``frame["config"].map(json.loads)`` gives dicts."""
        params = self._export_params(
            runs, keys, status=status, model=model, task=task, tag=tag, variant=variant,
            seed=seed, name=name, config=config,
        )  # fmt: skip
        return export_frame(self._client, project_endpoint(project, "export/"), params)

    @staticmethod
    def _export_params(
        runs: Sequence[str] | None,
        keys: Sequence[str] | None,
        *,
        tag: str | Sequence[str] | None = None,
        config: Mapping[str, Any] | None = None,
        **plain: Any,
    ) -> list[tuple[str, Any]]:
        params = _filter_params(tag=tag, config=config, **plain)
        params += [
            ("run", str(run_id)) for run_id in ([runs] if isinstance(runs, str) else runs or [])
        ]
        params += [("key", key) for key in ([keys] if isinstance(keys, str) else keys or [])]
        return params

    # -- statistics -----------------------------------------------------------------
    def metric_definitions(self, project: str) -> RecordList:
        """Every metric key logged in a project with its definition: ``key``, ``goal``,
        ``summary``, ``k``, ``step`` and ``declared`` (False: nobody defined it, so the
        defaults apply).
        """
        body = self._client.get(definitions_path(project))
        return RecordList(self._follow(body), meta=_meta(body))

    def define_metric(
        self,
        project: str,
        key: str,
        goal: str | None = None,
        summary: str = "last",
        *,
        k: int | None = None,
        step: int | None = None,
    ) -> dict[str, Any]:
        """Declare how a metric is judged in a project, now; returns the stored definition.

        Args:
            goal: ``"max"`` or ``"min"``: which direction is better; None: the key's
                default (``min`` for loss/error-like keys, else ``max``).
            summary: how a run's curve becomes one number: ``"last"``, ``"best"`` (the
                best value in the goal's direction), ``"min"``, ``"max"``,
                ``"mean_last_k"`` (needs `k` >= 1) or ``"at_step"`` (needs `step` >= 0).
                A value written to a run's ``summary[key]`` wins over this rule.

        The project's statistics on this metric are recomputed. From a training script,
        `Run.define_metric` does the same without waiting for the network.

        Raises:
            ValueError, TypeError: bad arguments (nothing is sent).
        """
        body = metric_definition(key, goal=goal, summary=summary, k=k, step=step)
        return dict(self._client.put(definitions_path(project), json=body))

    def variants(self, project: str, metric: str, *, task: str | None = None) -> VariantList:
        """Seed statistics of every variant of a project on one metric (and `task`).

        One record per (variant, task): ``variant``, ``model``, ``config``, ``task``,
        ``runs``, ``n``, ``n_failed``, ``mean``, ``std`` (ddof=1), ``sem``, ``median``,
        ``iqm``, ``ci_low``/``ci_high`` (95% Student-t interval of the mean), bootstrap
        intervals, ``outliers``, ``mde``... Statistics that cannot be computed (n < 2)
        are None with a reason. The list's ``status`` (``fresh``, ``stale``,
        ``computing``) and ``computed_at`` say how current the numbers are; they are
        maintained by the server as runs finish.
        """
        params: list[tuple[str, Any]] = [("metric", _text("metric", metric))]
        if task is not None:
            params.append(("task", task))
        params.append(("include", "charts"))  # the notebook display's chart (see display.py)
        body = self._client.get(project_endpoint(project, "variants/"), params=params)
        return VariantList(self._follow(body), meta=_meta(body))

    def curves(
        self,
        project: str,
        metric: str,
        variants: str | Iterable[str | Mapping[str, Any]] | None = None,
        *,
        task: str | None = None,
        points: int = 200,
    ) -> CurveList:
        """Learning curves of variants, aggregated over their finished seeds.

        Each run is interpolated linearly on a common grid of about `points` steps (never
        extrapolated); per step, the mean, std, 95% t-band and ``n`` (seeds present).
        `variants`: fingerprints, or records with a ``variant`` field; None for all.
        ``to_pandas()`` gives a long table (variant, task, step, mean, ci_low, ci_high, n).
        """
        if isinstance(points, bool) or not isinstance(points, int):
            raise TypeError(f"points must be an int, got {type(points).__name__}")
        if points < 2:
            raise ValueError(f"points must be >= 2, got {points}")
        params: list[tuple[str, Any]] = [("metric", _text("metric", metric))]
        params += [("variant", v) for v in _names("variants", variants, "variant") or []]
        if task is not None:
            params.append(("task", task))
        params.append(("points", points))
        params.append(("include", "charts"))
        body = self._client.get(project_endpoint(project, "curves/"), params=params)
        return CurveList(body.get("curves") or [], meta=_meta(body))

    def tuning(
        self,
        project: str,
        metric: str,
        *,
        per: str = "run",
        max_trials: int | None = None,
        model: str | None = None,
        task: str | None = None,
        tag: str | Sequence[str] | None = None,
        variant: str | None = None,
        seed: int | None = None,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> TuningCurve:
        """Expected best score against the number of hyperparameter trials (Dodge et al. 2019).

        The runs matching the filters (as in `runs`, e.g. ``model="resnet18",
        config={"lr__gt": 1e-4}``) form the search, and must all be of one task. Each
        finished run with a score is a trial (`per` ``"run"``), or each variant, scored by
        the mean of its finished seeds (`per` ``"variant"``); failed, crashed and unscored
        runs are listed in ``failed_runs``. Scores follow the project's metric definition.

        Args:
            max_trials: the curve for n = 1..`max_trials` (default: up to the number of
                trials; the unbiased curve is None beyond it).

        ``to_pandas()`` gives one row per n: ``n_trials``, ``budget`` (seconds),
        ``expected`` with ``sd`` and its band, ``expected_without_replacement``.

        Raises:
            BadRequestError: trials on several tasks, an unknown metric or filter.
        """
        if per not in ("run", "variant"):
            raise ValueError(f"per must be 'run' or 'variant', got {per!r}")
        params: list[tuple[str, Any]] = [("metric", _text("metric", metric)), ("per", per)]
        if max_trials is not None:
            if isinstance(max_trials, bool) or not isinstance(max_trials, int):
                raise TypeError(f"max_trials must be an int, got {type(max_trials).__name__}")
            if max_trials < 1:
                raise ValueError(f"max_trials must be >= 1, got {max_trials}")
            params.append(("max_trials", max_trials))
        params += _filter_params(
            model=model, task=task, variant=variant, seed=seed, name=name, tag=tag, config=config
        )
        return TuningCurve(self._client.get(project_endpoint(project, "tuning/"), params=params))

    def compare(
        self,
        projects: str | Sequence[str],
        metric: str,
        variants: str | Iterable[str | Mapping[str, Any]] | None = None,
        *,
        models: str | Iterable[str] | None = None,
        task: str | None = None,
        baseline: str | Mapping[str, Any] | None = None,
        normalize: Mapping[str, tuple[float, float] | Mapping[str, float]] | None = None,
        wait: bool = True,
        timeout: float = 120.0,
        poll_interval: float = 0.5,
    ) -> Comparison:
        """Compare variants on a metric: tests, effect sizes, verdicts, ranking.

        Saves a comparison on the server (it updates itself as new seeds finish and has
        a stable `Comparison.url`), then, with `wait`, polls it every `poll_interval`
        seconds until its statistics are ``fresh``.

        Args:
            projects: ``"team/project"`` or several; the caller must be able to read each.
            variants: fingerprints, or records with a ``variant`` field (e.g. a slice of
                `variants`); `models`: model names instead. Neither: every variant.
            task: restrict to one task; without it, several tasks give a ``benchmark``.
            baseline: compare every variant with this one only (a fingerprint or record),
                instead of all pairs.
            normalize: per task, ``(random, reference)`` (or ``{"random": .., "reference": ..}``):
                the multi-task benchmark then uses ``(x - random) / (reference - random)``, so
                tasks on different scales can be aggregated; tasks without one are left out of
                the benchmark. Per-task statistics stay in the metric's units.
            timeout: seconds to wait for fresh statistics.

        Raises:
            ComparisonTimeout: not fresh within `timeout` (the comparison stays saved
                and keeps computing; the exception holds its last state).
            ComparisonFailed: the server gave up computing it (``status`` ``failed``).
            NotFoundError: a project the caller may not read.
        """
        if timeout < 0 or not poll_interval > 0:
            raise ValueError("timeout must be >= 0 and poll_interval > 0")
        baseline_name = _names("baseline", baseline, "variant") if baseline is not None else None
        body: dict[str, Any] = {
            "metric": _text("metric", metric),
            "projects": _projects(projects),
            "variants": _names("variants", variants, "variant"),
            "models": _names("models", models, "model"),
            "task": task,
            "baseline": baseline_name[0] if baseline_name else None,
        }
        if normalize is not None:
            body["normalize"] = {
                str(task): _normalization(task, pair) for task, pair in normalize.items()
            }
        deadline = time.monotonic() + timeout
        comparison = self._comparison(self._client.post("comparisons/", json=body))
        if not wait:
            return comparison
        fresh = _wait_fresh(
            comparison,
            lambda: self._comparison_get(comparison.id, charts=False),
            deadline=deadline,
            timeout=timeout,
            poll_interval=poll_interval,
            what=f"comparison {comparison.id}",
            later=(
                "it stays saved on the server: fetch it later with "
                f"Api.comparison({comparison.id!r})"
            ),
        )
        return self.comparison(fresh.id)  # the polls leave the charts out; the answer has them

    def comparison(self, comparison_id: str) -> Comparison:
        """A saved comparison, as it is now (see ``status``)."""
        return self._comparison_get(comparison_id, charts=True)

    def _comparison_get(self, comparison_id: str, *, charts: bool) -> Comparison:
        path = f"comparisons/{quote(_text('comparison_id', comparison_id), safe='')}/"
        params = [("include", "charts")] if charts else []
        return self._comparison(self._client.get(path, params=params))

    def comparisons(self, project: str) -> list[Comparison]:
        """The caller's saved comparisons that involve `project`."""
        project_parts(project)
        params: list[tuple[str, Any]] = [("project", project)]
        return [self._comparison(c) for c in self._pages("comparisons/", params, limit=None)]

    # ------------------------------------------------------------------ benchmarks

    def benchmarks(self) -> list[dict[str, Any]]:
        """Every benchmark of the server (all pages), newest first."""
        return list(self._pages("benchmarks/", [("page_size", MAX_PAGE_SIZE)], limit=None))

    def benchmark(self, slug: str) -> dict[str, Any]:
        """One benchmark: its tasks, metric rule, ``min_seeds``, who may submit."""
        return dict(self._client.get(_benchmark_path(slug)))

    def create_benchmark(
        self,
        team: str,
        slug: str,
        name: str,
        tasks: str | Sequence[str],
        metric: str,
        *,
        goal: str | None = None,
        summary: str = "last",
        k: int | None = None,
        step: int | None = None,
        description: str = "",
        min_seeds: int = 3,
        normalize: Mapping[str, tuple[float, float] | Mapping[str, float]] | None = None,
        open: bool = True,
        teams: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """Create a benchmark owned by `team` (the caller must be one of its admins).

        Args:
            tasks: the task names runs are logged with (at least one).
            goal, summary, k, step: how a run becomes one score, as in `define_metric`
                (goal default: from the metric's name).
            min_seeds: finished seeds per task a submission needs (at least 2).
            normalize: per task ``(random, reference)``: the cross-task aggregate uses
                ``(x - random) / (reference - random)``.
            open: False to take submissions from the listed `teams` only.

        Raises:
            PermissionDeniedError: the caller is not an admin of `team`.
            ConflictError: the slug is taken.
        """
        body: dict[str, Any] = {
            "team": _text("team", team),
            "slug": _text("slug", slug),
            "name": _text("name", name),
            "tasks": [tasks] if isinstance(tasks, str) else list(tasks),
            "metric": _text("metric", metric),
            "goal": goal,
            "summary": summary,
            "k": k,
            "step": step,
            "description": description,
            "min_seeds": min_seeds,
            "open": open,
            "teams": list(teams or []),
        }
        if normalize is not None:
            body["normalize"] = {
                str(task): _normalization(task, pair) for task, pair in normalize.items()
            }
        return dict(self._client.post("benchmarks/", json=body, retry=False))

    def leaderboard(
        self, slug: str, *, wait: bool = True, timeout: float = 120.0, poll_interval: float = 0.5
    ) -> Leaderboard:
        """A benchmark's leaderboard; with `wait`, polled until it is ``fresh``.

        Raises:
            ComparisonTimeout: not fresh within `timeout` (its last state in ``comparison``).
            ComparisonFailed: the server gave up computing it (``status`` ``failed``).
        """
        if timeout < 0 or not poll_interval > 0:
            raise ValueError("timeout must be >= 0 and poll_interval > 0")
        deadline = time.monotonic() + timeout
        path = _benchmark_path(slug, "leaderboard/")

        def fetch() -> Leaderboard:
            url = f"{self._client.url}/api/v1/{path}"
            return Leaderboard(self._client.get(path), slug=slug, url=url)

        board = fetch()
        if not wait:
            return board
        return _wait_fresh(
            board,
            fetch,
            deadline=deadline,
            timeout=timeout,
            poll_interval=poll_interval,
            what=f"leaderboard {slug!r}",
            later=f"fetch it later with Api.leaderboard({slug!r})",
        )

    def submit(
        self,
        slug: str,
        project: str,
        variant: str | Mapping[str, Any],
        *,
        budget: Mapping[str, int | float | None] | None = None,
        label: str | None = None,
    ) -> dict[str, Any]:
        """Submit a variant of one of your team's projects to a benchmark.

        Args:
            project: ``"team/project"``; the caller needs the member or admin role there.
            variant: a fingerprint, or a record with a ``variant`` field (from `variants`).
            budget: the declared tuning budget, ``{"trials": int, "gpu_hours": float}``
                (either may be left out); the leaderboard warns when budgets differ a lot.
            label: the entry's name (default: the variant's label in its project).

        Raises:
            BadRequestError: fewer finished seeds than the benchmark needs on some task
                (the message says how many it has), or no run with the metric.
            ConflictError: the variant is entered already.
            PermissionDeniedError: the benchmark takes listed teams only.
            NotFoundError: a project or variant the caller may not read.
        """
        project_parts(project)
        names = _names("variant", variant, "variant")
        body: dict[str, Any] = {"project": project, "variant": names[0] if names else None}
        if budget is not None:
            body["budget"] = dict(budget)
        if label is not None:
            body["label"] = label
        # Not retried: a lost answer to a stored submission would come back as a conflict.
        return dict(
            self._client.post(_benchmark_path(slug, "submissions/"), json=body, retry=False)
        )

    def withdraw(self, slug: str, submission_id: int) -> dict[str, Any]:
        """Withdraw a submission of your team; it is kept on the server with ``withdrawn_at``."""
        if isinstance(submission_id, bool) or not isinstance(submission_id, int):
            raise TypeError(f"submission_id must be an int, got {submission_id!r}")
        path = _benchmark_path(slug, f"submissions/{submission_id}/")
        return dict(self._client.delete(path))

    def submissions(self, slug: str, *, withdrawn: bool = False) -> RecordList:
        """A benchmark's submissions (with `withdrawn`, the withdrawn ones too)."""
        params: list[tuple[str, Any]] = [("page_size", MAX_PAGE_SIZE)]
        if withdrawn:
            params.append(("withdrawn", "true"))
        return RecordList(self._pages(_benchmark_path(slug, "submissions/"), params, limit=None))

    def _comparison(self, body: Mapping[str, Any]) -> Comparison:
        url = f"{self._client.url}/api/v1/comparisons/{body.get('id')}/"
        return Comparison(body, url=url)

    def _follow(self, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The records of a list response, following ``next`` pages if it has any."""
        records = list(body.get("results") or [])
        url = body.get("next")
        while url:
            page = self._client.get(url)
            records += page.get("results") or []
            url = page.get("next")
        return records

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
