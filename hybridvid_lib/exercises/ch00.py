"""Checks for the exercises of chapter 00 (video data): ``from hybridvid_lib.exercises.ch00 import q1, q2, q3, q4``.

- ``q1``: write the uniform sampling strategy ``uniform_indices(num_available, num_frames)``;
  compared with :func:`hybridvid_lib.data.sampling.sample_indices` (``"uniform"``, test time) on
  long, short, one-frame and odd-sized videos.
- ``q2``: fix a leaky split, ``group_split(records, test_fraction) -> (train, test)`` with whole
  groups on each side, tried on several record lists (:func:`practice_records` of several seeds,
  in several orders) and test fractions from 0.1 to 0.7: the test side must be within one group
  of ``test_fraction`` of the records.
- ``q3``: make a horizontal flip label-aware, ``flip_with_label(frames, label, mirror_map)``;
  compared with :func:`hybridvid_lib.data.transforms.flip_clip` (policy ``swap``) for several
  class lists and mirror maps (so a hard-coded swap of two labels fails) and clip sizes.
- ``q4``: a measured experiment: 1-nearest-neighbour accuracy on a random split of clips and on a
  split that keeps each video's clips together (:func:`practice_clips`); the check recomputes both
  accuracies on the learner's own splits.
"""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

import numpy as np

from hybridvid_lib.data.records import Record
from hybridvid_lib.data.sampling import sample_indices
from hybridvid_lib.data.transforms import flip_clip
from hybridvid_lib.exercises.core import IncorrectAnswer, Question, call_learner, describe

__all__ = ["q1", "q2", "q3", "q4", "practice_records", "practice_clips", "FLIP_CLASS_NAMES", "FLIP_MIRROR_MAP",
           "CLIPS_PER_VIDEO"]

#: Classes of the flip exercise, index = label; PointLeft and PointRight are mirror images.
FLIP_CLASS_NAMES: tuple[str, ...] = ("Wave", "PointLeft", "PointRight", "SitDown")
#: ``FLIP_MIRROR_MAP[label]`` is the label after a horizontal flip.
FLIP_MIRROR_MAP: tuple[int, ...] = (0, 2, 1, 3)
#: Clips cut from each video of :func:`practice_clips` (consecutive thirds, as UCF101 cuts long videos).
CLIPS_PER_VIDEO = 3


# ------------------------------------------------------------------------------ q1 sampling
class UniformIndices(Question):
    """``uniform_indices(num_available, num_frames) -> (num_frames,) int array`` in ``[0, num_available)``."""

    title = "Write the uniform sampling strategy"
    hints = (
        "Think in bins: `num_frames` equal bins cover the video, bin `i` runs from frame `i * n / f` to frame "
        "`(i + 1) * n / f` (n = num_available, f = num_frames). Which frame sits in its middle? And what should a "
        "video shorter than the clip give?",
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
        (45, 16, "bins of 2.8 frames"),
        (7, 3, "a short video and a short clip"),
        (1000, 32, "a very long video"),
        (37, 1, "a one-frame clip"),
        (5, 8, "a short video that must loop"),
        (15, 16, "a video one frame too short"),
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
    """``group_split(records, test_fraction) -> (train, test)``: whole groups on each side, about ``test_fraction`` in test."""

    title = "Fix a leaky split"
    hints = (
        "Every video of a group must land on the same side. So what should you draw at random: single records, "
        "or something bigger?",
        "List the distinct groups with their sizes (`collections.Counter(r.group for r in records)`), shuffle the "
        "sorted group names with a seeded `np.random.default_rng`, then move whole groups to the test side until "
        "it holds `test_fraction * len(records)` records; every other record goes to train.",
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

    @staticmethod
    def cases() -> list[tuple[list[Record], float]]:
        """``(records, test_fraction)`` pairs the check tries: several record lists, orders and fractions."""
        shuffled = practice_records(seed=1)
        np.random.default_rng(7).shuffle(shuffled)  # records in no particular order
        return [
            (practice_records(seed=0), 0.25),
            (shuffled, 0.5),
            (practice_records(seed=2), 0.1),
            (practice_records(seed=3)[::-1], 0.7),
            (practice_records(seed=4), 0.35),
        ]

    def check_answer(self, group_split) -> None:
        for records, fraction in self.cases():
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
    # Whole groups move together, so the test side can miss the target by less than one group, no more:
    # adding groups until the target is reached overshoots by less than the last group added.
    target = fraction * len(records)
    largest = max(Counter(r.group for r in records).values())
    if abs(len(test) - target) > largest:
        raise IncorrectAnswer(
            f"`{call}` put {len(test)} of {len(records)} records ({len(test) / len(records):.0%}) in test; "
            f"expected about {fraction:.0%} of them, {target:.1f} records, give or take one group (the largest "
            f"has {largest} records). Use `test_fraction`: add whole groups to the test side until it holds "
            "test_fraction of the *records*."
        )


# ------------------------------------------------------------------------------ q3 label-aware flip
#: Further class lists and mirror maps the flip check tries, so that only ``mirror_map`` gives the right label.
_FLIP_CASES: tuple[tuple[tuple[str, ...], tuple[int, ...], tuple[int, int, int, int]], ...] = (
    (FLIP_CLASS_NAMES, FLIP_MIRROR_MAP, (4, 6, 8, 3)),
    (("SwipeLeft", "Clap", "SwipeRight", "Jump", "TurnLeft", "TurnRight"), (2, 1, 0, 3, 5, 4), (3, 5, 7, 3)),
    (("Clap", "Jump", "Wave"), (0, 1, 2), (2, 4, 5, 3)),
)


class FlipWithLabel(Question):
    """``flip_with_label(frames (T, H, W, C), label, mirror_map) -> (mirrored frames, label after the flip)``."""

    title = "Make a horizontal flip label-aware"
    hints = (
        "Two things can change in a mirror: the pixels and, for some classes, the label. Which axis of "
        "(T, H, W, C) runs from left to right? Which argument tells you the label after a flip?",
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
        for case, (names, mirror_map, shape) in enumerate(_FLIP_CASES):
            frames = np.random.default_rng(case).integers(0, 256, size=shape, dtype=np.uint8)
            given_map = (list(mirror_map), tuple(mirror_map), np.array(mirror_map))[case % 3]
            labels = [1, 2, 0, 3] + list(range(4, len(names))) if len(names) > 3 else list(range(len(names)))
            for label in labels:
                self._check_one(flip_with_label, frames, label, names, mirror_map, given_map)

    @staticmethod
    def _check_one(flip_with_label, frames, label, names, mirror_map, given_map) -> None:
        original = frames.copy()
        name = names[label]
        call = f"flip_with_label(<clip {frames.shape}>, {label}, mirror_map={list(mirror_map)})"
        got = call_learner(flip_with_label, frames, label, given_map, name="flip_with_label")
        if not np.array_equal(frames, original):
            raise IncorrectAnswer(
                f"`{call}` changed the input frames in place; return new (mirrored) frames and leave the "
                "caller's array as it was (slicing with `::-1` makes a view, no copy needed)."
            )
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise IncorrectAnswer(f"`{call}` should return a pair `(frames, label)`; got {describe(got)}.")
        got_frames, got_label = got
        expected_frames, expected_label, _ = flip_clip(frames, label, mirror_map, "swap")
        _check_flipped_frames(np.asarray(got_frames), frames, expected_frames, call)
        if isinstance(got_label, bool) or not isinstance(got_label, (int, np.integer)):
            raise IncorrectAnswer(
                f"the label should be an int class index; `{call}` returned {describe(got_label)}."
            )
        if int(got_label) != expected_label:
            if expected_label != label:
                raise IncorrectAnswer(
                    f"label {label} ({name}) has a mirror partner: a flipped {name} clip shows "
                    f"{names[expected_label]}, label mirror_map[{label}] = {expected_label}; got {int(got_label)}."
                )
            raise IncorrectAnswer(
                f"label {label} ({name}) is its own mirror image (mirror_map[{label}] == {label}) and must "
                f"stay {label}; got {int(got_label)}. Read the label after the flip from `mirror_map`, whatever "
                "the classes are."
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


# ------------------------------------------------------------------------------ q4 measure the leak
@functools.lru_cache(maxsize=1)
def _practice_clips_cached() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import cv2

    from hybridvid_lib.data.synth import synthesize_clip
    from hybridvid_lib.data.synth.actions import CLASSES
    from hybridvid_lib.data.synth.presets import get_preset

    features, labels, videos = [], [], []
    video = 0
    for label, class_name in enumerate(CLASSES):
        for group in range(1, get_preset("smoke").groups + 1):
            frames, _ = synthesize_clip(class_name, preset="smoke", seed=0, group=group, clip=1)
            for part in np.array_split(np.arange(len(frames)), CLIPS_PER_VIDEO):
                grey = cv2.cvtColor(frames[part[len(part) // 2]], cv2.COLOR_RGB2GRAY)
                features.append(cv2.resize(grey, (16, 16), interpolation=cv2.INTER_AREA).ravel() / 255.0)
                labels.append(label)
                videos.append(video)
            video += 1
    return np.asarray(features, np.float32), np.asarray(labels, np.int64), np.asarray(videos, np.int64)


def practice_clips() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clips for measuring a leak: ``(X, y, videos)``, the same on every call.

    72 short StickActions videos (preset ``smoke``: 12 classes, 6 actor groups, one video each),
    each cut into :data:`CLIPS_PER_VIDEO` consecutive clips, as UCF101 cuts long videos: 216 clips.

    Returns:
        ``X`` ``(216, 256)`` float32 in [0, 1]: each clip's middle frame, grey, 16 x 16, flattened;
        ``y`` ``(216,)`` int64 class labels; ``videos`` ``(216,)`` int64, the video each clip was cut
        from (``0 .. 71``). Clips of one video share everything, label included.
    """
    X, y, videos = _practice_clips_cached()
    return X.copy(), y.copy(), videos.copy()


def _nearest_neighbour_hits(X: np.ndarray, y: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1-nearest neighbour (Euclidean) trained on ``~test``: ``(correct, nearest)`` for the test rows.

    ``correct`` is a bool array, one entry per test row; ``nearest`` the index (into ``X``) of
    each test row's nearest training row.
    """
    train_idx, test_idx = np.flatnonzero(~test), np.flatnonzero(test)
    a, b = X[test_idx].astype(np.float64), X[train_idx].astype(np.float64)
    distances = (a * a).sum(1)[:, None] - 2.0 * a @ b.T + (b * b).sum(1)[None, :]
    nearest = train_idx[np.argmin(distances, axis=1)]
    return y[nearest] == y[test_idx], nearest


#: Share of the clips a test side of q4 may hold (the exercise asks for about 30%).
LEAK_TEST_SHARE = (0.2, 0.4)


class MeasureLeak(Question):
    """``q4.check(clip_test, video_test, leaky_accuracy, grouped_accuracy)`` on :func:`practice_clips`."""

    title = "Measure what a leaky split is worth"
    hints = (
        "The leaky split ignores `videos`: about 30% of the *clips*, drawn at random. The honest one draws about "
        "30% of the *videos* and puts all their clips in test. Each split is a boolean mask of length `len(y)`, "
        "True for a test clip, so `X[~mask]` is the training side and `X[mask]` the test side.",
        "`clip_test = rng.permutation(len(y)) < round(TEST_FRACTION * len(y))`; "
        "`video_test = np.isin(videos, rng.permutation(num_videos)[:round(TEST_FRACTION * num_videos)])`; an "
        "accuracy: `knn.fit(X[~mask], y[~mask]).score(X[mask], y[mask])`.",
    )
    solution_code = """
        clip_test = rng.permutation(len(y)) < round(TEST_FRACTION * len(y))       # 30% of the clips
        video_test = np.isin(videos, rng.permutation(num_videos)[:round(TEST_FRACTION * num_videos)])
        leaky_accuracy = knn.fit(X[~clip_test], y[~clip_test]).score(X[clip_test], y[clip_test])
        grouped_accuracy = knn.fit(X[~video_test], y[~video_test]).score(X[video_test], y[video_test])
    """

    def __init__(self, name: str):
        super().__init__(name)
        self._measured: dict[str, float] = {}

    @property
    def correct_note(self) -> str:  # computed from the learner's own numbers
        m = self._measured
        if not m:
            return ""
        gap = m["leaky"] - m["grouped"]
        return (
            f"on {m['n_leaky']} and {m['n_grouped']} test clips, the random split of clips scores "
            f"{m['leaky']:.0%} and the split by videos {m['grouped']:.0%}: the leaky split "
            f"{'overstates' if gap > 0 else 'understates'} accuracy by {abs(gap) * 100:.0f} points. In the leaky "
            f"split a test clip's nearest training clip came from its own video {m['same_video']:.0%} of the time: "
            "it matched a sibling clip, not an action."
        )

    def check_answer(self, clip_test, video_test, leaky_accuracy, grouped_accuracy) -> None:
        self._measured = {}
        X, y, videos = _practice_clips_cached()
        clip_mask = _check_test_mask(clip_test, "clip_test", len(y))
        video_mask = _check_test_mask(video_test, "video_test", len(y))
        for v in np.unique(videos):
            sides = set(video_mask[videos == v].tolist())
            if len(sides) > 1:
                raise IncorrectAnswer(
                    f"`video_test` splits video {v}: some of its clips are in test, others in train. The honest "
                    "split keeps every video's clips together: choose whole videos, e.g. "
                    "`np.isin(videos, chosen_videos)`."
                )
        sibling_in_train = np.array([np.any(~clip_mask & (videos == videos[i])) for i in np.flatnonzero(clip_mask)])
        if sibling_in_train.mean() < 0.5:
            raise IncorrectAnswer(
                f"`clip_test` keeps clips of a video together: only {sibling_in_train.mean():.0%} of its test clips "
                "have a clip of the same video in training. That is the honest split; `clip_test` should be the "
                "leaky one: draw clips at random, ignoring `videos`."
            )
        hits = {}
        for name, mask, reported in (("leaky_accuracy", clip_mask, leaky_accuracy),
                                     ("grouped_accuracy", video_mask, grouped_accuracy)):
            correct, nearest = _nearest_neighbour_hits(X, y, mask)
            hits[name] = (correct, nearest)
            _check_reported_accuracy(reported, name, correct, "clip_test" if mask is clip_mask else "video_test")
        correct, nearest = hits["leaky_accuracy"]
        self._measured = {
            "leaky": float(correct.mean()), "n_leaky": int(correct.size),
            "grouped": float(hits["grouped_accuracy"][0].mean()), "n_grouped": int(hits["grouped_accuracy"][0].size),
            "same_video": float((videos[nearest] == videos[clip_mask]).mean()),
        }


def _check_test_mask(mask, name: str, num_clips: int) -> np.ndarray:
    """``mask`` as a bool array of ``num_clips`` entries, with a test share in :data:`LEAK_TEST_SHARE`."""
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
        extra = ""
        if isinstance(mask, np.ndarray) and np.issubdtype(mask.dtype, np.integer):
            extra = (" It holds integers: if they are the indices of the test clips, turn them into a mask with "
                     "`np.isin(np.arange(len(y)), indices)`.")
        raise IncorrectAnswer(
            f"`{name}` should be a boolean NumPy array with one entry per clip (True = test clip), shape "
            f"({num_clips},); got {describe(mask)}.{extra}"
        )
    if mask.shape != (num_clips,):
        raise IncorrectAnswer(f"`{name}` should have shape ({num_clips},), one entry per clip; got shape {mask.shape}.")
    share = float(mask.mean())
    low, high = LEAK_TEST_SHARE
    if not low <= share <= high:
        raise IncorrectAnswer(
            f"`{name}` puts {int(mask.sum())} of {num_clips} clips ({share:.0%}) in test; expected about 30% "
            f"(between {low:.0%} and {high:.0%}), with the rest for training."
        )
    return mask


def _check_reported_accuracy(reported, name: str, correct: np.ndarray, mask_name: str) -> None:
    """``reported`` must be the 1-nearest-neighbour accuracy recomputed on the learner's split (one clip of slack)."""
    if isinstance(reported, (bool, np.bool_)) or not isinstance(reported, (int, float, np.integer, np.floating)):
        raise IncorrectAnswer(f"`{name}` should be a number, the share of test clips classified right; got "
                              f"{describe(reported)}.")
    expected, n = float(correct.mean()), int(correct.size)
    if not 0.0 <= float(reported) <= 1.0:
        hint = (f" It looks like a count: divide by the {n} test clips." if float(reported) == int(correct.sum())
                else "")
        raise IncorrectAnswer(f"`{name}` should be an accuracy between 0 and 1; got {float(reported):g}.{hint}")
    if abs(float(reported) - expected) > 1.0 / n + 1e-9:  # a tie broken the other way may move one clip
        raise IncorrectAnswer(
            f"`{name}` should be the 1-nearest-neighbour accuracy on your split `{mask_name}` (fit on the clips "
            f"where it is False, score on the {n} where it is True): recomputed {expected:.3f} "
            f"({int(correct.sum())} of {n}); you report {float(reported):.3f}. Measure it, do not type it in: "
            "`knn.fit(X[~mask], y[~mask]).score(X[mask], y[mask])`."
        )


q1 = UniformIndices("q1")
q2 = GroupSplit("q2")
q3 = FlipWithLabel("q3")
q4 = MeasureLeak("q4")
