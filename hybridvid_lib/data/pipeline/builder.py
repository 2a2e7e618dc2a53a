"""``build_pipeline``: the one ``tf.data`` builder for every input of the course.

::

    from hybridvid_lib.data.pipeline import build_pipeline
    train = build_pipeline(ds, "train", settings, inputs=("rgb", "flow"), flow_cache=cache, training=True)
    for features, labels in train.dataset.take(1):
        features["rgb"]     # (B, T, S, S, 3) float32 in [-1, 1]
        features["flow"]    # (B, T, S, S, 2) float32 in [-1, 1]
        features["index"]   # (B,) int32: which record of train.records each element comes from

Every element is ``(features, label)``: ``features`` a dict keyed by modality (``rgb``,
``flow``, ``joints``, ``features``) plus ``index``; models name their inputs the same way.
What each modality holds, and the options that shape it:

==============  ==================================================================================
``rgb``         ``(T, S, S, 3)`` float32 in [-1, 1]: ``T = settings.num_frames``, ``S = frame_size``
``flow``        ``(T, S, S, 2)`` float32 in [-1, 1], the field at each sampled frame (dx, dy); or,
                with ``flow_stack=L``, ``(S, S, 2L)``: L consecutive fields stacked as channels
                ``dx_1, dy_1, ..., dx_L, dy_L`` (Simonyan & Zisserman's temporal stream input)
``joints``      ``(T, J, C[, M])`` float32, centred and scaled (see :mod:`.joints`)
``features``    ``(T', D)`` float32 from a feature cache; ``T' = feature_steps`` sampled by the
                same rules (default: all steps of the first sample, which must then all agree)
==============  ==================================================================================

After the cache, per element and seeded by the element's seed (see :mod:`hybridvid_lib.data.pipeline`):
one set of frame indices for every time-aligned modality (``rgb``, ``flow``, ``joints``), one
crop for ``rgb`` and ``flow``, one label-aware flip decision for all of them: a flip mirrors
frames, mirrors flow *and negates its x component* (a flipped field with its x sign kept
describes the wrong motion), and mirrors skeletons (x negated, left/right joints swapped). A pipeline
with ``features`` never flips: a cached sequence cannot be mirrored, and its label must stay its own.
``joint_noise`` and ``joint_dropout`` perturb skeletons in training, as a pose estimator would.

Test-time scoring over several clips: ``clips_per_video=K`` (evaluation only) yields ``K``
elements per video, clip ``k`` spread over the video by the sampling rules; they share
``index``, and :func:`~hybridvid_lib.evaluation.collect_predictions` averages their scores per
video, as I3D and TSN report.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence

import numpy as np

from hybridvid_lib.config import Settings
from hybridvid_lib.data.flow import QUANT_SCALE, QUANT_ZERO
from hybridvid_lib.data.pipeline import augment
from hybridvid_lib.data.pipeline.base import (
    EpochClock,
    FailureLog,
    Pipeline,
    cache_dataset,
    check_sampling,
    sample_in_graph,
    select_records,
)
from hybridvid_lib.data.pipeline.decoding import DECODE_ERRORS
from hybridvid_lib.data.pipeline.joints import joints_for_epoch
from hybridvid_lib.data.pipeline.sources import (
    MODALITIES,
    FeatureSource,
    FlowSource,
    JointsSource,
    RgbSource,
    Source,
    joint_layout,
)
from hybridvid_lib.data.records import DatasetSplit
from hybridvid_lib.tf_setup import import_tensorflow

tf = import_tensorflow()

TIME_ALIGNED = ("rgb", "flow", "joints")


def check_inputs(inputs: Sequence[str]) -> tuple[str, ...]:
    """``inputs`` as a tuple in :data:`MODALITIES` order; unknown or repeated names are refused."""
    if isinstance(inputs, str):
        inputs = (inputs,)
    names = list(inputs)
    unknown = [n for n in names if n not in MODALITIES]
    if unknown or not names or len(set(names)) != len(names):
        raise ValueError(f"inputs must be distinct names from {', '.join(MODALITIES)}; got {names!r}.")
    return tuple(m for m in MODALITIES if m in names)


def _sources(ds: DatasetSplit, inputs: tuple[str, ...], settings: Settings, flow_cache, feature_cache,
             ntu_cache) -> list[Source]:
    size = settings.cache_short_side
    make = {
        "rgb": lambda: RgbSource(size),
        "flow": lambda: FlowSource(flow_cache, size),
        "joints": lambda: JointsSource(joint_layout(ds), ntu_cache),
        "features": lambda: FeatureSource(feature_cache),
    }
    return [make[name]() for name in inputs]


def _fingerprint(subset: str, records, sources: list[Source]) -> str:
    """Short hash of what the pipeline cache holds: the records, their files' size and mtime, the sources."""
    entries = [[r.relpath, r.label, [s.stamp(r) for s in sources]] for r in records]
    blob = json.dumps({"subset": subset, "records": entries, "sources": [s.describe() for s in sources]},
                      sort_keys=True, default=str)
    return hashlib.sha1(blob.encode("utf-8")).hexdigest()[:16]


def _loaded_dataset(records, sources: list[Source], failures: FailureLog):
    """``(arrays..., label, index)`` per record, decoded in a parallel map; failed records filtered out."""

    def load(i: np.ndarray):
        record = records[int(i)]
        try:
            return tuple(source.load(record) for source in sources)
        except DECODE_ERRORS as err:
            failures.record(record.relpath, str(err))
            return tuple(source.empty() for source in sources)

    def read(i, label):
        arrays = tf.numpy_function(load, [i], [tf.as_dtype(s.dtype) for s in sources], stateful=False,
                                   name="load_sample")
        for array, source in zip(arrays, sources):
            array.set_shape([None, *source.tail])
        return (*arrays, label, i)

    labels = np.array([r.label for r in records], np.int32)
    dataset = tf.data.Dataset.from_tensor_slices((np.arange(len(records), dtype=np.int32), labels))
    dataset = dataset.map(read, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.filter(lambda *element: tf.shape(element[0])[0] > 0)


def _dequantize(codes):
    """uint8 flow codes -> float32 in [-1, 1], as :func:`~hybridvid_lib.data.flow.dequantize_flow`, in TF ops."""
    return tf.maximum((tf.cast(codes, tf.float32) - QUANT_ZERO) / QUANT_SCALE, -1.0)


def _stack_flow(fields, flip, length: int, size: int):
    """``(L, S, S, 2)`` fields -> ``(S, S, 2L)`` channels ``dx_1, dy_1, ..., dx_L, dy_L``; flipped if asked."""
    fields = augment.flip_flow(fields, flip)
    stacked = tf.transpose(fields, [1, 2, 0, 3])  # (S, S, L, 2)
    return tf.reshape(stacked, [size, size, 2 * length])


def build_pipeline(
    ds: DatasetSplit,
    subset: str,
    settings: Settings,
    *,
    inputs: Sequence[str] = ("rgb",),
    training: bool,
    seed: int = 0,
    strict: bool = False,
    cache: str | Path | None = None,
    batch_size: int | None = None,
    sampling: str | None = None,
    drop_remainder: bool = False,
    flow_cache=None,
    flow_stack: int | None = None,
    feature_cache=None,
    feature_steps: int | None = None,
    ntu_cache=None,
    clips_per_video: int = 1,
    joint_noise: float = 0.0,
    joint_dropout: float = 0.0,
    flow_mean_subtraction: bool = False,
    shard: tuple[int, int] | None = None,
) -> Pipeline:
    """A pipeline of ``(features, label)`` batches for the chosen inputs of one subset.

    Args:
        ds: the dataset split (any reader's ``DatasetSplit``).
        subset: ``train``, ``val`` (after ``ds.with_validation()``), ``test`` or ``unused``.
        settings: sizes, ``num_frames``, ``frame_stride``, ``flip_policy`` and ``batch_size`` come from here.
        inputs: modalities of :data:`~.sources.MODALITIES` to yield (``("flow",)`` decodes no RGB).
        training: random sampling, crop, flip, joint noise / drop-out and shuffle; otherwise
            deterministic sampling and a centre crop, in list order.
        seed: makes every random choice repeatable (and still different per epoch).
        strict: raise :class:`~hybridvid_lib.errors.DatasetError` instead of skipping bad samples.
        cache: ``None`` caches decoded arrays in memory; a folder keeps them in files there,
            named by subset and a fingerprint of the files, sizes and sources.
        batch_size: ``None`` means ``settings.batch_size``.
        sampling: a strategy of :mod:`~hybridvid_lib.data.sampling`; ``None`` means ``settings.sampling``.
        drop_remainder: drop the last, smaller batch.
        flow_cache: a :class:`~hybridvid_lib.data.flow_cache.FlowCache`, needed for ``flow``;
            flow missing from it is computed while the first epoch fills the pipeline cache.
        flow_stack: ``L`` for stacked flow ``(S, S, 2L)``: L consecutive fields, the window drawn
            by the ``stride`` rule with stride 1 (random start in training, centred at test time).
        feature_cache: a :class:`~hybridvid_lib.data.feature_cache.FeatureCache`, needed for ``features``.
        feature_steps: steps of a ``features`` sequence; ``None`` keeps the cached length.
        ntu_cache: where NTU ``.skeleton`` text files are converted to arrays (``None``: beside them).
        clips_per_video: evaluation only: ``K`` clips per video sharing one ``index``.
        joint_noise, joint_dropout: skeleton perturbations in training (see :mod:`.joints`).
        flow_mean_subtraction: subtract from every flow field its mean vector (Simonyan & Zisserman 2014,
            section 3.1, "mean flow subtraction": a cheap camera-motion compensation, since a pan or shake
            moves every pixel alike); off by default, as the released I3D feeds flow as it is.
        shard: ``(num_workers, index)`` in a multi-worker run: this worker reads only its share of the
            records (:func:`~hybridvid_lib.scale.distribution.shard_of`; padded to equal length in
            training, each record once at evaluation), chosen before anything is decoded, and
            ``tf.data``'s own auto-sharding is turned off.

    Returns:
        A :class:`Pipeline`; ``element_spec_doc`` gives the shapes, ``records[index]`` the sample.

    Raises:
        ValueError: unknown inputs or options that do not fit (``clips_per_video`` in training ...).
        DatasetError: a missing cache or skeleton description, no usable sample, or ``strict``
            and some samples are skipped.
    """
    inputs = check_inputs(inputs)
    strategy = sampling or settings.sampling
    check_sampling(strategy, training=training)
    clips_per_video = int(clips_per_video)
    if clips_per_video < 1 or (training and clips_per_video > 1):
        raise ValueError(f"clips_per_video must be 1 in training and >= 1 at evaluation; got {clips_per_video}.")
    if flow_stack is not None and (int(flow_stack) < 1 or "flow" not in inputs):
        raise ValueError(f"flow_stack needs the 'flow' input and a length >= 1; got {flow_stack!r} "
                         f"with inputs {inputs}.")
    if not (0.0 <= joint_noise and 0.0 <= joint_dropout < 1.0):
        raise ValueError(f"joint_noise must be >= 0 and joint_dropout in [0, 1); got {joint_noise}, {joint_dropout}.")

    sources = _sources(ds, inputs, settings, flow_cache, feature_cache, ntu_cache)

    def why_not(record):
        reasons = [reason for reason in (s.missing(record) for s in sources) if reason]
        return "; ".join(reasons) or None

    records, skipped = select_records(ds, subset, strict=strict, extra_check=why_not)
    if shard is not None:
        from hybridvid_lib.scale.distribution import WorkerRole, shard_of

        records = shard_of(records, WorkerRole(*shard), pad=training)
    dataset = _loaded_dataset(records, sources, FailureLog(skipped))
    dataset = cache_dataset(dataset, cache, f"{'-'.join(inputs)}-{subset}-{_fingerprint(subset, records, sources)}")

    by_name = {s.name: s for s in sources}
    if "features" in by_name and feature_steps is None:
        feature_steps = int(by_name["features"].feature_cache.load(records[0]).shape[0])
    mirror_map = ds.mirror_label_map()
    per_epoch = _per_epoch_fn(settings, by_name, strategy=strategy, training=training, mirror_map=mirror_map,
                              flow_stack=flow_stack, feature_steps=feature_steps, num_clips=clips_per_video,
                              joint_noise=joint_noise, joint_dropout=joint_dropout,
                              flow_mean_subtraction=bool(flow_mean_subtraction))

    autotune = tf.data.AUTOTUNE
    num_records = len(records)

    def epoch_elements(cached, epoch):
        """One epoch of ``((element, clip), element seed)`` drawn for ``(seed, epoch)``."""
        epoch_seed = _derived_seed(tf.constant(seed, tf.int64), epoch)
        if training:
            cached = _shuffled(cached, num_records, epoch_seed)
        if clips_per_video > 1:
            cached = cached.flat_map(lambda *element: tf.data.Dataset.zip(
                tf.data.Dataset.from_tensors(element).repeat(clips_per_video),
                tf.data.Dataset.range(clips_per_video)))
        else:
            cached = cached.map(lambda *element: (element, tf.constant(0, tf.int64)))
        # One int64 seed per element from (epoch seed, position); every random choice of the
        # element derives from it.
        return cached.enumerate().map(lambda position, pair: (pair, _derived_seed(epoch_seed, position)))

    clock = None
    if training:
        # The epoch is read when an iteration starts (see EpochClock): a resumed run draws what an
        # uninterrupted one draws in that epoch.
        clock = EpochClock()
        cached = dataset
        dataset = tf.data.Dataset.from_tensors(tf.constant(0, tf.int64)).flat_map(
            lambda _: epoch_elements(cached, clock.next_epoch()))
    else:  # list order and one fixed draw: every evaluation pass is the same
        dataset = epoch_elements(dataset, tf.constant(0, tf.int64))
    dataset = dataset.map(lambda pair, s: per_epoch(*pair[0], pair[1], s),
                          num_parallel_calls=autotune, deterministic=True)
    dataset = dataset.batch(batch_size or settings.batch_size, drop_remainder=drop_remainder,
                            num_parallel_calls=autotune, deterministic=True).prefetch(autotune)
    if shard is not None:  # already this worker's share: tf.distribute must not shard it again
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
        dataset = dataset.with_options(options)
    doc = _spec_doc(settings, by_name, flow_stack, feature_steps)
    return Pipeline(dataset, len(records), skipped, list(ds.classes), doc, records=records, inputs=inputs,
                    clips_per_video=clips_per_video, epoch_clock=clock)


def _shuffled(dataset, buffer_size: int, seed):
    """``dataset.shuffle(buffer_size, seed=seed, reshuffle_each_iteration=False)`` for an int64 *tensor* seed.

    ``Dataset.shuffle`` passes its seed through ``random_seed.get_seed``, which compares it with
    Python ``==`` and fails on a tensor seed when the global seed is 0 (``set_seed(0)``); the
    dataset op itself takes seeds as tensors, so it is called directly. ``seed2`` is 1, never
    the ``(0, 0)`` pair that the op reads as "nondeterministic".
    """
    flat = tf.nest.flatten(dataset.element_spec)
    variant = tf.raw_ops.ShuffleDataset(
        input_dataset=tf.data.experimental.to_variant(dataset), buffer_size=tf.constant(buffer_size, tf.int64),
        seed=seed, seed2=tf.constant(1, tf.int64), reshuffle_each_iteration=False,
        output_types=[spec.dtype for spec in flat], output_shapes=[spec.shape for spec in flat])
    return tf.data.experimental.from_variant(variant, dataset.element_spec)


def _derived_seed(seed, counter):
    """A full-range int64 seed drawn statelessly from ``(seed, counter)`` (int64 scalars)."""
    return tf.random.stateless_uniform([], seed=tf.stack([seed, tf.cast(counter, tf.int64)]), minval=None,
                                       maxval=None, dtype=tf.int64)


def _per_epoch_fn(settings: Settings, sources: dict[str, Source], *, strategy: str, training: bool, mirror_map,
                  flow_stack, feature_steps, num_clips: int, joint_noise: float, joint_dropout: float,
                  flow_mean_subtraction: bool = False):
    """The map run after the cache: ``(arrays..., label, index, clip, seed) -> (features, label)``."""
    names = list(sources)
    spatial = dict(short_side=settings.short_side, frame_size=settings.frame_size)
    # A cached feature sequence cannot be mirrored: "flipping" it would only swap a mirror-pair label (policy
    # "swap") and teach the head the wrong class for half of those clips. A pipeline that reads features never flips.
    can_flip = "features" not in names

    def draw(length, count, element_seed, clip, *, how=strategy, stride=settings.frame_stride):
        return sample_in_graph(length, element_seed, num_frames=count, strategy=how, stride=stride,
                               training=training, clip=clip, num_clips=num_clips)

    def per_epoch(*element):
        *arrays, label, index, clip, element_seed = element
        data = dict(zip(names, arrays))
        out = {}
        # Time-aligned inputs share frame indices: the frame count is the shortest of them
        # (a video of T frames has T - 1 flow fields; frame i uses field min(i, T - 2)).
        lengths = [tf.shape(data[n])[0] + (1 if n == "flow" else 0) for n in TIME_ALIGNED if n in data]
        indices = draw(tf.reduce_min(tf.stack(lengths)), settings.num_frames, element_seed, clip) if lengths else None
        flip, label = augment.flip_decision(label, element_seed, training=training and can_flip,
                                            policy=settings.flip_policy, mirror_map=mirror_map)
        y, x = augment.crop_offsets(settings.short_side, settings.frame_size, training=training,
                                    element_seed=element_seed)
        if "rgb" in data:
            rgb = augment.resize_and_crop(tf.gather(data["rgb"], indices), y, x, **spatial)
            out["rgb"] = augment.to_unit_range(augment.flip_frames(rgb, flip))
        if "flow" in data:
            fields = data["flow"]
            last_field = tf.cast(tf.shape(fields)[0] - 1, tf.int64)
            if flow_stack is None:
                at = tf.minimum(indices, last_field)
            else:
                at = draw(last_field + 1, int(flow_stack), element_seed, clip, how="stride", stride=1)
            motion = augment.resize_and_crop(_dequantize(tf.gather(fields, at)), y, x, **spatial)
            if flow_mean_subtraction:  # (L, S, S, 2) minus each field's mean vector: the camera's share
                motion = motion - tf.reduce_mean(motion, axis=[1, 2], keepdims=True)
            out["flow"] = (augment.flip_flow(motion, flip) if flow_stack is None
                           else _stack_flow(motion, flip, int(flow_stack), settings.frame_size))
        if "joints" in data:
            out["joints"] = _joints(data["joints"], indices, element_seed, flip, sources["joints"], training,
                                    joint_noise, joint_dropout)
        if "features" in data:
            steps = draw(tf.shape(data["features"])[0], int(feature_steps), element_seed, clip)
            out["features"] = tf.gather(data["features"], steps)
        out["index"] = index
        return out, label

    return per_epoch


def _joints(joints, indices, element_seed, flip, source: JointsSource, training, noise, dropout):
    def run(j, i, s, f):
        return joints_for_epoch(j, i, int(s), bool(f), layout=source.layout, training=training,
                                noise=noise, dropout=dropout)

    clip = tf.numpy_function(run, [joints, indices, element_seed, flip], tf.float32, stateful=False,
                             name="joints_for_epoch")
    clip.set_shape([indices.shape[0], *source.tail])
    return clip


def _spec_doc(settings: Settings, sources: dict[str, Source], flow_stack, feature_steps) -> str:
    t, s = settings.num_frames, settings.frame_size
    parts = []
    if "rgb" in sources:
        parts.append(f'"rgb": (B, {t}, {s}, {s}, 3) float32 in [-1, 1]')
    if "flow" in sources:
        shape = f"(B, {t}, {s}, {s}, 2)" if flow_stack is None else f"(B, {s}, {s}, {2 * int(flow_stack)})"
        parts.append(f'"flow": {shape} float32 in [-1, 1]')
    if "joints" in sources:
        parts.append(f'"joints": (B, {sources["joints"].layout.shape_doc(t)[1:]} float32')
    if "features" in sources:
        parts.append(f'"features": (B, {feature_steps}, {sources["features"].tail[0]}) float32')
    parts.append('"index": (B,) int32')
    return "{" + ", ".join(parts) + "}; labels (B,) int32"


def time_reversed(dataset, inputs: Sequence[str] = ("rgb",)):
    """The same batches with the time axis of ``inputs`` reversed: the clips played backwards.

    For the lesson of chapter 01: an order-blind model gives the same scores, a model of time
    turns SitDown into StandUp. ``inputs`` are time-aligned modalities with time on axis 1
    (``(B, T, ...)``: ``rgb``, per-frame ``flow``, ``joints``, ``features``); labels are unchanged.
    """
    names = check_inputs(inputs)

    def reverse(features, label):
        return {k: (tf.reverse(v, axis=[1]) if k in names else v) for k, v in features.items()}, label

    return dataset.map(reverse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
