"""Import TensorBoard logs: ``seedboard import tensorboard LOGDIR``.

Every directory under LOGDIR that holds event files (``events.out.tfevents.*``) is a run,
read by TensorBoard's own loader (`event_accumulator.EventAccumulator`, every scalar event
kept, data orphaned by a restart purged as TensorBoard does). Scalars become points (tag ->
key; TF1's ``simple_value`` summaries and the scalar tensors of TF2 and `tensorboard.summary`
alike); the hyperparameters of the hparams plugin become the config and the session's end
status the run's status. Images, histograms and other plugins' series are not points: they
are counted as skipped.

A run's identity is its path under LOGDIR and the names of its event files (which hold a
timestamp, the host and the process id), so the same logs import to the same runs wherever
LOGDIR is mounted. Needs ``pip install "seedboard[tensorboard]"``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .base import RunReader, Series, SourceRun, config_nest

__all__ = ["tensorboard_runs"]

SOURCE = "tensorboard"
_EVENT_FILE_MARK = "tfevents"


def _tensorboard() -> Any:
    try:
        from tensorboard.backend.event_processing import event_accumulator
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "importing TensorBoard logs needs tensorboard: pip install 'seedboard[tensorboard]'"
        ) from None
    return event_accumulator


# Every scalar and tensor event is kept (0: no sampling); of images, audio and histograms, which
# are not imported, one each, just to count their series.
_SIZE_GUIDANCE = {
    "scalars": 0,
    "tensors": 0,
    "images": 1,
    "audio": 1,
    "histograms": 1,
    "compressedHistograms": 1,
    "distributions": 1,
}
_NOT_SCALARS = "TensorBoard series that are not scalars (images, histograms, text...)"


class _TensorBoardRun:
    def __init__(self, logdir: Path, directory: Path) -> None:
        self.directory = directory
        relative = directory.relative_to(logdir).as_posix()
        self.label = logdir.name if relative == "." else relative
        files = sorted(p.name for p in directory.iterdir() if _EVENT_FILE_MARK in p.name)
        self.source_id = f"{relative}:{','.join(files)}"

    def read(self) -> SourceRun:
        accumulator = _tensorboard().EventAccumulator(
            str(self.directory), size_guidance=_SIZE_GUIDANCE
        )
        accumulator.Reload()
        tags = accumulator.Tags()
        config, status, started = _hparams(accumulator)
        series: list[Series] = []
        # TF1 summaries' simple_value: plain scalar events.
        for tag in tags.get("scalars", []):
            events = accumulator.Scalars(tag)
            series.append(
                Series(
                    key=tag,
                    steps=[event.step for event in events],
                    values=[event.value for event in events],
                    times=[event.wall_time for event in events],
                )
            )
        # TF2 and tensorboard.summary writers: tensors, scalars when the scalars plugin says so.
        skipped = sum(len(tags.get(kind, [])) for kind in ("images", "audio", "histograms"))
        for tag in tags.get("tensors", []):
            plugin = accumulator.SummaryMetadata(tag).plugin_data.plugin_name
            if plugin != "scalars":
                skipped += plugin != "hparams"  # the hparams are the config
                continue
            events = accumulator.Tensors(tag)
            series.append(
                Series(
                    key=tag,
                    steps=[event.step for event in events],
                    values=[_scalar(event.tensor_proto) for event in events],
                    times=[event.wall_time for event in events],
                )
            )
        metadata: dict[str, Any] = {"tensorboard": {"directory": self.label}}
        if started is not None:
            metadata["tensorboard"]["start_time"] = started
        return SourceRun(
            source_id=self.source_id,
            name=self.label,
            config=config,
            series=series,
            status=status,
            metadata=metadata,
            skipped={_NOT_SCALARS: skipped},
        )


def _scalar(proto: Any) -> Any:
    """The number a scalar TensorProto holds (None, counted as not a number, if it holds more)."""
    # The repeated fields first: make_ndarray costs ~15 microseconds a call.
    for values in (proto.float_val, proto.double_val, proto.int64_val, proto.int_val):
        if len(values) == 1 and not proto.tensor_content:
            return values[0]
    from tensorboard.util import tensor_util

    array = tensor_util.make_ndarray(proto)
    return array.item() if array.size == 1 else None


# The hparams plugin's SessionEndInfo statuses (api.proto): 1 success, 2 failure, 3 running,
# 4 unknown; an end without a status, or no end at all, reads as finished.
_STATUSES = {1: "finished", 2: "failed", 3: "running"}


def _hparams(accumulator: Any) -> tuple[dict[str, Any], str, float | None]:
    """The run's hyperparameters, status and start time from the hparams plugin's summaries."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    config: dict[str, Any] = {}
    status, started = "finished", None
    for content in accumulator.PluginTagToContent("hparams").values():
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
        if data.HasField("session_start_info"):
            info = data.session_start_info
            for name, value in info.hparams.items():
                config[name] = _hparam_value(value)
            started = info.start_time_secs or None
        elif data.HasField("session_end_info"):
            status = _STATUSES.get(data.session_end_info.status, "finished")
    return config_nest(config), status, started


def _hparam_value(value: Any) -> Any:
    """A google.protobuf.Value as the number, text or bool it holds."""
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    return None


def _run_directories(logdir: Path) -> Iterator[Path]:
    for directory, _, files in os.walk(logdir):
        if any(_EVENT_FILE_MARK in name for name in files):
            yield Path(directory)


def tensorboard_runs(logdir: str | os.PathLike[str]) -> list[RunReader]:
    """The runs of a TensorBoard log directory, in path order (read one by one on import)."""
    root = Path(logdir).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"{logdir}: not a directory")
    _tensorboard()  # fail early, before any run is created, when the package is missing
    return [_TensorBoardRun(root, directory) for directory in sorted(_run_directories(root))]
