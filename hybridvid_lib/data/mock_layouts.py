"""Tiny fake datasets in the real on-disk formats, with the real formats' quirks.

Each writer lays out a few 8-frame videos and the list files exactly as the official archive
does (UCF101, HMDB51), as ``hybridvid data synth`` does (StickActions), or as a user's own
folder might look. With ``quirks=True`` it also plants every mess the real files are known
for, and returns a dict that says what was planted, so that tests can check a reader against
it and notebook 00 can show learners what to expect:

- list files with Windows line endings, a byte-order mark, trailing spaces and tabs, blank lines,
  a backslash path separator, a duplicate line and a label that disagrees with ``classInd.txt``;
- a class spelled with other capitals in ``classInd.txt`` than in its folder (UCF101's
  ``HandStandPushups`` / ``HandstandPushups``);
- file names with ``#``, ``&``, ``(``, ``)``, ``'`` and ``!`` (HMDB51 has them);
- listed videos missing on disk, and videos that do not decode: an empty file, a text file
  named ``.avi``, and a real video cut off before its first frame;
- a video on disk that no list mentions.

The videos are tiny ``(8, 32, 32, 3)`` clips of a moving square, not real actions.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from hybridvid_lib.data.video import write_video
from hybridvid_lib.io_utils import atomic_save_npy, atomic_write_bytes, atomic_write_json

UCF_CLASSES = ("ApplyEyeMakeup", "HandstandPushups", "PlayingDhol")
HMDB_CLASSES = ("brush_hair", "pick", "sword")
FOLDER_CLASSES = ("clap", "jump", "wave")
STICKACTIONS_CLASSES = (
    "ComeCloser", "GetUp", "JumpingJack", "LieDown", "LowerArms", "MoveAway",
    "PointLeft", "PointRight", "RaiseArms", "SitDown", "StandUp", "Wave",
)
STICKACTIONS_REVERSE_PAIRS = (("SitDown", "StandUp"), ("RaiseArms", "LowerArms"),
                              ("LieDown", "GetUp"), ("ComeCloser", "MoveAway"))
STICKACTIONS_MIRROR_PAIRS = (("PointLeft", "PointRight"),)
STICK_JOINTS = ("head", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist",
                "pelvis", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle")
STICK_EDGES = ((0, 1), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (1, 8),
               (8, 9), (9, 10), (10, 11), (8, 12), (12, 13), (13, 14))

# Source-film names in the style of HMDB51's, with the characters that break naive parsers.
HMDB_QUIRKY_FILMS = ("April_09", "#122_Cleaning_Up_The_Beach", "Glorious_Basterds_(2009)",
                     "Bruce_Lee's_Fists!", "Veoh_Alpha_Dog_&_Co", "Prelinger_HabitPatr1961")
HMDB_ATTRIBUTES = ("f_nm_np1_fr_goo", "u_cm_np1_ba_med", "h_nm_np2_le_bad")
FOLDER_QUIRKY_ACTORS = ("ann", "bob_&_co", "chris_o'neil", "#dana", "eve(2)!")

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


def _check_counts(quirks: bool, **minimum_and_value: tuple[int, int]) -> None:
    for name, (value, minimum) in minimum_and_value.items():
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
    _check_counts(quirks, classes=(len(classes), minimum), groups=(groups, 4 if quirks else 3),
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
    _check_counts(quirks, classes=(len(classes), 3 if quirks else 1), films=(films, 4 if quirks else 3))
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


# --------------------------------------------------------------------------- plain folder
def write_mock_folder(
    root: str | os.PathLike,
    classes: Sequence[str] = FOLDER_CLASSES,
    groups: int = 3,
    clips: int = 2,
    frames: int = 8,
    size: tuple[int, int] = (32, 32),
    naming: str = "plain",
    quirks: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """Write ``root/<class>/...`` videos named one of three ways, to exercise the folder reader's group rules.

    ``naming``:
        ``"ucf"``     ``<class>/v_<class>_gGG_cCC.avi``                 group ``gGG``
        ``"nested"``  ``<class>/<actor>/take_(<n>).mp4``                group ``<actor>``
        ``"plain"``   ``<class>/<actor>_<nn>.avi``                       group ``<class>/<actor>`` (fallback)

    With quirks: actor names with ``#&()'!``, one ``.AVI`` in capitals, an empty (unreadable)
    video in the first class, a ``notes.txt`` and a hidden partial write (ignored), and a stray
    video directly in ``root`` (no class).

    Returns:
        ``root``, ``classes``, ``groups`` (relpath -> expected group, every video the reader
        should list), ``unreadable``, ``stray``, ``ignored`` and ``quirks``.
    """
    root = Path(root)
    if naming not in ("ucf", "nested", "plain"):
        raise ValueError(f"naming must be 'ucf', 'nested' or 'plain'; got {naming!r}.")
    _check_counts(quirks, classes=(len(classes), 1), groups=(groups, 3), clips=(clips, 1))
    actors = [FOLDER_QUIRKY_ACTORS[g] if quirks and g < len(FOLDER_QUIRKY_ACTORS) else f"actor{g + 1}"
              for g in range(groups)]

    def place(cls: str, g: int, c: int) -> tuple[str, str]:
        if naming == "ucf":
            return f"{cls}/v_{cls}_g{g + 1:02d}_c{c:02d}.avi", f"g{g + 1:02d}"
        if naming == "nested":
            return f"{cls}/{actors[g]}/take_({c}).mp4", actors[g]
        return f"{cls}/{actors[g]}_{c:02d}.avi", f"{cls}/{actors[g]}"

    info: dict[str, Any] = {"root": root, "classes": sorted(classes), "groups": {}, "unreadable": [],
                            "stray": [], "ignored": [], "quirks": []}
    n = 0
    for cls in classes:
        for g in range(groups):
            for c in range(1, clips + 1):
                relpath, group = place(cls, g, c)
                if quirks and n == 1:
                    relpath = relpath[: -len(Path(relpath).suffix)] + Path(relpath).suffix.upper()
                write_clip(root / relpath, frames, size, seed + n, None if relpath.lower().endswith(".mp4") else "MJPG")
                info["groups"][relpath] = group
                n += 1
    if quirks:
        broken, group = place(classes[0], 0, 99)
        make_unreadable(root / broken, "empty")
        info["groups"][broken] = group
        info["unreadable"] = [broken]
        atomic_write_bytes(root / classes[0] / "notes.txt", b"filmed in the gym\n")
        atomic_write_bytes(root / classes[0] / ".take_9.avi.x1y2.partial.avi", b"half a video")
        write_clip(root / "stray.avi", frames, size, seed, "MJPG")
        info["stray"] = ["stray.avi"]
        info["ignored"] = [f"{classes[0]}/notes.txt", f"{classes[0]}/.take_9.avi.x1y2.partial.avi"]
        info["quirks"] += [
            f"actor names with #&()'!: {', '.join(actors)}",
            "one video extension in capitals (.AVI / .MP4)",
            f"an empty video: {broken}",
            "a notes.txt and a hidden partial write in a class folder",
            "a video directly in the root, outside any class folder",
        ]
    return info


# --------------------------------------------------------------------------- StickActions
def write_mock_stickactions(
    root: str | os.PathLike,
    classes: Sequence[str] = STICKACTIONS_CLASSES,
    groups: int = 3,
    clips: int = 1,
    frames: int = 8,
    size: tuple[int, int] = (32, 32),
    complete: bool = True,
    skeletons: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """Write a hand-made StickActions folder in the layout ``hybridvid data synth`` produces.

    Classes are stored in sorted order (label order); group ``g`` is in fold ``(g - 1) % 3``
    and ``testlist0N.txt`` holds fold ``N``. ``stickactions.json`` is written last, with
    ``"complete": complete``. Skeletons are float32 ``(T, 15, 3)`` (x, y, confidence).

    Returns:
        ``root``, ``classes``, ``num_videos``, ``joints``, ``splits`` = ``{N: {"train", "test", "test_groups"}}``.
    """
    root = Path(root)
    classes = sorted(classes)
    _check_counts(False, classes=(len(classes), 1), groups=(groups, 3), clips=(clips, 1))
    height, width = size
    videos = []
    for ci, cls in enumerate(classes):
        for g in range(1, groups + 1):
            for c in range(1, clips + 1):
                relpath = f"{cls}/v_{cls}_g{g:02d}_c{c:02d}.avi"
                write_clip(root / "videos" / relpath, frames, size, seed + len(videos), "MJPG")
                if skeletons:
                    rng = np.random.default_rng(seed + len(videos))
                    joints = rng.uniform(0, 1, size=(frames, len(STICK_JOINTS), 3)).astype(np.float32)
                    joints[..., 0] *= width - 1
                    joints[..., 1] *= height - 1
                    atomic_save_npy(root / "videos" / relpath.replace(".avi", ".skeleton.npy"), joints)
                videos.append((ci, g, relpath))

    splits_dir = root / "splits"
    write_list(splits_dir / "classInd.txt", [f"{i + 1} {name}" for i, name in enumerate(classes)])
    info: dict[str, Any] = {"root": root, "classes": classes, "num_videos": len(videos),
                            "joints": list(STICK_JOINTS), "splits": {}}
    for split in (1, 2, 3):
        test = [(ci, g, r) for ci, g, r in videos if (g - 1) % 3 == split - 1]
        train = [(ci, g, r) for ci, g, r in videos if (g - 1) % 3 != split - 1]
        write_list(splits_dir / f"trainlist{split:02d}.txt", [f"{r} {ci + 1}" for ci, _, r in train])
        write_list(splits_dir / f"testlist{split:02d}.txt", [r for _, _, r in test])
        info["splits"][split] = {"train": len(train), "test": len(test),
                                 "test_groups": sorted({f"g{g:02d}" for _, g, _ in test})}
    present = set(classes)
    atomic_write_json(root / "stickactions.json", {
        "name": "StickActions", "version": 1, "preset": "mock", "seed": seed, "complete": complete,
        "classes": classes,
        "reverse_pairs": [list(p) for p in STICKACTIONS_REVERSE_PAIRS if set(p) <= present],
        "mirror_pairs": [list(p) for p in STICKACTIONS_MIRROR_PAIRS if set(p) <= present],
        "skeleton": {"joints": list(STICK_JOINTS), "edges": [list(e) for e in STICK_EDGES],
                     "center": STICK_JOINTS.index("pelvis")},
        "fps": 25, "frame_size": [height, width], "num_videos": len(videos), "groups": groups,
        "clips_per_group": clips, "factors": {"mock": True},
    })
    return info
