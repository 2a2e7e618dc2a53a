"""Optical flow cached on disk, one uint8 ``.npy`` file per video, on the kit's array cache.

Layout (the cache lives beside the dataset, see :func:`default_flow_cache_dir`)::

    <cache_dir>/<method>_<size>/cache_info.json                  how the flow was made
    <cache_dir>/<method>_<size>/<Class>/<video>.avi.flow.npy     uint8 (T-1, H, W, 2)

``size`` is the short side the frames were resized to before the flow was computed;
values are the uint8 codes of :func:`~hybridvid_lib.data.flow.quantize_flow`.

Atomic writes, damaged-file detection, the settings check and the resumable threaded fill
are those of :class:`~hybridvid_lib.data.array_cache.ArrayCache`; this module adds what
is particular to flow: the file layout, the uint8 ``(T-1, H, W, 2)`` check, and how a
video's flow is computed. On 2 cores, 16 videos of 60 frames: 2 threads were 1.9x faster
than 1 (DIS at 64 px: 1290 -> 2400 flow frames/s; at 112 px: 470 -> 930). OpenCV's own
thread count (``cv2.setNumThreads`` 1 or 2) changed that by under 10%, so it is left as
the user set it.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from hybridvid_lib.data.array_cache import ArrayCache
from hybridvid_lib.data.flow import (
    FLOW_CLIP_PX,
    QUANT_SCALE,
    QUANT_ZERO,
    check_flow_method,
    compute_flow,
    dequantize_flow,
    quantize_flow,
)
from hybridvid_lib.data.records import DatasetSplit, Record
from hybridvid_lib.data.video import read_video
from hybridvid_lib.errors import VideoDecodeError

logger = logging.getLogger(__name__)

FLOW_SUFFIX = ".flow.npy"
CACHE_VERSION = 1


def default_flow_cache_dir(ds: DatasetSplit, method: str, size: int) -> Path:
    """Where the flow of a dataset is cached by default: a folder beside its video root.

    ``<video_root>/../flow`` (StickActions: ``<out>/flow``; UCF101: ``<root>/flow``).
    For the ``folder`` format, whose video root is the user's own folder, it is
    ``<video_root>/../<folder name>_flow`` so that two class folders side by side do not
    share one cache. ``method`` and ``size`` pick the subfolder :class:`FlowCache` adds.
    """
    root = Path(ds.video_root)
    if ds.format == "folder":
        return root.parent / f"{root.name}_flow"
    return root.parent / "flow"


def _check_flow_codes(shape: tuple[int, ...], dtype: np.dtype) -> str | None:
    if dtype == np.uint8 and len(shape) == 4 and shape[-1] == 2:
        return None
    return f"holds {dtype} {shape}, not uint8 (T-1, H, W, 2)"


class FlowCache:
    """uint8 flow of each video at one method and size, computed on demand and kept on disk.

    Args:
        cache_dir: the cache root (the ``<method>_<size>`` subfolder is added).
        method: ``dis``, ``farneback`` or ``tvl1``.
        size: short side, in pixels, that frames are resized to before the flow is computed.

    Example::

        cache = FlowCache(default_flow_cache_dir(ds, "dis", 64), "dis", 64)
        codes = cache.compute(ds.train[0])     # uint8 (T-1, H, W, 2), computed once
        flow = cache.load_float(ds.train[0])   # float32 in [-1, 1]
    """

    def __init__(self, cache_dir: str | os.PathLike, method: str = "dis", size: int = 64):
        self.method = check_flow_method(method)
        if not isinstance(size, (int, np.integer)) or size < 2:
            raise ValueError(f"size must be the short side in pixels, an integer >= 2; got {size!r}.")
        self.size = int(size)
        self.cache_dir = Path(cache_dir)
        self.arrays = ArrayCache(self.cache_dir / f"{self.method}_{self.size}", suffix=FLOW_SUFFIX,
                                 info=self.info(), check=_check_flow_codes, what="flow")
        self.root = self.arrays.root

    def __repr__(self) -> str:
        return f"FlowCache({str(self.cache_dir)!r}, method={self.method!r}, size={self.size})"

    def path_for(self, record: Record) -> Path:
        """``<cache_dir>/<method>_<size>/<record.relpath>.flow.npy``."""
        return self.arrays.path_for(record.relpath)

    def is_cached(self, record: Record) -> bool:
        """True when a complete file is there (checks the ``.npy`` header and length, not the values)."""
        return self.arrays.is_cached(record.relpath)

    def load(self, record: Record) -> np.ndarray | None:
        """The cached uint8 ``(T-1, H, W, 2)`` flow of ``record``, or ``None`` if not cached.

        A damaged file is deleted (so the next :meth:`compute` rebuilds it), a warning
        is logged, and ``None`` is returned.
        """
        return self.arrays.load(record.relpath)

    def _compute_codes(self, record: Record) -> np.ndarray:
        frames = read_video(record.file("video"), short_side=self.size)
        if len(frames) < 1:
            raise VideoDecodeError(f"No frame of {record.path} decodes; optical flow needs frames.")
        # A one-frame video is valid and has no motion: its flow is empty, (0, H, W, 2), and a
        # pipeline gives it one still field, so a flow model keeps the video instead of dropping it.
        return quantize_flow(compute_flow(frames, self.method))

    def compute(self, record: Record) -> np.ndarray:
        """The uint8 flow of ``record``: loaded if cached, else computed and stored atomically.

        Raises:
            VideoDecodeError: the video does not decode (a one-frame video gives an empty ``(0, H, W, 2)`` flow).
        """
        return self.arrays.get(record.relpath, lambda: self._compute_codes(record))

    def load_float(self, record: Record) -> np.ndarray | None:
        """Like :meth:`load`, dequantized: float32 ``(T-1, H, W, 2)`` in ``[-1, 1]``, or ``None``."""
        codes = self.load(record)
        return None if codes is None else dequantize_flow(codes)

    def info(self) -> dict[str, Any]:
        """What the files in this cache mean; written to ``cache_info.json``."""
        return {
            "version": CACHE_VERSION,
            "method": self.method,
            "size": self.size,
            "clip_px": FLOW_CLIP_PX,
            "encoding": f"uint8 q = round(v * {QUANT_SCALE:g}) + {QUANT_ZERO}, v = flow_px / {FLOW_CLIP_PX:g}",
            "layout": "(T-1, H, W, 2), channels (dx, dy)",
        }

    def check_info(self) -> None:
        """Write ``cache_info.json`` or, if one is there, refuse a cache made another way.

        Raises:
            CacheSettingsError: the folder holds flow of another version, method, size or encoding.
        """
        self.arrays.check_info()

    def fill(self, records: Sequence[Record], *, progress: bool = True, workers: int | None = None):
        """Compute the flow of every record not cached yet; the summary of :meth:`ArrayCache.fill`."""
        items = [(r.relpath, lambda r=r: self._compute_codes(r)) for r in records]
        return self.arrays.fill(items, progress=progress, workers=workers,
                                failures=(VideoDecodeError, cv2.error),
                                desc=f"flow {self.method} {self.size}px")


def compute_flow_cache(
    records: Sequence[Record],
    cache_dir: str | Path,
    *,
    method: str = "dis",
    size: int = 64,
    progress: bool = True,
    workers: int | None = None,
) -> dict[str, Any]:
    """Compute and store the flow of every video that is not cached yet (resumable).

    Args:
        records: the videos (duplicates of one ``relpath`` are done once).
        cache_dir: cache root, e.g. :func:`default_flow_cache_dir`.
        method: ``dis``, ``farneback`` or ``tvl1``.
        size: short side, in pixels, at which flow is computed.
        progress: show a tqdm bar.
        workers: videos processed at once, in threads; ``None`` uses up to 2 (the CPU count).

    Returns:
        ``{"computed": int, "cached": int, "failed": [{"video": relpath, "reason": str}, ...],
        "cache_dir": str, "method": str, "size": int, "videos": int, "flow_frames": int,
        "seconds": float, "frames_per_s": float}``. ``videos`` = computed + cached + failed;
        ``flow_frames`` counts the frame pairs computed in this call and ``frames_per_s`` is
        that over the wall time (0 when nothing was computed). Failed videos get no file.
    """
    start = time.perf_counter()
    cache = FlowCache(cache_dir, method, size)
    by_key = {r.relpath: r for r in records}
    summary = cache.fill(list(by_key.values()), progress=progress, workers=workers)
    # Counting the computed fields reads only the .npy headers of the files just written.
    flow_frames = sum(int(np.load(cache.path_for(by_key[key]), mmap_mode="r", allow_pickle=False).shape[0])
                      for key in summary["computed_items"])
    seconds = time.perf_counter() - start
    return {
        "computed": summary["computed"],
        "cached": summary["cached"],
        "failed": [{"video": item["key"], "reason": item["reason"]} for item in summary["failed"]],
        "cache_dir": str(cache.cache_dir),
        "method": cache.method,
        "size": cache.size,
        "videos": summary["items"],
        "flow_frames": flow_frames,
        "seconds": round(seconds, 3),
        "frames_per_s": round(flow_frames / seconds, 1) if flow_frames else 0.0,
    }
