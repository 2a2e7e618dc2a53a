"""``clip_pipeline``: RGB clips ``(B, T, frame_size, frame_size, 3)`` float32 in [-1, 1]."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hybridvid_lib.config import Settings
from hybridvid_lib.data.pipeline import augment
from hybridvid_lib.data.pipeline.base import (
    FailureLog,
    Pipeline,
    cache_dataset,
    check_sampling,
    finish,
    fingerprint,
    sample_in_graph,
    select_records,
)
from hybridvid_lib.data.pipeline.decoding import DECODE_ERRORS, decode_square_frames
from hybridvid_lib.data.records import DatasetSplit
from hybridvid_lib.tf_setup import import_tensorflow

tf = import_tensorflow()


def decoded_frames_dataset(records, size: int, failures: FailureLog):
    """``(frames, label)`` per record: frames ``(T, size, size, 3)`` uint8, label int32; failed videos left out.

    Decoding runs in a parallel ``map`` over ``tf.numpy_function`` (OpenCV releases the
    GIL). A video that fails is recorded in ``failures`` and filtered out, so an epoch
    never stops on one bad file.
    """
    paths = [str(r.path) for r in records]
    relpaths = [r.relpath for r in records]

    def decode(i: np.ndarray) -> np.ndarray:
        i = int(i)
        try:
            return decode_square_frames(paths[i], size)
        except DECODE_ERRORS as err:
            failures.record(relpaths[i], str(err))
            return np.zeros((0, size, size, 3), np.uint8)

    def load(i, label):
        frames = tf.numpy_function(decode, [i], tf.uint8, stateful=False, name="decode_video")
        frames.set_shape([None, size, size, 3])
        return frames, label

    index = np.arange(len(records), dtype=np.int32)
    labels = np.array([r.label for r in records], np.int32)
    dataset = tf.data.Dataset.from_tensor_slices((index, labels))
    dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.filter(lambda frames, label: tf.shape(frames)[0] > 0)


def clip_pipeline(
    ds: DatasetSplit,
    subset: str,
    settings: Settings,
    *,
    training: bool,
    seed: int = 0,
    strict: bool = False,
    cache: str | Path | None = None,
    batch_size: int | None = None,
    sampling: str | None = None,
    drop_remainder: bool = False,
) -> Pipeline:
    """RGB clips of one subset, decoded once and cached, sampled and augmented anew every epoch.

    Args:
        ds: the dataset split (any reader's ``DatasetSplit``).
        subset: ``train``, ``test`` or ``unused``.
        settings: sizes, ``num_frames``, ``frame_stride``, ``flip_policy`` and ``batch_size`` come from here.
        training: random sampling, random crop, flip and shuffle; otherwise deterministic
            sampling and a centre crop, in list order.
        seed: makes every random choice repeatable (and still different per epoch).
        strict: raise :class:`~hybridvid_lib.errors.DatasetError` instead of skipping bad videos.
        cache: ``None`` caches decoded frames in memory; a folder keeps them in files there,
            named by subset and a fingerprint of the videos and sizes.
        batch_size: ``None`` means ``settings.batch_size``.
        sampling: a strategy of :mod:`~hybridvid_lib.data.sampling`; ``None`` means ``settings.sampling``.
        drop_remainder: drop the last, smaller batch.

    Returns:
        A :class:`Pipeline` whose dataset yields ``(clips, labels)``: clips
        ``(B, num_frames, frame_size, frame_size, 3)`` float32 in [-1, 1], labels ``(B,)`` int32.
    """
    strategy = sampling or settings.sampling
    check_sampling(strategy, training=training)
    records, skipped = select_records(ds, subset, strict=strict)
    size = settings.cache_short_side
    dataset = decoded_frames_dataset(records, size, FailureLog(skipped))
    name = f"clips-{subset}-{fingerprint('clips', records, {'size': size})}"
    dataset = cache_dataset(dataset, cache, name)
    mirror_map = ds.mirror_label_map()

    def per_epoch(frames, label, element_seed):
        indices = sample_in_graph(tf.shape(frames)[0], element_seed, num_frames=settings.num_frames,
                                  strategy=strategy, stride=settings.frame_stride, training=training)
        clip = tf.gather(frames, indices)
        y, x = augment.crop_offsets(settings.short_side, settings.frame_size, training=training,
                                    element_seed=element_seed)
        clip = augment.resize_and_crop(clip, y, x, short_side=settings.short_side,
                                       frame_size=settings.frame_size)
        flip, label = augment.flip_decision(label, element_seed, training=training,
                                            policy=settings.flip_policy, mirror_map=mirror_map)
        return augment.to_unit_range(augment.flip_frames(clip, flip)), label

    dataset = finish(dataset, per_epoch, training=training, seed=seed, num_videos=len(records),
                     batch_size=batch_size or settings.batch_size, drop_remainder=drop_remainder)
    t, s = settings.num_frames, settings.frame_size
    return Pipeline(dataset, len(records), skipped, list(ds.classes),
                    f"(B, {t}, {s}, {s}, 3) float32 in [-1, 1]; labels (B,) int32")
