"""Optical flow between consecutive frames, its uint8 encoding, and pictures of it.

The flow stream of a two-stream network sees what I3D's flow stream sees (Carreira &
Zisserman 2017): two channels ``(dx, dy)`` in pixels, clipped to ``[-20, 20]`` and
divided by 20, so values lie in ``[-1, 1]``. Flow is computed on grayscale frames.

Methods (see :func:`~hybridvid_lib.data.flow_methods.available_flow_methods`):

``dis``
    OpenCV's Dense Inverse Search with ``DISOPTICAL_FLOW_PRESET_MEDIUM``, unchanged.
    Measured on a 2-core CPU (one OpenCV thread): about 0.3 ms per frame pair at
    64x64 and 1 ms at 112x112. At 112x112 MEDIUM was as accurate as Farneback on a
    moving textured patch (mean error 0.07-0.19 px at 2-5 px per frame), while the
    FAST and ULTRAFAST presets missed by 0.6-2.3 px. Known limit: at 64x64 DIS has
    only one or two pyramid levels, so a textured object moving 5 px or more per frame
    is under-estimated (error about 2 px); thin bright lines on a flat background
    (stick figures) were still within 0.2 px. Use ``farneback`` when that matters.
``farneback``
    ``cv2.calcOpticalFlowFarneback`` with the parameters of OpenCV's tutorial
    (pyramid scale 0.5, 3 levels, window 15, 3 iterations, poly_n 5, sigma 1.2):
    about 0.65 ms per pair at 64x64 and 2 ms at 112x112, within 0.1 px in the same tests.
``tvl1``
    ``cv2.optflow.DualTVL1OpticalFlow_create`` with OpenCV's defaults, the method
    I3D used: the most accurate and about 100x slower (45-240 ms per pair at 64-112 px,
    slowest on noisy frames). Only in the
    contrib wheel (``opencv-contrib-python-headless``).

A video of one frame has no motion: :func:`compute_flow` returns an empty
``(0, H, W, 2)`` array for it (the cache refuses such videos, see
:mod:`~hybridvid_lib.data.flow_cache`).

uint8 encoding (the cache stores this; 4x smaller than float32)::

    q = round(v * 127) + 128        v in [-1, 1]  ->  q in [1, 255]
    v = (q - 128) / 127             q = 0 is never written; it reads as -1

One step is 1/127 of the range, 20/127 = 0.157 px; rounding errs by at most half a
step (0.079 px). Zero flow is stored exactly as 128, so a still background stays
exactly still after a round trip (``x / 127.5 - 1``, the RGB convention, would turn it
into a 0.004 drift). A ``tf.data`` pipeline decodes with ``(q - 128) / 127`` too.

The cache itself (:class:`FlowCache`, :func:`compute_flow_cache`,
:func:`default_flow_cache_dir`) lives in :mod:`~hybridvid_lib.data.flow_cache` and is
re-exported here.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Sequence

import cv2
import numpy as np

from hybridvid_lib.data.flow_methods import FLOW_METHODS, available_flow_methods
from hybridvid_lib.data.video import check_rgb_clip
from hybridvid_lib.errors import HybridVidError

FLOW_CLIP_PX = 20.0
"""Flow is clipped to +-20 px before it is divided by 20 (as in I3D)."""

QUANT_ZERO = 128
"""uint8 code of zero flow."""

QUANT_SCALE = 127.0
"""uint8 codes per unit of normalised flow: ``q = round(v * QUANT_SCALE) + QUANT_ZERO``."""

# Farneback parameters of OpenCV's optical-flow tutorial.
_FARNEBACK = dict(pyr_scale=0.5, levels=3, winsize=15, iterations=3, poly_n=5, poly_sigma=1.2, flags=0)

FlowEstimator = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``estimator(prev_gray (H, W) uint8, next_gray (H, W) uint8) -> (H, W, 2) float32`` flow in pixels."""


def check_flow_method(method: str) -> str:
    """Return ``method`` if this OpenCV build can compute it, else raise a clear error.

    Raises:
        ValueError: ``method`` is not one of ``dis``, ``farneback``, ``tvl1``.
        HybridVidError: ``tvl1`` was asked for but this OpenCV has no ``cv2.optflow``.
    """
    if method not in FLOW_METHODS:
        raise ValueError(f"Unknown optical-flow method {method!r}; expected one of {', '.join(FLOW_METHODS)}.")
    if method not in available_flow_methods():
        raise HybridVidError(
            f"Optical-flow method {method!r} needs cv2.optflow, which only the contrib OpenCV wheel has; "
            "install opencv-contrib-python-headless (and no other OpenCV wheel) or use --method dis."
        )
    return method


def make_flow_estimator(method: str = "dis") -> FlowEstimator:
    """One flow object for one video: reuse it for every pair of that video.

    DIS keeps buffers sized to the first frame between calls, so one estimator per
    frame size (per video) avoids reallocating them for every pair.
    """
    check_flow_method(method)
    if method == "dis":
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        return lambda prev, nxt: dis.calc(prev, nxt, None)
    if method == "farneback":
        return lambda prev, nxt: cv2.calcOpticalFlowFarneback(prev, nxt, None, **_FARNEBACK)
    tvl1 = cv2.optflow.DualTVL1OpticalFlow_create()
    return lambda prev, nxt: tvl1.calc(prev, nxt, None)


def compute_flow(frames: np.ndarray, method: str = "dis") -> np.ndarray:
    """Optical flow between consecutive frames, clipped to +-20 px and scaled to ``[-1, 1]``.

    Args:
        frames: ``(T, H, W, 3)`` uint8 RGB frames.
        method: ``dis``, ``farneback`` or ``tvl1`` (see the module docstring).

    Returns:
        ``(T - 1, H, W, 2)`` float32, channels ``(dx, dy)``: ``flow[t]`` moves pixels of
        frame ``t`` to frame ``t + 1`` (positive dx: to the right, positive dy: down).
        A one-frame video gives an empty ``(0, H, W, 2)`` array.
    """
    frames = check_rgb_clip(frames, "compute_flow")
    estimator = make_flow_estimator(method)
    t, h, w, _ = frames.shape
    out = np.empty((max(0, t - 1), h, w, 2), np.float32)
    prev = cv2.cvtColor(frames[0], cv2.COLOR_RGB2GRAY)
    for i in range(1, t):
        nxt = cv2.cvtColor(frames[i], cv2.COLOR_RGB2GRAY)
        out[i - 1] = estimator(prev, nxt)
        prev = nxt
    np.clip(out, -FLOW_CLIP_PX, FLOW_CLIP_PX, out=out)
    out /= FLOW_CLIP_PX
    return out


def quantize_flow(flow: np.ndarray) -> np.ndarray:
    """Encode normalised flow (float, ``[-1, 1]``) as uint8 codes ``round(v * 127) + 128``.

    Values outside ``[-1, 1]`` are clipped. Same shape as ``flow``, dtype uint8.
    """
    flow = np.asarray(flow)
    if not np.issubdtype(flow.dtype, np.floating):
        raise ValueError(f"quantize_flow expects float flow in [-1, 1]; got dtype {flow.dtype}.")
    q = np.rint(np.clip(flow, -1.0, 1.0) * QUANT_SCALE) + QUANT_ZERO
    return q.astype(np.uint8)


def dequantize_flow(codes: np.ndarray) -> np.ndarray:
    """Decode uint8 flow codes to float32 in ``[-1, 1]`` (``(q - 128) / 127``, 0 read as -1)."""
    codes = np.asarray(codes)
    if codes.dtype != np.uint8:
        raise ValueError(f"dequantize_flow expects the uint8 codes of quantize_flow; got dtype {codes.dtype}.")
    flow = (codes.astype(np.float32) - QUANT_ZERO) / np.float32(QUANT_SCALE)
    return np.maximum(flow, -1.0, out=flow)


def _as_float_flow(flow: np.ndarray, name: str) -> np.ndarray:
    flow = np.asarray(flow)
    if flow.ndim != 3 or flow.shape[-1] != 2:
        raise ValueError(f"{name} expects one flow field of shape (H, W, 2); got shape {flow.shape}.")
    return dequantize_flow(flow) if flow.dtype == np.uint8 else flow.astype(np.float32, copy=False)


def flow_to_hsv_image(flow: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """Picture of one flow field: hue = direction, brightness = speed (OpenCV's standard view).

    Args:
        flow: ``(H, W, 2)`` float flow (any unit) or uint8 codes from the cache.
        max_magnitude: speed shown at full brightness, in the unit of ``flow`` (1.0 is
            the 20 px clip of normalised flow). ``None`` scales each image to its own
            fastest pixel, as OpenCV's tutorial does; give a number to compare frames.

    Returns:
        ``(H, W, 3)`` uint8 RGB. Right is red, down is yellow-green, left is cyan,
        up is violet; still pixels are black.
    """
    flow = _as_float_flow(flow, "flow_to_hsv_image")
    magnitude, angle = cv2.cartToPolar(flow[..., 0], flow[..., 1])  # angle in radians, [0, 2 pi)
    top = float(magnitude.max()) if max_magnitude is None else float(max_magnitude)
    if top < 0:
        raise ValueError(f"max_magnitude must be positive; got {max_magnitude}.")
    value = np.zeros_like(magnitude) if top == 0 else np.clip(magnitude / top, 0.0, 1.0) * 255.0
    hsv = np.empty(flow.shape[:2] + (3,), np.uint8)
    hsv[..., 0] = np.rint(angle * (90.0 / np.pi)) % 180  # OpenCV's 8-bit hue runs 0..179
    hsv[..., 1] = 255
    hsv[..., 2] = np.rint(value)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def flow_colour_wheel(size: int = 65, background: int = 255) -> np.ndarray:
    """The legend of :func:`flow_to_hsv_image`: a disc whose every pixel shows the colour of its own offset.

    The pixel at offset ``(dx, dy)`` from the centre gets the colour of a flow ``(dx, dy)``,
    with the disc's radius at full brightness: so the hue around the rim is the direction
    (right red, down yellow-green, left cyan, up violet, image axes pointing down as in
    ``imshow``) and the brightness grows from black at the centre (still) to full at the rim
    (the ``max_magnitude`` given to :func:`flow_to_hsv_image`).

    Args:
        size: side of the square image in pixels (at least 3; odd sizes have a centre pixel).
        background: grey level (0-255) of the corners outside the disc.

    Returns:
        ``(size, size, 3)`` uint8 RGB.
    """
    size = int(size)
    if size < 3:
        raise ValueError(f"size must be at least 3 pixels; got {size}.")
    if not 0 <= int(background) <= 255:
        raise ValueError(f"background must be a grey level in 0..255; got {background}.")
    centre = (size - 1) / 2.0
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    field = np.stack([xs - centre, ys - centre], axis=-1) / np.float32(centre)  # rim = 1
    wheel = flow_to_hsv_image(field, max_magnitude=1.0)
    wheel[np.hypot(field[..., 0], field[..., 1]) > 1.0] = int(background)
    return wheel


def flow_arrows(flow: np.ndarray, step: int = 8, *, pixels: bool = True
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Arrows on a grid every ``step`` pixels, for ``matplotlib``'s ``quiver``.

    Args:
        flow: ``(H, W, 2)`` normalised float flow or uint8 codes.
        step: grid spacing in pixels; the first arrow sits at ``step // 2``.
        pixels: return ``dx, dy`` in pixels (times 20) rather than normalised units.

    Returns:
        ``(x, y, dx, dy)``, four float32 arrays of shape ``(N,)``. Draw over the frame with
        ``ax.imshow(frame); ax.quiver(x, y, dx, dy, angles="xy", scale_units="xy", scale=1)``
        (image axes point down, which ``angles="xy"`` respects once ``imshow`` has set them).
    """
    if step < 1:
        raise ValueError(f"step must be a positive number of pixels; got {step}.")
    flow = _as_float_flow(flow, "flow_arrows")
    h, w = flow.shape[:2]
    ys, xs = np.mgrid[step // 2:h:step, step // 2:w:step]
    vectors = flow[ys, xs] * (FLOW_CLIP_PX if pixels else 1.0)
    return (xs.ravel().astype(np.float32), ys.ravel().astype(np.float32),
            vectors[..., 0].ravel().astype(np.float32), vectors[..., 1].ravel().astype(np.float32))


def measure_flow_fps(frames: np.ndarray, methods: Sequence[str] | None = None,
                     repeats: int = 1) -> dict[str, float]:
    """Frame pairs per second of :func:`compute_flow` for each method on ``frames``.

    Each timing covers what the cache pays per video: grayscale conversion, the flow
    object and every pair. The best of ``repeats`` runs is kept (the least disturbed by
    other work on the machine).

    Args:
        frames: ``(T, H, W, 3)`` uint8 RGB, ``T >= 2``.
        methods: methods to time; ``None`` times every available one.
        repeats: runs per method.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or len(frames) < 2:
        raise ValueError(f"measure_flow_fps needs at least two frames of shape (T, H, W, 3); got {frames.shape}.")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1; got {repeats}.")
    names = available_flow_methods() if methods is None else [check_flow_method(m) for m in methods]
    pairs = len(frames) - 1
    result: dict[str, float] = {}
    for method in names:
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            compute_flow(frames, method)
            best = min(best, time.perf_counter() - start)
        result[method] = pairs / max(best, 1e-9)
    return result


_CACHE_NAMES = ("FlowCache", "compute_flow_cache", "default_flow_cache_dir")


def __getattr__(name: str) -> Any:
    # The cache module imports this one; re-export its names lazily so that either may be imported first.
    if name in _CACHE_NAMES:
        from hybridvid_lib.data import flow_cache

        return getattr(flow_cache, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FLOW_CLIP_PX", "QUANT_ZERO", "QUANT_SCALE", "FlowEstimator", "check_flow_method",
    "make_flow_estimator", "compute_flow", "quantize_flow", "dequantize_flow", "flow_to_hsv_image",
    "flow_colour_wheel", "flow_arrows", "measure_flow_fps", *_CACHE_NAMES,
]
