"""A resumable on-disk cache of optical flow, one uint8 ``.npy`` file per video.

Layout (the cache lives beside the dataset, see :func:`default_flow_cache_dir`)::

    <cache_dir>/<method>_<size>/cache_info.json                  how the flow was made
    <cache_dir>/<method>_<size>/<Class>/<video>.avi.flow.npy     uint8 (T-1, H, W, 2)

``size`` is the short side the frames were resized to before the flow was computed;
values are the uint8 codes of :func:`~hybridvid_lib.data.flow.quantize_flow`.

Why it is safe to interrupt:

- every file is written with :func:`~hybridvid_lib.io_utils.atomic_save_npy`, so a file
  with the final name is complete; a killed run leaves only ``*.partial*`` files, which
  are never read and are deleted when :func:`compute_flow_cache` starts again;
- a file that is damaged anyway (truncated by hand, disk full) is checked against its
  ``.npy`` header, treated as not cached, deleted, and recomputed, with a warning.

Do not run two :func:`compute_flow_cache` calls on the same cache folder at once: the
second one's clean-up removes the first one's unfinished ``*.partial*`` files.

Threads: OpenCV releases the GIL while it decodes and computes flow, so
:func:`compute_flow_cache` runs one video per thread (two by default: a 2-core machine).
On 2 cores, 16 videos of 60 frames: 2 threads were 1.9x faster than 1 (DIS at 64 px:
1290 -> 2400 flow frames/s; at 112 px: 470 -> 930). OpenCV's own thread count
(``cv2.setNumThreads`` 1 or 2) changed that by under 10%, so it is left as the user set it.
"""

from __future__ import annotations

import json
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np
from tqdm.auto import tqdm

from hybridvid_lib.data.flow import (
    FLOW_CLIP_PX,
    QUANT_SCALE,
    QUANT_ZERO,
    check_flow_method,
    compute_flow,
    dequantize_flow,
    quantize_flow,
)
from hybridvid_lib.data.records import DatasetSplit, VideoRecord
from hybridvid_lib.data.video import read_video
from hybridvid_lib.errors import HybridVidError, VideoDecodeError
from hybridvid_lib.io_utils import atomic_save_npy, atomic_write_json, remove_partials

logger = logging.getLogger(__name__)

FLOW_SUFFIX = ".flow.npy"
CACHE_INFO = "cache_info.json"
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


def _npy_header(path: Path) -> tuple[tuple[int, ...], np.dtype] | None:
    """``(shape, dtype)`` of a whole ``.npy`` file; ``None`` if unreadable or not as long as its header says."""
    try:
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
            expected = fh.tell() + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if path.stat().st_size != expected:
            return None
        return tuple(shape), dtype
    except (OSError, ValueError, EOFError):
        return None


def _is_flow_codes(shape: tuple[int, ...], dtype: np.dtype) -> bool:
    return dtype == np.uint8 and len(shape) == 4 and shape[-1] == 2


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
        self.root = self.cache_dir / f"{self.method}_{self.size}"

    def __repr__(self) -> str:
        return f"FlowCache({str(self.cache_dir)!r}, method={self.method!r}, size={self.size})"

    def path_for(self, record: VideoRecord) -> Path:
        """``<cache_dir>/<method>_<size>/<record.relpath>.flow.npy``."""
        return self.root / (record.relpath + FLOW_SUFFIX)

    def is_cached(self, record: VideoRecord) -> bool:
        """True when a complete file is there (checks the ``.npy`` header and length, not the values)."""
        header = _npy_header(self.path_for(record))
        return header is not None and _is_flow_codes(*header)

    def load(self, record: VideoRecord) -> np.ndarray | None:
        """The cached uint8 ``(T-1, H, W, 2)`` flow of ``record``, or ``None`` if not cached.

        A damaged file is deleted (so the next :meth:`compute` rebuilds it), a warning
        is logged, and ``None`` is returned.
        """
        path = self.path_for(record)
        if not path.is_file():
            return None
        header = _npy_header(path)
        if header is None:
            reason = "not a whole .npy file"
        elif not _is_flow_codes(*header):
            reason = f"holds {header[1]} {header[0]}, not uint8 (T-1, H, W, 2)"
        else:
            try:
                return np.load(path, allow_pickle=False)
            except (OSError, ValueError, EOFError) as err:
                reason = str(err)
        logger.warning("Damaged flow cache file %s (%s): deleted, it will be recomputed.", path, reason)
        path.unlink(missing_ok=True)
        return None

    def compute(self, record: VideoRecord) -> np.ndarray:
        """The uint8 flow of ``record``: loaded if cached, else computed and stored atomically.

        Raises:
            VideoDecodeError: the video does not decode, or decodes to fewer than 2 frames.
        """
        codes = self.load(record)
        if codes is not None:
            return codes
        frames = read_video(record.path, short_side=self.size)
        if len(frames) < 2:
            raise VideoDecodeError(
                f"Only {len(frames)} frame of {record.path} decodes; optical flow needs at least 2."
            )
        codes = quantize_flow(compute_flow(frames, self.method))
        atomic_save_npy(self.path_for(record), codes)
        return codes

    def load_float(self, record: VideoRecord) -> np.ndarray | None:
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
            "opencv": cv2.__version__,
        }

    def check_info(self) -> None:
        """Write ``cache_info.json`` or, if one is there, refuse a cache made another way.

        Raises:
            HybridVidError: the folder holds flow of another version or encoding.
        """
        path = self.root / CACHE_INFO
        mine = self.info()
        if path.is_file():
            try:
                theirs = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                theirs = None
            keys = ("version", "method", "size", "clip_px", "encoding")
            if isinstance(theirs, dict) and all(theirs.get(k) == mine[k] for k in keys):
                return
            if theirs is not None:
                raise HybridVidError(
                    f"The flow cache {self.root} was made with other settings ({CACHE_INFO} differs); "
                    "delete that folder or choose another cache folder."
                )
        atomic_write_json(path, mine)


def compute_flow_cache(
    records: Sequence[VideoRecord],
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
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    if workers < 1:
        raise ValueError(f"workers must be >= 1; got {workers}.")
    unique = list({r.relpath: r for r in records}.values())

    cache.root.mkdir(parents=True, exist_ok=True)
    removed = remove_partials(cache.root)
    if removed:
        logger.info("Removed %d unfinished file(s) of an interrupted run in %s.", removed, cache.root)
    cache.check_info()

    todo = [r for r in unique if not cache.is_cached(r)]
    cached = len(unique) - len(todo)
    computed, flow_frames = 0, 0
    failures: dict[str, str] = {}

    def work(record: VideoRecord) -> int:
        return len(cache.compute(record))

    bar = tqdm(total=len(unique), initial=cached, desc=f"flow {method} {size}px", unit="video",
               disable=not progress)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="flow")
    try:
        futures = {pool.submit(work, r): r for r in todo}
        for future in as_completed(futures):
            record = futures[future]
            try:
                flow_frames += future.result()
                computed += 1
            except (VideoDecodeError, cv2.error) as err:
                failures[record.relpath] = str(err)
            bar.update(1)
    finally:
        # On Ctrl-C: drop videos not started; the ones running finish (their files are whole).
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()

    seconds = time.perf_counter() - start
    failed = [{"video": r.relpath, "reason": failures[r.relpath]} for r in todo if r.relpath in failures]
    for item in failed:
        logger.warning("No optical flow for %s: %s", item["video"], item["reason"])
    return {
        "computed": computed,
        "cached": cached,
        "failed": failed,
        "cache_dir": str(cache.cache_dir),
        "method": cache.method,
        "size": cache.size,
        "videos": len(unique),
        "flow_frames": flow_frames,
        "seconds": round(seconds, 3),
        "frames_per_s": round(flow_frames / seconds, 1) if flow_frames else 0.0,
    }
