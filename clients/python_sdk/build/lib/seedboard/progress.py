"""Progress bars of the long operations (``sync``, ``import``, ``export``), drawn by tqdm.

A `Progress` has two bars: runs (with a total, so it shows the time left) and points (or
bytes, for a download), each with its rate. Bars are drawn on stderr and only when it is a
terminal (or when forced), so piped or logged output keeps just the one-line summary the
commands print at the end.
"""

from __future__ import annotations

import sys
import time
from typing import Any

__all__ = ["Progress", "rate"]


class Progress:
    """A runs bar over a points bar; every method is a no-op when disabled.

    Args:
        enabled: True to draw, False never, None (default) only when stderr is a terminal.
        points_unit: ``"points"`` or ``"B"`` (bytes, scaled to kB, MB...).
        runs: False for no runs bar (a download).
    """

    _runs: Any
    _points: Any

    def __init__(
        self, *, enabled: bool | None = None, points_unit: str = "points", runs: bool = True
    ) -> None:
        self.started = time.monotonic()
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        if not self.enabled:  # library use: not even tqdm's import
            self._runs = self._points = _NoBar()
            return
        from tqdm import tqdm

        options: dict[str, Any] = {"file": sys.stderr, "dynamic_ncols": True, "leave": False}
        self._runs = tqdm(desc="runs", unit="run", position=0, **options) if runs else _NoBar()
        self._points = tqdm(
            desc="points" if points_unit == "points" else "data",
            unit=points_unit,
            unit_scale=True,
            unit_divisor=1024 if points_unit == "B" else 1000,
            position=1 if runs else 0,
            **options,
        )

    def runs_total(self, total: int) -> None:
        """Set the number of runs (the runs bar then shows the time left)."""
        self._runs.total = total
        self._runs.refresh()

    def points_total(self, total: int | None) -> None:
        """Set (or clear, with None) the number of points (or bytes) expected."""
        self._points.total = total
        self._points.refresh()

    def run(self, name: str) -> None:
        """Say which run is being worked on."""
        self._runs.set_postfix_str(name[:40], refresh=True)

    def run_done(self, n: int = 1) -> None:
        """Count `n` runs done."""
        self._runs.update(n)

    def points(self, n: int) -> None:
        """Count `n` points (or bytes) done."""
        if n:
            self._points.update(n)

    def close(self) -> None:
        """Remove the bars from the terminal."""
        self._points.close()
        self._runs.close()

    def elapsed(self) -> float:
        """Seconds since the bars were made."""
        return time.monotonic() - self.started

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _NoBar:
    """Stands in for a tqdm bar when nothing is drawn."""

    total: int | None = None

    def refresh(self) -> None:
        pass

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def rate(count: int, seconds: float, unit: str = "points") -> str:
    """``count`` per second, rounded for a summary line ("12,300 points/s")."""
    return f"{count / seconds:,.0f} {unit}/s" if seconds > 0 else f"- {unit}/s"
