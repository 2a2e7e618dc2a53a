"""Loading one video's data in numpy, before the cache: square uint8 frames, flow fields, joints.

These run inside ``tf.numpy_function`` in a parallel ``map``; OpenCV releases the GIL
while it decodes, so several videos decode at once. A loader that fails returns an empty
array (``T == 0``) and the pipeline filters it out, after recording it (see ``FailureLog``).
"""

from __future__ import annotations

import cv2
import numpy as np

from hybridvid_lib.data.video import read_video, resize_short_side
from hybridvid_lib.errors import HybridVidError
from hybridvid_lib.io_utils import load_npy

# What a damaged file may raise while it decodes; programming errors still propagate.
DECODE_ERRORS = (HybridVidError, OSError, ValueError, EOFError, cv2.error)


def center_crop_square(frames: np.ndarray) -> np.ndarray:
    """``(T, H, W, C)`` -> ``(T, S, S, C)`` with ``S = min(H, W)``, the centre of each frame."""
    h, w = frames.shape[1:3]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return frames[:, top:top + side, left:left + side]


def resize_square(frames: np.ndarray, size: int) -> np.ndarray:
    """Centre-crop ``(T, H, W, C)`` frames to a square and resize it to ``(T, size, size, C)``.

    Works for any channel count OpenCV resizes (3 for RGB, 2 for flow); the dtype is kept.
    """
    square = center_crop_square(frames)
    if square.shape[1] == size:
        return np.ascontiguousarray(square)
    return np.stack([resize_short_side(np.ascontiguousarray(f), size) for f in square])


def decode_square_frames(path: str, size: int) -> np.ndarray:
    """Decode a video into ``(T, size, size, 3)`` uint8 RGB: short side resized to ``size``, centre square kept.

    Raises:
        VideoDecodeError: the file is missing or yields no frame.
    """
    frames = read_video(path, short_side=size)
    return resize_square(frames, size)


def load_flow_square(flow_cache, record, size: int, zero_field: np.ndarray) -> np.ndarray:
    """Cached flow of ``record`` as ``(T - 1, size, size, 2)`` uint8, computed if it is not cached yet.

    The flow cache holds fields at short side ``flow_size``; they are centre-cropped like
    the frames and resized to ``size`` when the sizes differ. Resizing moves where a vector
    sits, not its length: vectors keep the units of the flow resolution. A one-frame video
    has no flow field; it gets ``zero_field`` (a quantized field of zeros) so its clip can be built.
    """
    flow = flow_cache.load(record)
    if flow is None:
        flow = flow_cache.compute(record)
    flow = np.asarray(flow)
    if flow.ndim != 4 or flow.shape[-1] != 2 or flow.dtype != np.uint8:
        raise ValueError(
            f"flow cache entry of {record.relpath} should be uint8 (T-1, H, W, 2); "
            f"got {flow.dtype} {flow.shape}."
        )
    if len(flow) == 0:
        return zero_field
    return resize_square(flow, size)


def load_joints(path: str, num_joints: int, persons: int | None = None) -> np.ndarray:
    """Joints of one video as ``(T, num_joints, 3)`` float32 (x pixel, y pixel, confidence), or
    ``(T, num_joints, 3, persons)`` when the files hold ``persons`` person slots.

    Raises:
        ValueError: the array has another shape, or no frame.
    """
    joints = load_npy(path)  # thread-safe: several tf.data threads load at once
    tail = (num_joints, 3) if persons is None else (num_joints, 3, persons)
    if joints.shape[1:] != tail or len(joints) == 0:
        raise ValueError(f"expected a (T, {', '.join(map(str, tail))}) array with T >= 1; got shape {joints.shape}")
    return joints.astype(np.float32, copy=False)
