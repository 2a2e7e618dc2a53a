"""Small hand-made datasets that only the tests need: a user's own class folders, and a StickActions set.

The writers of UCF101 and HMDB51 in their official layouts stay in the library
(:mod:`hybridvid_lib.data.mock_layouts`), because notebook 00 shows learners the quirks they plant;
these two serve the tests of the ``folder`` and ``stickactions`` readers and of the skeleton code.

- :func:`write_mock_folder`: ``<class>/...`` videos named three ways, with the quirks of real folders.
- :func:`write_mock_stickactions`: the layout ``hybridvid data synth`` writes, built in a blink: tiny
  moving-square videos, but real skeletons (the 18 joints of
  :data:`~hybridvid_lib.data.skeletons.STICK_FIGURE`, each class's own motion) and the generator's
  metadata fields, so that mirror maps and skeleton pipelines work on it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from hybridvid_lib.data.mock_layouts import check_counts, make_unreadable, write_clip, write_list
from hybridvid_lib.data.skeletons import STICK_FIGURE
from hybridvid_lib.data.synth.actions import CLASSES, MIRROR_PAIRS, REVERSE_PAIRS, action_poses
from hybridvid_lib.data.synth.figure import BodyShape, pose_to_joints
from hybridvid_lib.data.synth.generate import (
    FPS, METADATA_NAME, VERSION, group_folds, skeleton_path, video_relpath,
)
from hybridvid_lib.io_utils import atomic_save_npy, atomic_write_bytes, atomic_write_json

FOLDER_CLASSES = ("clap", "jump", "wave")
FOLDER_QUIRKY_ACTORS = ("ann", "bob_&_co", "chris_o'neil", "#dana", "eve(2)!")


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
    check_counts(quirks, classes=(len(classes), 1), groups=(groups, 3), clips=(clips, 1))
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
def mock_skeleton(class_name: str, frames: int, size: tuple[int, int], seed: int) -> np.ndarray:
    """Joints of one mock clip: ``(T, J, 3)`` float32 for :data:`STICK_FIGURE` (x pixel, y pixel, confidence).

    The figure does ``class_name``'s motion, standing in the middle of an ``(H, W)`` frame;
    confidence is 1 for joints inside the frame and 0 outside, as the generator writes it.
    """
    height, width = size
    poses = action_poses(class_name, np.random.default_rng(seed), frames)
    xy = pose_to_joints(poses, BodyShape(), anchor_x=(width - 1) / 2, ground_y=0.92 * (height - 1),
                        height=0.7 * height)
    inside = (xy[..., 0] >= 0) & (xy[..., 0] <= width - 1) & (xy[..., 1] >= 0) & (xy[..., 1] <= height - 1)
    return np.concatenate([xy, inside[..., None]], axis=-1).astype(np.float32)


def write_mock_stickactions(
    root: str | os.PathLike,
    classes: Sequence[str] = CLASSES,
    groups: int = 3,
    clips: int = 1,
    frames: int = 8,
    size: tuple[int, int] = (32, 32),
    complete: bool = True,
    skeletons: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """Write a hand-made StickActions folder in the layout ``hybridvid data synth`` produces.

    Same file names, list format, folds (consecutive blocks of groups, fold ``N`` is the test
    side of split ``N``) and ``stickactions.json`` fields as the generator, with ``"complete":
    complete`` and ``"preset": "mock"``. Videos are tiny moving squares; the skeletons are real
    (see :func:`mock_skeleton`).

    Args:
        classes: StickActions class names (their motions make the skeletons); stored sorted, the label order.
        groups: actor groups, at least 3 (one fold each at least).
        skeletons: write a ``.skeleton.npy`` beside every video.

    Returns:
        ``root``, ``classes``, ``num_videos``, ``joints`` (joint names), ``splits`` =
        ``{N: {"train", "test", "test_groups"}}`` and ``metadata`` (what ``stickactions.json`` holds).
    """
    root = Path(root)
    classes = sorted(classes)
    unknown = sorted(set(classes) - set(CLASSES))
    if unknown:
        raise ValueError(f"Mock StickActions classes must be StickActions classes (their motions make the "
                         f"skeletons); unknown: {', '.join(unknown)}. Known: {', '.join(CLASSES)}.")
    check_counts(False, classes=(len(classes), 1), groups=(groups, 3), clips=(clips, 1))
    videos = []
    for ci, cls in enumerate(classes):
        for g in range(1, groups + 1):
            for c in range(1, clips + 1):
                relpath = video_relpath(cls, g, c)
                video = write_clip(root / "videos" / relpath, frames, size, seed + len(videos), "MJPG")
                if skeletons:
                    atomic_save_npy(skeleton_path(video), mock_skeleton(cls, frames, size, seed + len(videos)))
                videos.append((ci, g, relpath))

    folds = group_folds(groups)
    splits_dir = root / "splits"
    write_list(splits_dir / "classInd.txt", [f"{i + 1} {name}" for i, name in enumerate(classes)])
    info: dict[str, Any] = {"root": root, "classes": classes, "num_videos": len(videos),
                            "joints": list(STICK_FIGURE.joints), "splits": {}}
    for split, test_groups in enumerate(folds, start=1):
        test = [(ci, g, r) for ci, g, r in videos if g in test_groups]
        train = [(ci, g, r) for ci, g, r in videos if g not in test_groups]
        write_list(splits_dir / f"trainlist{split:02d}.txt", [f"{r} {ci + 1}" for ci, _, r in train])
        write_list(splits_dir / f"testlist{split:02d}.txt", [r for _, _, r in test])
        info["splits"][split] = {"train": len(train), "test": len(test),
                                 "test_groups": [f"g{g:02d}" for g in test_groups]}
    present = set(classes)
    info["metadata"] = {
        "name": "StickActions", "version": VERSION, "preset": "mock", "seed": seed, "complete": complete,
        "classes": classes,
        "reverse_pairs": [list(p) for p in REVERSE_PAIRS if set(p) <= present],
        "mirror_pairs": [list(p) for p in MIRROR_PAIRS if set(p) <= present],
        "skeleton": STICK_FIGURE.to_dict(), "fps": FPS, "frame_size": list(size), "num_videos": len(videos),
        "groups": groups, "clips_per_group": clips, "folds": folds, "factors": {"mock": True},
    }
    atomic_write_json(root / METADATA_NAME, info["metadata"])
    return info
