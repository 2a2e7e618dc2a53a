"""A plain folder of class folders: your own videos, without list files.

Layout (``--root``, or ``--videos`` for a video folder elsewhere)::

    <class>/<video files>                e.g. wave/ann_01.mp4
    <class>/<group>/<video files>        e.g. wave/ann/take1.mp4   (one sub-folder per actor or scene)

Every visible file with a video extension (``.avi``, ``.mp4``, ``.mkv``, ``.webm``, ``.mov``, ...,
any capitals) counts, except a symbolic link that leads out of the folder: it is never opened and
goes to ``refused`` (with a note). Classes are the sorted names of the top-level folders; a video directly
in the root belongs to no class and is named in a note.

With no list files, the reader makes its own three splits, and keeps them group-aware:

1. **Group.** The group of a video is, in this order:

   a. its UCF-style ``_gNN`` token (``v_Wave_g08_c01.avi`` -> ``g08``, shared by all classes);
   b. else its sub-folder below the class folder (``wave/ann/take1.mp4`` -> ``ann``, shared by all classes);
   c. else (fallback) its file stem without a trailing number, within its class
      (``wave/ann_01.mp4`` -> ``wave/ann``; ``wave/0007.mp4`` -> ``wave/0007``).

2. **Folds.** Groups go to 3 folds with :func:`hybridvid_lib.data.splits.group_kfold_assign`
   (seed 0): whole groups, balanced video counts, a stable hash rather than Python's salted ``hash()``,
   so every machine gets the same folds. Split ``N`` (1-3) tests fold ``N`` and trains on the other two.

The fallback (c) is a guess: if file names do not start with the actor or scene, clips of one
recording can end up in train and test, and test accuracy is then too optimistic. When it is
used, ``DatasetSplit.notes`` says so; name your files ``<actor>_<n>`` or use group sub-folders.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from hybridvid_lib.data.datasets.common import (
    VideoIndex,
    fallback_group,
    find_unreadable,
    require_override,
    require_root,
    resolve_folder,
    some,
    ucf_group,
)
from hybridvid_lib.data.records import DatasetSplit, Record
from hybridvid_lib.data.splits import group_kfold_assign
from hybridvid_lib.data.video import VIDEO_EXTENSIONS
from hybridvid_lib.errors import DatasetError

NUM_FOLDS = 3
FOLD_SEED = 0


def read_folder(
    root: str | os.PathLike,
    *,
    videos: str | os.PathLike | None = None,
    splits: str | os.PathLike | None = None,
    split: int = 1,
    check_videos: bool = True,
    progress: bool = False,
) -> DatasetSplit:
    """Read a folder of class folders and make group-aware split ``split`` (1-3).

    Args:
        root: the folder of class folders.
        videos: the folder of class folders when it is not ``root`` itself (absolute, or relative to ``root``).
        splits: must be ``None``; this format has no list files.
        split: which third of the groups is the test side.
        check_videos: open every video and list those that do not decode.
        progress: show a tqdm bar while checking videos.

    Raises:
        DatasetError: no such root, no class folder with videos, a split other than 1-3,
            ``splits`` given, or fewer than 3 groups.
    """
    root = require_root(root)
    if splits is not None:
        raise DatasetError(
            "The folder format has no split lists, so --splits cannot be used; it makes group-aware "
            "splits 1-3 itself (see hybridvid_lib.data.datasets.folder)."
        )
    if split not in range(1, NUM_FOLDS + 1):
        raise DatasetError(
            f"Split {split} is not available for the folder format; expected 1, 2 or 3 "
            "(each tests one third of the groups)."
        )
    video_root = root
    if videos is not None:
        video_root, _ = resolve_folder(root, videos, ".")
        require_override(video_root, "--videos", "video")

    index = VideoIndex.scan(video_root)
    stray = [rel for rel in index.relpaths if "/" not in rel]
    in_classes = [rel for rel in index.relpaths if "/" in rel]
    if not in_classes:
        found = f"; found {len(stray)} videos directly in it, which need class folders" if stray else ""
        raise DatasetError(
            f"No class folders with videos in {video_root}: expected <class>/<video files> "
            f"({', '.join(VIDEO_EXTENSIONS[:4])}, ...){found}."
        )
    classes = sorted({rel.split("/", 1)[0] for rel in in_classes})
    label_of = {name: i for i, name in enumerate(classes)}

    records: list[Record] = []
    rules: Counter[str] = Counter()
    for rel in in_classes:
        parts = rel.split("/")
        class_name, stem = parts[0], Path(rel).stem
        group = ucf_group(stem)
        if group is not None:
            rules["_gNN token"] += 1
        elif len(parts) > 2:
            group = parts[1]
            rules["sub-folder"] += 1
        else:
            group = fallback_group(class_name, stem)
            rules["file-name fallback"] += 1
        records.append(Record.of_video(rel, video_root / rel, label_of[class_name], class_name, group))

    folds = group_kfold_assign([r.group for r in records], NUM_FOLDS, seed=FOLD_SEED)
    result = DatasetSplit(format="folder", split=split, classes=classes, video_root=video_root)
    for record in records:
        (result.test if folds[record.group] == split - 1 else result.train).append(record)
    result.metadata["group_rules"] = dict(rules)
    result.metadata["folds"] = {g: folds[g] + 1 for g in sorted(folds)}

    notes = result.notes
    notes.append(
        f"Split {split} is made by the folder reader: {len(folds)} groups "
        f"({', '.join(f'{n} videos by {rule}' for rule, n in sorted(rules.items()))}) in 3 folds; "
        f"fold {split} is the test side."
    )
    if rules["file-name fallback"]:
        notes.append(
            f"Videos with no _gNN token and no group sub-folder: {rules['file-name fallback']}; their "
            "group was guessed from the file name (stem without trailing number, per class); clips of one "
            "actor or scene may be in both train and test, which makes test accuracy too optimistic. "
            "Use <class>/<group>/<video> folders to be sure."
        )
    if stray:
        notes.append(f"Videos directly in {video_root} with no class folder: {len(stray)} ({some(stray)}); "
                     "they are not used.")
    result.refused = list(index.escaping)
    notes.extend(index.notes())
    result.unreadable = (find_unreadable({r.relpath: r.path for r in records}, progress=progress)
                         if check_videos else [])
    if not check_videos:
        notes.append("Videos were not opened (check_videos=False), so unreadable files are not listed.")
    return result
