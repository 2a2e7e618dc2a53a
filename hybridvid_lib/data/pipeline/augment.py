"""Per-epoch TensorFlow ops, after the cache: resize, crop, label-aware flip, conversion to [-1, 1].

Every random choice uses stateless ops seeded by the element's seed, so it repeats for
the same pipeline seed and changes between epochs. ``seed_for(s, k)`` makes the seed of
the ``k``-th independent choice of one element.

The conventions are those of the numpy versions in :mod:`hybridvid_lib.data.transforms`:
centre crop at ``(side - crop) // 2``, random crop corners drawn from ``0 .. side - crop``
(both ends included, one crop for all frames of a clip), ``x / 127.5 - 1``, and a flip
that reverses the width axis, negates flow dx and follows the ``swap`` / ``skip`` / ``off`` policies.
"""

from __future__ import annotations

from hybridvid_lib.tf_setup import import_tensorflow

tf = import_tensorflow()

from hybridvid_lib.data.flip_policies import FLIP_POLICIES  # noqa: E402

# Independent random choices of one element (the sampling uses the element seed itself).
CROP, FLIP = 1, 2


def seed_for(element_seed, k: int):
    """``(2,)`` int64 seed of choice ``k`` for stateless random ops."""
    return tf.stack([tf.cast(element_seed, tf.int64), tf.constant(k, tf.int64)])


def resize_frames(frames, size: int):
    """``(T, H, W, C)`` float32 -> ``(T, size, size, C)``; area averaging when shrinking, bilinear otherwise."""
    if frames.shape[1] == size and frames.shape[2] == size:
        return frames
    method = "area" if frames.shape[1] > size else "bilinear"
    return tf.image.resize(frames, [size, size], method=method)


def crop_offsets(side: int, crop: int, *, training: bool, element_seed):
    """Top-left corner ``(y, x)`` (int32 scalars) of a ``crop`` square in a ``side`` square.

    Random (uniform over all positions) in training, the centre otherwise.
    """
    room = side - crop
    if not training or room == 0:
        return tf.constant(room // 2), tf.constant(room // 2)
    yx = tf.random.stateless_uniform([2], seed_for(element_seed, CROP), minval=0, maxval=room + 1,
                                     dtype=tf.int32)
    return yx[0], yx[1]


def crop_frames(frames, y, x, crop: int):
    """``(T, H, W, C)`` -> ``(T, crop, crop, C)`` from corner ``(y, x)``."""
    return frames[:, y:y + crop, x:x + crop, :]


def flip_decision(label, element_seed, *, training: bool, policy: str, mirror_map):
    """Whether to flip this clip horizontally, and its label afterwards.

    A fair coin in training; never at evaluation or with ``policy="off"``. ``swap`` flips
    any clip and turns a mirror-pair label into its partner (``mirror_map[label]``);
    ``skip`` never flips a clip of a mirror-pair class (its label would lie) and flips the others.

    Returns:
        ``(flip, label)``: a bool scalar and the int32 label to use.
    """
    if policy not in FLIP_POLICIES:
        raise ValueError(f"Unknown flip policy {policy!r}; expected one of: {', '.join(FLIP_POLICIES)}.")
    if not training or policy == "off":
        return tf.constant(False), label
    coin = tf.random.stateless_uniform([], seed_for(element_seed, FLIP)) < 0.5
    partner = tf.gather(tf.constant(mirror_map, tf.int32), label)
    if policy == "skip":
        return tf.logical_and(coin, tf.equal(partner, label)), label
    return coin, tf.where(coin, partner, label)


def flip_frames(frames, flip):
    """Mirror ``(T, H, W, C)`` frames left-right when ``flip`` is True."""
    return tf.cond(flip, lambda: tf.reverse(frames, axis=[2]), lambda: frames)


def flip_flow(flow, flip):
    """Mirror ``(T, H, W, 2)`` flow left-right when ``flip`` is True; dx (channel 0) changes sign."""
    return tf.cond(flip, lambda: tf.reverse(flow, axis=[2]) * tf.constant([-1.0, 1.0]), lambda: flow)


def to_unit_range(frames_uint8_values):
    """Pixel values 0..255 (any float dtype) -> float32 in [-1, 1]."""
    return tf.cast(frames_uint8_values, tf.float32) / 127.5 - 1.0


def resize_and_crop(frames, y, x, *, short_side: int, frame_size: int):
    """``(T, S, S, C)`` cached frames -> ``(T, frame_size, frame_size, C)``.

    Resized to ``short_side`` first (skipped when the cache already has that size), then
    cropped at ``(y, x)``. The result is float32 when a resize happened, else the input dtype.
    """
    return crop_frames(resize_frames(frames, short_side), y, x, frame_size)
