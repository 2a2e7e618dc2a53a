"""One resumable on-disk cache of per-sample arrays: flow, features, converted skeletons build on it.

Layout::

    <root>/cache_info.json          how the arrays were made (checked before any file is trusted)
    <root>/<record key><suffix>     one ``.npy`` array per sample (``key`` = ``record.relpath``)

Why it is safe to interrupt:

- every file is written with :func:`~hybridvid_lib.io_utils.atomic_save_npy`, so a file
  with the final name is complete; a killed run leaves only ``*.partial*`` files, which
  are never read and are deleted when :meth:`ArrayCache.fill` starts again;
- a file that is damaged anyway (truncated by hand, disk full) or holds an array of the
  wrong shape or dtype is treated as not cached, deleted and recomputed, with a warning;
- ``cache_info.json`` records the settings the arrays were made with; a cache made with
  other settings is refused (:meth:`ArrayCache.check_info`), never mixed.

A second :meth:`~ArrayCache.fill` over the same samples computes nothing. Do not run two
``fill`` calls on one cache folder at once: the second one's clean-up removes the first
one's unfinished ``*.partial*`` files.

Threads: the work functions of the kit (OpenCV decoding and flow, numpy parsing) release
the GIL for most of their time, so ``fill`` runs one sample per thread, two by default (a
2-core machine).
"""

from __future__ import annotations

import json
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from tqdm.auto import tqdm

from hybridvid_lib.errors import HybridVidError
from hybridvid_lib.io_utils import atomic_save_npy, atomic_write_json, load_npy, read_npy_header, remove_partials

logger = logging.getLogger(__name__)

CACHE_INFO = "cache_info.json"

ArrayCheck = Callable[[tuple, np.dtype], "str | None"]
"""``check(shape, dtype) -> None`` when an array may be cached, else the reason it may not."""


class CacheSettingsError(HybridVidError):
    """A cache folder holds arrays made with other settings."""


def npy_header(path: Path) -> tuple[tuple[int, ...], np.dtype] | None:
    """``(shape, dtype)`` of a whole ``.npy`` file; ``None`` if unreadable or not as long as its header says."""
    try:
        with open(path, "rb") as fh:
            shape, _, dtype = read_npy_header(fh)
            expected = fh.tell() + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if path.stat().st_size != expected:
            return None
        return tuple(shape), dtype
    except (OSError, ValueError, EOFError):
        return None


class ArrayCache:
    """Per-sample arrays in ``root``, one ``.npy`` file each, keyed by a relative path.

    Args:
        root: the cache folder (created on the first write).
        suffix: appended to every key to name its file (``".flow.npy"``).
        info: the settings that define the arrays (method, size, model, ...): JSON values.
            ``cache_info.json`` keeps them and a later cache with other ``info`` is refused.
        check: ``check(shape, dtype)`` returns ``None`` for an array this cache may hold,
            else the reason it may not (what was expected); applied on load and on save.
        what: a few words for messages (``"flow"``, ``"I3D features"``).

    Example::

        cache = ArrayCache(folder, suffix=".feat.npy", info={"model": "i3d_rgb"},
                           check=lambda shape, dtype: None if len(shape) == 2 else "expected (T, D)")
        cache.fill([(r.relpath, lambda r=r: extract(r)) for r in records])
        cache.load(records[0].relpath)        # (T, D), or None when not cached
    """

    def __init__(self, root: str | os.PathLike, *, suffix: str, info: Mapping[str, Any],
                 check: ArrayCheck, what: str = "arrays"):
        if not suffix.endswith(".npy"):
            raise ValueError(f"An array cache suffix must end in '.npy'; got {suffix!r}.")
        self.root = Path(root)
        self.suffix = suffix
        self.info = dict(info)
        self.check = check
        self.what = what

    def __repr__(self) -> str:
        return f"ArrayCache({str(self.root)!r}, suffix={self.suffix!r}, what={self.what!r})"

    def path_for(self, key: str) -> Path:
        """``<root>/<key><suffix>``; ``key`` is a relative POSIX path that stays inside ``root``."""
        parts = Path(key).parts
        if not parts or Path(key).is_absolute() or ".." in parts:
            raise ValueError(f"A cache key must be a relative path inside the cache; got {key!r}.")
        return self.root / (key + self.suffix)

    def _problem(self, path: Path) -> str | None:
        header = npy_header(path)
        if header is None:
            return "not a whole .npy file"
        return self.check(*header)

    def is_cached(self, key: str) -> bool:
        """True when a complete, valid file is there (header and length checked, not the values)."""
        path = self.path_for(key)
        return path.is_file() and self._problem(path) is None

    def load(self, key: str) -> np.ndarray | None:
        """The cached array of ``key``, or ``None`` if not cached.

        A damaged or invalid file is deleted (so the next fill recomputes it), a warning is
        logged, and ``None`` is returned.
        """
        path = self.path_for(key)
        if not path.is_file():
            return None
        reason = self._problem(path)
        if reason is None:
            try:
                return load_npy(path)
            except (OSError, ValueError, EOFError) as err:
                reason = str(err)
        logger.warning("Damaged %s cache file %s (%s): deleted, it will be recomputed.", self.what, path, reason)
        path.unlink(missing_ok=True)
        return None

    def save(self, key: str, array: np.ndarray) -> Path:
        """Store ``array`` for ``key`` atomically.

        Raises:
            ValueError: the array is not one this cache holds (the check's reason).
        """
        array = np.asarray(array)
        reason = self.check(array.shape, array.dtype)
        if reason is not None:
            raise ValueError(f"Cannot cache {self.what} of {key}: {reason}; got {array.dtype} {array.shape}.")
        return atomic_save_npy(self.path_for(key), array)

    def get(self, key: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The cached array of ``key``, computed by ``compute()`` and stored when it is not cached."""
        array = self.load(key)
        if array is None:
            array = np.asarray(compute())
            self.save(key, array)
        return array

    def check_info(self) -> None:
        """Write ``cache_info.json`` or, if one is there, refuse a cache made another way.

        Raises:
            CacheSettingsError: the folder holds arrays made with other settings.
        """
        path = self.root / CACHE_INFO
        mine = json.loads(json.dumps(self.info))  # as it reads back (tuples become lists)
        if path.is_file():
            try:
                theirs = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                theirs = None
            if theirs == mine:
                return
            if theirs is not None:
                differ = sorted(k for k in set(mine) | set(theirs if isinstance(theirs, dict) else {})
                                if not isinstance(theirs, dict) or theirs.get(k) != mine.get(k))
                raise CacheSettingsError(
                    f"The {self.what} cache {self.root} was made with other settings ({', '.join(differ)} "
                    f"differ in {CACHE_INFO}); delete that folder or choose another cache folder."
                )
        atomic_write_json(path, mine)

    def fill(self, items: Sequence[tuple[str, Callable[[], np.ndarray]]], *, progress: bool = True,
             workers: int | None = None, failures: tuple[type[BaseException], ...] = (),
             desc: str | None = None) -> dict[str, Any]:
        """Compute and store every item that is not cached yet (resumable).

        Args:
            items: ``(key, compute)`` pairs; a key given twice is done once.
            progress: show a tqdm bar.
            workers: items computed at once, in threads; ``None`` uses up to 2 (the CPU count).
            failures: exception types that mark one item as failed (recorded, no file written)
                instead of stopping the fill; anything else propagates.
            desc: the progress bar's label.

        Returns:
            ``{"computed", "cached", "failed": [{"key", "reason"}, ...], "items", "seconds",
            "computed_items": [keys computed in this call]}``; ``items`` = computed + cached + failed.
        """
        start = time.perf_counter()
        if workers is None:
            workers = min(2, os.cpu_count() or 1)
        if workers < 1:
            raise ValueError(f"workers must be >= 1; got {workers}.")
        unique = dict(items)
        self.root.mkdir(parents=True, exist_ok=True)
        removed = remove_partials(self.root)
        if removed:
            logger.info("Removed %d unfinished file(s) of an interrupted run in %s.", removed, self.root)
        self.check_info()

        todo = [key for key in unique if not self.is_cached(key)]
        done: list[str] = []
        failed: dict[str, str] = {}
        bar = tqdm(total=len(unique), initial=len(unique) - len(todo), desc=desc or self.what,
                   unit="item", disable=not progress)
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="array-cache")
        try:
            futures = {pool.submit(self.get, key, unique[key]): key for key in todo}
            for future in as_completed(futures):
                key = futures[future]
                try:
                    future.result()
                    done.append(key)
                except failures as err:
                    failed[key] = str(err)
                bar.update(1)
        finally:
            # On Ctrl-C: drop items not started; the ones running finish (their files are whole).
            pool.shutdown(wait=True, cancel_futures=True)
            bar.close()
        for key, reason in failed.items():
            logger.warning("No %s for %s: %s", self.what, key, reason)
        return {
            "computed": len(done),
            "cached": len(unique) - len(todo),
            "failed": [{"key": key, "reason": failed[key]} for key in todo if key in failed],
            "items": len(unique),
            "seconds": round(time.perf_counter() - start, 3),
            "computed_items": [key for key in todo if key in set(done)],
        }
