"""What every dataset reader returns: one ``Record`` per listed sample, grouped in a ``DatasetSplit``.

A record names its files by kind (:data:`FILE_KINDS`): ``video`` (decoded for RGB clips and
optical flow) and ``skeleton`` (per-frame joints). A StickActions record has both, a UCF101
record only a video, an NTU RGB+D record only a skeleton: every pipeline asks a record
for the file it needs (:meth:`Record.file`) and no format is a special case. Derived
arrays (flow, cached features) live in array caches keyed by ``relpath``
(:mod:`~hybridvid_lib.data.array_cache`).

A reader never drops a listed sample silently. Listed samples that are not on disk go to
``DatasetSplit.missing``; samples that exist but do not decode go to
``DatasetSplit.unreadable``. Both stay in ``train`` / ``test`` / ``unused`` (those are
the *listed* entries) so that counts match the official list files; pipelines take
:meth:`DatasetSplit.usable` and record what they skipped.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from hybridvid_lib.errors import DatasetError

SUBSETS = ("train", "val", "test", "unused")
FILE_KINDS = ("video", "skeleton")
MODALITIES = ("rgb", "flow", "joints", "features")
"""The inputs a record can feed: keys of a pipeline element's features and names of model inputs.
``rgb`` and ``flow`` come from the ``video`` file (flow through its cache), ``joints`` from the
``skeleton`` file, ``features`` from a feature cache."""


@dataclass(frozen=True)
class Record:
    """One listed sample (a video, a skeleton sequence, or both).

    Attributes:
        relpath: the sample's key, relative to the dataset root, POSIX separators
            (``"ApplyLipstick/v_ApplyLipstick_g01_c01.avi"``, ``"S001C001P001R001A001.skeleton"``).
            Caches name their files after it.
        label: class index, 0-based, into ``DatasetSplit.classes``.
        class_name: class name as used by ``DatasetSplit.classes``.
        group: the group (actor / source film / subject) the sample comes from; no split
            puts one group on two sides.
        files: absolute paths by kind (:data:`FILE_KINDS`); a path may not exist (see
            ``DatasetSplit.missing``).
    """

    relpath: str
    label: int
    class_name: str
    group: str
    files: Mapping[str, Path] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.files) - set(FILE_KINDS))
        if unknown:
            raise ValueError(f"Unknown file kind {', '.join(unknown)} for {self.relpath}; "
                             f"expected: {', '.join(FILE_KINDS)}.")
        object.__setattr__(self, "files", {k: Path(v) for k, v in self.files.items() if v is not None})

    @classmethod
    def of_video(cls, relpath: str, path: str | Path, label: int, class_name: str, group: str, *,
                 skeleton: str | Path | None = None) -> "Record":
        """A record of a video file (and optionally its skeleton file)."""
        return cls(relpath, label, class_name, group, {"video": path, "skeleton": skeleton})

    @property
    def path(self) -> Path | None:
        """The video file, or ``None`` for a skeleton-only sample."""
        return self.files.get("video")

    @property
    def skeleton_path(self) -> Path | None:
        """The skeleton file, or ``None`` when the sample has none."""
        return self.files.get("skeleton")

    def has(self, kind: str) -> bool:
        """True when the record names a file of ``kind`` (whether or not it exists on disk)."""
        return kind in self.files

    def file(self, kind: str) -> Path:
        """The file of ``kind``.

        Raises:
            DatasetError: the record has no such file (the message names what it has).
        """
        if kind not in self.files:
            have = ", ".join(sorted(self.files)) or "no file"
            raise DatasetError(f"{self.relpath} has no {kind} file (it has: {have}); "
                               f"use a dataset with {kind} files for this input.")
        return self.files[kind]

    def with_file(self, kind: str, path: str | Path | None) -> "Record":
        """A copy with the file of ``kind`` set (``None`` removes it)."""
        files = dict(self.files)
        files.pop(kind, None)
        if path is not None:
            files[kind] = Path(path)
        return dataclasses.replace(self, files=files)


VideoRecord = Record
"""The name earlier chapters used for :class:`Record`."""


@dataclass
class DatasetSplit:
    """One split of one dataset, as read from disk.

    Attributes:
        format: ``stickactions``, ``ucf101``, ``hmdb51`` or ``folder``.
        split: split number (1-based, as in the official list file names).
        classes: class names, index = label.
        video_root: folder the ``relpath`` of every record is relative to.
        train, test, unused: listed entries, including missing and unreadable ones.
        val: a group-aware validation set carved from ``train`` by :meth:`with_validation`
            (empty until then; official lists have none).
        missing: relpaths listed but not found on disk.
        unreadable: relpaths found on disk that yield no decodable frame.
        refused: list entries and files that would lead out of the video folder (a ``..``, an
            absolute path, a symbolic link to elsewhere); never opened, and in no subset.
        mirror_pairs: pairs of class names that a horizontal flip turns into each other.
        reverse_pairs: pairs of class names that are time-reverses of each other.
        notes: human-readable remarks made while reading (name fixes, duplicates, ...).
        metadata: format-specific extras (StickActions: skeleton graph, preset, seed).
    """

    format: str
    split: int
    classes: list[str]
    video_root: Path
    train: list[Record] = field(default_factory=list)
    val: list[Record] = field(default_factory=list)
    test: list[Record] = field(default_factory=list)
    unused: list[Record] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    mirror_pairs: list[tuple[str, str]] = field(default_factory=list)
    reverse_pairs: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def subset(self, name: str) -> list[Record]:
        """The listed records of ``train``, ``val``, ``test`` or ``unused``."""
        if name not in SUBSETS:
            raise ValueError(f"Unknown subset {name!r}; expected one of {', '.join(SUBSETS)}.")
        return getattr(self, name)

    def bad(self) -> set[str]:
        """Relpaths that cannot be used: missing or unreadable."""
        return set(self.missing) | set(self.unreadable)

    def usable(self, name: str) -> list[Record]:
        """Records of a subset that exist and decode."""
        bad = self.bad()
        return [r for r in self.subset(name) if r.relpath not in bad]

    def skipped(self, name: str) -> list[dict[str, str]]:
        """What :meth:`usable` leaves out of a subset, with the reason, for a run's outputs."""
        missing, unreadable = set(self.missing), set(self.unreadable)
        out = []
        for r in self.subset(name):
            if r.relpath in missing:
                out.append({"video": r.relpath, "reason": "missing"})
            elif r.relpath in unreadable:
                out.append({"video": r.relpath, "reason": "unreadable"})
        return out

    def mirror_label_map(self) -> list[int]:
        """``m[label]`` is the label after a horizontal flip (itself for symmetric classes)."""
        index = {name: i for i, name in enumerate(self.classes)}
        mapping = list(range(len(self.classes)))
        for a, b in self.mirror_pairs:
            if a in index and b in index:
                mapping[index[a]], mapping[index[b]] = index[b], index[a]
        return mapping

    def summary(self) -> dict[str, Any]:
        """The JSON object printed by ``hybridvid data inspect --json``."""
        return {
            "format": self.format,
            "split": self.split,
            "num_classes": self.num_classes,
            "classes": list(self.classes),
            "video_root": str(self.video_root),
            "train": len(self.train),
            "val": len(self.val),
            "test": len(self.test),
            "unused": len(self.unused),
            "missing": sorted(self.missing),
            "unreadable": sorted(self.unreadable),
            "refused": sorted(self.refused),
            "train_groups": len({r.group for r in self.train}),
            "val_groups": len({r.group for r in self.val}),
            "test_groups": len({r.group for r in self.test}),
            "mirror_pairs": [list(p) for p in self.mirror_pairs],
            "reverse_pairs": [list(p) for p in self.reverse_pairs],
            "notes": list(self.notes),
        }

    def with_validation(self, fraction: float = 0.2, seed: int = 0) -> "DatasetSplit":
        """A copy whose ``val`` holds whole groups of ``train`` (no group in two of train / val / test).

        The listed training records are split by
        :func:`~hybridvid_lib.data.splits.train_val_split` (``fraction`` of the groups, rounded
        up, seeded); missing and unreadable ones stay listed on their side. ``test`` is
        unchanged, so results stay comparable with runs that used no validation set.
        Model choices (epochs, sizes) are made on ``val``; ``test`` is looked at once.
        ``fraction=0`` holds nothing out: every training group trains (the final runs of a choice made
        earlier on validation groups, as chapter 08 does); ``val`` stays empty and a note says so.

        Raises:
            DatasetError: the split already has a validation set, or ``train`` has fewer than 2 groups.
        """
        from hybridvid_lib.data.splits import train_val_split

        if self.val:
            raise DatasetError(f"This {self.format} split already has a validation set "
                               f"({len(self.val)} samples); carve it once.")
        if fraction == 0:
            note = f"validation: none held out; all {len(self.train)} training samples train"
            return dataclasses.replace(self, notes=[*self.notes, note])
        train, val = train_val_split(self.train, fraction, seed=seed)
        note = (f"validation: {len(val)} of {len(self.train)} training samples "
                f"({len({r.group for r in val})} groups, seed {seed}) held out")
        return dataclasses.replace(self, train=train, val=val, notes=[*self.notes, note])
