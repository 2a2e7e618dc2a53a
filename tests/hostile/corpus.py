"""A corpus of hostile input, written into a temporary folder in the kit's real layouts.

Each builder writes a small, valid dataset with the library's own mock writers
(:mod:`hybridvid_lib.data.mock_layouts`, ``tests/support/mock_data.py``) and then plants, in
that same dataset:

==================  =================================================================================
``empty``           a listed video of 0 bytes
``text``            an HTML error page saved as ``.avi``
``truncated``       a real video cut right after its header, before any frame
``zero_frames``     a well-formed AVI container that holds no frame
``huge_frames``     a tiny file whose header and JPEG frames claim 12000 x 12000 pixels (a
                    decompression bomb: 432 MB a frame if it were decoded)
``one_frame``       a real one-frame video: valid, and must stay in the dataset
duplicate           a list line given twice (list formats)
outside entries     list lines with ``..`` that point at a real, decodable video outside the root
outside link        a symbolic link inside the video folder to that outside video (and, for the
                    ``folder`` format, a group folder that is a link to an outside folder)
==================  =================================================================================

Every builder returns a :class:`Corpus` saying what a reader must find: the valid videos of
each subset (every one must still be usable), the undecodable ones with their kind, the
refused entries, and the outside files that must never be opened.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from hybridvid_lib.data.mock_layouts import make_unreadable, write_clip, write_mock_hmdb51, write_mock_ucf101
from hybridvid_lib.io_utils import atomic_write_bytes
from tests.support.mock_data import write_mock_folder, write_mock_stickactions

UNDECODABLE = ("empty", "text", "truncated", "zero_frames", "huge_frames")
HUGE_SIDE = 12000  # above MAX_FRAME_PIXELS, below FFmpeg's own limit (so FFmpeg would try to decode it)


@dataclass
class Corpus:
    """What a builder planted, for the tests to check a reader against.

    Attributes:
        format: the ``load_dataset`` format name.
        root: the ``--root`` to pass.
        valid: subset -> relpaths of the valid videos (every one must be usable).
        undecodable: relpath -> kind (one of :data:`UNDECODABLE`); listed, must be in ``unreadable``.
        one_frame: relpath of the valid one-frame video.
        refused: what ``DatasetSplit.refused`` must hold (list entries as written, link relpaths).
        outside: files outside the root that must never be opened.
        duplicate: relpath listed twice (``None`` for the folder format).
        lists: subset -> the list file that subset's entries are in (list formats).
    """

    format: str
    root: Path
    valid: dict[str, set[str]] = field(default_factory=dict)
    undecodable: dict[str, str] = field(default_factory=dict)
    one_frame: str = ""
    refused: set[str] = field(default_factory=set)
    outside: list[Path] = field(default_factory=list)
    duplicate: str | None = None
    lists: dict[str, Path] = field(default_factory=dict)

    @property
    def num_valid(self) -> int:
        return sum(len(v) for v in self.valid.values())


# --------------------------------------------------------------------------- single files
def write_zero_frame_video(path: Path) -> Path:
    """A well-formed MJPG AVI with a header and no frame (a recording stopped before its first frame)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (32, 32))
    writer.release()
    return path


def write_huge_frame_video(path: Path, side: int = HUGE_SIDE) -> Path:
    """A 4-frame MJPG AVI of a few kilobytes whose container and every JPEG frame claim ``side x side`` pixels.

    FFmpeg opens it and reports that size; decoding a frame would allocate hundreds of megabytes.
    """
    write_clip(path, 4, (32, 32), 0, "MJPG")
    data = bytearray(path.read_bytes())
    pos = 0
    while (i := data.find(b"\xff\xc0", pos)) >= 0:  # JPEG SOF0: marker, length, precision, height, width
        struct.pack_into(">HH", data, i + 5, side, side)
        pos = i + 2
    avih = data.find(b"avih")  # main AVI header: 8 dwords before dwWidth, dwHeight
    struct.pack_into("<II", data, avih + 8 + 32, side, side)
    strf = data.find(b"strf")  # BITMAPINFOHEADER: biSize, then biWidth, biHeight
    struct.pack_into("<ii", data, strf + 12, side, side)
    return atomic_write_bytes(path, bytes(data))


def plant(path: Path, kind: str) -> Path:
    """Turn the video at ``path`` into one of :data:`UNDECODABLE`, or a valid ``one_frame`` video."""
    if kind in ("empty", "text", "truncated"):
        return make_unreadable(path, kind)
    if kind == "zero_frames":
        return write_zero_frame_video(path)
    if kind == "huge_frames":
        return write_huge_frame_video(path)
    if kind == "one_frame":
        return write_clip(path, 1, (32, 32), 7, "MJPG")
    raise ValueError(f"Unknown hostile kind {kind!r}.")


def write_outside(base: Path) -> dict[str, Path]:
    """Real, decodable videos outside every dataset root: opening them would be a leak out of the root."""
    secret = write_clip(base / "outside" / "secret.avi", 8, (32, 32), 99, "MJPG")
    folder_video = write_clip(base / "outside" / "linked_group" / "take_(1).avi", 8, (32, 32), 98, "MJPG")
    return {"video": secret, "folder": folder_video.parent, "folder_video": folder_video}


def _append(path: Path, lines: list[str]) -> None:
    text = path.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        text += "\n"
    atomic_write_bytes(path, (text + "".join(f"{line}\n" for line in lines)).encode("utf-8"))


def _link(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, link)


# --------------------------------------------------------------------------- UCF-style lists
# Hostile files of the UCF101 and StickActions corpora: (class index, group) -> kind. Split 1 of 6 groups
# tests g01-g02 (UCF101, 1 clip a group) and trains on g03-g06, so both sides keep valid videos.
_UCF_PLAN = {(0, 1): "empty", (2, 2): "huge_frames", (1, 3): "text", (2, 4): "truncated",
             (0, 5): "zero_frames", (1, 6): "one_frame"}


def _ucf_style(corpus: Corpus, video_dir: Path, list_dir: Path, classes: list[str], outside: dict[str, Path],
               test_groups: set[int], train_label_of: dict[str, int]) -> Corpus:
    """Plant :data:`_UCF_PLAN`, a duplicate, two ``..`` entries and an outside link into UCF-style lists."""
    train_list, test_list = list_dir / "trainlist01.txt", list_dir / "testlist01.txt"
    corpus.lists = {"train": train_list, "test": test_list}
    listed = {"train": [], "test": []}
    for subset, path in (("train", train_list), ("test", test_list)):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                listed[subset].append(line.split()[0])
    for (ci, g), kind in _UCF_PLAN.items():
        rel = f"{classes[ci]}/v_{classes[ci]}_g{g:02d}_c01.avi"
        plant(video_dir / rel, kind)
        if kind == "one_frame":
            corpus.one_frame = rel
        else:
            corpus.undecodable[rel] = kind
    corpus.valid = {s: {r for r in listed[s] if r not in corpus.undecodable} for s in listed}

    # Two entries with '..' (one behind a real class folder, so that it passes the class check) and a
    # link that leads out, all naming the real outside video: a reader that opened them would count it.
    up = os.path.relpath(outside["video"], video_dir)
    sneaky = f"{classes[0]}/../{up}"
    link_rel = f"{classes[2]}/v_{classes[2]}_g05_c09.avi"
    _link(video_dir / link_rel, outside["video"])
    duplicate = listed["train"][0]
    _append(train_list, [f"{duplicate} {train_label_of[duplicate]}", f"{up} 1", f"{sneaky} 1",
                         f"{link_rel} 3"])
    corpus.duplicate = duplicate
    corpus.refused = {up, sneaky, link_rel}
    corpus.outside = [outside["video"]]
    return corpus


def build_ucf101(base: Path) -> Corpus:
    """UCF101 (3 classes x 6 groups, split 1: 12 train / 6 test listed) with every hostile case planted."""
    root = base / "ucf101"
    info = write_mock_ucf101(root, groups=6, clips=1, quirks=False)
    outside = write_outside(base)
    classes = info["classes"]
    labels = {f"{c}/v_{c}_g{g:02d}_c01.avi": i + 1 for i, c in enumerate(classes) for g in range(1, 7)}
    return _ucf_style(Corpus("ucf101", root), info["video_dir"], info["list_dir"], classes, outside,
                      {1, 2}, labels)


def build_stickactions(base: Path) -> Corpus:
    """StickActions (3 classes x 6 groups; split 1 tests groups 1-2) with every hostile case planted.

    Its skeleton files stay valid except one, replaced by a pickled object array whose unpickling
    would create ``<base>/pickle_ran`` (``Corpus.outside`` holds that marker path).
    """
    root = base / "stickactions"
    classes = ["GetUp", "SitDown", "Wave"]
    write_mock_stickactions(root, classes=classes, groups=6, clips=1)
    outside = write_outside(base)
    labels = {f"{c}/v_{c}_g{g:02d}_c01.avi": i + 1 for i, c in enumerate(classes) for g in range(1, 7)}
    corpus = _ucf_style(Corpus("stickactions", root), root / "videos", root / "splits", classes, outside,
                        {1, 2}, labels)
    return corpus


class PickleBomb:
    """An object whose unpickling creates a marker file: proof that a loader ran pickled code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def write_pickle_bomb_npy(path: Path, marker: Path) -> Path:
    """An ``.npy`` file holding an object array whose loading with ``allow_pickle=True`` touches ``marker``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    array = np.empty(2, dtype=object)
    array[0], array[1] = PickleBomb(marker), "x"
    with open(path, "wb") as fh:
        np.save(fh, array, allow_pickle=True)
    return path


# --------------------------------------------------------------------------- HMDB51
def build_hmdb51(base: Path) -> Corpus:
    """HMDB51 (3 classes x 6 films; split 1: films 0, 3 test, 1 unused, 2, 4, 5 train) with hostile cases."""
    root = base / "hmdb51"
    info = write_mock_hmdb51(root, films=6, clips=1, quirks=False)
    outside = write_outside(base)
    video_dir, list_dir = info["video_dir"], info["list_dir"]
    classes = info["classes"]
    corpus = Corpus("hmdb51", root, outside=[outside["video"]])
    subset_of = {1: "train", 2: "test", 0: "unused"}
    listed: dict[str, list[str]] = {"train": [], "test": [], "unused": []}
    for c in classes:
        for line in (list_dir / f"{c}_test_split1.txt").read_text().splitlines():
            name, vid = line.split()
            listed[subset_of[int(vid)]].append(f"{c}/{name}")
    # (class index, film index) -> kind; films 0 and 3 are test, 2, 4 and 5 train in split 1.
    plan = {(0, 0): "empty", (2, 3): "huge_frames", (1, 2): "text", (2, 4): "truncated",
            (0, 5): "zero_frames", (1, 5): "one_frame"}
    for (ci, fi), kind in plan.items():
        rel = next(r for r in listed["train"] + listed["test"]
                   if r.startswith(f"{classes[ci]}/{info['films'][fi]}_"))
        plant(video_dir / rel, kind)
        if kind == "one_frame":
            corpus.one_frame = rel
        else:
            corpus.undecodable[rel] = kind
    corpus.valid = {s: {r for r in listed[s] if r not in corpus.undecodable} for s in ("train", "test")}
    split_file = list_dir / f"{classes[0]}_test_split1.txt"
    corpus.lists = {"train": split_file, "test": split_file}
    up = os.path.relpath(outside["video"], video_dir / classes[0])
    link_name = f"Linked_Film_{classes[2]}_f_nm_np1_fr_goo_0.avi"
    _link(video_dir / classes[2] / link_name, outside["video"])
    duplicate = next(r for r in listed["train"] if r.startswith(f"{classes[0]}/") and r not in corpus.undecodable)
    _append(split_file, [f"{duplicate.split('/', 1)[1]} 1", f"{up} 1"])
    _append(list_dir / f"{classes[2]}_test_split1.txt", [f"{link_name} 1"])
    corpus.duplicate = duplicate
    corpus.refused = {up, f"{classes[2]}/{link_name}"}
    return corpus


# --------------------------------------------------------------------------- folder
def build_folder(base: Path) -> Corpus:
    """A folder of class folders (3 classes x 3 actor sub-folders x 2 takes) with hostile files and links.

    No lists, so no subsets are fixed: ``valid["all"]`` holds every valid video (train + test of any split).
    """
    root = base / "folder"
    info = write_mock_folder(root, naming="nested", groups=3, clips=2, quirks=False)
    outside = write_outside(base)
    corpus = Corpus("folder", root, outside=[outside["video"], outside["folder_video"]])
    rels = sorted(info["groups"])
    # Extra files beside the valid takes (the takes are .mp4; the hostile files are AVI, as planted).
    kinds = ["empty", "text", "truncated", "zero_frames", "huge_frames", "one_frame"]
    folders = sorted({str(Path(r).parent) for r in rels})
    for folder, kind in zip(folders, kinds):
        rel = f"{folder}/hostile_{kind}.avi"
        write_clip(root / rel, 8, (32, 32), 5, "MJPG")
        plant(root / rel, kind)
        if kind == "one_frame":
            corpus.one_frame = rel
        else:
            corpus.undecodable[rel] = kind
    corpus.valid = {"all": set(rels) | {corpus.one_frame}}
    file_link = f"{info['classes'][0]}/actor1/take_(9).avi"
    folder_link = f"{info['classes'][1]}/linked_group"
    _link(root / file_link, outside["video"])
    _link(root / folder_link, outside["folder"])
    corpus.refused = {file_link, folder_link}
    return corpus


BUILDERS = {"ucf101": build_ucf101, "hmdb51": build_hmdb51, "folder": build_folder,
            "stickactions": build_stickactions}


def add_contradiction(corpus: Corpus) -> str:
    """List one valid test video in the training list too (HMDB51: a second line with the train id).

    Returns the relpath listed on both sides.
    """
    video = sorted(corpus.valid["test"])[0]
    if corpus.format == "hmdb51":
        class_name, name = video.split("/", 1)
        _append(corpus.root / "testTrainMulti_7030_splits" / f"{class_name}_test_split1.txt", [f"{name} 1"])
    else:
        _append(corpus.lists["train"], [f"{video} 1"])
    return video
