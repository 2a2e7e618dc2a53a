"""Group-aware splitting: clips of one actor, scene or source film never sit on both sides.

Clips cut from one recording share background, clothes and camera; a model that sees one
of them in training "recognises" the others by their look, not by the action. UCF101's
official splits therefore keep each group (``gGG``) on one side, and every split this kit
makes does the same.

- :func:`group_kfold_assign` puts whole groups into folds (the ``folder`` format's 3 splits).
- :func:`train_val_split` holds out whole groups of a training set for validation.
- :func:`check_no_group_leak` refuses a split that has one group on both sides.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Sequence

from hybridvid_lib.data.records import DatasetSplit, Record
from hybridvid_lib.errors import DatasetError


def stable_hash(text: str, seed: int = 0) -> int:
    """A 64-bit hash of ``text`` that is the same in every process (Python's ``hash()`` is salted per run)."""
    digest = hashlib.blake2b(f"{seed}\x00{text}".encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def group_kfold_assign(groups: Sequence[str], num_folds: int = 3, seed: int = 0) -> dict[str, int]:
    """Assign every group to one of ``num_folds`` folds, balancing the number of videos per fold.

    Args:
        groups: the group of each video (one entry per video; repeats are how sizes are known).
        num_folds: number of folds, at least 2.
        seed: changes which groups go together, reproducibly.

    Returns:
        ``{group: fold}`` with folds ``0 .. num_folds - 1``; fold ``N - 1`` is the test side of split ``N``.

    The rule is scikit-learn's ``GroupKFold`` (largest group first, into the fold with the
    fewest videos so far) with ties broken by :func:`stable_hash` of ``seed`` and the group
    name. It is written out here rather than called because the folds define the course's
    splits: they must not change with the scikit-learn version, and ``GroupKFold`` only takes
    a seed from version 1.6 on. The same groups and sizes give the same folds on every
    machine and in every run; adding videos can move groups between folds.

    Raises:
        ValueError: ``num_folds`` below 2.
        DatasetError: fewer groups than folds (some test side would be empty).
    """
    if num_folds < 2:
        raise ValueError(f"num_folds must be at least 2; got {num_folds}.")
    sizes = Counter(groups)
    if len(sizes) < num_folds:
        raise DatasetError(
            f"{num_folds} group-aware folds need at least {num_folds} groups; found {len(sizes)} "
            f"({', '.join(sorted(sizes)) or 'none'}); add videos from more actors or scenes."
        )
    order = sorted(sizes, key=lambda g: (-sizes[g], stable_hash(g, seed), g))
    fold_sizes = [0] * num_folds
    assignment: dict[str, int] = {}
    for group in order:
        fold = min(range(num_folds), key=lambda f: (fold_sizes[f], f))
        assignment[group] = fold
        fold_sizes[fold] += sizes[group]
    return assignment


def check_no_group_leak(split: DatasetSplit) -> None:
    """Raise :class:`DatasetError` when a group has samples in two of train / val / test of ``split``."""
    sides = [("train", split.train), ("val", split.val), ("test", split.test)]
    for i, (name_a, records_a) in enumerate(sides):
        first_of: dict[str, str] = {}
        for record in records_a:
            first_of.setdefault(record.group, record.relpath)
        for name_b, records_b in sides[i + 1:]:
            leaks: dict[str, str] = {}
            for record in records_b:
                if record.group in first_of:
                    leaks.setdefault(record.group, record.relpath)
            if leaks:
                group = sorted(leaks)[0]
                more = f" (and {len(leaks) - 1} more groups)" if len(leaks) > 1 else ""
                raise DatasetError(
                    f"Group {group!r} has samples in {name_a} ({first_of[group]}) and {name_b} "
                    f"({leaks[group]}) of {split.format} split {split.split}{more}; expected every group "
                    "on one side only."
                )


def train_val_split(
    records: Sequence[Record], val_fraction: float = 0.2, seed: int = 0
) -> tuple[list[Record], list[Record]]:
    """Split training records into ``(train, val)`` with whole groups on each side.

    ``val_fraction`` is a fraction of the *groups* (rounded up), as in scikit-learn's
    ``GroupShuffleSplit``, which does the work; the number of videos follows from the group
    sizes. Both lists keep the order of ``records``. The same records and seed give the same split.

    Raises:
        ValueError: ``val_fraction`` outside (0, 1) or no records.
        DatasetError: fewer than two groups, so no group-aware split exists.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1 (exclusive); got {val_fraction}.")
    records = list(records)
    if not records:
        raise ValueError("train_val_split needs at least one record; got none.")
    groups = [r.group for r in records]
    if len(set(groups)) < 2:
        raise DatasetError(
            f"A group-aware validation split needs at least 2 groups; all {len(records)} videos are in "
            f"group {groups[0]!r}."
        )
    from sklearn.model_selection import GroupShuffleSplit  # imported here: slow, and only needed here

    splitter = GroupShuffleSplit(n_splits=1, test_size=val_fraction, random_state=seed)
    train_idx, val_idx = next(splitter.split(records, groups=groups))
    return [records[i] for i in sorted(train_idx)], [records[i] for i in sorted(val_idx)]
