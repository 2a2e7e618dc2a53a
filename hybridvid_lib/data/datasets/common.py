"""What every dataset reader shares: cleaning list files, matching class names, finding and checking videos.

The official list files of UCF101 and HMDB51 are messy in ways that break naive parsers:
Windows line endings, a byte-order mark, trailing spaces and tabs, blank lines, backslash
path separators, a class spelled with different capitals in different files. The helpers
here absorb all of that in one place, so the readers only deal with the meaning of a line.

Paths inside a dataset are always handled as *relpaths*: POSIX strings relative to the
video root (``"ApplyLipstick/v_ApplyLipstick_g01_c01.avi"``), as stored in
:class:`~hybridvid_lib.data.records.Record`.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, NamedTuple, Sequence

from tqdm.auto import tqdm

from hybridvid_lib.data.records import DatasetSplit
from hybridvid_lib.data.video import VIDEO_EXTENSIONS, is_readable
from hybridvid_lib.errors import DatasetError

# UCF101 names a clip v_<Class>_g<GG>_c<CC>; the group token alone also marks other sets built that way.
UCF_GROUP_RE = re.compile(r"_g(\d+)(?=_|$)")
_TRAILING_NUMBER_RE = re.compile(r"^(?P<prefix>.*?)[_\-. ]*\d+$")

# OpenCV releases the GIL while decoding, so a few threads check videos about as fast as processes.
_CHECK_THREADS = min(8, 2 * (os.cpu_count() or 1))


class ListLine(NamedTuple):
    """One non-blank line of a list file, stripped; ``lineno`` is 1-based as an editor shows it."""

    lineno: int
    text: str


def read_list_file(path: Path) -> list[ListLine]:
    """The non-blank lines of a list file, with BOM, line endings and surrounding whitespace removed.

    Decodes UTF-8 (with or without a byte-order mark) and falls back to Latin-1, which
    never fails, so that one odd byte does not make a whole split unreadable.

    Raises:
        DatasetError: the file cannot be read (no permission, a folder, an I/O error).
    """
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise DatasetError(
            f"Cannot read the list file {path} ({err.strerror or err}); expected a readable text file "
            "(check its permissions, or download the split lists again)."
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    lines = []
    # splitlines() treats \r\n, \r and \n alike; a BOM can also sit mid-file when lists were concatenated.
    for number, raw in enumerate(text.splitlines(), start=1):
        cleaned = raw.replace("\ufeff", "").strip()
        if cleaned:
            lines.append(ListLine(number, cleaned))
    return lines


def split_trailing_int(text: str) -> tuple[str, int | None]:
    """Split ``"path/with(odd)&names.avi 7"`` into ``("path/with(odd)&names.avi", 7)``.

    Only the last whitespace-separated token can be the number; everything before it,
    stripped, is the path (file names may hold ``#&()'!`` and, in HMDB51, even spaces).
    A line without a trailing integer returns ``(text, None)``.
    """
    parts = text.rsplit(None, 1)
    if len(parts) == 2 and re.fullmatch(r"[+-]?\d+", parts[1]):
        return parts[0].strip(), int(parts[1])
    return text.strip(), None


def outside_root_reason(text: str) -> str | None:
    """Why a listed path would leave the dataset folder, or ``None`` when it stays inside.

    A ``..`` segment, an absolute path (``/etc/x.avi``, ``\\server\\x.avi``) or a drive
    (``C:/x.avi``) in a list file is refused: lists name videos *below* the video folder, and
    a list copied from elsewhere must not make the kit open files outside it.
    """
    raw = text.strip().replace("\\", "/")
    if raw.startswith("/"):
        return "an absolute path"
    if re.match(r"^[A-Za-z]:", raw):
        return "a path on a drive"
    if ".." in raw.split("/"):
        return "a '..' that leaves the video folder"
    return None


def normalize_relpath(text: str) -> str:
    """A listed path as a POSIX relpath: backslashes become ``/``, ``./`` and repeated ``/`` are dropped."""
    parts = [p for p in text.strip().replace("\\", "/").split("/") if p not in ("", ".")]
    return "/".join(parts)


def some(items: Iterable[str], limit: int = 3) -> str:
    """``"a, b, c and 4 more"``: a short list for a note or an error message."""
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"


def fallback_group(class_name: str, stem: str) -> str:
    """Guess a group from a file name: the stem without its trailing number, within its class.

    ``"alice_03"`` -> ``"<class>/alice"``; a stem that is only a number stays whole. The
    class prefix keeps ``clip_01`` of two classes apart (otherwise every class would
    collapse into one group); the price is that one actor filmed for two classes counts
    as two groups, which is why readers add a note when they use this rule.
    """
    match = _TRAILING_NUMBER_RE.match(stem)
    prefix = match.group("prefix") if match else stem
    return f"{class_name}/{prefix or stem}"


def ucf_group(stem: str) -> str | None:
    """``"v_Wave_g08_c01"`` -> ``"g08"``; ``None`` when the name has no ``_gNN`` token."""
    match = UCF_GROUP_RE.search(stem)
    return f"g{int(match.group(1)):02d}" if match else None


# --------------------------------------------------------------------------- folders
def require_root(root: str | os.PathLike) -> Path:
    """The dataset root as an absolute path; :class:`DatasetError` if it is missing or a file."""
    path = Path(root).expanduser()
    if not path.exists():
        raise DatasetError(f"Dataset root {path} does not exist.")
    if not path.is_dir():
        raise DatasetError(f"Dataset root {path} is a file; expected the folder the dataset was extracted into.")
    return path.resolve()


def resolve_folder(root: Path, override: str | os.PathLike | None, default: str) -> tuple[Path, bool]:
    """The folder to use: ``root/default``, or ``override`` (absolute, relative to root, or relative to cwd).

    Returns ``(path, overridden)``; the path may not exist (the caller reports that in its own terms).
    """
    if override is None:
        return root / default, False
    path = Path(override).expanduser()
    if path.is_absolute():
        return path, True
    if (root / path).exists() or not path.exists():
        return (root / path).resolve(), True
    return path.resolve(), True


def require_override(path: Path, option: str, what: str) -> None:
    """Raise a :class:`DatasetError` when a folder the user passed explicitly does not exist."""
    if not path.is_dir():
        raise DatasetError(f"The {what} folder {path} given with {option} does not exist.")


# --------------------------------------------------------------------------- class names
@dataclass
class ClassNameMatcher:
    """Match class names from folders and lists to the official list, ignoring case.

    UCF101's ``classInd.txt`` says ``HandStandPushups`` while its folders and file names
    say ``HandstandPushups``; an exact match would lose a whole class. Spellings that
    only matched ignoring case are remembered so that the reader can say so in a note.
    """

    classes: Sequence[str]
    source: str = "the class list"
    respelled: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._exact = {name: i for i, name in enumerate(self.classes)}
        self._folded: dict[str, int] = {}
        for i, name in enumerate(self.classes):
            other = self._folded.setdefault(name.casefold(), i)
            if other != i:
                raise DatasetError(
                    f"{self.source} lists {self.classes[other]!r} and {name!r}, which differ only in "
                    "capitals; expected each class once."
                )

    def match(self, name: str) -> int | None:
        """Index of ``name`` in ``classes`` (exact, else ignoring case), or ``None``."""
        if name in self._exact:
            return self._exact[name]
        index = self._folded.get(name.casefold())
        if index is not None:
            self.respelled.setdefault(self.classes[index], set()).add(name)
        return index

    def notes(self) -> list[str]:
        """One note per class whose spelling differed between the class list and the data."""
        return [
            f"{self.source} spells class {official!r} while the videos and lists spell it "
            f"{some(repr(s) for s in sorted(spellings))}; matched ignoring capitals (the class keeps "
            f"the name {official!r})."
            for official, spellings in sorted(self.respelled.items())
        ]


# --------------------------------------------------------------------------- videos on disk
def is_video_name(name: str) -> bool:
    """True for a visible file name with a video extension (any capitals); partial writes are hidden."""
    return not name.startswith(".") and Path(name).suffix.lower() in VIDEO_EXTENSIONS


def _inside(path: str, real_root: str) -> bool:
    """True when ``path``, with every symbolic link followed, lies in ``real_root`` (itself resolved)."""
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


class VideoIndex:
    """Every video file below a folder, found once, looked up by relpath (exact, else ignoring case).

    Symbolic links are followed while they stay inside the folder (its own real location: a
    video folder that is itself a link to another disk is fine). A file or sub-folder whose link
    leads out of it is never opened: its relpath goes to ``escaping`` instead of ``relpaths``.

    Attributes:
        root: the folder scanned.
        relpaths: sorted POSIX relpaths of the video files.
        escaping: sorted relpaths of video files and folders that are links leading out of ``root``.
    """

    def __init__(self, root: Path, relpaths: Iterable[str], escaping: Iterable[str] = ()):
        self.root = Path(root)
        self.relpaths: list[str] = sorted(relpaths)
        self.escaping: list[str] = sorted(escaping)
        self.unlisted_folders: list[str] = []  # folders os.walk could not read (see scan)
        self._exact = set(self.relpaths)
        self._folded: dict[str, list[str]] = {}
        for rel in self.relpaths:
            self._folded.setdefault(rel.casefold(), []).append(rel)
        self.respelled: dict[str, str] = {}

    @classmethod
    def scan(cls, root: Path) -> "VideoIndex":
        """Walk ``root`` (following links that stay inside it, skipping hidden folders) and collect video files."""
        real_root = os.path.realpath(root)
        found, escaping = [], []
        errors: list[OSError] = []
        for folder, dirs, files in os.walk(root, followlinks=True, onerror=errors.append):
            rel_folder = Path(folder).relative_to(root).as_posix()

            def rel(name: str) -> str:
                return name if rel_folder == "." else f"{rel_folder}/{name}"

            kept = []
            for d in sorted(d for d in dirs if not d.startswith(".")):
                # Only a link can lead out; a plain folder below root stays inside it.
                if os.path.islink(os.path.join(folder, d)) and not _inside(os.path.join(folder, d), real_root):
                    escaping.append(rel(d))
                else:
                    kept.append(d)
            dirs[:] = kept
            for name in files:
                if not is_video_name(name):
                    continue
                if os.path.islink(os.path.join(folder, name)) and not _inside(os.path.join(folder, name), real_root):
                    escaping.append(rel(name))
                else:
                    found.append(rel(name))
        unlisted = []
        for err in errors:  # os.walk skips a folder it cannot list; say so instead of losing its videos
            if os.path.realpath(err.filename or "") == real_root:
                raise DatasetError(f"Cannot list the video folder {root} ({err.strerror or err}); expected a "
                                   "readable folder (check its permissions).")
            unlisted.append(Path(err.filename).relative_to(root).as_posix() if err.filename else str(err))
        index = cls(root, found, escaping)
        index.unlisted_folders = sorted(unlisted)
        return index

    def escapes(self, relpath: str) -> bool:
        """True when ``relpath`` is, or lies below, a link that leads out of the folder."""
        folded = relpath.casefold()
        return any(folded == e.casefold() or folded.startswith(e.casefold() + "/") for e in self.escaping)

    def __contains__(self, relpath: str) -> bool:
        return relpath in self._exact

    def resolve(self, relpath: str) -> str | None:
        """The on-disk spelling of ``relpath`` (exact, else the one file that matches ignoring case)."""
        if relpath in self._exact:
            return relpath
        candidates = self._folded.get(relpath.casefold())
        if not candidates:
            return None
        # Several files differing only in capitals: take a fixed one so runs agree.
        self.respelled[relpath] = candidates[0]
        return candidates[0]

    def notes(self) -> list[str]:
        """Notes on listed paths that only matched files ignoring capitals, and on links leading out."""
        notes = []
        if self.respelled:
            pairs = [f"{listed} -> {found}" for listed, found in sorted(self.respelled.items())]
            notes.append(f"Listed paths that match a file on disk only ignoring capitals: {len(pairs)} "
                         f"({some(pairs)}); the file on disk was used.")
        if self.unlisted_folders:
            notes.append(f"Folders below {self.root} that could not be read: {len(self.unlisted_folders)} "
                         f"({some(self.unlisted_folders)}); their videos are not found (check the permissions).")
        if self.escaping:
            notes.append(f"Symbolic links below {self.root} that lead out of it: {len(self.escaping)} "
                         f"({some(self.escaping)}); refused and never opened (copy the videos in, or link "
                         "the whole video folder instead).")
        return notes


def find_unreadable(paths: Mapping[str, Path], *, progress: bool = False) -> list[str]:
    """Relpaths whose file does not open or whose first frame does not decode.

    Uses a small thread pool (OpenCV releases the GIL while decoding) and a tqdm bar
    when ``progress`` is True.
    """
    if not paths:
        return []
    items = sorted(paths.items())
    with ThreadPoolExecutor(max_workers=_CHECK_THREADS) as pool:
        results = pool.map(lambda item: (item[0], is_readable(item[1])), items)
        bar = tqdm(results, total=len(items), desc="checking videos", unit="video", disable=not progress)
        return sorted(rel for rel, ok in bar if not ok)


def finish_split(split: DatasetSplit, index: VideoIndex, *, check_videos: bool, progress: bool,
                 list_name: str) -> DatasetSplit:
    """Fill ``missing``, ``unreadable`` and the notes that every list-based reader shares.

    ``list_name`` names the lists in the note about videos that no list mentions
    (for example ``"split 1 of ucfTrainTestlist/"``); their relpaths also go to
    ``split.metadata["unlisted"]`` so that nothing on disk is ignored without a trace.
    Links that lead out of the video folder join ``split.refused``.
    """
    listed: dict[str, None] = {}
    for name in ("train", "test", "unused"):
        for record in split.subset(name):
            listed.setdefault(record.relpath)
    split.missing = [rel for rel in listed if rel not in index]
    present = {rel: split.video_root / rel for rel in listed if rel in index}
    split.unreadable = find_unreadable(present, progress=progress) if check_videos else []
    if not check_videos:
        split.notes.append("Videos were not opened (check_videos=False), so unreadable files are not listed.")
    unlisted = [rel for rel in index.relpaths if rel not in listed]
    split.metadata["unlisted"] = unlisted
    if unlisted:
        split.notes.append(
            f"Video files on disk in no list of {list_name}: {len(unlisted)} ({some(unlisted)}); "
            "they are not part of this split."
        )
    split.notes.extend(index.notes())
    split.refused = sorted(set(split.refused) | set(index.escaping))
    return split
