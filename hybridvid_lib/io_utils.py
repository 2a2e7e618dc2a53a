"""Atomic file writing: an interrupted run leaves either the old file or the new one, never half a file.

Every cache entry and output of the kit goes through these helpers. A writer creates
``<name>.<random>.partial`` in the destination folder and renames it into place with
:func:`os.replace`, which is atomic on POSIX and Windows when both paths are on one
file system. Readers never trust ``*.partial`` files; :func:`remove_partials` clears
leftovers from a killed run.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator

import numpy as np

PARTIAL_SUFFIX = ".partial"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it to ``path``.

    ``suffix`` is appended after the temporary name so that tools which choose a
    format from the file extension (OpenCV's ``VideoWriter``, ``np.save``) see the
    right one. On an exception the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=PARTIAL_SUFFIX + (suffix or ""), dir=path.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp makes the file private (0600); give it the mode a plain open() would, or the old file's.
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (fsync'd before the rename)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any, *, indent: int = 2) -> Path:
    """Write ``obj`` as JSON atomically (keys kept in insertion order, trailing newline)."""
    return atomic_write_text(path, json.dumps(obj, indent=indent, allow_nan=False) + "\n")


def atomic_save_npy(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Save one array in ``.npy`` format atomically."""
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return atomic_write_bytes(path, buf.getvalue())


# CPython 3.11 can fail when two threads build a syntax tree at once ("SystemError: AST constructor recursion depth
# mismatch", python/cpython#106905); numpy parses every .npy header with ast.literal_eval, and the tf.data pipelines
# load cached arrays from several threads (a course run of chapter 08 died on it once). The header parse, a few
# microseconds, takes this lock; reading the data does not.
_NPY_HEADER_LOCK = threading.Lock()


def read_npy_header(fh) -> tuple[tuple[int, ...], bool, np.dtype]:
    """``(shape, fortran_order, dtype)`` of the ``.npy`` file open in ``fh`` (binary), left at its data.

    Safe to call from many threads at once (see ``_NPY_HEADER_LOCK``).

    Raises:
        ValueError: not a ``.npy`` file, or an unknown format version.
    """
    version = np.lib.format.read_magic(fh)
    with _NPY_HEADER_LOCK:
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(fh)
        if version == (2, 0):
            return np.lib.format.read_array_header_2_0(fh)
    raise ValueError(f"unsupported .npy format version {version[0]}.{version[1]}; expected 1.0 or 2.0")


def load_npy(path: str | os.PathLike) -> np.ndarray:
    """``np.load(path, allow_pickle=False)`` for one ``.npy`` array, safe to call from many threads at once.

    Raises:
        ValueError: not a ``.npy`` file, or an array of Python objects (never un-pickled).
        EOFError: the file is shorter than its header says.
    """
    with open(path, "rb") as fh:
        shape, fortran_order, dtype = read_npy_header(fh)
        if dtype.hasobject:
            raise ValueError(f"{path} holds Python objects; only plain numeric arrays are read (nothing is un-pickled)")
        count = int(np.prod(shape, dtype=np.int64))
        data = np.fromfile(fh, dtype=dtype, count=count) if count else np.empty(0, dtype)
    if data.size != count:
        raise EOFError(f"{path} holds {data.size} of the {count} values its header announces")
    return data.reshape(shape[::-1]).transpose() if fortran_order else data.reshape(shape)


def remove_partials(folder: str | os.PathLike) -> int:
    """Delete ``*.partial*`` leftovers of interrupted writes below ``folder``; return how many."""
    count = 0
    for leftover in Path(folder).rglob(f"*{PARTIAL_SUFFIX}*"):
        if leftover.is_file():
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
                count += 1
    return count
