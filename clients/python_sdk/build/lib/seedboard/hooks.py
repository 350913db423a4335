"""Finishing live runs when the process ends: atexit, SIGTERM and uncaught exceptions.

Runs register here while they are live, so the hooks know what to finish; nothing else
reads this registry. The hooks are installed once, on the first `init`, and chain to
whatever was installed before them.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
from types import FrameType, TracebackType
from typing import Any, Callable, Protocol, Union

__all__ = ["register", "unregister"]


class _Finishable(Protocol):
    def finish(self, status: str = "finished") -> Any: ...


_live: dict[int, _Finishable] = {}
_lock = threading.RLock()  # re-entrant: SIGTERM may arrive while register() holds it
_installed = False
_uncaught = False  # an exception reached sys.excepthook: atexit then finishes as failed
_SignalHandler = Union[Callable[[int, Union[FrameType, None]], Any], int, signal.Handlers, None]
_previous_sigterm: _SignalHandler = None
_previous_excepthook: Callable[..., Any] = sys.excepthook


def register(run: _Finishable) -> None:
    """Track a live run, installing the exit hooks on first use."""
    with _lock:
        _live[id(run)] = run
        _install()


def unregister(run: _Finishable) -> None:
    """Stop tracking a run (it finished)."""
    with _lock:
        _live.pop(id(run), None)


def _finish_all(status: str) -> None:
    with _lock:
        runs = list(_live.values())
    for run in runs:
        with contextlib.suppress(Exception):
            run.finish(status=status)


def _at_exit() -> None:
    _finish_all("failed" if _uncaught else "finished")


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Killed from outside (scheduler preemption, `kill`): the run did not end on its own.
    _finish_all("crashed")
    previous = _previous_sigterm
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_IGN:
        return
    else:
        # Re-deliver with the default action so the exit status still says "SIGTERM".
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)


def _excepthook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    global _uncaught
    _uncaught = True
    _previous_excepthook(exc_type, exc, tb)


def _install() -> None:
    global _installed, _previous_sigterm, _previous_excepthook
    if _installed:
        return
    _installed = True
    atexit.register(_at_exit)
    _previous_excepthook = sys.excepthook
    sys.excepthook = _excepthook
    # signal.signal may only be called from the main thread.
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGTERM"):
        try:
            _previous_sigterm = signal.getsignal(signal.SIGTERM)
            signal.signal(signal.SIGTERM, _on_sigterm)
        except (ValueError, OSError):  # e.g. an embedded interpreter without signals
            _previous_sigterm = None
