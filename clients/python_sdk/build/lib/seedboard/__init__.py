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

    # Is a variant better than another one, given seed noise?
    run.define_metric("val/acc", goal="max", summary="best")   # or api.define_metric(...)
    api.variants("demo/cifar10", "val/acc").to_pandas()      # mean, std, 95% CI per variant
    result = api.compare("demo/cifar10", "val/acc", models=["resnet18", "vit"])
    result.pairs_frame()                                     # diff, Welch/Holm p, verdict
    api.curves("demo/cifar10", "val/acc").to_pandas()        # mean curve with 95% band
    api.tuning("demo/cifar10", "val/acc", model="resnet18").to_pandas()  # best vs trials

Settings come from arguments, then ``SEEDBOARD_URL``/``SEEDBOARD_TOKEN``/
``SEEDBOARD_MODE``/``SEEDBOARD_DIR``, then the file written by ``seedboard login``.
Points that cannot be sent are kept on disk; ``seedboard sync`` uploads them.
"""

from __future__ import annotations

from ._version import __version__
from .api import Api
from .errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ComparisonFailed,
    ComparisonTimeout,
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
from .run import FinishResult, Run, init
from .summary import Summary
from .sync import SyncReport, sync

__all__ = [
    "APIError",
    "Api",
    "AuthenticationError",
    "BadRequestError",
    "Comparison",
    "ComparisonFailed",
    "ComparisonTimeout",
    "ConfigurationError",
    "ConflictError",
    "CurveList",
    "FinishResult",
    "History",
    "Leaderboard",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "RecordList",
    "Run",
    "RunList",
    "SeedboardError",
    "ServerError",
    "Summary",
    "SyncReport",
    "TransportError",
    "TuningCurve",
    "VariantList",
    "__version__",
    "init",
    "sync",
]
