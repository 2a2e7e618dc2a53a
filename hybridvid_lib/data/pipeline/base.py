"""What the pipeline builder relies on: the ``Pipeline`` result, record selection, skip reporting, caching.

Nothing here decodes or augments; see :mod:`.decoding` (numpy, before the cache) and
:mod:`.augment` (TensorFlow ops, after the cache).
"""

from __future__ import annotations

import os
import socket
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from hybridvid_lib.data.records import DatasetSplit, Record
from hybridvid_lib.data.sampling import sample_indices, window_length
from hybridvid_lib.errors import DatasetError
from hybridvid_lib.io_utils import atomic_write_text
from hybridvid_lib.tf_setup import import_tensorflow

tf = import_tensorflow()

# How many names a warning or an error message shows before "... and N more".
_NAMES_SHOWN = 5


class SkippedVideosWarning(UserWarning):
    """Some listed videos are left out of a pipeline (missing, unreadable, or failed to decode)."""


@dataclass
class Pipeline:
    """A ready ``tf.data`` pipeline and what went into it.

    Attributes:
        dataset: yields ``(inputs, labels)``; ``labels`` is ``(B,)`` int32, ``inputs`` is
            described by ``element_spec_doc``.
        num_videos: videos the pipeline reads (usable records; a video that fails at decode
            time is still counted here and listed in ``skipped``).
        skipped: ``{"video": relpath, "reason": ...}`` for every listed video left out;
            reasons ``missing`` / ``unreadable`` (known when the pipeline is built) and
            ``decode failed`` (found while the first epoch fills the cache, appended then).
        class_names: class names, index = label.
        element_spec_doc: shapes and value ranges of ``inputs``, e.g. ``{"rgb": (B, T, H, W, 3) float32 in [-1, 1], ...}``.
        records: the records read, in order; an element's ``index`` is its position here.
        inputs: the modalities each element's features dict holds (besides ``index``).
        clips_per_video: elements per video at evaluation (test-time scoring over several clips).
    """

    dataset: Any
    num_videos: int
    skipped: list[dict]
    class_names: list[str]
    element_spec_doc: str
    records: list = field(default_factory=list)
    inputs: tuple[str, ...] = ()
    clips_per_video: int = 1
    epoch_clock: "EpochClock | None" = None


class EpochClock:
    """The epoch a training pipeline draws its randomness for: with the seed, all that its draws depend on.

    Every iteration over a training pipeline's dataset is one epoch. Its shuffle and its per-element
    seeds (clip sampling, crop, flip, joint noise) derive from ``(seed, epoch)`` with stateless ops,
    and the epoch is read from this clock when the iteration starts, then counted on. So a dataset
    iterated by hand still changes every epoch (0, 1, 2, ...), and a training run resumed at epoch
    ``k`` sets the clock to ``k`` (:meth:`start_at`) and draws exactly the batches an uninterrupted
    run draws in epoch ``k``, where ``tf.data``'s own ``reshuffle_each_iteration`` would start again
    from the first epoch's order.

    The clock is a ``tf.Variable`` (int64 scalar holding the last epoch started; -1 before the
    first) that the dataset's graph reads and increments; make pipelines outside a
    ``tf.distribute`` strategy's scope, so that it stays one plain variable.
    """

    def __init__(self) -> None:
        with tf.init_scope():
            self.variable = tf.Variable(-1, dtype=tf.int64, trainable=False, name="pipeline_epoch")

    def start_at(self, epoch: int) -> None:
        """Make the next iteration over the dataset draw epoch ``epoch`` (0-based)."""
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"epoch must be a whole number >= 0; got {epoch!r}.")
        self.variable.assign(epoch - 1)

    @property
    def last_started(self) -> int:
        """The epoch the latest iteration drew (-1 before the first)."""
        return int(self.variable.numpy())

    def next_epoch(self):
        """In the dataset's graph: count one epoch on and return it (int64 scalar tensor)."""
        return self.variable.assign_add(1)


def skipped_videos(ds: DatasetSplit, subset: str) -> list[dict]:
    """Listed videos of ``subset`` that a pipeline leaves out, with the reason (``ds.skipped(subset)``)."""
    return ds.skipped(subset)


def _names(items: Sequence[dict]) -> str:
    shown = ", ".join(item["video"] for item in items[:_NAMES_SHOWN])
    more = len(items) - _NAMES_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def select_records(
    ds: DatasetSplit,
    subset: str,
    *,
    strict: bool,
    extra_check: Callable[[Record], str | None] | None = None,
) -> tuple[list[Record], list[dict]]:
    """Usable records of ``subset`` and the skipped ones; warn once (or raise with ``strict``).

    ``extra_check(record)`` may return a reason to skip a usable record too (the skeleton
    pipeline uses it for videos without a joints file).

    Raises:
        DatasetError: ``strict`` and some videos are skipped, or no video is usable.
    """
    skipped = skipped_videos(ds, subset)
    records = []
    for record in ds.usable(subset):
        reason = extra_check(record) if extra_check is not None else None
        if reason is None:
            records.append(record)
        else:
            skipped.append({"video": record.relpath, "reason": reason})
    listed = len(ds.subset(subset))
    reasons = ", ".join(sorted({s["reason"] for s in skipped}))
    if skipped and strict:
        raise DatasetError(
            f"{len(skipped)} of {listed} listed {subset} videos cannot be used ({reasons}: "
            f"{_names(skipped)}); fix them, or turn strict mode off (no --strict; strict=False) "
            "to skip them with a warning."
        )
    if not records:
        raise DatasetError(
            f"No usable {subset} video in {ds.video_root} ({listed} listed, {len(skipped)} skipped); "
            "check the dataset root and that the split lists this subset."
        )
    if skipped:
        warnings.warn(
            f"Skipping {len(skipped)} of {listed} listed {subset} videos ({reasons}): "
            f"{_names(skipped)}; Pipeline.skipped lists them all.",
            SkippedVideosWarning,
            stacklevel=3,
        )
    return records, skipped


class FailureLog:
    """Records videos that pass the probe but fail while the cache fills (decode worker threads)."""

    def __init__(self, skipped: list[dict]):
        self.skipped = skipped
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def record(self, relpath: str, detail: str) -> None:
        with self._lock:
            if relpath in self._seen:  # a re-read of a partly filled cache meets it again
                return
            self._seen.add(relpath)
            self.skipped.append({"video": relpath, "reason": "decode failed"})
        warnings.warn(
            f"Skipping {relpath}: it failed to decode while the pipeline cache was filled ({detail}).",
            SkippedVideosWarning,
            stacklevel=2,
        )


def check_sampling(strategy: str, *, training: bool) -> None:
    """Reject an unknown strategy, and ``random`` for evaluation (it never repeats)."""
    window_length(1, strategy)  # raises ValueError for an unknown name
    if strategy == "random" and not training:
        raise ValueError(
            "Sampling 'random' draws a new window every time; evaluation needs a deterministic "
            "strategy: uniform, stride or segments."
        )


def sample_in_graph(num_available, seed, *, num_frames: int, strategy: str, stride: int,
                    training: bool, clip=0, num_clips: int = 1):
    """``(num_frames,)`` int64 frame indices drawn by :func:`~hybridvid_lib.data.sampling.sample_indices`.

    ``seed`` (int64 scalar) seeds a numpy generator per element, so a draw is repeatable
    from the pipeline seed and still new each epoch (the seeds themselves change per epoch).
    ``clip`` (int64 scalar) of ``num_clips`` picks one of several test-time clips.
    """

    def draw(n: np.ndarray, s: np.ndarray, k: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(int(s) & 0xFFFFFFFFFFFFFFFF)
        return sample_indices(int(n), num_frames, strategy, stride=stride, training=training, rng=rng,
                              clip=int(k), num_clips=num_clips)

    indices = tf.numpy_function(draw, [num_available, seed, tf.cast(clip, tf.int64)], tf.int64, stateful=False,
                                name="sample_indices")
    indices.set_shape([num_frames])
    return indices


def cache_dataset(dataset, cache: str | Path | None, name: str):
    """``dataset.cache()`` in memory (``cache=None``) or in files ``<cache>/<name>.*``.

    TensorFlow writes a file cache under a temporary name (``*.tempstate*``) and renames it when
    an epoch completes, so an interrupted first epoch leaves no half cache that a later run reads.
    It also leaves its ``<name>_0.lockfile``, which makes every later run fail ("a concurrent
    caching iterator is running"); so the process that fills a cache records itself in
    ``<name>.owner`` (host and process id), and a lock whose owner is a process of this host that
    no longer runs is removed here, with its temporary files. A lock of a live process, or of
    another host, is left alone: that run may still be filling the cache.
    """
    if cache is None:
        return dataset.cache()
    folder = Path(cache)
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale_lock(folder, name)
    atomic_write_text(folder / f"{name}.owner", f"{socket.gethostname()} {os.getpid()}\n")
    return dataset.cache(str(folder / name))


def _remove_stale_lock(folder: Path, name: str) -> bool:
    """Remove the lock and temporary files a killed process left for cache ``name``; ``True`` if there were any."""
    locks = list(folder.glob(f"{name}_*.lockfile"))
    if not locks:
        return False
    try:
        host, pid = (folder / f"{name}.owner").read_text(encoding="utf-8").split()
        alive = host != socket.gethostname() or _process_alive(int(pid))
    except (OSError, ValueError):
        alive = False  # a lock without its owner record: left by a run that died before writing anything else
    if alive:
        return False
    for path in [*locks, *folder.glob(f"{name}_*.tempstate*"), *folder.glob(f"{name}.*.tempstate*")]:
        path.unlink(missing_ok=True)
    return True


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True
