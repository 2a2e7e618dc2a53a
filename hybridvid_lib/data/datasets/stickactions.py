"""StickActions, the kit's generated dataset, read from the UCF101-style layout ``hybridvid data synth`` writes.

::

    stickactions.json                                    metadata; written last, "complete": true when whole
    videos/<Class>/v_<Class>_g<GG>_c<CC>.avi             MJPG, RGB, 25 fps
    videos/<Class>/v_<Class>_g<GG>_c<CC>.skeleton.npy    float32 (T, J, 3): x pixel, y pixel, confidence;
                                                         (T, J, 3, 2) when metadata "persons" is 2 (preset hard)
    splits/classInd.txt, trainlist0N.txt, testlist0N.txt UCF101 list format, N = 1..3

The lists are read exactly as UCF101's (:func:`~hybridvid_lib.data.datasets.ucf101.read_ucf_style_lists`).
From ``stickactions.json`` come the class order, ``reverse_pairs`` (classes that are each
other's time-reverse) and ``mirror_pairs`` (classes a horizontal flip swaps); everything else
(skeleton graph, fps, frame size, preset, seed, nuisance factors) goes to ``DatasetSplit.metadata``.
Each record's ``skeleton_path`` is its ``.skeleton.npy`` file, or ``None`` (with a note) when absent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hybridvid_lib.data.datasets.common import require_override, require_root, resolve_folder, some
from hybridvid_lib.data.datasets.ucf101 import read_ucf_style_lists
from hybridvid_lib.data.records import DatasetSplit
from hybridvid_lib.errors import DatasetError

METADATA_FILE = "stickactions.json"
VIDEO_DIR = "videos"
LIST_DIR = "splits"
SKELETON_SUFFIX = ".skeleton.npy"


def skeleton_path_for(video_path: Path) -> Path:
    """``videos/Wave/v_Wave_g01_c01.avi`` -> ``videos/Wave/v_Wave_g01_c01.skeleton.npy``."""
    return video_path.with_name(video_path.stem + SKELETON_SUFFIX)


def read_metadata(root: Path) -> dict[str, Any]:
    """The parsed ``stickactions.json`` of a complete build.

    Raises:
        DatasetError: the file is absent (no StickActions here), unreadable JSON, or the build is incomplete.
    """
    path = root / METADATA_FILE
    if not path.is_file():
        raise DatasetError(
            f"No StickActions dataset in {root} ({METADATA_FILE} is missing); "
            f"build it with `hybridvid data synth --out {root}`."
        )
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DatasetError(
            f"{path} is not valid JSON ({err}); rebuild with `hybridvid data synth --out {root} --force`."
        ) from None
    if not isinstance(meta, dict) or meta.get("complete") is not True:
        raise DatasetError(
            f"The StickActions build in {root} is incomplete (interrupted?); rerun "
            f"`hybridvid data synth --out {root}` to finish it."
        )
    return meta


def read_stickactions(
    root: str | os.PathLike,
    *,
    videos: str | os.PathLike | None = None,
    splits: str | os.PathLike | None = None,
    split: int = 1,
    check_videos: bool = True,
    progress: bool = False,
) -> DatasetSplit:
    """Read split ``split`` (1-3) of a StickActions folder written by ``hybridvid data synth``.

    Args:
        root: the folder holding ``stickactions.json``, ``videos/`` and ``splits/``.
        videos, splits: other locations of ``videos/`` and ``splits/`` (absolute, or relative to ``root``).
        split: split number.
        check_videos: open every listed video and list those that do not decode.
        progress: show a tqdm bar while checking videos.

    Raises:
        DatasetError: no such root, no (complete) StickActions in it, or lists that disagree with the metadata.
    """
    root = require_root(root)
    meta = read_metadata(root)
    video_root, videos_given = resolve_folder(root, videos, VIDEO_DIR)
    list_dir, splits_given = resolve_folder(root, splits, LIST_DIR)
    if videos_given:
        require_override(video_root, "--videos", "video")
    if splits_given:
        require_override(list_dir, "--splits", "split-list")
    absent = [f"{p.name}/" for p in (video_root, list_dir) if not p.is_dir()]
    if absent:
        raise DatasetError(
            f"The StickActions folder {root} lacks {' and '.join(absent)}; rebuild it with "
            f"`hybridvid data synth --out {root} --force`."
        )
    result = read_ucf_style_lists(
        format_name="stickactions", video_root=video_root, list_dir=list_dir, split=split,
        check_videos=check_videos, progress=progress,
        lists_hint=f"the lists `hybridvid data synth --out {root}` writes",
    )
    classes = list(meta.get("classes") or [])
    if classes != result.classes:
        raise DatasetError(
            f"{METADATA_FILE} lists classes {some(classes, 4)} but {list_dir.name}/classInd.txt lists "
            f"{some(result.classes, 4)}; expected the same classes in the same order "
            f"(rebuild with `hybridvid data synth --out {root} --force`)."
        )
    result.reverse_pairs = [tuple(pair) for pair in meta.get("reverse_pairs", [])]
    result.mirror_pairs = [tuple(pair) for pair in meta.get("mirror_pairs", [])]
    result.metadata.update(
        {k: v for k, v in meta.items() if k not in ("classes", "reverse_pairs", "mirror_pairs", "complete")}
    )

    without_skeleton: list[str] = []
    for name in ("train", "test", "unused"):
        records = result.subset(name)
        for i, record in enumerate(records):
            skeleton = skeleton_path_for(record.path)
            if skeleton.is_file():
                records[i] = record.with_file("skeleton", skeleton)
            else:
                without_skeleton.append(record.relpath)
    if without_skeleton:
        result.notes.append(
            f"Videos without a {SKELETON_SUFFIX} file beside them: {len(without_skeleton)} "
            f"({some(without_skeleton)}); they have no skeleton file."
        )
    return result
