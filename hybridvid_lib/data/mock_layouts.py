"""Tiny fake UCF101 and HMDB51 sets in the official on-disk layouts, with the real files' quirks.

Each writer lays out a few 8-frame videos and the list files exactly as the official archive
does. With ``quirks=True`` it also plants every mess the real files are known for, and returns
a dict that says what was planted, so that tests can check a reader against it and notebook 00
can show learners what to expect:

- list files with Windows line endings, a byte-order mark, trailing spaces and tabs, blank lines,
  a backslash path separator, a duplicate line and a label that disagrees with ``classInd.txt``;
- a class spelled with other capitals in ``classInd.txt`` than in its folder (UCF101's
  ``HandStandPushups`` / ``HandstandPushups``);
- file names with ``#``, ``&``, ``(``, ``)``, ``'`` and ``!`` (HMDB51 has them);
- listed videos missing on disk, and videos that do not decode: an empty file, a text file
  named ``.avi``, and a real video cut off before its first frame;
- a video on disk that no list mentions.

The videos are tiny ``(8, 32, 32, 3)`` clips of a moving square, not real actions. The small
pieces (:func:`write_clip`, :func:`make_unreadable`, :func:`write_list`, :func:`check_counts`)
also serve the test suite's own writers (``tests/support/mock_data.py``: a user's class
folders and a StickActions set).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from hybridvid_lib.data.video import write_video
from hybridvid_lib.io_utils import atomic_write_bytes

UCF_CLASSES = ("ApplyEyeMakeup", "HandstandPushups", "PlayingDhol")
HMDB_CLASSES = ("brush_hair", "pick", "sword")

# Source-film names in the style of HMDB51's, with the characters that break naive parsers.
HMDB_QUIRKY_FILMS = ("April_09", "#122_Cleaning_Up_The_Beach", "Glorious_Basterds_(2009)",
                     "Bruce_Lee's_Fists!", "Veoh_Alpha_Dog_&_Co", "Prelinger_HabitPatr1961")
HMDB_ATTRIBUTES = ("f_nm_np1_fr_goo", "u_cm_np1_ba_med", "h_nm_np2_le_bad")

# Readable word for each kind of undecodable file a writer plants.
UNREADABLE_KINDS = ("empty", "text", "truncated")


# --------------------------------------------------------------------------- small pieces
def tiny_frames(num_frames: int = 8, size: tuple[int, int] = (32, 32), seed: int = 0) -> np.ndarray:
    """``(T, H, W, 3)`` uint8 RGB frames: a light square crossing a dark background tinted by ``seed``."""
    height, width = size
    rng = np.random.default_rng(seed)
    frames = np.empty((num_frames, height, width, 3), dtype=np.uint8)
    frames[:] = rng.integers(10, 90, size=3, dtype=np.uint8)
    side = max(2, min(height, width) // 4)
    for t in range(num_frames):
        x = (width - side) * t // max(1, num_frames - 1)
        frames[t, (height - side) // 2:(height + side) // 2, x:x + side] = 230
    return frames


def write_clip(path: Path, num_frames: int, size: tuple[int, int], seed: int, fourcc: str | None) -> Path:
    """Write one tiny video (see :func:`tiny_frames`)."""
    return write_video(path, tiny_frames(num_frames, size, seed), fourcc=fourcc)


def make_unreadable(path: Path, kind: str) -> Path:
    """Turn ``path`` into a file with a video name that does not decode.

    ``kind``: ``"empty"`` (0 bytes), ``"text"`` (an HTML error page saved as a video) or
    ``"truncated"`` (the existing video cut right after the header, before any frame data,
    as an interrupted download leaves it).
    """
    if kind == "empty":
        return atomic_write_bytes(path, b"")
    if kind == "text":
        return atomic_write_bytes(path, b"<html><body>404 Not Found</body></html>\n")
    if kind == "truncated":
        data = path.read_bytes()
        # AVI keeps frames in the 'movi' list; keep the headers, drop every frame.
        cut = data.find(b"movi")
        return atomic_write_bytes(path, data[: cut + 4 if cut > 0 else 64])
    raise ValueError(f"Unknown unreadable kind {kind!r}; expected one of {', '.join(UNREADABLE_KINDS)}.")


def write_list(path: Path, lines: Sequence[str], *, crlf: bool = False, bom: bool = False,
               final_newline: bool = True) -> Path:
    """Write list-file lines as given (their own trailing spaces, blank lines) with chosen line endings."""
    newline = "\r\n" if crlf else "\n"
    text = newline.join(lines) + (newline if final_newline else "")
    return atomic_write_bytes(path, (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))


def _respell(name: str) -> str:
    """Another capitalisation of a class name, as ``classInd.txt`` has for ``HandstandPushups``."""
    if "Handstand" in name:
        return name.replace("Handstand", "HandStand")
    other = name[:1] + name[1:].lower()
    return other if other != name else name.upper()


def check_counts(quirks: bool, **value_and_minimum: tuple[int, int]) -> None:
    """Refuse a writer's size argument below its minimum: ``check_counts(True, groups=(groups, 4))``.

    ``quirks`` only words the message (the minimums with quirks are higher: each quirk needs a video).

    Raises:
        ValueError: naming the first argument that is too small, its minimum and its value.
    """
    for name, (value, minimum) in value_and_minimum.items():
        if value < minimum:
            need = " with quirks=True" if quirks else ""
            raise ValueError(f"{name} must be at least {minimum}{need}; got {value}.")


# --------------------------------------------------------------------------- UCF101
def write_mock_ucf101(
    root: str | os.PathLike,
    classes: Sequence[str] = UCF_CLASSES,
    groups: int = 6,
    clips: int = 2,
    frames: int = 8,
    size: tuple[int, int] = (32, 32),
    quirks: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """Write a small UCF101: ``root/UCF-101/<Class>/v_<Class>_gGG_cCC.avi`` and ``root/ucfTrainTestlist/``.

    Groups go to 3 folds in blocks, as in the official lists (group ``g`` is in fold
    ``(g - 1) * 3 // groups``); ``testlist0N.txt`` holds fold ``N``. Videos are XVID, as UCF101's.

    Returns:
        ``root``, ``video_dir``, ``list_dir``, ``classes`` (``classInd.txt`` spelling, label order),
        ``folder_classes``, ``misspelled_class`` (``{"classInd": ..., "folders": ...}`` or None),
        ``missing``, ``unreadable``, ``unreadable_kinds``, ``unlisted`` (relpaths) and
        ``splits`` = ``{N: {"train", "test", "test_groups", "duplicate", "label_mismatch", "backslash"}}``
        (counts of listed videos, duplicates once), and ``quirks`` (what was planted, in words).
    """
    root = Path(root)
    classes = list(classes)
    minimum = 3 if quirks else 1
    check_counts(quirks, classes=(len(classes), minimum), groups=(groups, 4 if quirks else 3),
                  clips=(clips, 2 if quirks else 1))
    video_dir, list_dir = root / "UCF-101", root / "ucfTrainTestlist"
    fold = {g: (g - 1) * 3 // groups for g in range(1, groups + 1)}

    def rel(ci: int, g: int, c: int) -> str:
        return f"{classes[ci]}/v_{classes[ci]}_g{g:02d}_c{c:02d}.avi"

    listed = [(ci, g, c) for ci in range(len(classes)) for g in range(1, groups + 1)
              for c in range(1, clips + 1)]
    for n, (ci, g, c) in enumerate(listed):
        write_clip(video_dir / rel(ci, g, c), frames, size, seed + n, "XVID")

    spelled = list(classes)
    info: dict[str, Any] = {
        "root": root, "video_dir": video_dir, "list_dir": list_dir, "folder_classes": list(classes),
        "misspelled_class": None, "missing": [], "unreadable": [], "unreadable_kinds": {}, "unlisted": [],
        "splits": {}, "quirks": [],
    }
    if quirks:
        odd = next((i for i, name in enumerate(classes) if "Handstand" in name), 1)
        spelled[odd] = _respell(classes[odd])
        info["misspelled_class"] = {"classInd": spelled[odd], "folders": classes[odd]}
        info["missing"] = sorted([rel(0, 2, 1), rel(2, groups, 2)])
        for path in info["missing"]:
            (video_dir / path).unlink()
        for (ci, g, c), kind in zip([(1, 1, 2), (2, 3, 1), (0, 4, 2)], UNREADABLE_KINDS):
            make_unreadable(video_dir / rel(ci, g, c), kind)
            info["unreadable_kinds"][rel(ci, g, c)] = kind
        info["unreadable"] = sorted(info["unreadable_kinds"])
        extra = rel(1, groups + 1, 1)
        write_clip(video_dir / extra, frames, size, seed, "XVID")
        info["unlisted"] = [extra]
        info["quirks"] += [
            f"classInd.txt spells {classes[odd]!r} as {spelled[odd]!r}",
            "classInd.txt: byte-order mark, CRLF, trailing spaces, blank lines at the end",
            "trainlists: CRLF, trailing spaces and tabs, a blank line, a duplicate line, a wrong label",
            "testlists: byte-order mark, a backslash separator, trailing tab, blank lines, no final newline",
            f"missing on disk: {', '.join(info['missing'])}",
            "unreadable: " + ", ".join(f"{p} ({k})" for p, k in info["unreadable_kinds"].items()),
            f"on disk but in no list: {extra}",
        ]
    info["classes"] = spelled

    class_lines = [f"{i + 1} {name}" for i, name in enumerate(spelled)]
    if quirks:
        class_lines = [class_lines[0] + "  "] + class_lines[1:] + ["", ""]
    write_list(list_dir / "classInd.txt", class_lines, crlf=quirks, bom=quirks)

    bad = set(info["missing"]) | set(info["unreadable"])
    for split in (1, 2, 3):
        train = [(ci, g, c) for ci, g, c in listed if fold[g] != split - 1]
        test = [(ci, g, c) for ci, g, c in listed if fold[g] == split - 1]
        train_lines = [f"{rel(ci, g, c)} {ci + 1}" for ci, g, c in train]
        test_lines = [rel(ci, g, c) for ci, g, c in test]
        expected: dict[str, Any] = {
            "train": len(train), "test": len(test),
            "test_groups": sorted({f"g{g:02d}" for _, g, _ in test}),
            "duplicate": None, "label_mismatch": None, "backslash": None,
        }
        if quirks:
            wrong = next(i for i, (ci, g, c) in enumerate(train) if ci == 2 and rel(ci, g, c) not in bad)
            train_lines[wrong] = f"{rel(*train[wrong])} 1"  # class 3's video labelled as class 1
            expected["label_mismatch"] = rel(*train[wrong])
            expected["duplicate"] = rel(*train[0])
            train_lines[1] += "   "
            train_lines[2] += "\t"
            train_lines.insert(3, "")
            train_lines.append(train_lines[0] + "\t")
            slash = next(i for i, (ci, g, c) in enumerate(test) if ci == 1)
            expected["backslash"] = rel(*test[slash])
            test_lines[slash] = test_lines[slash].replace("/", "\\")
            test_lines[0] += "\t"
            test_lines[1:1] = ["", "  "]
        write_list(list_dir / f"trainlist{split:02d}.txt", train_lines, crlf=quirks)
        write_list(list_dir / f"testlist{split:02d}.txt", test_lines, crlf=quirks, bom=quirks,
                   final_newline=not quirks)
        info["splits"][split] = expected
    return info


# --------------------------------------------------------------------------- HMDB51
def write_mock_hmdb51(
    root: str | os.PathLike,
    classes: Sequence[str] = HMDB_CLASSES,
    films: int = 6,
    clips: int = 1,
    frames: int = 8,
    size: tuple[int, int] = (32, 32),
    quirks: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """Write a small HMDB51: ``root/hmdb51_org/<class>/<film>_<class>_<attrs>_<n>.avi`` and
    ``root/testTrainMulti_7030_splits/<class>_test_split<N>.txt``.

    Every class has ``clips`` clips of every film. In split ``N``, film ``i`` is test (id 2)
    when ``i % 3 == N - 1``, unused (id 0) when ``i == N % 3``, train (id 1) otherwise. With
    quirks the last class is extracted one level deeper (``hmdb51_org/<c>/<c>/``) and film
    names hold ``#&()'!``.

    Returns:
        ``root``, ``video_dir``, ``list_dir``, ``classes``, ``films``, ``groups`` (relpath -> film),
        ``nested_class``, ``missing``, ``unreadable``, ``unreadable_kinds``, ``unlisted``,
        ``splits`` = ``{N: {"train", "test", "unused", "duplicate"}}`` (counts of listed videos)
        and ``quirks``.
    """
    root = Path(root)
    classes = list(classes)
    check_counts(quirks, classes=(len(classes), 3 if quirks else 1), films=(films, 4 if quirks else 3))
    film_names = [HMDB_QUIRKY_FILMS[i] if quirks and i < len(HMDB_QUIRKY_FILMS) else f"Film_{i:02d}"
                  for i in range(films)]
    video_dir, list_dir = root / "hmdb51_org", root / "testTrainMulti_7030_splits"
    nested = classes[-1] if quirks else None

    def name(ci: int, fi: int, k: int, film: str | None = None) -> str:
        return f"{film or film_names[fi]}_{classes[ci]}_{HMDB_ATTRIBUTES[(fi + k) % 3]}_{k}.avi"

    def rel(ci: int, fi: int, k: int, film: str | None = None) -> str:
        folder = f"{classes[ci]}/{classes[ci]}" if classes[ci] == nested else classes[ci]
        return f"{folder}/{name(ci, fi, k, film)}"

    entries = [(ci, fi, k) for ci in range(len(classes)) for fi in range(films) for k in range(clips)]
    for n, (ci, fi, k) in enumerate(entries):
        write_clip(video_dir / rel(ci, fi, k), frames, size, seed + n, "XVID")
    info: dict[str, Any] = {
        "root": root, "video_dir": video_dir, "list_dir": list_dir, "classes": sorted(classes),
        "films": film_names, "groups": {rel(*e): film_names[e[1]] for e in entries}, "nested_class": nested,
        "missing": [], "unreadable": [], "unreadable_kinds": {}, "unlisted": [], "splits": {}, "quirks": [],
    }
    if quirks:
        info["missing"] = [rel(0, 1, 0)]
        (video_dir / rel(0, 1, 0)).unlink()
        for (ci, fi, k), kind in zip([(1, 0, 0), (1, 2, 0), (0, 3, 0)], UNREADABLE_KINDS):
            make_unreadable(video_dir / rel(ci, fi, k), kind)
            info["unreadable_kinds"][rel(ci, fi, k)] = kind
        info["unreadable"] = sorted(info["unreadable_kinds"])
        extra = rel(0, 0, 0, film="Unlisted_Film")
        write_clip(video_dir / extra, frames, size, seed, "XVID")
        info["unlisted"] = [extra]
        info["quirks"] += [
            f"film names with #&()'!: {', '.join(film_names)}",
            f"class {nested!r} extracted nested: hmdb51_org/{nested}/{nested}/",
            f"{classes[0]} split files: CRLF and a duplicate line; {classes[1]}: a byte-order mark; "
            f"{classes[-1]}: tabs before the id; all: trailing spaces, blank lines",
            f"missing on disk: {', '.join(info['missing'])}",
            "unreadable: " + ", ".join(f"{p} ({k})" for p, k in info["unreadable_kinds"].items()),
            f"on disk but in no split file: {extra}",
        ]

    for split in (1, 2, 3):
        counts: dict[str, Any] = {"train": 0, "test": 0, "unused": 0, "duplicate": None}
        for ci, class_name in enumerate(classes):
            lines = []
            for fi in range(films):
                video_id = 2 if fi % 3 == split - 1 else 0 if fi == split % 3 else 1
                counts[{1: "train", 2: "test", 0: "unused"}[video_id]] += clips
                for k in range(clips):
                    sep = "\t" if quirks and ci == len(classes) - 1 else " "
                    # The official files end every line with a space after the id.
                    lines.append(f"{name(ci, fi, k)}{sep}{video_id}" + (" " if quirks else ""))
            if quirks:
                if ci == 0:
                    lines.append(lines[0])
                    counts["duplicate"] = rel(ci, 0, 0)
                lines[1:1] = [""]
                lines += ["", ""]
            write_list(list_dir / f"{class_name}_test_split{split}.txt", lines,
                       crlf=quirks and ci == 0, bom=quirks and ci == 1)
        info["splits"][split] = counts
    return info
