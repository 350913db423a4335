"""What the read API returns: plain records (dicts, lists) with ``to_pandas()`` helpers.

Every container is a real ``list`` or ``dict`` holding the server's JSON as it came
(statistics that could not be computed are None, with a reason in the record), so it
prints, pickles and serializes like any other data. pandas is optional and imported
only by the frame methods.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .display import Chart, mimebundle, table_html
from .encoding import decode_value

if TYPE_CHECKING:  # pandas is an optional extra
    import pandas

__all__ = [
    "Comparison",
    "CurveList",
    "History",
    "RecordList",
    "RunList",
    "TuningCurve",
    "VariantList",
]

CURVE_COLUMNS = ("variant", "task", "step", "mean", "std", "ci_low", "ci_high", "n")
TUNING_COLUMNS = (
    "n_trials",
    "budget",
    "expected",
    "sd",
    "band_low",
    "band_high",
    "expected_without_replacement",
)


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


def _float(value: Any) -> float:
    # Statistics that could not be computed arrive as null; in a frame they are NaN.
    return math.nan if value is None else float(value)


def _wire_float(value: Any) -> float:
    """A metric value as sent (a number, "NaN", "Infinity", "-Infinity" or null) as a float."""
    return math.nan if value is None else decode_value(value)


class _Displayed:
    """Display in a notebook: the server's first chart, an HTML table as the fallback."""

    _TABLE_COLUMNS: tuple[str, ...] = ()

    def _charts(self) -> dict[str, Any]:
        raise NotImplementedError

    def _table_records(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _title(self) -> str:
        return repr(self)

    @property
    def charts(self) -> dict[str, Any]:
        """The web UI's charts of this result as Vega-Lite specs, by name ({} without them)."""
        return dict(self._charts() or {})

    def chart(self, name: str) -> Chart:
        """One chart by name (see `charts`), which displays itself in a notebook."""
        charts = self.charts
        if name not in charts:
            raise KeyError(f"no chart {name!r}; this result has {sorted(charts)}")
        return Chart(name, charts[name])

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        table = table_html(self._table_records(), self._TABLE_COLUMNS, self._title())
        return mimebundle(self._title(), table, self.charts)


class RecordList(list[dict[str, Any]]):
    """A list of plain records (dicts) as the server sends them.

    `meta` holds the rest of the response (e.g. ``status``, ``computed_at``).
    """

    def __init__(
        self, records: Iterable[dict[str, Any]] = (), meta: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(records)
        self.meta: dict[str, Any] = dict(meta or {})

    def to_pandas(self) -> pandas.DataFrame:
        """One row per record; nested dicts become dotted columns (``config.optimizer.lr``)."""
        pd = _require_pandas()
        rows = []
        for record in self:
            row: dict[str, Any] = {}
            for key, value in record.items():
                _flatten(key, value, row)
            rows.append(row)
        frame: pandas.DataFrame = pd.DataFrame(rows)
        return frame


class RunList(RecordList):
    """A list of run records (dicts, as the server sends them).

    Listed with ``metrics=[...]``, each record has ``metrics``: ``{key: summary}`` with
    ``count``, ``first_step``, ``last_step``, ``last_value``, ``min`` and ``max`` of each
    named key the run logged (non-finite values as the strings ``"NaN"``, ``"Infinity"``).
    """

    def to_pandas(self) -> pandas.DataFrame:
        """One row per run; `config` and `summary` are flattened to ``config.a.b`` columns,
        and each listed metric's last value is a ``metric.<key>`` column of floats (NaN where
        the run never logged it)."""
        pd = _require_pandas()
        keys = list(dict.fromkeys(key for record in self for key in record.get("metrics") or {}))
        rows = []
        for record in self:
            row = {k: v for k, v in record.items() if k not in ("config", "summary", "metrics")}
            for part in ("config", "summary"):
                for k, v in (record.get(part) or {}).items():
                    _flatten(f"{part}.{k}", v, row)
            summaries = record.get("metrics") or {}
            for key in keys:
                row[f"metric.{key}"] = _wire_float((summaries.get(key) or {}).get("last_value"))
            rows.append(row)
        frame: pandas.DataFrame = pd.DataFrame(rows)
        return frame


class VariantList(_Displayed, RecordList):
    """Per-variant seed statistics of one metric, one record per (variant, task).

    Each record has ``variant`` (fingerprint), ``model``, ``config``, ``task``, ``runs``,
    ``n``, ``n_failed``, ``mean``, ``std``, ``ci_low``, ``ci_high``... The attributes
    below say what the numbers are and how current they are.
    """

    _TABLE_COLUMNS = ("variant", "model", "task", "n", "mean", "std", "ci_low", "ci_high")

    def _charts(self) -> dict[str, Any]:
        return dict(self.meta.get("charts") or {})

    def _table_records(self) -> list[dict[str, Any]]:
        return list(self)

    def _title(self) -> str:
        return f"seedboard variants of {self.metric!r} ({len(self)} rows, {self.status})"

    @property
    def metric(self) -> str | None:
        """The metric key."""
        return self.meta.get("metric")

    @property
    def goal(self) -> str | None:
        """``"max"`` or ``"min"``: which direction is better."""
        return self.meta.get("goal")

    @property
    def summary(self) -> str | None:
        """How each run's curve became one number (``last``, ``best``...)."""
        return self.meta.get("summary")

    @property
    def status(self) -> str | None:
        """``fresh``, ``stale`` (a recompute is queued) or ``computing``."""
        return self.meta.get("status")

    @property
    def computed_at(self) -> str | None:
        """When these statistics were computed (ISO 8601), None before the first time."""
        return self.meta.get("computed_at")

    @property
    def method_version(self) -> str | None:
        """Version of the server's statistical methods."""
        return self.meta.get("method_version")

    @property
    def error(self) -> str | None:
        """Why the last recompute failed (the numbers are then the previous ones), or None."""
        return self.meta.get("error")

    @property
    def bootstrap_seed(self) -> int | None:
        """Seed of the bootstrap resamples (results are reproducible from it)."""
        return self.meta.get("bootstrap_seed")


class CurveList(_Displayed, RecordList):
    """Aggregated learning curves, one record per (variant, task).

    Each record holds parallel lists ``steps``, ``mean``, ``std``, ``ci_low``,
    ``ci_high`` and ``n`` (seeds present at that step), plus ``intersection_low``/
    ``intersection_high`` (the step range every seed covers) and ``n_runs``.
    """

    _TABLE_COLUMNS = ("variant", "task", "n_runs", "first_step", "last_step", "last_mean")

    def _charts(self) -> dict[str, Any]:
        return dict(self.meta.get("charts") or {})

    def _table_records(self) -> list[dict[str, Any]]:
        rows = []
        for curve in self:
            steps, means = curve.get("steps") or [], curve.get("mean") or []
            rows.append(
                {
                    "variant": curve.get("variant"),
                    "task": curve.get("task"),
                    "n_runs": curve.get("n_runs"),
                    "first_step": steps[0] if steps else None,
                    "last_step": steps[-1] if steps else None,
                    "last_mean": _float(means[-1]) if means else None,
                }
            )
        return rows

    def _title(self) -> str:
        return f"seedboard curves of {self.metric!r} ({len(self)} curves)"

    @property
    def metric(self) -> str | None:
        """The metric key."""
        return self.meta.get("metric")

    def to_pandas(self) -> pandas.DataFrame:
        """A long table: ``variant, task, step, mean, std, ci_low, ci_high, n``, one row
        per (curve, grid step); missing values are NaN."""
        pd = _require_pandas()
        frames = []
        for curve in self:
            steps = curve.get("steps") or []
            columns: dict[str, Any] = {
                "variant": [curve.get("variant")] * len(steps),
                "task": [curve.get("task")] * len(steps),
                "step": [_float(s) for s in steps],
            }
            for name in ("mean", "std", "ci_low", "ci_high"):
                columns[name] = [_float(v) for v in curve.get(name) or [None] * len(steps)]
            columns["n"] = [int(v or 0) for v in curve.get("n") or [0] * len(steps)]
            frames.append(pd.DataFrame(columns, columns=list(CURVE_COLUMNS)))
        if not frames:
            empty: pandas.DataFrame = pd.DataFrame(columns=list(CURVE_COLUMNS))
            return empty
        frame: pandas.DataFrame = pd.concat(frames, ignore_index=True)
        return frame


class TuningCurve(dict[str, Any]):
    """Expected best score against the number of trials: the body of
    ``GET /api/v1/projects/{team}/{project}/tuning/``.

    Parallel lists: ``n_trials`` (the x axis), ``expected`` (the expected best of n
    trials drawn with replacement, Dodge et al. 2019) with ``sd`` and the band
    ``band_low``/``band_high``, ``expected_without_replacement`` (unbiased, None beyond
    the number of trials) and ``budget`` (n x ``mean_runtime`` seconds, or None). Also
    ``trials``, ``best``, ``failed_runs``, ``runs`` and the metric's ``goal`` and rule.
    """

    def __repr__(self) -> str:
        return (
            f"<seedboard.TuningCurve metric={self.get('metric')!r} per={self.get('per')!r} "
            f"trials={self.get('n')} failed={self.get('n_failed')}>"
        )

    @property
    def metric(self) -> str | None:
        """The metric key."""
        return self.get("metric")

    @property
    def goal(self) -> str | None:
        """``"max"`` or ``"min"`` (then the curve is the expected minimum)."""
        return self.get("goal")

    @property
    def n(self) -> int:
        """The number of trials."""
        return int(self.get("n") or 0)

    @property
    def best(self) -> dict[str, Any] | None:
        """The best trial (``run``, ``variant``, ``config``, ``value``...), None without trials."""
        best = self.get("best")
        return dict(best) if best else None

    @property
    def trials(self) -> RecordList:
        """One record per trial, in run order."""
        return RecordList(self.get("trials") or [])

    @property
    def failed_runs(self) -> RecordList:
        """Runs that are no trial: ``run``, ``status``, ``reason``."""
        return RecordList(self.get("failed_runs") or [])

    def to_pandas(self) -> pandas.DataFrame:
        """One row per number of trials: ``n_trials, budget, expected, sd, band_low,
        band_high, expected_without_replacement``; missing values are NaN."""
        pd = _require_pandas()
        grid = self.get("n_trials") or []
        columns: dict[str, Any] = {"n_trials": [int(n) for n in grid]}
        for name in TUNING_COLUMNS[1:]:
            columns[name] = [_float(v) for v in self.get(name) or [None] * len(grid)]
        frame: pandas.DataFrame = pd.DataFrame(columns, columns=list(TUNING_COLUMNS))
        return frame

    def trials_frame(self) -> pandas.DataFrame:
        """`trials` as a DataFrame, one row per trial (``config.lr`` columns)."""
        return self.trials.to_pandas()


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


class Comparison(_Displayed, dict[str, Any]):
    """A saved comparison: the body of ``GET /api/v1/comparisons/{id}/``.

    The dict holds every field the server sent; the properties below are shortcuts.
    ``variants`` has a per-variant block each, ``pairs`` one record per pair of variants
    (``diff``, its Welch interval, ``welch_p``, ``p_holm``, ``hedges_g``,
    ``prob_improvement``, ``verdict``...), ``ranking`` the ranks with their simultaneous
    rank sets (``rank_set``: ``lower``, ``upper``, from the pair verdicts) and bootstrap
    intervals (``rank_ci_low``, ``rank_ci_high``: marginal, not simultaneous), and
    ``benchmark`` the multi-task analysis when several tasks take part.
    """

    _TABLE_COLUMNS = ("label", "model", "task", "n", "mean", "ci_low", "ci_high")

    def __init__(self, body: Mapping[str, Any], *, url: str | None = None) -> None:
        super().__init__(body)
        self._url = url

    def _charts(self) -> dict[str, Any]:
        return dict(self.get("charts") or {})

    def _table_records(self) -> list[dict[str, Any]]:
        return [dict(block) for block in self.get("variants") or []]

    def __repr__(self) -> str:
        return (
            f"<seedboard.Comparison {self.get('id')} metric={self.get('metric')!r} "
            f"status={self.get('status')!r} variants={len(self.get('variants') or [])}>"
        )

    @property
    def id(self) -> str:
        """The comparison's id."""
        return str(self["id"])

    @property
    def url(self) -> str | None:
        """Its stable address, to share (the server's, or its API record's)."""
        return self.get("url") or self._url

    @property
    def status(self) -> str | None:
        """``fresh``, ``stale`` (a recompute is queued) or ``computing``."""
        return self.get("status")

    @property
    def metric(self) -> str | None:
        """The metric key compared."""
        return self.get("metric")

    @property
    def computed_at(self) -> str | None:
        """When the statistics were computed (ISO 8601)."""
        return self.get("computed_at")

    @property
    def error(self) -> str | None:
        """Why the last recompute failed (the statistics are then the previous ones)."""
        return self.get("error")

    @property
    def variants(self) -> RecordList:
        """Per-variant statistics blocks."""
        return RecordList(self.get("variants") or [])

    @property
    def pairs(self) -> RecordList:
        """One record per compared pair (A = ``a``, B = ``b``; ``diff`` is A - B)."""
        return RecordList(self.get("pairs") or [])

    @property
    def ranking(self) -> dict[str, Any]:
        """The ranking block (``entries``, ``leader``, ``top_group``...), {} if none."""
        return dict(self.get("ranking") or {})

    @property
    def benchmark(self) -> dict[str, Any] | None:
        """The multi-task analysis (Friedman, Nemenyi...), None with a single task."""
        block = self.get("benchmark")
        return dict(block) if block else None

    def variants_frame(self) -> pandas.DataFrame:
        """`variants` as a DataFrame, one row per variant (nested dicts flattened)."""
        return self.variants.to_pandas()

    def _labels(self) -> dict[str, str]:
        """The server's variant labels (server/tracking/labels.py), by fingerprint."""
        return {
            str(block["variant"]): str(block.get("label") or block["variant"])
            for block in self.get("variants") or []
        }

    def pairs_frame(self) -> pandas.DataFrame:
        """`pairs` as a DataFrame, one row per pair, with the variants' ``label_a``, ``label_b``."""
        labels = self._labels()
        return RecordList(
            {
                **pair,
                "label_a": labels.get(str(pair.get("a"))),
                "label_b": labels.get(str(pair.get("b"))),
            }
            for pair in self.pairs
        ).to_pandas()

    def ranking_frame(self) -> pandas.DataFrame:
        """The ranking entries as a DataFrame, one row per (variant, task), with its ``label``.

        The rank set is flattened to ``rank_set.lower``, ``rank_set.upper``... (all missing
        for a variant with fewer than 2 seeds; ``reasons.rank_set`` says why).
        """
        labels = self._labels()
        entries = RecordList(
            {**entry, "label": labels.get(str(entry.get("variant")))}
            for entry in self.ranking.get("entries") or []
        )
        for entry in entries:
            if entry.get("rank_set", {}) is None:
                del entry["rank_set"]  # NaN in the rank_set.* columns, no column of its own
        return entries.to_pandas()


class Leaderboard(Comparison):
    """A benchmark's leaderboard: the body of ``GET /api/v1/benchmarks/{slug}/leaderboard/``.

    Shaped like a `Comparison` whose variants are submissions: in ``variants``, ``pairs`` and
    ``ranking``, ``variant`` is the submission id as text (each block also has ``submission``,
    ``team``, ``label`` and the submitted ``fingerprint``). ``submissions`` lists the active
    entries with their declared ``budget`` and ``n_seeds`` per task; ``warnings`` names unequal
    tuning budgets and entries with fewer seeds. Project paths and run ids are present only for
    projects the caller may read.
    """

    def __init__(self, body: Mapping[str, Any], *, slug: str, url: str | None = None) -> None:
        super().__init__(body, url=url)
        self._slug = slug

    def __repr__(self) -> str:
        return (
            f"<seedboard.Leaderboard {self._slug} metric={self.get('metric')!r} "
            f"status={self.get('status')!r} submissions={len(self.submissions)}>"
        )

    @property
    def id(self) -> str:
        """The benchmark's slug."""
        return self._slug

    @property
    def submissions(self) -> RecordList:
        """The active submissions (``id``, ``team``, ``label``, ``budget``, ``n_seeds``...)."""
        return RecordList(self.get("submissions") or [])

    @property
    def warnings(self) -> list[str]:
        """Budget and seed-count warnings, then those of the statistics."""
        return list(self.get("warnings") or [])
