"""UCF101 in its official layout, and the list format StickActions shares with it.

The folder the two official archives were extracted into (``--root``)::

    UCF-101/<Class>/v_<Class>_g<GG>_c<CC>.avi        13,320 clips, 101 classes, 25 groups
    ucfTrainTestlist/classInd.txt                    "1 ApplyEyeMakeup"            (1-based)
    ucfTrainTestlist/trainlist01.txt                 "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1"
    ucfTrainTestlist/testlist01.txt                  "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi"

``videos=`` and ``splits=`` replace the two folders (absolute, or relative to the root).

How the reader decides (each decision also shows up as a note in ``DatasetSplit.notes``):

- The label of a video is the ``classInd.txt`` index of its class *folder*, 0-based. A trainlist
  label that disagrees with that index does not win: the folder is where the video is, the
  test list has no labels at all, and one rule for both subsets keeps them consistent. Each
  disagreement is counted in a note.
- Class folders match ``classInd.txt`` ignoring capitals (the real ``classInd.txt`` says
  ``HandStandPushups``, the folder says ``HandstandPushups``); the ``classInd.txt`` spelling names the class.
- A path listed twice in one list counts once (note). A path listed in both train and test is
  refused with a :class:`~hybridvid_lib.errors.DatasetError` naming it: it would be tested on what
  it was trained on, and no rule can tell which list is right.
- A listed path that would leave the video folder (``..``, absolute, a drive) or that is a symbolic
  link leading out of it is never opened: it goes to ``refused`` (with a note), not to a subset.
- Only the last whitespace-separated token of a line can be its label; backslashes in paths become ``/``.
- The group of a clip is its ``gGG`` token, shared by all classes as in the official splits
  (split 1 tests groups 1-7 of every class).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from hybridvid_lib.data.datasets.common import (
    ClassNameMatcher,
    VideoIndex,
    fallback_group,
    finish_split,
    normalize_relpath,
    outside_root_reason,
    read_list_file,
    require_override,
    require_root,
    resolve_folder,
    some,
    split_trailing_int,
    ucf_group,
)
from hybridvid_lib.data.records import DatasetSplit, Record
from hybridvid_lib.errors import DatasetError

VIDEO_DIR = "UCF-101"
LIST_DIR = "ucfTrainTestlist"
CLASS_INDEX = "classInd.txt"

_LIST_NAME_RE = re.compile(r"^(train|test)list(\d+)\.txt$", re.IGNORECASE)
_UCF_STEM_RE = re.compile(r"^v_(?P<cls>.+?)_g\d+_c\d+$", re.IGNORECASE)


def read_ucf101(
    root: str | os.PathLike,
    *,
    videos: str | os.PathLike | None = None,
    splits: str | os.PathLike | None = None,
    split: int = 1,
    check_videos: bool = True,
    progress: bool = False,
) -> DatasetSplit:
    """Read split ``split`` (1-3) of UCF101 as extracted from the official archives.

    Args:
        root: folder holding ``UCF-101/`` and ``ucfTrainTestlist/``.
        videos, splits: other locations of those two folders (absolute, or relative to ``root``).
        split: official split number.
        check_videos: open every listed video that exists and list those that do not decode.
        progress: show a tqdm bar while checking videos.

    Raises:
        DatasetError: no such root, no UCF101 layout in it, an unknown split, or broken list files.
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
        raise DatasetError(
            f"No UCF101 dataset in {root}: expected {VIDEO_DIR}/ and {LIST_DIR}/ there "
            f"(missing: {', '.join(absent)}), or pass --videos and --splits."
        )
    return read_ucf_style_lists(
        format_name="ucf101", video_root=video_root, list_dir=list_dir, split=split,
        check_videos=check_videos, progress=progress,
        lists_hint="the lists of UCF101TrainTestSplits-RecognitionTask.zip",
    )


def parse_class_index(path: Path) -> list[str]:
    """Class names of a ``classInd.txt`` (``"1 ApplyEyeMakeup"`` lines), in label order.

    Raises:
        DatasetError: a malformed line, numbers other than 1..N each once, or no class at all.
    """
    numbered: dict[int, str] = {}
    for line in read_list_file(path):
        parts = line.text.split(None, 1)
        if len(parts) != 2 or not parts[0].isdigit():
            raise DatasetError(
                f"{path.name} line {line.lineno} reads {line.text!r}; expected '<number> <ClassName>'."
            )
        number, name = int(parts[0]), parts[1].strip()
        if number in numbered and numbered[number] != name:
            raise DatasetError(
                f"{path.name} gives number {number} to both {numbered[number]!r} and {name!r}; "
                "expected each number once."
            )
        numbered[number] = name
    if not numbered:
        raise DatasetError(f"{path} lists no classes; expected lines like '1 ApplyEyeMakeup'.")
    if sorted(numbered) != list(range(1, len(numbered) + 1)):
        raise DatasetError(
            f"{path.name} numbers its classes {some(str(n) for n in sorted(numbered))}; "
            f"expected 1 to {len(numbered)}, each once."
        )
    return [numbered[n] for n in range(1, len(numbered) + 1)]


def available_splits(list_dir: Path) -> dict[int, dict[str, Path]]:
    """``{split: {"train": path, "test": path}}`` for every split that has both list files."""
    found: dict[int, dict[str, Path]] = {}
    for path in sorted(list_dir.iterdir()):
        match = _LIST_NAME_RE.match(path.name)
        if match and path.is_file():
            found.setdefault(int(match.group(2)), {})[match.group(1).lower()] = path
    return {n: files for n, files in sorted(found.items()) if len(files) == 2}


def read_ucf_style_lists(
    *,
    format_name: str,
    video_root: Path,
    list_dir: Path,
    split: int,
    check_videos: bool,
    progress: bool,
    lists_hint: str,
) -> DatasetSplit:
    """Read ``classInd.txt`` + ``trainlistNN.txt`` / ``testlistNN.txt`` against the videos below ``video_root``.

    Shared by UCF101 and StickActions (same list format). ``lists_hint`` names where the
    lists should come from, for the error when they are absent.
    """
    class_file = list_dir / CLASS_INDEX
    if not class_file.is_file():
        raise DatasetError(
            f"{list_dir} has no {CLASS_INDEX}; expected {CLASS_INDEX}, trainlistNN.txt and testlistNN.txt "
            f"there ({lists_hint})."
        )
    classes = parse_class_index(class_file)
    splits = available_splits(list_dir)
    if not splits:
        raise DatasetError(
            f"{list_dir} holds no pair of trainlistNN.txt and testlistNN.txt; expected {lists_hint}."
        )
    if split not in splits:
        raise DatasetError(
            f"Split {split} is not available in {list_dir}: it has lists for split "
            f"{', '.join(str(n) for n in splits)}."
        )

    matcher = ClassNameMatcher(classes, source=CLASS_INDEX)
    index = VideoIndex.scan(video_root)
    result = DatasetSplit(format=format_name, split=split, classes=classes, video_root=video_root)
    seen: dict[str, set[str]] = {}
    duplicates: list[str] = []
    in_both: list[str] = []
    disagreeing: list[str] = []
    unlabelled: list[str] = []
    guessed_groups: list[str] = []
    outside: list[str] = []

    for subset in ("train", "test"):
        list_path = splits[split][subset]
        for line in read_list_file(list_path):
            path_text, listed_label = split_trailing_int(line.text)
            reason = outside_root_reason(path_text)
            if reason is not None:
                result.refused.append(path_text)
                outside.append(f"{list_path.name} line {line.lineno}: {path_text!r}, {reason}")
                continue
            listed = normalize_relpath(path_text)
            folder, relpath = _class_folder(listed)
            if folder is None:
                raise DatasetError(
                    f"{list_path.name} line {line.lineno} reads {line.text!r}; expected "
                    "'<Class>/v_<Class>_gGG_cCC.avi' (followed by a label in train lists)."
                )
            label = matcher.match(folder)
            if label is None:
                raise DatasetError(
                    f"{list_path.name} line {line.lineno} lists {listed!r} in class folder {folder!r}, "
                    f"which {CLASS_INDEX} does not name; expected one of {some(classes, 5)}."
                )
            if listed_label is None and subset == "train":
                unlabelled.append(relpath)
            elif listed_label is not None and listed_label - 1 != label:
                disagreeing.append(f"{relpath} labelled {listed_label}, {CLASS_INDEX} says {label + 1}")

            relpath = index.resolve(relpath) or relpath
            if index.escapes(relpath):
                continue  # a link leading out of the video folder: finish_split reports it as refused
            subsets_listing = seen.setdefault(relpath, set())
            if subset in subsets_listing:
                duplicates.append(relpath)
                continue
            if subsets_listing:
                in_both.append(relpath)
            subsets_listing.add(subset)

            stem = Path(relpath).stem
            group = ucf_group(stem)
            if group is None:
                group = fallback_group(classes[label], stem)
                guessed_groups.append(relpath)
            result.subset(subset).append(Record.of_video(
                relpath, video_root / relpath, label, classes[label], group,
            ))

    notes = result.notes
    notes.extend(matcher.notes())
    if duplicates:
        notes.append(f"Duplicate list lines: {len(duplicates)} ({some(duplicates)}); "
                     "each video is counted once.")
    train_name, test_name = splits[split]["train"].name, splits[split]["test"].name
    if in_both:
        raise DatasetError(
            f"{train_name} and {test_name} both list {len(in_both)} video(s) ({some(in_both)}); expected each "
            "video on one side only (it would be tested on what it was trained on): remove it from one list."
        )
    if outside:
        notes.append(f"List entries that lead out of the video folder: {len(outside)} ({some(outside, 2)}); "
                     "refused and never opened.")
    if disagreeing:
        notes.append(f"List labels that disagree with {CLASS_INDEX} for the video's class folder: "
                     f"{len(disagreeing)} ({some(disagreeing, 2)}); the class folder decided the label.")
    if unlabelled:
        notes.append(f"Train list lines without a label: {len(unlabelled)} ({some(unlabelled)}); "
                     "the class folder gave the label.")
    if guessed_groups:
        notes.append(f"File names without a _gGG_ group token: {len(guessed_groups)} ({some(guessed_groups)}); "
                     "their group was guessed from the file name, so the split may leak.")
    return finish_split(result, index, check_videos=check_videos, progress=progress,
                        list_name=f"{train_name} / {test_name}")


def _class_folder(listed: str) -> tuple[str | None, str]:
    """``("Class", relpath)`` of a listed path; a bare ``v_Class_gGG_cCC.avi`` gets its folder from its name."""
    parts = listed.split("/")
    if len(parts) > 1:
        return parts[0], listed
    match = _UCF_STEM_RE.match(Path(listed).stem)
    if match is None:
        return None, listed
    return match.group("cls"), f"{match.group('cls')}/{listed}"
