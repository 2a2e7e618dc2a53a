"""Chapter 00 checks: the reference answers pass, and every known-wrong answer fails with a teaching message."""

from __future__ import annotations

import inspect
from collections import Counter

import numpy as np
import pytest

from hybridvid_lib.data.sampling import sample_indices
from hybridvid_lib.exercises.ch00 import (
    CLIPS_PER_VIDEO, FLIP_MIRROR_MAP, GroupSplit, practice_clips, practice_records, q1, q2, q3, q4,
)


# ------------------------------------------------------------------ reference answers
def uniform_indices(num_available, num_frames):
    i = np.arange(num_frames, dtype=np.int64)
    if num_available < num_frames:
        return i % num_available
    return (2 * i + 1) * num_available // (2 * num_frames)


def group_split(records, test_fraction, seed=0):
    sizes = Counter(r.group for r in records)
    groups = sorted(sizes)
    np.random.default_rng(seed).shuffle(groups)
    target = test_fraction * len(records)
    test_groups, count = set(), 0
    for group in groups:
        if count >= target:
            break
        test_groups.add(group)
        count += sizes[group]
    return [r for r in records if r.group not in test_groups], [r for r in records if r.group in test_groups]


def flip_with_label(frames, label, mirror_map):
    return frames[:, :, ::-1, :], int(mirror_map[label])


def leak_experiment(seed=0, test_fraction=0.3):
    """The reference answer of q4: (clip_test, video_test, leaky_accuracy, grouped_accuracy)."""
    from sklearn.neighbors import KNeighborsClassifier

    X, y, videos = practice_clips()
    rng = np.random.default_rng(seed)
    num_videos = len(np.unique(videos))
    clip_test = rng.permutation(len(y)) < round(test_fraction * len(y))
    video_test = np.isin(videos, rng.permutation(num_videos)[:round(test_fraction * num_videos)])
    knn = KNeighborsClassifier(n_neighbors=1)
    leaky = knn.fit(X[~clip_test], y[~clip_test]).score(X[clip_test], y[clip_test])
    grouped = knn.fit(X[~video_test], y[~video_test]).score(X[video_test], y[video_test])
    return clip_test, video_test, leaky, grouped


@pytest.mark.parametrize("question, answer", [(q1, uniform_indices), (q2, group_split), (q3, flip_with_label)],
                         ids=["q1", "q2", "q3"])
def test_reference_answers_pass(question, answer, capsys):
    assert question.check(answer)
    assert capsys.readouterr().out.startswith("Correct")


def test_each_question_has_hints_and_a_solution_that_passes_its_own_check():
    namespace = {"np": np}
    for question, name in ((q1, "uniform_indices"), (q2, "group_split"), (q3, "flip_with_label")):
        assert question.hint_text(1) and question.solution_code
        exec(compile(inspect.cleandoc(question.solution_code), name, "exec"), namespace)
        assert question.evaluate(namespace[name]).kind == "correct", name
    from sklearn.neighbors import KNeighborsClassifier

    X, y, videos = practice_clips()
    namespace = {"np": np, "X": X, "y": y, "videos": videos, "num_videos": len(np.unique(videos)),
                 "rng": np.random.default_rng(0), "TEST_FRACTION": 0.3, "knn": KNeighborsClassifier(n_neighbors=1)}
    assert q4.hint_text(1) and q4.solution_code
    exec(compile(inspect.cleandoc(q4.solution_code), "q4", "exec"), namespace)
    answers = [namespace[k] for k in ("clip_test", "video_test", "leaky_accuracy", "grouped_accuracy")]
    assert q4.evaluate(*answers).kind == "correct"


def test_first_hints_do_not_give_the_answer_away():
    assert "//" not in q1.hint_text(1) and "%" not in q1.hint_text(1)
    assert "Counter" not in q2.hint_text(1) and "test_groups" not in q2.hint_text(1)
    assert "::-1" not in q3.hint_text(1) and "mirror_map[label]" not in q3.hint_text(1)
    assert "permutation" not in q4.hint_text(1) and ".score(" not in q4.hint_text(1)


# ------------------------------------------------------------------ q1 sampling
def test_q1_reference_agrees_with_the_kit():
    for n, f in ((100, 8), (5, 8), (37, 1), (1, 4)):
        np.testing.assert_array_equal(uniform_indices(n, f), sample_indices(n, f, "uniform"))


def test_q1_checks_varied_videos_and_clips():
    assert len(q1.CASES) >= 8 and len({f for _, f, _ in q1.CASES}) >= 5
    assert any(n < f for n, f, _ in q1.CASES) and any(n > 10 * f for n, f, _ in q1.CASES)
    # Right for the first two cases only (hard-coded, then bin starts instead of centres): fails on the third.
    result = q1.check(lambda n, f: np.array([6, 18, 31, 43, 56, 68, 81, 93]) if (n, f) == (100, 8)
                      else np.arange(f) * n // f)
    assert not result and "`uniform_indices(45, 16)` (bins of 2.8 frames) should be" in result.message


@pytest.mark.parametrize("wrong, expected_words", [
    (lambda n, f: list(uniform_indices(n, f)), ["NumPy array", "got a list of 8 items", "np.asarray"]),
    (lambda n, f: uniform_indices(n, f).astype(np.float64), ["dtype float64", "integers (dtype int64)"]),
    (lambda n, f: uniform_indices(n, f)[:-1], ["shape (8,)", "got shape (7,)"]),
    (lambda n, f: np.linspace(0, n - 1, f).astype(int),
     ["`uniform_indices(100, 8)` (a long video) should be [6, 18, 31, 43, 56, 68, 81, 93]", "centre of each"]),
    (lambda n, f: (2 * np.arange(f) + 1) * n // (2 * f) if n >= f else np.arange(f),
     ["indices from 0 to 7", "indices 0 to 4", "[0, num_available)", "must loop"]),
    (lambda n, f: (2 * np.arange(f) + 1) * n // (2 * f),
     ["short video that must loop", "should be [0, 1, 2, 3, 4, 0, 1, 2]", "plays again from the start"]),
    (lambda n, f: None, ["None (did you forget `return`?)"]),
], ids=["list", "float", "shape", "linspace", "no-wrap", "bin-centres-for-short", "none"])
def test_q1_wrong_answers_fail_with_the_expected_dtype_shape_or_range(wrong, expected_words):
    result = q1.check(wrong)
    assert not result
    for words in expected_words:
        assert words in result.message


# ------------------------------------------------------------------ q2 group split
def test_practice_records_are_reproducible_and_small_groups():
    a, b = practice_records(0), practice_records(0)
    assert a == b and a != practice_records(1)
    sizes = Counter(r.group for r in a)
    assert len(sizes) == 10 and max(sizes.values()) / len(a) < 0.15
    assert all(r.relpath.split("_")[-2] == r.group for r in a)


def test_q2_tries_several_record_lists_orders_and_fractions():
    cases = GroupSplit.cases()
    fractions = [f for _, f in cases]
    assert len(cases) >= 4 and min(fractions) <= 0.1 and max(fractions) >= 0.7
    assert len({tuple(r.relpath for r in records) for records, _ in cases}) == len(cases)
    assert any([r.group for r in records] != sorted(r.group for r in records) for records, _ in cases)


def _half_the_groups(records):
    groups = sorted({r.group for r in records})[::2]
    return [r for r in records if r.group not in groups], [r for r in records if r.group in groups]


def _random_clip_split(records, test_fraction):
    order = np.random.default_rng(0).permutation(len(records))
    cut = int(len(records) * (1 - test_fraction))
    return [records[i] for i in order[:cut]], [records[i] for i in order[cut:]]


def test_q2_a_random_clip_split_fails_naming_a_leaking_group():
    result = q2.check(_random_clip_split)
    assert not result
    assert result.message.startswith("group 'g")
    assert "leaks" in result.message and "in train (" in result.message and "and in test (" in result.message


@pytest.mark.parametrize("wrong, expected_words", [
    (lambda records, f: (records, []), ["left the test side empty"]),
    (lambda records, f: group_split(records, f)[0], ["pair `(train, test)`", "got a list of"]),
    (lambda records, f: (group_split(records, f)[0][1:], group_split(records, f)[1]),
     ["is in neither train nor test", "exactly once"]),
    (lambda records, f: (records, group_split(records, f)[1]), ["is used 2 times"]),
    (lambda records, f: ([r.group for r in records], []), ["Record objects", "a str"]),
    (lambda records, f: group_split(records, 0.9), ["records", "in test; expected about 25%", "give or take one group",
                                                    "Use `test_fraction`"]),
    # Ignores test_fraction: always about 20% of the records, or always half of the groups.
    (lambda records, f: group_split(records, 0.2), ["in test; expected about 50%", "give or take one group"]),
    (lambda records, f: _half_the_groups(records), ["in test; expected about 25%", "Use `test_fraction`"]),
], ids=["empty-test", "not-a-pair", "dropped-record", "duplicated", "groups-not-records", "wrong-share",
        "always-20-percent", "always-half-the-groups"])
def test_q2_wrong_answers_fail_with_a_teaching_message(wrong, expected_words):
    result = q2.check(wrong)
    assert not result
    for words in expected_words:
        assert words in result.message


def test_q2_a_split_by_a_share_of_the_groups_that_tracks_test_fraction_passes():
    def by_group_share(records, test_fraction):
        sizes = Counter(r.group for r in records)
        test_groups, count = set(), 0
        for group in sorted(sizes, key=lambda g: -sizes[g]):  # largest first, stop before passing the target
            if count + sizes[group] <= test_fraction * len(records) or not test_groups:
                test_groups.add(group)
                count += sizes[group]
        return [r for r in records if r.group not in test_groups], [r for r in records if r.group in test_groups]

    assert q2.check(by_group_share)


def test_q2_a_split_that_shuffles_the_callers_list_is_still_checked_fairly():
    def shuffling_split(records, test_fraction):
        np.random.default_rng(3).shuffle(records)  # changes only the check's copy
        return group_split(records, test_fraction)

    assert q2.check(shuffling_split)


# ------------------------------------------------------------------ q3 label-aware flip
@pytest.mark.parametrize("wrong, expected_words", [
    (lambda f, l, m: (f, int(m[l])), ["came back unchanged", "axis 2 of (T, H, W, C)"]),
    (lambda f, l, m: (f[:, ::-1], int(m[l])), ["upside down", "height axis (axis 1)"]),
    (lambda f, l, m: (f[::-1], int(m[l])), ["play backwards", "time axis (axis 0)"]),
    (lambda f, l, m: (f[..., ::-1], int(m[l])), ["colour channels reversed"]),
    (lambda f, l, m: (f[:, :, ::-1], l), ["label 1 (PointLeft) has a mirror partner", "PointRight", "got 1"]),
    (lambda f, l, m: (f[:, :, ::-1], 2 if l == 1 else 1 if l == 2 else 2),
     ["label 0 (Wave) is its own mirror image", "must stay 0; got 2"]),
    (lambda f, l, m: (f[:, :, ::-1], float(m[l])), ["int class index", "a float"]),
    (lambda f, l, m: f[:, :, ::-1], ["pair `(frames, label)`", "uint8 ndarray of shape (4, 6, 8, 3)"]),
    (lambda f, l, m: (f[:, :, ::-1, :].reshape(4, -1), int(m[l])), ["shape (T, H, W, C) = (4, 6, 8, 3)"]),
], ids=["unchanged", "height", "time", "channels", "label-kept", "label-swapped-for-symmetric", "float-label",
        "frames-only", "reshaped"])
def test_q3_wrong_answers_fail_with_a_teaching_message(wrong, expected_words):
    result = q3.check(wrong)
    assert not result
    for words in expected_words:
        assert words in result.message


@pytest.mark.parametrize("wrong", [
    lambda f, l, m: (f[:, :, ::-1], {1: 2, 2: 1}.get(l, l)),  # the swap of this exercise's classes, hard-coded
    lambda f, l, m: (f[:, :, ::-1], (0, 2, 1, 3)[l] if l < 4 else l),  # FLIP_MIRROR_MAP instead of mirror_map
], ids=["hard-coded-swap", "module-map"])
def test_q3_a_flip_that_ignores_mirror_map_fails(wrong):
    result = q3.check(wrong)
    assert not result
    assert "label 1 (Clap) is its own mirror image" in result.message and "from `mirror_map`" in result.message


def test_q3_a_flip_that_only_works_for_one_clip_size_fails():
    result = q3.check(lambda f, l, m: (f[:, :, ::-1] if f.shape[2] == 8 else f[:, :, :0:-1], int(m[l])))
    assert not result and "shape (T, H, W, C)" in result.message


def test_q3_an_in_place_flip_is_refused():
    def in_place(frames, label, mirror_map):
        frames[:] = frames[:, :, ::-1].copy()
        return frames, int(mirror_map[label])

    result = q3.check(in_place)
    assert not result and "changed the input frames in place" in result.message


def test_q3_mirror_map_matches_its_class_names():
    assert [FLIP_MIRROR_MAP[FLIP_MIRROR_MAP[i]] for i in range(4)] == [0, 1, 2, 3]


# ------------------------------------------------------------------ q4 measure the leak
def test_practice_clips_are_reproducible_and_cut_from_videos():
    X, y, videos = practice_clips()
    assert X.shape == (216, 256) and X.dtype == np.float32 and 0.0 <= X.min() and X.max() <= 1.0
    assert y.shape == videos.shape == (216,) and len(np.unique(y)) == 12 and len(np.unique(videos)) == 72
    assert all((np.unique(y[videos == v]).size == 1 and (videos == v).sum() == CLIPS_PER_VIDEO) for v in range(72))
    again = practice_clips()[0]
    X[:] = 0  # each call returns a copy: changing one leaves the next unchanged
    np.testing.assert_array_equal(practice_clips()[0], again)
    assert again.max() > 0


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_q4_reference_measurement_passes_and_reports_the_optimism(seed):
    clip_test, video_test, leaky, grouped = leak_experiment(seed)
    result = q4.check(clip_test, video_test, leaky, grouped)
    assert result, result.message
    assert leaky - grouped > 0.2  # the leak is large on these clips, whatever the seed
    assert f"{leaky:.0%}" in result.message and "overstates accuracy by" in result.message


def test_q4_other_test_fractions_are_accepted():
    assert q4.check(*leak_experiment(5, test_fraction=0.25))
    assert q4.check(*leak_experiment(6, test_fraction=0.38))


@pytest.mark.parametrize("fake", [(0.9, 0.1), (0.55, 0.06), (1.0, 0.0)], ids=["round", "plausible", "perfect"])
def test_q4_typed_in_numbers_fail_against_the_recomputation(fake):
    clip_test, video_test, leaky, grouped = leak_experiment(0)
    if abs(fake[0] - leaky) < 0.02:
        fake = (fake[0] + 0.05, fake[1])
    result = q4.check(clip_test, video_test, *fake)
    assert not result
    assert "recomputed" in result.message and "do not type it in" in result.message


def test_q4_swapped_splits_or_accuracies_fail():
    clip_test, video_test, leaky, grouped = leak_experiment(0)
    swapped_masks = q4.check(video_test, clip_test, grouped, leaky)
    assert not swapped_masks and "`video_test` splits video" in swapped_masks.message
    swapped_numbers = q4.check(clip_test, video_test, grouped, leaky)
    assert not swapped_numbers and "`leaky_accuracy`" in swapped_numbers.message


def test_q4_an_honest_split_passed_as_the_leaky_one_fails():
    _, video_test, _, grouped = leak_experiment(0)
    result = q4.check(video_test, video_test, grouped, grouped)
    assert not result and "`clip_test` keeps clips of a video together" in result.message


def test_q4_other_classifiers_or_train_test_mixups_fail():
    from sklearn.neighbors import KNeighborsClassifier

    X, y, _ = practice_clips()
    clip_test, video_test, leaky, grouped = leak_experiment(0)
    five_nn = KNeighborsClassifier(n_neighbors=5).fit(X[~clip_test], y[~clip_test]).score(X[clip_test], y[clip_test])
    if abs(five_nn - leaky) > 1 / clip_test.sum():
        assert not q4.check(clip_test, video_test, five_nn, grouped)
    on_train = KNeighborsClassifier(n_neighbors=1).fit(X[clip_test], y[clip_test]).score(X[~clip_test], y[~clip_test])
    assert not q4.check(clip_test, video_test, on_train, grouped)


@pytest.mark.parametrize("answers, expected_words", [
    (lambda c, v, a, b: (list(c), v, a, b), ["`clip_test` should be a boolean NumPy array", "shape (216,)"]),
    (lambda c, v, a, b: (np.flatnonzero(c), v, a, b), ["holds integers", "np.isin(np.arange(len(y)), indices)"]),
    (lambda c, v, a, b: (c[:-1], v, a, b), ["shape (216,)", "got shape (215,)"]),
    (lambda c, v, a, b: (np.arange(216) < 20, v, a, b), ["20 of 216 clips", "about 30%"]),
    (lambda c, v, a, b: (c, v, a * c.sum(), b), ["between 0 and 1", "looks like a count"]),
    (lambda c, v, a, b: (c, v, str(a), b), ["should be a number", "a str"]),
    (lambda c, v, a, b: (c, v, ..., b), ["still `...`"]),
], ids=["list-mask", "index-array", "short-mask", "tiny-test-side", "count", "string", "placeholder"])
def test_q4_wrong_answers_fail_with_a_teaching_message(answers, expected_words):
    result = q4.check(*answers(*leak_experiment(0)))
    assert not result
    for words in expected_words:
        assert words in result.message
