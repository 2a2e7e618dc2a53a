"""Small hand-made datasets that only the tests need: a user's own class folders, and a StickActions set.

The writers of UCF101 and HMDB51 in their official layouts stay in the library
(:mod:`hybridvid_lib.data.mock_layouts`), because notebook 00 shows learners the quirks they plant;
these serve the tests of the ``folder``, ``stickactions`` and ``ntu`` readers and of the skeleton code.

- :func:`write_mock_folder`: ``<class>/...`` videos named three ways, with the quirks of real folders.
- :func:`write_mock_stickactions`: the layout ``hybridvid data synth`` writes, built in a blink: tiny
  moving-square videos, but real skeletons (the 18 joints of
  :data:`~hybridvid_lib.data.skeletons.STICK_FIGURE`, each class's own motion) and the generator's
  metadata fields, so that mirror maps and skeleton pipelines work on it.
- :func:`write_mock_ntu`: ``nturgb+d_skeletons/SsssCcccPpppRrrrAaaa.skeleton`` text files in the official
  format, with the quirks of the real archive (CRLF, frames without a body, broken files, stray files).
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


# --------------------------------------------------------------------------- NTU RGB+D
NTU_MOCK_SAMPLES = (
    # (setup, camera, performer, replication, action, frames, bodies)
    (1, 1, 1, 1, 1, 6, 1),
    (1, 2, 1, 2, 2, 6, 1),
    (2, 3, 3, 1, 1, 6, 1),
    (2, 1, 3, 2, 50, 6, 2),  # a mutual action: two actors
    (3, 2, 2, 1, 2, 6, 1),
    (4, 3, 4, 1, 60, 6, 2),
)
"""The default samples of :func:`write_mock_ntu`; their sides under each protocol are easy to work out by hand."""

NTU_MOCK_BROKEN = {
    # name -> what is wrong with it; valid names, so they are listed samples that do not parse
    "S001C003P005R001A001.skeleton": "truncated",
    "S002C002P006R001A002.skeleton": "empty",
    "S003C001P007R001A003.skeleton": "no body",
}

# A standing person in Kinect camera space (metres): the 25 NTU joints, left_* and right_* joints on
# opposite sides of x = 0, y up, z the distance from the camera.
_NTU_STANDING = np.array([
    [0.00, -0.30, 3.0], [0.00, 0.00, 3.0], [0.00, 0.45, 3.0], [0.00, 0.60, 3.0],  # spine base, mid, neck, head
    [0.18, 0.35, 3.0], [0.25, 0.10, 3.0], [0.28, -0.12, 3.0], [0.29, -0.20, 3.0],  # left arm
    [-0.18, 0.35, 3.0], [-0.25, 0.10, 3.0], [-0.28, -0.12, 3.0], [-0.29, -0.20, 3.0],  # right arm
    [0.10, -0.32, 3.0], [0.11, -0.75, 3.0], [0.11, -1.15, 3.0], [0.12, -1.20, 2.9],  # left leg
    [-0.10, -0.32, 3.0], [-0.11, -0.75, 3.0], [-0.11, -1.15, 3.0], [-0.12, -1.20, 2.9],  # right leg
    [0.00, 0.38, 3.0],  # spine shoulder
    [0.30, -0.27, 3.0], [0.26, -0.20, 2.97], [-0.30, -0.27, 3.0], [-0.26, -0.20, 2.97],  # hand tips, thumbs
], np.float64)


def ntu_sample_name(setup: int, camera: int, performer: int, replication: int, action: int) -> str:
    """``"S001C002P003R002A013.skeleton"``."""
    return f"S{setup:03d}C{camera:03d}P{performer:03d}R{replication:03d}A{action:03d}.skeleton"


def ntu_skeleton_text(joints_per_frame: Sequence[Sequence[np.ndarray]], newline: str = "\r\n") -> str:
    """The text of an NTU ``.skeleton`` file: per frame, one ``(25, 3)`` array per body (an empty list: no body).

    Body IDs are Kinect-style 17-digit numbers, one per body slot; the other body and joint
    values (depth and colour pixels, orientation, tracking states) are plausible constants.
    """
    lines = [str(len(joints_per_frame))]
    for bodies in joints_per_frame:
        lines.append(str(len(bodies)))
        for slot, joints in enumerate(bodies):
            lines.append(f"{72057594037931101 + slot} 0 1 1 1 1 0 0.05 -0.12 2")
            lines.append("25")
            lines += [f"{x:.7f} {y:.7f} {z:.6f} 256.4 212.1 960.3 540.8 0.9 0.01 -0.2 0.03 2"
                      for x, y, z in joints]
    return newline.join(lines) + newline


def mock_ntu_frames(action: int, frames: int, bodies: int, seed: int) -> list[list[np.ndarray]]:
    """``frames`` frames of ``bodies`` standing people whose arms move at an action-dependent rate."""
    rng = np.random.default_rng(seed)
    out = []
    for t in range(frames):
        people = []
        for b in range(bodies):
            pose = _NTU_STANDING + [0.8 * b, 0.0, 0.3 * b]  # side by side
            swing = 0.1 * np.sin(2 * np.pi * t * (1 + action % 5) / max(frames, 1))
            pose[4:12, 1] += swing  # both arms
            people.append(pose + rng.normal(0, 0.002, pose.shape))
        out.append(people)
    return out


def write_mock_ntu(
    root: str | os.PathLike,
    samples: Sequence[tuple[int, int, int, int, int, int, int]] = NTU_MOCK_SAMPLES,
    *,
    quirks: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """Write ``root/nturgb+d_skeletons/`` with one official-format ``.skeleton`` text file per sample.

    Args:
        samples: ``(setup, camera, performer, replication, action, frames, bodies)`` per file.
        quirks: plant what the real archive does: CRLF line endings (LF without quirks), a frame
            with no body in the first sample, three broken samples with valid names
            (:data:`NTU_MOCK_BROKEN`: truncated, empty, no body in any frame), a ``readme.txt`` and a
            ``.DS_Store``, two ``.skeleton`` files with malformed names (a copy ``... (1).skeleton``
            and an action A121) and a sub-folder holding one ``.skeleton`` file.

    Returns:
        ``root``, ``skeleton_dir``, ``names`` (every file with a valid name, the samples a reader must
        list, sorted), ``ids`` (name -> the sample's tuple), ``unreadable`` (sorted), ``stray``,
        ``malformed``, ``subfolders`` and ``quirks`` (sentences).
    """
    root = Path(root)
    folder = root / "nturgb+d_skeletons"
    newline = "\r\n" if quirks else "\n"
    info: dict[str, Any] = {"root": root, "skeleton_dir": folder, "names": [], "ids": {}, "unreadable": [],
                            "stray": [], "malformed": [], "subfolders": [], "quirks": []}
    for n, (setup, camera, performer, replication, action, frames, bodies) in enumerate(samples):
        name = ntu_sample_name(setup, camera, performer, replication, action)
        data = mock_ntu_frames(action, frames, bodies, seed + n)
        if quirks and n == 0 and frames > 2:
            data[1] = []  # the tracker lost everybody for one frame
        atomic_write_bytes(folder / name, ntu_skeleton_text(data, newline).encode())
        info["ids"][name] = (setup, camera, performer, replication, action)
    if quirks:
        for name, damage in NTU_MOCK_BROKEN.items():
            text = ntu_skeleton_text(mock_ntu_frames(1, 4, 1, seed), newline)
            if damage == "truncated":
                data = text[: len(text) // 2].encode()  # an interrupted download
            elif damage == "empty":
                data = b""
            else:
                data = ntu_skeleton_text([[] for _ in range(5)], newline).encode()
            atomic_write_bytes(folder / name, data)
            ids = tuple(int(name[i + 1:i + 4]) for i in (0, 4, 8, 12, 16))
            info["ids"][name] = ids
            info["unreadable"].append(name)
        atomic_write_bytes(folder / "readme.txt", b"NTU RGB+D skeletons\r\n")
        atomic_write_bytes(folder / ".DS_Store", b"\x00\x00\x00\x01Bud1")
        info["stray"] = sorted([".DS_Store", "readme.txt"])
        first = ntu_sample_name(*samples[0][:5])
        copy = first.replace(".skeleton", " (1).skeleton")
        atomic_write_bytes(folder / copy, (folder / first).read_bytes())
        atomic_write_bytes(folder / "S001C001P001R001A121.skeleton", (folder / first).read_bytes())
        info["malformed"] = sorted([copy, "S001C001P001R001A121.skeleton"])
        atomic_write_bytes(folder / "old" / ntu_sample_name(9, 1, 1, 1, 1), (folder / first).read_bytes())
        info["subfolders"] = ["old"]
        info["quirks"] = [
            "CRLF line endings", f"a frame with no body in {first}",
            *(f"{damage}: {name}" for name, damage in NTU_MOCK_BROKEN.items()),
            "readme.txt and .DS_Store", f"malformed names: {', '.join(info['malformed'])}",
            "a sub-folder old/ with one .skeleton file",
        ]
    info["names"] = sorted(info["ids"])
    info["unreadable"] = sorted(info["unreadable"])
    return info
