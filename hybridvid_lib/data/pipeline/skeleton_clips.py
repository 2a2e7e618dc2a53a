"""``skeleton_pipeline``: joint sequences ``(B, T, J, 3)`` sampled by the same rules as the video clips."""

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
from hybridvid_lib.data.pipeline.decoding import DECODE_ERRORS, load_joints
from hybridvid_lib.data.records import DatasetSplit
from hybridvid_lib.data.video import probe_video
from hybridvid_lib.errors import DatasetError
from hybridvid_lib.tf_setup import import_tensorflow

tf = import_tensorflow()


def _frame_size(ds: DatasetSplit, records) -> tuple[int, int]:
    """``(H, W)`` of the videos: from the metadata, else from the first video."""
    if ds.metadata.get("frame_size"):
        h, w = ds.metadata["frame_size"]
        return int(h), int(w)
    info = probe_video(records[0].path)
    if not info.readable:
        raise DatasetError(
            f"Cannot tell the frame size of {ds.video_root}: its metadata has no 'frame_size' and "
            f"{records[0].relpath} does not open ({info.reason})."
        )
    return info.height, info.width


def _no_joints_file(record) -> str | None:
    if record.skeleton_path is None or not Path(record.skeleton_path).is_file():
        return "missing skeleton"
    return None


def normalise_joints(joints, *, center: int, height: int, width: int):
    """``(T, J, 3)`` pixel joints -> ``(T, J, 3)`` float32 with x, y centred and scaled.

    The centre joint of the first frame where it is seen (confidence > 0) becomes (0, 0)
    (the frame centre if it is never seen); x and y are divided by ``max(height, width)``,
    one scale for both so the skeleton keeps its proportions. Joints with confidence 0
    get x = y = 0; confidence is kept as it is.
    """
    xy, confidence = joints[..., :2], joints[..., 2:]
    seen = confidence[:, center, 0] > 0
    first = tf.argmax(tf.cast(seen, tf.int32), output_type=tf.int32)
    origin = tf.where(tf.reduce_any(seen), xy[first, center],
                      tf.constant([(width - 1) / 2, (height - 1) / 2], tf.float32))
    xy = (xy - origin) / float(max(height, width))
    xy = xy * tf.cast(confidence > 0, tf.float32)
    return tf.concat([xy, confidence], axis=-1)


def mirror_joints(joints, permutation):
    """Horizontal flip of normalised ``(T, J, 3)`` joints: x changes sign, left and right joints swap."""
    flipped = joints * tf.constant([-1.0, 1.0, 1.0])
    return tf.gather(flipped, permutation, axis=1)


def skeleton_pipeline(
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
    """Skeleton sequences of one subset (arguments as for :func:`clip_pipeline`).

    The joints files (``record.skeleton_path``, float32 ``(T, J, 3)``: x pixel, y pixel,
    confidence) are read once and cached. Each epoch samples ``num_frames`` indices with
    the same rules as the video clips, normalises (:func:`normalise_joints`, relative to
    the clip's first frame) and, in training, flips like the video pipeline: x mirrored,
    left/right joints swapped by the skeleton graph's mirror permutation, label per
    ``settings.flip_policy``. It reads the same videos as the RGB pipelines
    (``ds.usable(subset)``) so that models are compared on the same set; a usable video
    without a joints file is skipped with reason ``missing skeleton``.

    Returns:
        A :class:`Pipeline` whose dataset yields ``(joints, labels)``: joints ``(B, T, J, 3)``
        float32, labels ``(B,)`` int32.

    Raises:
        DatasetError: the dataset has no skeleton graph (``ds.metadata["skeleton"]``), or
            the reasons of :func:`clip_pipeline`.
    """
    from hybridvid_lib.data.skeletons import SkeletonGraph

    if not ds.metadata.get("skeleton"):
        raise DatasetError(
            f"The {ds.format} dataset in {ds.video_root} has no skeleton graph (metadata 'skeleton'); "
            "skeleton pipelines need a dataset with joints, such as StickActions."
        )
    graph = SkeletonGraph.from_dict(ds.metadata["skeleton"])
    permutation = np.asarray(graph.mirror_permutation(), np.int32)
    num_joints = len(permutation)
    center = int(ds.metadata["skeleton"]["center"])
    strategy = sampling or settings.sampling
    check_sampling(strategy, training=training)
    records, skipped = select_records(ds, subset, strict=strict, extra_check=_no_joints_file)
    height, width = _frame_size(ds, records)
    failures = FailureLog(skipped)

    def load(i: np.ndarray) -> np.ndarray:
        record = records[int(i)]
        try:
            return load_joints(str(record.skeleton_path), num_joints)
        except DECODE_ERRORS as err:
            failures.record(record.relpath, str(err))
            return np.zeros((0, num_joints, 3), np.float32)

    def read(i, label):
        joints = tf.numpy_function(load, [i], tf.float32, stateful=False, name="load_joints")
        joints.set_shape([None, num_joints, 3])
        return joints, label

    labels = np.array([r.label for r in records], np.int32)
    dataset = tf.data.Dataset.from_tensor_slices((np.arange(len(records), dtype=np.int32), labels))
    dataset = dataset.map(read, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    dataset = dataset.filter(lambda joints, label: tf.shape(joints)[0] > 0)
    name = f"skeleton-{subset}-{fingerprint('skeleton', records, {'joints': num_joints})}"
    dataset = cache_dataset(dataset, cache, name)
    mirror_map = ds.mirror_label_map()

    def per_epoch(joints, label, element_seed):
        indices = sample_in_graph(tf.shape(joints)[0], element_seed, num_frames=settings.num_frames,
                                  strategy=strategy, stride=settings.frame_stride, training=training)
        clip = normalise_joints(tf.gather(joints, indices), center=center, height=height, width=width)
        flip, label = augment.flip_decision(label, element_seed, training=training,
                                            policy=settings.flip_policy, mirror_map=mirror_map)
        clip = tf.cond(flip, lambda: mirror_joints(clip, permutation), lambda: clip)
        return clip, label

    dataset = finish(dataset, per_epoch, training=training, seed=seed, num_videos=len(records),
                     batch_size=batch_size or settings.batch_size, drop_remainder=drop_remainder)
    doc = (f"(B, {settings.num_frames}, {num_joints}, 3) float32: x, y relative to joint {center} of the "
           f"first frame divided by {max(height, width)} px, confidence in [0, 1]; labels (B,) int32")
    return Pipeline(dataset, len(records), skipped, list(ds.classes), doc)
