"""Checks for the exercises of chapter 00 (video data): ``from hybridvid_lib.exercises.ch00 import q1, q2, q3``.

- ``q1``: write the uniform sampling strategy ``uniform_indices(num_available, num_frames)``;
  compared with :func:`hybridvid_lib.data.sampling.sample_indices` (``"uniform"``, test time).
- ``q2``: fix a leaky split, ``group_split(records, test_fraction) -> (train, test)`` with whole
  groups on each side (records from :func:`practice_records`).
- ``q3``: make a horizontal flip label-aware, ``flip_with_label(frames, label, mirror_map)``;
  compared with :func:`hybridvid_lib.data.transforms.flip_clip` (policy ``swap``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from hybridvid_lib.data.records import Record
from hybridvid_lib.data.sampling import sample_indices
from hybridvid_lib.data.transforms import flip_clip
from hybridvid_lib.exercises.core import IncorrectAnswer, Question, call_learner, describe

__all__ = ["q1", "q2", "q3", "practice_records", "FLIP_CLASS_NAMES", "FLIP_MIRROR_MAP", "SPLIT_TOLERANCE"]

#: Classes of the flip exercise, index = label; PointLeft and PointRight are mirror images.
FLIP_CLASS_NAMES: tuple[str, ...] = ("Wave", "PointLeft", "PointRight", "SitDown")
#: ``FLIP_MIRROR_MAP[label]`` is the label after a horizontal flip.
FLIP_MIRROR_MAP: tuple[int, ...] = (0, 2, 1, 3)
#: How far (as a share of all records) the test side may be from ``test_fraction`` in q2.
#: Whole groups move together, so an exact share is rarely possible; the practice records'
#: largest group is under 15 % of them, so adding groups until the target is reached fits.
SPLIT_TOLERANCE = 0.15


# ------------------------------------------------------------------------------ q1 sampling
class UniformIndices(Question):
    """``uniform_indices(num_available, num_frames) -> (num_frames,) int array`` in ``[0, num_available)``."""

    title = "Write the uniform sampling strategy"
    hints = (
        "Cut the video into `num_frames` equal bins of `num_available / num_frames` frames and take the "
        "middle of each: bin `i` spans `[i * n / f, (i + 1) * n / f)`, so its centre is `(i + 0.5) * n / f`.",
        "Stay in integers so nothing rounds the wrong way: `(2 * i + 1) * num_available // (2 * num_frames)` "
        "for `i = np.arange(num_frames)`. When `num_available < num_frames` return "
        "`np.arange(num_frames) % num_available` instead (the video plays again from the start).",
    )
    solution_code = """
        def uniform_indices(num_available, num_frames):
            i = np.arange(num_frames, dtype=np.int64)
            if num_available < num_frames:          # short video: play it again from the start
                return i % num_available
            return (2 * i + 1) * num_available // (2 * num_frames)   # centre of each equal bin
    """
    correct_note = (
        "your indices match `sample_indices(..., 'uniform')`, the rule every pipeline of the kit uses "
        "at test time."
    )

    #: ``(num_available, num_frames, description)`` of the videos the check tries.
    CASES = (
        (100, 8, "a long video"),
        (16, 16, "a video exactly as long as the clip"),
        (37, 1, "a one-frame clip"),
        (5, 8, "a short video that must loop"),
        (1, 4, "a video of a single frame"),
    )

    def check_answer(self, uniform_indices) -> None:
        for num_available, num_frames, what in self.CASES:
            call = f"uniform_indices({num_available}, {num_frames})"
            got = call_learner(uniform_indices, num_available, num_frames, name="uniform_indices")
            expected = sample_indices(num_available, num_frames, "uniform")
            _check_index_array(got, call, what, num_available, num_frames)
            if not np.array_equal(got, expected):
                if num_available < num_frames:
                    rule = ("a video shorter than the clip plays again from the start: "
                            "`np.arange(num_frames) % num_available`")
                else:
                    rule = ("the centre of each of num_frames equal bins: "
                            "`(2 * i + 1) * num_available // (2 * num_frames)`")
                raise IncorrectAnswer(
                    f"`{call}` ({what}) should be {expected.tolist()} ({rule}); got {got.tolist()}."
                )


def _check_index_array(got, call: str, what: str, num_available: int, num_frames: int) -> None:
    """Raise a teaching :class:`IncorrectAnswer` unless ``got`` is an int array of frame indices."""
    if not isinstance(got, np.ndarray):
        raise IncorrectAnswer(
            f"`{call}` should return a NumPy array of {num_frames} integer indices; got {describe(got)}. "
            "Wrap a list with `np.asarray(...)`."
        )
    if not np.issubdtype(got.dtype, np.integer):
        raise IncorrectAnswer(
            f"`{call}` returned dtype {got.dtype}; frame indices must be integers (dtype int64), since "
            "there is no frame 2.5: use integer division `//` or `.astype(np.int64)`."
        )
    if got.shape != (num_frames,):
        raise IncorrectAnswer(
            f"`{call}` should return shape ({num_frames},), one index per clip frame; got shape {got.shape}."
        )
    if got.min() < 0 or got.max() >= num_available:
        extra = (" A video shorter than the clip must loop (`% num_available`)."
                 if num_available < num_frames else "")
        raise IncorrectAnswer(
            f"`{call}` ({what}) returned indices from {got.min()} to {got.max()}; a video of "
            f"{num_available} frames has indices 0 to {num_available - 1} (the range "
            f"[0, num_available)).{extra}"
        )


# ------------------------------------------------------------------------------ q2 group split
def practice_records(seed: int = 0) -> list[Record]:
    """About 45 records of 3 classes in 10 groups (``g01`` .. ``g10``), 3 to 6 videos a group.

    Named as in UCF101 (``Wave/v_Wave_g03_c02.avi``; the group is the ``gGG`` token); the
    paths do not exist, no file is read. The same ``seed`` gives the same records, in group order.
    """
    rng = np.random.default_rng(seed)
    classes = ("SitDown", "StandUp", "Wave")
    records = []
    for g in range(1, 11):
        for label, name in enumerate(classes):
            for c in range(1, int(rng.integers(1, 3)) + 1):  # 1 or 2 clips of each class per group
                relpath = f"{name}/v_{name}_g{g:02d}_c{c:02d}.avi"
                records.append(Record.of_video(relpath, Path(relpath), label, name, f"g{g:02d}"))
    return records


class GroupSplit(Question):
    """``group_split(records, test_fraction) -> (train, test)``: whole groups on each side."""

    title = "Fix a leaky split"
    hints = (
        "Split the *groups*, not the records: list the distinct groups (`{r.group for r in records}`), "
        "choose some for testing, then put every record of those groups in `test` and the rest in `train`.",
        "Shuffle the sorted group names with a seeded `np.random.default_rng`, then add groups to the test "
        "side until it holds `test_fraction * len(records)` records; count group sizes with "
        "`collections.Counter(r.group for r in records)`.",
    )
    solution_code = """
        from collections import Counter

        def group_split(records, test_fraction, seed=0):
            sizes = Counter(r.group for r in records)
            groups = sorted(sizes)
            np.random.default_rng(seed).shuffle(groups)
            target = test_fraction * len(records)
            test_groups, test_count = set(), 0
            for group in groups:                 # whole groups until the test side is big enough
                if test_count >= target:
                    break
                test_groups.add(group)
                test_count += sizes[group]
            train = [r for r in records if r.group not in test_groups]
            test = [r for r in records if r.group in test_groups]
            return train, test
    """
    correct_note = "no group sits on both sides, so the test set measures actions, not look-alike scenes."

    def check_answer(self, group_split) -> None:
        shuffled = practice_records(seed=1)
        np.random.default_rng(7).shuffle(shuffled)  # records in no particular order
        for records, fraction in ((practice_records(seed=0), 0.25), (shuffled, 0.4)):
            call = f"group_split(<{len(records)} records>, {fraction})"
            got = call_learner(group_split, list(records), fraction, name="group_split")
            train, test = _unpack_pair(got, call)
            _check_split(records, train, test, fraction, call)


def _unpack_pair(got, call: str) -> tuple[list, list]:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise IncorrectAnswer(f"`{call}` should return a pair `(train, test)` of two lists; got {describe(got)}.")
    sides = []
    for side_name, side in zip(("train", "test"), got):
        if not isinstance(side, (list, tuple)):
            raise IncorrectAnswer(f"`{side_name}` should be a list of records; got {describe(side)}.")
        for item in side:
            if not isinstance(item, Record):
                raise IncorrectAnswer(
                    f"`{side_name}` should hold the records themselves (Record objects, as practice_records returns them), not their "
                    f"groups or names; it holds {describe(item)}."
                )
        sides.append(list(side))
    return sides[0], sides[1]


def _check_split(records: list[Record], train: list, test: list, fraction: float, call: str) -> None:
    used = Counter(r.relpath for r in train + test)
    for record in records:
        if used[record.relpath] == 0:
            raise IncorrectAnswer(
                f"record {record.relpath!r} is in neither train nor test; every record must be used exactly once."
            )
        if used[record.relpath] > 1:
            raise IncorrectAnswer(
                f"record {record.relpath!r} is used {used[record.relpath]} times; every record must be used "
                "exactly once."
            )
    if len(train + test) != len(records):
        raise IncorrectAnswer(f"`{call}` returned records that were not in the input; return only the given records.")
    train_by_group = {r.group: r.relpath for r in train}
    for r in test:
        if r.group in train_by_group:
            raise IncorrectAnswer(
                f"group {r.group!r} leaks: it has videos in train ({train_by_group[r.group]}) and in test "
                f"({r.relpath}). Put all videos of a group on one side: split the groups, then collect "
                "their records."
            )
    if not train or not test:
        raise IncorrectAnswer(
            f"`{call}` left the {'train' if not train else 'test'} side empty; both sides need records."
        )
    share = len(test) / len(records)
    if abs(share - fraction) > SPLIT_TOLERANCE:
        raise IncorrectAnswer(
            f"`{call}` put {len(test)} of {len(records)} records ({share:.0%}) in test; expected about "
            f"{fraction:.0%} (within {SPLIT_TOLERANCE * 100:.0f} points). Add whole groups to the test side "
            "until it holds test_fraction of the *records*."
        )


# ------------------------------------------------------------------------------ q3 label-aware flip
class FlipWithLabel(Question):
    """``flip_with_label(frames (T, H, W, C), label, mirror_map) -> (mirrored frames, label after the flip)``."""

    title = "Make a horizontal flip label-aware"
    hints = (
        "Two things change in a mirror: the frames (reverse the *width* axis, which is axis 2 of "
        "(T, H, W, C)) and, for a class whose mirror image is another class, the label.",
        "`frames[:, :, ::-1, :]` mirrors every frame; `mirror_map[label]` is the label after the flip "
        "(the label itself for classes like Wave).",
    )
    solution_code = """
        def flip_with_label(frames, label, mirror_map):
            mirrored = frames[:, :, ::-1, :]    # reverse the width axis of (T, H, W, C)
            return mirrored, int(mirror_map[label])
    """
    correct_note = (
        "a flipped PointLeft now trains as PointRight. The kit's version is "
        "`hybridvid_lib.data.transforms.flip_clip(frames, label, mirror_map, policy='swap')`."
    )

    def check_answer(self, flip_with_label) -> None:
        frames = np.random.default_rng(0).integers(0, 256, size=(4, 6, 8, 3), dtype=np.uint8)
        for label in (1, 2, 0, 3):
            original = frames.copy()
            name = FLIP_CLASS_NAMES[label]
            call = f"flip_with_label(frames, {label}, mirror_map)"
            got = call_learner(flip_with_label, frames, label, list(FLIP_MIRROR_MAP), name="flip_with_label")
            if not np.array_equal(frames, original):
                raise IncorrectAnswer(
                    f"`{call}` changed the input frames in place; return new (mirrored) frames and leave the "
                    "caller's array as it was (slicing with `::-1` makes a view, no copy needed)."
                )
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                raise IncorrectAnswer(f"`{call}` should return a pair `(frames, label)`; got {describe(got)}.")
            got_frames, got_label = got
            expected_frames, expected_label, _ = flip_clip(frames, label, FLIP_MIRROR_MAP, "swap")
            _check_flipped_frames(np.asarray(got_frames), frames, expected_frames, call)
            if isinstance(got_label, bool) or not isinstance(got_label, (int, np.integer)):
                raise IncorrectAnswer(
                    f"the label should be an int class index; `{call}` returned {describe(got_label)}."
                )
            if int(got_label) != expected_label:
                if expected_label != label:
                    raise IncorrectAnswer(
                        f"label {label} ({name}) has a mirror partner: a flipped {name} clip shows "
                        f"{FLIP_CLASS_NAMES[expected_label]}, label mirror_map[{label}] = {expected_label}; "
                        f"got {int(got_label)}."
                    )
                raise IncorrectAnswer(
                    f"label {label} ({name}) is its own mirror image (mirror_map[{label}] == {label}) and must "
                    f"stay {label}; got {int(got_label)}."
                )


def _check_flipped_frames(got: np.ndarray, frames: np.ndarray, expected: np.ndarray, call: str) -> None:
    if got.shape != frames.shape:
        raise IncorrectAnswer(
            f"`{call}` should return frames of the input's shape (T, H, W, C) = {frames.shape}; got shape {got.shape}."
        )
    if np.array_equal(got, expected):
        return
    mistakes = (
        (frames, "came back unchanged: mirror them left-right"),
        (frames[:, ::-1], "are upside down: you reversed the height axis (axis 1)"),
        (frames[::-1], "play backwards: you reversed the time axis (axis 0)"),
        (frames[..., ::-1], "have their colour channels reversed (RGB -> BGR): you reversed axis 3"),
    )
    for wrong, what in mistakes:
        if np.array_equal(got, wrong):
            raise IncorrectAnswer(
                f"the frames of `{call}` {what}; a horizontal flip reverses the width axis, axis 2 of (T, H, W, C)."
            )
    raise IncorrectAnswer(
        f"the frames of `{call}` are not the left-right mirror of the input; expected `frames[:, :, ::-1, :]` "
        "(the width axis, axis 2 of (T, H, W, C), reversed)."
    )


q1 = UniformIndices("q1")
q2 = GroupSplit("q2")
q3 = FlipWithLabel("q3")
