"""Frame transforms in numpy: resize, crop, value range and label-aware horizontal flips.

Notebooks, the naive benchmark baseline and the tests use these; the ``tf.data``
pipeline has TensorFlow-op versions that must agree with the conventions below.

Conventions (shared with the TensorFlow versions):

- Arrays are channels-last: a clip is ``(T, H, W, C)``, a frame ``(H, W, C)``.
- :func:`center_crop` starts at ``top = (H - size) // 2``, ``left = (W - size) // 2``
  (:func:`center_crop_offsets`): when the margin is odd the extra pixel is left at the
  bottom / right.
- :func:`random_crop` draws ``top`` uniformly from ``0 .. H - size`` and ``left`` from
  ``0 .. W - size`` (both ends included), one crop for every frame of the clip.
- :func:`to_unit_range` is ``x / 127.5 - 1`` (0 -> -1, 255 -> 1), the input range of I3D.
- A horizontal flip reverses the width axis. A point at column ``x`` moves to
  ``width - 1 - x`` (pixel centres, as the array index does), a flow vector's ``dx``
  changes sign, and left and right body joints swap names.
- Flip policies for classes that a mirror turns into each other (``PointLeft`` /
  ``PointRight``; ``DatasetSplit.mirror_label_map()`` gives ``mirror_map``):

  ``swap``  flip, and give a mirror class its partner's label;
  ``skip``  never flip a clip of a class that has a mirror partner (flip the others);
  ``off``   never flip.

Temporal sampling and jitter live in :mod:`~hybridvid_lib.data.sampling`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from hybridvid_lib.data import video
from hybridvid_lib.data.flip_policies import FLIP_POLICIES
from hybridvid_lib.data.flow import QUANT_ZERO


def _check_frames(frames: np.ndarray, name: str) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim not in (3, 4):
        raise ValueError(f"{name} expects a clip (T, H, W, C) or a frame (H, W, C); got shape {frames.shape}.")
    return frames


def _check_size(size: int, name: str) -> int:
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"{name} must be a positive number of pixels; got {size!r}.")
    return int(size)


def resize_short_side(frames: np.ndarray, short_side: int) -> np.ndarray:
    """Resize a clip ``(T, H, W, C)`` or a frame ``(H, W, C)`` so that ``min(H, W) == short_side``.

    Keeps the aspect ratio and the dtype; area interpolation when shrinking, linear when
    enlarging (:func:`hybridvid_lib.data.video.resize_short_side` on every frame). Values
    are only resampled: resizing a flow field does not rescale its vectors.
    """
    frames = _check_frames(frames, "resize_short_side")
    short_side = _check_size(short_side, "short_side")
    if frames.ndim == 3:
        return _resize_frame(frames, short_side)
    if len(frames) == 0:
        h, w = frames.shape[1:3]
        scale = short_side / min(h, w)
        return frames.reshape(0, max(1, round(h * scale)), max(1, round(w * scale)), frames.shape[-1])
    return np.stack([_resize_frame(f, short_side) for f in frames])


def _resize_frame(frame: np.ndarray, short_side: int) -> np.ndarray:
    out = video.resize_short_side(frame, short_side)
    return out[..., None] if out.ndim == 2 else out  # cv2.resize drops a single channel axis


def center_crop_offsets(height: int, width: int, size: int) -> tuple[int, int]:
    """``(top, left)`` of the centred ``size x size`` crop: ``((H - size) // 2, (W - size) // 2)``."""
    return (height - size) // 2, (width - size) // 2


def _crop(frames: np.ndarray, size: int, top: int, left: int) -> np.ndarray:
    return frames[..., top:top + size, left:left + size, :]


def _check_crop(frames: np.ndarray, size: int, name: str) -> tuple[int, int]:
    h, w = frames.shape[-3:-1]
    if h < size or w < size:
        raise ValueError(
            f"{name} needs frames of at least {size}x{size} pixels; got {h}x{w}. "
            f"Resize first, e.g. resize_short_side(frames, {size})."
        )
    return h, w


def center_crop(frames: np.ndarray, size: int) -> np.ndarray:
    """The centred ``size x size`` square of every frame: ``(T, size, size, C)`` (or ``(size, size, C)``)."""
    frames = _check_frames(frames, "center_crop")
    size = _check_size(size, "size")
    h, w = _check_crop(frames, size, "center_crop")
    return _crop(frames, size, *center_crop_offsets(h, w, size))


def random_crop(frames: np.ndarray, size: int, rng: np.random.Generator | int | None) -> np.ndarray:
    """A random ``size x size`` square, the same for every frame of the clip.

    Args:
        frames: ``(T, H, W, C)`` clip or ``(H, W, C)`` frame, any dtype.
        size: side of the square crop in pixels.
        rng: a ``numpy.random.Generator`` (or a seed for one).

    Returns:
        ``(T, size, size, C)`` (or ``(size, size, C)``), a view of ``frames``.
    """
    frames = _check_frames(frames, "random_crop")
    size = _check_size(size, "size")
    h, w = _check_crop(frames, size, "random_crop")
    rng = np.random.default_rng(rng)
    top = int(rng.integers(0, h - size + 1))
    left = int(rng.integers(0, w - size + 1))
    return _crop(frames, size, top, left)


def to_unit_range(frames: np.ndarray) -> np.ndarray:
    """uint8 pixels to float32 in ``[-1, 1]``: ``x / 127.5 - 1`` (0 -> -1, 255 -> 1). Any shape."""
    frames = np.asarray(frames)
    if frames.dtype != np.uint8:
        raise ValueError(f"to_unit_range expects uint8 pixels (0-255); got dtype {frames.dtype}.")
    return frames.astype(np.float32) / np.float32(127.5) - np.float32(1.0)


def from_unit_range(frames: np.ndarray) -> np.ndarray:
    """Float pixels in ``[-1, 1]`` back to uint8 (rounded, values outside clipped). Any shape."""
    frames = np.asarray(frames)
    if not np.issubdtype(frames.dtype, np.floating):
        raise ValueError(f"from_unit_range expects float pixels in [-1, 1]; got dtype {frames.dtype}.")
    return np.clip(np.rint((frames + 1.0) * 127.5), 0, 255).astype(np.uint8)


def hflip(frames: np.ndarray) -> np.ndarray:
    """Mirror a clip ``(T, H, W, C)`` or frame ``(H, W, C)`` left-right (a contiguous copy)."""
    frames = _check_frames(frames, "hflip")
    return np.ascontiguousarray(frames[..., ::-1, :])


def flip_clip(
    frames: np.ndarray,
    label: int,
    mirror_map: Sequence[int],
    policy: str = "swap",
    *,
    rng: np.random.Generator | None = None,
    probability: float = 0.5,
) -> tuple[np.ndarray, int, bool]:
    """Horizontal flip that keeps the label true (see the policies in the module docstring).

    Args:
        frames: ``(T, H, W, C)`` clip (or one ``(H, W, C)`` frame).
        label: class index of the clip.
        mirror_map: ``mirror_map[label]`` is the label after a flip (itself for symmetric classes).
        policy: ``swap``, ``skip`` or ``off``.
        rng: if given, a flip the policy allows happens with ``probability``; if ``None``
            it always happens (the caller has already decided to flip).
        probability: chance of a flip when ``rng`` is given.

    Returns:
        ``(frames, label, flipped)``: the (possibly mirrored) frames, the label that goes
        with them, and whether a flip happened. Unflipped frames are returned as they came.
    """
    if policy not in FLIP_POLICIES:
        raise ValueError(f"Unknown flip policy {policy!r}; expected one of {', '.join(FLIP_POLICIES)}.")
    label = int(label)
    if not 0 <= label < len(mirror_map):
        raise ValueError(f"label must be a class index in 0..{len(mirror_map) - 1} of mirror_map; got {label}.")
    mirrored_label = int(mirror_map[label])
    allowed = policy == "swap" or (policy == "skip" and mirrored_label == label)
    if allowed and rng is not None:
        allowed = bool(rng.random() < probability)
    if not allowed:
        return frames, label, False
    return hflip(frames), mirrored_label, True


def flip_flow(flow: np.ndarray) -> np.ndarray:
    """Mirror flow ``(..., H, W, 2)`` left-right: reverse the width axis and negate ``dx``.

    Float flow: ``dx -> -dx``. uint8 codes of :func:`~hybridvid_lib.data.flow.quantize_flow`
    (``q = round(v * 127) + 128``): ``q -> 256 - q``, the code of ``-v`` (the unused
    code 0 maps to 255). ``dy`` is unchanged.
    """
    flow = np.asarray(flow)
    if flow.ndim < 3 or flow.shape[-1] != 2:
        raise ValueError(f"flip_flow expects flow of shape (..., H, W, 2); got {flow.shape}.")
    out = np.ascontiguousarray(flow[..., ::-1, :])
    if out.dtype == np.uint8:
        out[..., 0] = np.minimum(2 * QUANT_ZERO - out[..., 0].astype(np.int16), 255).astype(np.uint8)
    elif np.issubdtype(out.dtype, np.floating):
        out[..., 0] = -out[..., 0]
    else:
        raise ValueError(f"flip_flow expects float flow or uint8 flow codes; got dtype {out.dtype}.")
    return out
