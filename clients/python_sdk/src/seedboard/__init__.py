"""Seedboard: track ML experiments without slowing the training loop.

::

    import seedboard

    with seedboard.init(project="demo/cifar10", model="resnet18",
                        config={"lr": 0.1}, seed=0) as run:
        for step in range(1000):
            run.log({"train/loss": loss}, step=step)
        run.summary["test/acc"] = 0.93

    api = seedboard.Api()
    api.runs("demo/cifar10", model="resnet18").to_pandas()

Settings come from arguments, then ``SEEDBOARD_URL``/``SEEDBOARD_TOKEN``/
``SEEDBOARD_MODE``/``SEEDBOARD_DIR``, then the file written by ``seedboard login``.
Points that cannot be sent are kept on disk; ``seedboard sync`` uploads them.
"""

from __future__ import annotations

from ._version import __version__
from .api import Api, History, RunList
from .errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    SeedboardError,
    ServerError,
    TransportError,
)
from .run import FinishResult, Run, init
from .summary import Summary
from .sync import SyncReport, sync

__all__ = [
    "APIError",
    "Api",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "FinishResult",
    "History",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "Run",
    "RunList",
    "SeedboardError",
    "ServerError",
    "Summary",
    "SyncReport",
    "TransportError",
    "__version__",
    "init",
    "sync",
]
