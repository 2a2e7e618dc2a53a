"""HMDB51 in its official layout.

The folder the official archives were extracted into (``--root``)::

    hmdb51_org/<class>/<film>_<class>_<attributes>_<n>.avi      6,766 clips, 51 classes
    testTrainMulti_7030_splits/<class>_test_split<N>.txt         "<video file name> <id>", N = 1..3

In a split file, id ``1`` is train, ``2`` is test and ``0`` is unused (HMDB51 keeps 70 train and
30 test clips per class and leaves the rest out). ``hmdb51_org.rar`` holds one ``<class>.rar``
per class; extracting those with a tool that makes a folder per archive gives
``hmdb51_org/<class>/<class>/*.avi``, which is read as well. ``videos=`` and ``splits=``
replace the two folders (absolute, or relative to the root).

How the reader decides:

- Classes are the sorted class names of the split files of the chosen split.
- The id is the last whitespace-separated token of a line; the rest, stripped, is the file name
  (HMDB51 names hold ``#``, ``&``, ``(``, ``)``, ``'`` and ``!``).
- The group of a clip is its source film: the part of the name before the last ``_<class>_``,
  for example ``Glorious_Basterds_(2009)`` for ``Glorious_Basterds_(2009)_sword_f_cm_np1_le_goo_3.avi``.
  A name without ``_<class>_`` falls back to the name without its trailing ``_<n>`` (with a note).
  The official splits keep a film on one side *within* a class only; when a film reaches both
  sides through two classes, a note says so.
- A line repeated in one file counts once (note); a video given two different ids (train in one
  line, test in another) is refused with a :class:`~hybridvid_lib.errors.DatasetError` that names it,
  as no rule can tell which id is right and train + test would leak. A video on disk that no split
  file of the chosen split names is reported in a note and in ``metadata["unlisted"]``.
- A listed name that would leave the video folder (``..``, absolute, a drive) or that is a symbolic
  link leading out of it is never opened: it goes to ``refused`` (with a note), not to a subset.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from hybridvid_lib.data.datasets.common import (
    VideoIndex,
    finish_split,
    normalize_relpath,
    outside_root_reason,
    read_list_file,
    require_override,
    require_root,
    resolve_folder,
    some,
    split_trailing_int,
)
from hybridvid_lib.data.records import DatasetSplit, Record
from hybridvid_lib.errors import DatasetError

VIDEO_DIR = "hmdb51_org"
LIST_DIR = "testTrainMulti_7030_splits"
SUBSET_OF_ID = {1: "train", 2: "test", 0: "unused"}

_SPLIT_FILE_RE = re.compile(r"^(?P<cls>.+)_test_split(?P<n>\d+)\.txt$", re.IGNORECASE)
_TRAILING_INDEX_RE = re.compile(r"_\d+$")


def read_hmdb51(
    root: str | os.PathLike,
    *,
    videos: str | os.PathLike | None = None,
    splits: str | os.PathLike | None = None,
    split: int = 1,
    check_videos: bool = True,
    progress: bool = False,
) -> DatasetSplit:
    """Read split ``split`` (1-3) of HMDB51 as extracted from the official archives.

    Args:
        root: folder holding ``hmdb51_org/`` and ``testTrainMulti_7030_splits/``.
        videos, splits: other locations of those two folders (absolute, or relative to ``root``).
        split: official split number.
        check_videos: open every listed video that exists and list those that do not decode.
        progress: show a tqdm bar while checking videos.

    Raises:
        DatasetError: no such root, no HMDB51 layout in it, an unknown split, or a malformed split file.
    """
    root = require_root(root)
    video_root, videos_given = resolve_folder(root, videos, VIDEO_DIR)
    list_dir, splits_given = resolve_folder(root, splits, LIST_DIR)
    if videos_given:
        require_override(video_root, "--videos", "video")
    if splits_given:
        require_override(list_dir, "--splits", "split-list")
    absent = [f"{p.name}/" for p in (video_root, list_dir) if not p.is_dir()]
    if absent:
        unextracted = [f"{p.name}.rar" for p in (video_root, list_dir) if p.with_suffix(".rar").is_file()]
        hint = f" (extract {', '.join(unextracted)} first)" if unextracted else ""
        raise DatasetError(
            f"No HMDB51 dataset in {root}: expected {VIDEO_DIR}/ and {LIST_DIR}/ there "
            f"(missing: {', '.join(absent)}){hint}, or pass --videos and --splits."
        )

    split_files = _split_files(list_dir)
    if not split_files:
        raise DatasetError(
            f"{list_dir} holds no split files; expected files like brush_hair_test_split1.txt "
            "from test_train_splits.rar."
        )
    if split not in split_files:
        raise DatasetError(
            f"Split {split} is not available in {list_dir}: it has split files for split "
            f"{', '.join(str(n) for n in sorted(split_files))}."
        )
    files = split_files[split]
    classes = sorted(files)
    index = VideoIndex.scan(video_root)
    result = DatasetSplit(format="hmdb51", split=split, classes=classes, video_root=video_root)

    seen: dict[str, tuple[str, str]] = {}  # relpath -> (subset, "<file> line <n>") of its first line
    duplicates: list[str] = []
    contradictions: list[str] = []
    outside: list[str] = []
    guessed_groups: list[str] = []
    for label, class_name in enumerate(classes):
        list_path = files[class_name]
        for line in read_list_file(list_path):
            name_text, video_id = split_trailing_int(line.text)
            if video_id not in SUBSET_OF_ID:
                raise DatasetError(
                    f"{list_path.name} line {line.lineno} reads {line.text!r}; expected "
                    "'<video file name> <id>' with id 1 (train), 2 (test) or 0 (unused)."
                )
            reason = outside_root_reason(name_text)
            if reason is not None:
                result.refused.append(name_text)
                outside.append(f"{list_path.name} line {line.lineno}: {name_text!r}, {reason}")
                continue
            name = normalize_relpath(name_text)
            relpath = _locate(index, class_name, name)
            if index.escapes(relpath):
                continue  # a link leading out of the video folder: finish_split reports it as refused
            subset = SUBSET_OF_ID[video_id]
            where = f"{list_path.name} line {line.lineno}"
            if relpath in seen:
                first_subset, first_where = seen[relpath]
                if first_subset == subset:
                    duplicates.append(relpath)
                else:
                    contradictions.append(f"{relpath}: {first_subset} in {first_where}, {subset} in {where}")
                continue
            seen[relpath] = (subset, where)
            stem = Path(name).stem
            group = film_of(stem, class_name)
            if group is None:
                group = _TRAILING_INDEX_RE.sub("", stem)
                guessed_groups.append(relpath)
            result.subset(subset).append(Record.of_video(
                relpath, video_root / relpath, label, class_name, group,
            ))

    if contradictions:
        raise DatasetError(
            f"Split {split} gives {len(contradictions)} video(s) two different ids ({some(contradictions, 2)}); "
            "expected one id per video (train and test would leak): fix the split files."
        )
    notes = result.notes
    if outside:
        notes.append(f"Split-file entries that lead out of the video folder: {len(outside)} "
                     f"({some(outside, 2)}); refused and never opened.")
    if duplicates:
        notes.append(f"Duplicate split-file lines: {len(duplicates)} ({some(duplicates)}); "
                     "each video is counted once.")
    if guessed_groups:
        notes.append(f"File names without _<class>_: {len(guessed_groups)} ({some(guessed_groups)}); "
                     "their group is the name without its trailing number.")
    other_splits = sorted(n for n in split_files if set(split_files[n]) != set(files))
    if other_splits:
        notes.append(f"Split {split} has split files for {len(files)} classes but split "
                     f"{', '.join(map(str, other_splits))} for a different set.")
    _note_unextracted(result, index, video_root)
    _note_cross_class_films(result)
    return finish_split(result, index, check_videos=check_videos, progress=progress,
                        list_name=f"split {split} in {list_dir.name}/")


def film_of(stem: str, class_name: str) -> str | None:
    """The source film of an HMDB51 clip: the stem before the last ``_<class>_`` (``None`` if absent)."""
    position = stem.casefold().rfind(f"_{class_name.casefold()}_")
    return stem[:position] if position > 0 else None


def _split_files(list_dir: Path) -> dict[int, dict[str, Path]]:
    """``{split: {class: path}}`` of the ``<class>_test_split<N>.txt`` files in ``list_dir``."""
    found: dict[int, dict[str, Path]] = {}
    for path in sorted(list_dir.iterdir()):
        match = _SPLIT_FILE_RE.match(path.name)
        if match and path.is_file():
            found.setdefault(int(match.group("n")), {})[match.group("cls")] = path
    return found


def _locate(index: VideoIndex, class_name: str, name: str) -> str:
    """Relpath of a listed file: ``<class>/<name>``, or ``<class>/<class>/<name>`` when extracted nested."""
    candidates = [f"{class_name}/{name}", f"{class_name}/{class_name}/{name}"]
    if "/" in name:
        candidates.append(name)  # a split file that already names the folder
    for candidate in candidates:
        found = index.resolve(candidate)
        if found is not None:
            return found
        if index.escapes(candidate):
            return candidate
    return candidates[0]


def _note_unextracted(result: DatasetSplit, index: VideoIndex, video_root: Path) -> None:
    """A note for each class whose folder is absent while ``<class>.rar`` sits in the video folder."""
    on_disk = {rel.split("/", 1)[0].casefold() for rel in index.relpaths}
    for class_name in result.classes:
        archive = video_root / f"{class_name}.rar"
        if class_name.casefold() not in on_disk and archive.is_file():
            result.notes.append(
                f"{VIDEO_DIR}/{archive.name} is not extracted, so the videos of {class_name!r} are missing; "
                f"extract it so that {class_name}/ holds its .avi files."
            )


def _note_cross_class_films(result: DatasetSplit) -> None:
    train_films = {r.group for r in result.train}
    both = sorted(train_films & {r.group for r in result.test})
    if both:
        result.notes.append(
            f"Source films with clips in both train and test: {len(both)} ({some(both)}); the official "
            "split keeps a film on one side within each class, not across classes."
        )
