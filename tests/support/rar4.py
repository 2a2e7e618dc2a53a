"""A minimal RAR 4.x writer for STORED (uncompressed) members, so that tests can build the archives
the official UCF101 and HMDB51 downloads are (no free RAR writer exists).

Format (RAR 1.5-4.x, as read by ``rarfile`` and described in RAR's ``technote.txt``): a sequence of
blocks, each starting with ``HEAD_CRC`` (2 bytes: the low 16 bits of the CRC32 of the header from
``HEAD_TYPE`` on), ``HEAD_TYPE`` (1), ``HEAD_FLAGS`` (2), ``HEAD_SIZE`` (2), little-endian:

- marker block ``Rar!\\x1a\\x07\\x00`` (a block with CRC 0x6152, type 0x72, flags 0x1a21, size 7);
- archive header, type 0x73, size 13 (two reserved fields, 2 + 4 bytes);
- one file header per member, type 0x74, flag 0x8000 (data follows): ``PACK_SIZE`` (4), ``UNP_SIZE`` (4),
  ``HOST_OS`` (1; 2 = Windows, 3 = Unix), ``FILE_CRC`` (4; CRC32 of the data), ``FTIME`` (4; DOS date
  and time), ``UNP_VER`` (1; 20 = 2.0), ``METHOD`` (1; 0x30 = stored), ``NAME_SIZE`` (2), ``ATTR`` (4;
  DOS attributes, or the Unix mode), the name, then ``PACK_SIZE`` bytes of data. Flag 0x00e0 marks a
  directory, 0x0200 a UTF-8 name. Names use ``\\`` as separator, as the official archives (made on
  Windows) do: ``unar`` splits RAR 4 names on backslashes only, ``rarfile`` on either. A symlink is a
  Unix member whose mode is ``S_IFLNK`` and whose data is the link target;
- end-of-archive block, type 0x7b, flags 0x4000.

Only what the tests need: no compression, no solid archives, volumes, comments or large (> 4 GiB) members.
``method`` lets a test declare a member compressed (its data is then nonsense) to exercise the code
path that needs an external extractor.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import Iterable

MARKER = b"Rar!\x1a\x07\x00"
METHOD_STORED = 0x30
METHOD_NORMAL = 0x33

_LONG_BLOCK = 0x8000
_FILE_DIRECTORY = 0x00E0
_FILE_UNICODE = 0x0200
_OS_WINDOWS, _OS_UNIX = 2, 3
_ATTR_FILE, _ATTR_DIRECTORY = 0x20, 0x10  # DOS "archive" and "directory" attributes
_DOS_TIME_2020 = ((2020 - 1980) << 25) | (1 << 21) | (1 << 16)  # 2020-01-01 00:00:00


def _block(head_type: int, flags: int, body: bytes) -> bytes:
    """A block header: CRC16 (low half of CRC32) over type, flags, size and ``body``."""
    rest = struct.pack("<BHH", head_type, flags, 7 + len(body)) + body
    return struct.pack("<H", zlib.crc32(rest) & 0xFFFF) + rest


def _file_block(name: str, data: bytes, attr: int, *, directory: bool = False,
                method: int = METHOD_STORED, host_os: int = _OS_WINDOWS) -> bytes:
    raw_name = name.replace("/", "\\").encode("utf-8")
    flags = _LONG_BLOCK | (_FILE_DIRECTORY if directory else 0)
    if not raw_name.isascii():
        flags |= _FILE_UNICODE
    body = struct.pack("<LLBLLBBHL", len(data), len(data), host_os, zlib.crc32(data), _DOS_TIME_2020,
                       20, method, len(raw_name), attr) + raw_name
    return _block(0x74, flags, body) + data


class Rar4Writer:
    """Collect members, then :meth:`write` the archive.

    ::

        rar = Rar4Writer()
        rar.add_dir("UCF-101")
        rar.add_file("UCF-101/a.avi", b"...")
        rar.write(path)
    """

    def __init__(self) -> None:
        self._blocks: list[bytes] = []

    def add_file(self, name: str, data: bytes, *, method: int = METHOD_STORED) -> None:
        """A regular file named ``name`` (``/``-separated; stored as given otherwise, ``..`` included)."""
        self._blocks.append(_file_block(name, data, _ATTR_FILE, method=method))

    def add_dir(self, name: str) -> None:
        self._blocks.append(_file_block(name, b"", _ATTR_DIRECTORY, directory=True))

    def add_symlink(self, name: str, target: str) -> None:
        """A Unix symlink ``name`` -> ``target`` (``target`` is stored as given)."""
        self._blocks.append(_file_block(name, target.encode("utf-8"), 0o120777, host_os=_OS_UNIX))

    def add_tree(self, folder: str | os.PathLike, prefix: str = "", *, dirs: bool = True) -> None:
        """Every file below ``folder`` as ``prefix/<relpath>``, sorted, with directory entries first."""
        folder = Path(folder)
        for path in sorted(folder.rglob("*")):
            rel = "/".join(filter(None, [prefix, path.relative_to(folder).as_posix()]))
            if path.is_dir():
                if dirs:
                    self.add_dir(rel)
            else:
                self.add_file(rel, path.read_bytes())

    def to_bytes(self) -> bytes:
        return (MARKER + _block(0x73, 0, b"\x00" * 6) + b"".join(self._blocks)
                + _block(0x7B, 0x4000, b""))

    def write(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.to_bytes())
        return path


def write_rar(path: str | os.PathLike, files: dict[str, bytes], dirs: Iterable[str] = ()) -> Path:
    """Shortcut: a RAR at ``path`` holding directory entries ``dirs`` and ``files`` (name -> data)."""
    rar = Rar4Writer()
    for name in dirs:
        rar.add_dir(name)
    for name, data in files.items():
        rar.add_file(name, data)
    return rar.write(path)


# --------------------------------------------------------------------------- the official archives
def ucf101_archives(root: str | os.PathLike) -> dict[str, bytes]:
    """``UCF101.rar`` and the splits zip as the official site serves them, from a layout written by
    :func:`hybridvid_lib.data.mock_layouts.write_mock_ucf101` at ``root``."""
    import io
    import zipfile

    root = Path(root)
    rar = Rar4Writer()
    rar.add_dir("UCF-101")
    rar.add_tree(root / "UCF-101", "UCF-101")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ucfTrainTestlist/", b"")
        for path in sorted((root / "ucfTrainTestlist").iterdir()):
            zf.write(path, f"ucfTrainTestlist/{path.name}")
    return {"UCF101.rar": rar.to_bytes(), "UCF101TrainTestSplits-RecognitionTask.zip": buf.getvalue()}


def hmdb51_archives(root: str | os.PathLike) -> dict[str, bytes]:
    """``hmdb51_org.rar`` (one ``<class>.rar`` per class, each holding ``<class>/<clip>.avi``, the
    official nesting) and ``test_train_splits.rar``, from a layout written by
    :func:`hybridvid_lib.data.mock_layouts.write_mock_hmdb51` at ``root``."""
    root = Path(root)
    outer = Rar4Writer()
    for class_dir in sorted(p for p in (root / "hmdb51_org").iterdir() if p.is_dir()):
        inner = Rar4Writer()
        inner.add_dir(class_dir.name)
        inner.add_tree(class_dir, class_dir.name)
        outer.add_file(f"{class_dir.name}.rar", inner.to_bytes())
    splits = Rar4Writer()
    splits.add_dir("testTrainMulti_7030_splits")
    splits.add_tree(root / "testTrainMulti_7030_splits", "testTrainMulti_7030_splits")
    return {"hmdb51_org.rar": outer.to_bytes(), "test_train_splits.rar": splits.to_bytes()}
