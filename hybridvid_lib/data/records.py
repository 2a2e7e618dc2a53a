"""What every dataset reader returns: one ``VideoRecord`` per listed video, grouped in a ``DatasetSplit``.

A reader never drops a listed video silently. Listed videos that are not on disk go to
``DatasetSplit.missing``; videos that exist but do not decode go to
``DatasetSplit.unreadable``. Both stay in ``train`` / ``test`` / ``unused`` (those are
the *listed* entries) so that counts match the official list files; pipelines take
:meth:`DatasetSplit.usable` and record what they skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUBSETS = ("train", "test", "unused")


@dataclass(frozen=True)
class VideoRecord:
    """One listed video.

    Attributes:
        relpath: path relative to the video root, POSIX separators (``"ApplyLipstick/v_ApplyLipstick_g01_c01.avi"``).
        path: absolute path of the video file (may not exist: see ``DatasetSplit.missing``).
        label: class index, 0-based, into ``DatasetSplit.classes``.
        class_name: class name as used by ``DatasetSplit.classes``.
        group: the group (actor / source film) the video comes from; no split puts one group on both sides.
        skeleton_path: per-frame joints beside the video (StickActions, NTU), else ``None``.
    """

    relpath: str
    path: Path
    label: int
    class_name: str
    group: str
    skeleton_path: Path | None = None


@dataclass
class DatasetSplit:
    """One split of one dataset, as read from disk.

    Attributes:
        format: ``stickactions``, ``ucf101``, ``hmdb51`` or ``folder``.
        split: split number (1-based, as in the official list file names).
        classes: class names, index = label.
        video_root: folder the ``relpath`` of every record is relative to.
        train, test, unused: listed entries, including missing and unreadable ones.
        missing: relpaths listed but not found on disk.
        unreadable: relpaths found on disk that yield no decodable frame.
        mirror_pairs: pairs of class names that a horizontal flip turns into each other.
        reverse_pairs: pairs of class names that are time-reverses of each other.
        notes: human-readable remarks made while reading (name fixes, duplicates, ...).
        metadata: format-specific extras (StickActions: skeleton graph, preset, seed).
    """

    format: str
    split: int
    classes: list[str]
    video_root: Path
    train: list[VideoRecord] = field(default_factory=list)
    test: list[VideoRecord] = field(default_factory=list)
    unused: list[VideoRecord] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    mirror_pairs: list[tuple[str, str]] = field(default_factory=list)
    reverse_pairs: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def subset(self, name: str) -> list[VideoRecord]:
        """The listed records of ``train``, ``test`` or ``unused``."""
        if name not in SUBSETS:
            raise ValueError(f"Unknown subset {name!r}; expected one of {', '.join(SUBSETS)}.")
        return getattr(self, name)

    def bad(self) -> set[str]:
        """Relpaths that cannot be used: missing or unreadable."""
        return set(self.missing) | set(self.unreadable)

    def usable(self, name: str) -> list[VideoRecord]:
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
            "test": len(self.test),
            "unused": len(self.unused),
            "missing": sorted(self.missing),
            "unreadable": sorted(self.unreadable),
            "train_groups": len({r.group for r in self.train}),
            "test_groups": len({r.group for r in self.test}),
            "mirror_pairs": [list(p) for p in self.mirror_pairs],
            "reverse_pairs": [list(p) for p in self.reverse_pairs],
            "notes": list(self.notes),
        }
