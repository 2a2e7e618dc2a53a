"""``tf.data`` pipelines for every input of the course, from one builder (:func:`build_pipeline`).

Elements are ``(features, label)`` with ``features`` a dict keyed by modality (``rgb``,
``flow``, ``joints``, ``features``) plus ``index``; :mod:`.builder` lists the shapes and
options, :mod:`.sources` where each modality comes from, :mod:`.augment` and :mod:`.joints`
what happens to it after the cache.

Design: decode once, augment every epoch
----------------------------------------
::

    records --map(load every input, parallel)--> filter(failed) --> cache --> shuffle (training, by epoch)
            --> (repeat K clips, evaluation) --> per-element seed (seed, epoch, position)
            --map(sample, crop, flip, to float, parallel)--> batch --> prefetch

1. **Decode once.** Each video is decoded by :func:`hybridvid_lib.data.video.read_video`
   inside ``tf.numpy_function`` in a ``map(..., num_parallel_calls=AUTOTUNE)``: OpenCV
   releases the GIL, so this is about twice as fast as ``Dataset.from_generator``. Frames
   are resized to a short side of ``settings.cache_short_side`` and centre-cropped to a
   square of that size, so every cached video has the same ``H = W``; all ``T`` frames are
   kept (``T`` varies per video). The cache holds uint8.
2. **Cache.** ``.cache()`` in memory by default, or in files in a folder (``cache=``),
   named by a fingerprint of the files (size, mtime) and sizes so a rebuilt dataset is
   never served from a stale cache. The first epoch fills it; later epochs read it.
3. **Per epoch, after the cache**: the frame indices are drawn by
   :func:`hybridvid_lib.data.sampling.sample_indices` (the one source of truth for every
   input), then a random crop (training) or centre crop (evaluation) after a
   resize to ``settings.short_side``, a label-aware horizontal flip (training; policy
   ``swap`` / ``skip`` / ``off``, see :func:`.augment.flip_decision`), and the conversion to
   float32 in [-1, 1]. Because all of this happens after the cache, later epochs see new
   clips. Sampling *before* the cache would freeze the first epoch's clips for every
   later epoch (the TensorFlow video tutorial does that).

Randomness. Every random choice of an element (sampling through a numpy generator, crop and
flip through stateless TensorFlow ops) derives from one int64 seed per element, drawn
statelessly from ``(seed, epoch, position)``; the training shuffle is seeded by
``(seed, epoch)``. The epoch comes from the pipeline's :class:`~.base.EpochClock`, read when an
iteration starts and counted on: same seed, same batches; a new epoch, new clips; and a run
resumed at epoch ``k`` (the clock set to ``k``) draws the very batches of an uninterrupted
run's epoch ``k``. Evaluation (``training=False``) keeps list order and draws nothing, so
every pass is identical.

Bad videos. Missing or unreadable videos (known from the reader) are left out, listed in
``Pipeline.skipped`` and summarised in one :class:`SkippedVideosWarning`; ``strict=True``
raises :class:`~hybridvid_lib.errors.DatasetError` instead. A video that passed the probe
but fails at decode time (rare) is found while the first epoch fills the cache: it is
appended to ``Pipeline.skipped`` with reason ``decode failed``, warned about, and filtered
out, so the epoch goes on with the others. (A file cache filled by an earlier run holds
only the videos that decoded; that run's warning is the record of the failure.)
"""

from hybridvid_lib.data.pipeline.base import EpochClock, Pipeline, SkippedVideosWarning, skipped_videos
from hybridvid_lib.data.pipeline.builder import build_pipeline, check_inputs, time_reversed
from hybridvid_lib.data.pipeline.sources import MODALITIES

__all__ = [
    "EpochClock",
    "MODALITIES",
    "Pipeline",
    "SkippedVideosWarning",
    "build_pipeline",
    "check_inputs",
    "skipped_videos",
    "time_reversed",
]
