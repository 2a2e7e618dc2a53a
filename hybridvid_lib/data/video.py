"""Reading and writing video files with OpenCV.

Rules the rest of the kit relies on:

- Frames come out as ``uint8`` RGB arrays of shape ``(T, H, W, 3)`` (OpenCV's BGR is converted).
- Frames are *counted by reading*: the container's ``CAP_PROP_FRAME_COUNT`` lies for
  damaged files (a truncated AVI may claim 40 frames and decode 18).
- A missing, empty, text or truncated file makes ``cv2.VideoCapture.isOpened()`` return
  False rather than raise; we turn that, and "opened but no frame decodes", into one
  :class:`~hybridvid_lib.errors.VideoDecodeError` that names the file.
- A frame larger than :data:`MAX_FRAME_PIXELS` (8K UHD, 7680 x 4320) is refused before any
  frame is decoded: one such frame takes 100 MB as RGB, and a damaged or hostile header can
  claim any size. The container's claimed size is checked when the file is opened.
- Writers are atomic (see :mod:`hybridvid_lib.io_utils`). The pip OpenCV wheels write
  MJPG / XVID (``.avi``), mp4v (``.mp4``), FFV1 and VP8/VP9 but not H.264.
"""

from __future__ import annotations

import os

# Quiet FFmpeg's per-packet complaints about broken files; must be set before cv2 loads.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")

from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from hybridvid_lib.errors import VideoDecodeError  # noqa: E402
from hybridvid_lib.io_utils import atomic_path  # noqa: E402

VIDEO_EXTENSIONS = (".avi", ".mp4", ".mkv", ".webm", ".mov", ".mpg", ".mpeg", ".m4v", ".ogv")

# The largest frame the kit decodes, in pixels: 8K UHD. Larger frames are refused when the file is opened.
MAX_FRAME_PIXELS = 7680 * 4320

# FourCC used for each extension we write; all are available in the pip wheels.
_WRITE_CODECS = {".avi": "MJPG", ".mp4": "mp4v", ".mkv": "FFV1"}


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` learned about a file.

    ``num_frames`` is the number of frames that decoded (counted by reading), or the
    container's claim when ``count=False`` was asked (``frames_counted`` says which).
    """

    path: Path
    readable: bool
    num_frames: int
    width: int
    height: int
    fps: float
    frames_counted: bool
    reason: str = ""


def _open(path: str | os.PathLike) -> cv2.VideoCapture:
    p = Path(path)
    if not p.is_file():
        raise VideoDecodeError(f"Video file not found: {p}.")
    if not os.access(p, os.R_OK):
        raise VideoDecodeError(f"Cannot read {p}: permission denied (expected a readable file; check its owner "
                               "and mode, e.g. chmod a+r).")
    cap = cv2.VideoCapture(str(p))
    if not cap.isOpened():
        cap.release()
        raise VideoDecodeError(
            f"Cannot open {p} as a video (empty, damaged, or not a video format OpenCV reads)."
        )
    width, height = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
    if width * height > MAX_FRAME_PIXELS:
        cap.release()
        raise VideoDecodeError(
            f"{p} has frames of {width}x{height} pixels, more than the kit decodes (7680x4320, 8K); "
            "resize it first, e.g. ffmpeg -i IN -vf scale=-2:480 OUT."
        )
    return cap


def resize_short_side(frame: np.ndarray, short_side: int) -> np.ndarray:
    """Resize one ``(H, W, C)`` frame so that ``min(H, W) == short_side``, keeping the aspect ratio.

    Uses area interpolation when shrinking (no aliasing) and linear when enlarging.
    """
    h, w = frame.shape[:2]
    if min(h, w) == short_side:
        return frame
    scale = short_side / min(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(frame, (new_w, new_h), interpolation=interp)


def read_video(
    path: str | os.PathLike,
    *,
    short_side: int | None = None,
    max_frames: int | None = None,
    step: int = 1,
) -> np.ndarray:
    """Decode a video into a ``(T, H, W, 3)`` uint8 RGB array.

    Args:
        path: the video file.
        short_side: if given, every frame is resized so its short side has this length.
        max_frames: stop after this many kept frames (``None``: read to the end).
        step: keep every ``step``-th decoded frame (1 keeps all).

    A damaged file that decodes partway returns the frames that decoded.

    Raises:
        VideoDecodeError: the file is missing, cannot be opened, or yields no frame.
    """
    if step < 1:
        raise ValueError(f"step must be >= 1; got {step}.")
    cap = _open(path)
    frames: list[np.ndarray] = []
    index = 0
    try:
        while max_frames is None or len(frames) < max_frames:
            ok = cap.grab()
            if not ok:
                break
            if index % step == 0:
                ok, bgr = cap.retrieve()
                if not ok or bgr is None:
                    break
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                if short_side is not None:
                    rgb = resize_short_side(rgb, short_side)
                frames.append(rgb)
            index += 1
    finally:
        cap.release()
    if not frames:
        raise VideoDecodeError(f"No frame of {Path(path)} could be decoded.")
    return np.stack(frames)


def count_frames(path: str | os.PathLike) -> int:
    """Number of frames that actually decode (reads the whole file; 0 if none)."""
    try:
        cap = _open(path)
    except VideoDecodeError:
        return 0
    n = 0
    try:
        while cap.grab():
            n += 1
    finally:
        cap.release()
    return n


def probe_video(path: str | os.PathLike, *, count: bool = False) -> VideoInfo:
    """Open a video and decode its first frame; with ``count=True`` also count all frames by reading.

    Never raises for a bad file: ``readable`` is False and ``reason`` says why.
    """
    p = Path(path)
    try:
        cap = _open(p)
    except VideoDecodeError as err:
        return VideoInfo(p, False, 0, 0, 0, 0.0, False, str(err))
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        claimed = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        ok, bgr = cap.read()
        if not ok or bgr is None:
            return VideoInfo(p, False, 0, 0, 0, fps, True, f"No frame of {p} could be decoded.")
        h, w = bgr.shape[:2]
        n = claimed
        if count:
            n = 1
            while cap.grab():
                n += 1
        return VideoInfo(p, True, n, w, h, fps, count)
    finally:
        cap.release()


def is_readable(path: str | os.PathLike) -> bool:
    """True when the file opens and its first frame decodes."""
    return probe_video(path).readable


def check_rgb_clip(frames: np.ndarray, who: str) -> np.ndarray:
    """``frames`` as an array if it is a non-empty ``(T, H, W, 3)`` uint8 clip, else one clear ``ValueError``.

    ``who`` names the caller in the message (``"write_video"``, ``"compute_flow"``, ...).
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
        raise ValueError(
            f"{who} expects a non-empty uint8 RGB array of shape (T, H, W, 3); "
            f"got dtype {frames.dtype} and shape {frames.shape}."
        )
    return frames


def write_video(
    path: str | os.PathLike,
    frames: np.ndarray,
    *,
    fps: float = 25.0,
    fourcc: str | None = None,
) -> Path:
    """Write ``(T, H, W, 3)`` uint8 RGB frames to a video file, atomically.

    The codec follows the extension (``.avi`` MJPG, ``.mp4`` mp4v, ``.mkv`` FFV1)
    unless ``fourcc`` is given (``"XVID"`` for UCF101-like ``.avi`` files).

    Raises:
        ValueError: frames of the wrong shape or dtype, or an extension we cannot write.
        VideoDecodeError: OpenCV could not open a writer for this codec.
    """
    frames = check_rgb_clip(frames, "write_video")
    p = Path(path)
    ext = p.suffix.lower()
    code = fourcc or _WRITE_CODECS.get(ext)
    if code is None:
        raise ValueError(f"Cannot choose a codec for {p.name}; use one of {', '.join(_WRITE_CODECS)}.")
    h, w = frames.shape[1:3]
    with atomic_path(p, suffix=ext) as tmp:
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*code), float(fps), (w, h))
        if not writer.isOpened():
            raise VideoDecodeError(f"OpenCV cannot write {code} video to {p.name} on this machine.")
        try:
            for frame in frames:
                writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        finally:
            writer.release()
    return p
