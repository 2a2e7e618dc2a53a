"""``pair_pipeline``: (RGB, optical flow) clips with the same frames, crop and flip in both streams."""

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
from hybridvid_lib.data.pipeline.decoding import DECODE_ERRORS, decode_square_frames, load_flow_square
from hybridvid_lib.data.records import DatasetSplit
from hybridvid_lib.tf_setup import import_tensorflow

tf = import_tensorflow()


def pair_pipeline(
    ds: DatasetSplit,
    subset: str,
    settings: Settings,
    flow_cache,
    *,
    training: bool,
    seed: int = 0,
    strict: bool = False,
    cache: str | Path | None = None,
    batch_size: int | None = None,
    sampling: str | None = None,
    drop_remainder: bool = False,
) -> Pipeline:
    """Two-stream clips: RGB frames and the optical flow at the same moments.

    Arguments are those of :func:`clip_pipeline`, plus ``flow_cache``
    (:class:`~hybridvid_lib.data.flow.FlowCache`): flow missing from it is computed and
    stored while the first epoch fills the pipeline cache.

    Alignment. A video of ``T`` frames has ``T - 1`` flow fields (field ``i`` is the motion
    from frame ``i`` to ``i + 1``). Frame index ``i`` of a clip takes field
    ``min(i, T - 2)``: the last frame reuses the last field. Both streams get the same
    sampled indices, the same crop and the same flip; a flip also negates dx (channel 0).
    Flow fields are centre-cropped and resized to the RGB cache size like the frames;
    resizing moves vectors but does not rescale them, so magnitudes stay in the units of
    the flow resolution (``flow_cache.size``).

    Returns:
        A :class:`Pipeline` whose dataset yields ``({"rgb": rgb, "flow": flow}, labels)``:
        rgb ``(B, T, S, S, 3)`` float32 in [-1, 1], flow ``(B, T, S, S, 2)`` float32 in [-1, 1]
        (dx, dy as :func:`~hybridvid_lib.data.flow.dequantize_flow` returns them),
        ``S = settings.frame_size``, labels ``(B,)`` int32.
    """
    from hybridvid_lib.data.flow import QUANT_SCALE, QUANT_ZERO, quantize_flow

    strategy = sampling or settings.sampling
    check_sampling(strategy, training=training)
    records, skipped = select_records(ds, subset, strict=strict)
    failures = FailureLog(skipped)
    size = settings.cache_short_side
    zero_field = np.asarray(quantize_flow(np.zeros((1, size, size, 2), np.float32)), np.uint8)

    def decode(i: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        record = records[int(i)]
        try:
            frames = decode_square_frames(str(record.path), size)
            flow = load_flow_square(flow_cache, record, size, zero_field)
        except DECODE_ERRORS as err:
            failures.record(record.relpath, str(err))
            return np.zeros((0, size, size, 3), np.uint8), np.zeros((0, size, size, 2), np.uint8)
        return frames, flow

    def load(i, label):
        frames, flow = tf.numpy_function(decode, [i], [tf.uint8, tf.uint8], stateful=False,
                                         name="decode_video_and_flow")
        frames.set_shape([None, size, size, 3])
        flow.set_shape([None, size, size, 2])
        return frames, flow, label

    labels = np.array([r.label for r in records], np.int32)
    dataset = tf.data.Dataset.from_tensor_slices((np.arange(len(records), dtype=np.int32), labels))
    dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    dataset = dataset.filter(lambda frames, flow, label: tf.shape(frames)[0] > 0)
    flow_key = {"size": size, "flow": [getattr(flow_cache, name, None) for name in ("cache_dir", "method", "size")]}
    dataset = cache_dataset(dataset, cache, f"pairs-{subset}-{fingerprint('pairs', records, flow_key)}")
    mirror_map = ds.mirror_label_map()
    t = settings.num_frames

    def per_epoch(frames, flow, label, element_seed):
        indices = sample_in_graph(tf.shape(frames)[0], element_seed, num_frames=t, strategy=strategy,
                                  stride=settings.frame_stride, training=training)
        last_field = tf.cast(tf.shape(flow)[0] - 1, tf.int64)
        rgb = tf.gather(frames, indices)
        # The same decoding as flow.dequantize_flow, in TF ops: no Python (GIL) per clip.
        codes = tf.cast(tf.gather(flow, tf.minimum(indices, last_field)), tf.float32)
        motion = tf.maximum((codes - QUANT_ZERO) / QUANT_SCALE, -1.0)
        y, x = augment.crop_offsets(settings.short_side, settings.frame_size, training=training,
                                    element_seed=element_seed)
        spatial = dict(short_side=settings.short_side, frame_size=settings.frame_size)
        rgb = augment.resize_and_crop(rgb, y, x, **spatial)
        motion = augment.resize_and_crop(motion, y, x, **spatial)
        flip, label = augment.flip_decision(label, element_seed, training=training,
                                            policy=settings.flip_policy, mirror_map=mirror_map)
        rgb = augment.to_unit_range(augment.flip_frames(rgb, flip))
        return {"rgb": rgb, "flow": augment.flip_flow(motion, flip)}, label

    dataset = finish(dataset, per_epoch, training=training, seed=seed, num_videos=len(records),
                     batch_size=batch_size or settings.batch_size, drop_remainder=drop_remainder)
    s = settings.frame_size
    doc = (f'{{"rgb": (B, {t}, {s}, {s}, 3) float32 in [-1, 1], '
           f'"flow": (B, {t}, {s}, {s}, 2) float32 in [-1, 1]}}; labels (B,) int32')
    return Pipeline(dataset, len(records), skipped, list(ds.classes), doc)
