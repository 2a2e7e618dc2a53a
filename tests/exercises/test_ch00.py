"""Chapter 00 checks: the reference answers pass, and every known-wrong answer fails with a teaching message."""

from __future__ import annotations

import inspect
from collections import Counter

import numpy as np
import pytest

from hybridvid_lib.data.sampling import sample_indices
from hybridvid_lib.exercises.ch00 import (
    FLIP_MIRROR_MAP, SPLIT_TOLERANCE, practice_records, q1, q2, q3,
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


# ------------------------------------------------------------------ q1 sampling
def test_q1_reference_agrees_with_the_kit():
    for n, f in ((100, 8), (5, 8), (37, 1), (1, 4)):
        np.testing.assert_array_equal(uniform_indices(n, f), sample_indices(n, f, "uniform"))


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
    assert len(sizes) == 10 and max(sizes.values()) / len(a) < SPLIT_TOLERANCE
    assert all(r.relpath.split("_")[-2] == r.group for r in a)


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
    (lambda records, f: group_split(records, 0.9), ["records", "in test; expected about 25%", "within 15 points"]),
], ids=["empty-test", "not-a-pair", "dropped-record", "duplicated", "groups-not-records", "wrong-share"])
def test_q2_wrong_answers_fail_with_a_teaching_message(wrong, expected_words):
    result = q2.check(wrong)
    assert not result
    for words in expected_words:
        assert words in result.message


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


def test_q3_an_in_place_flip_is_refused():
    def in_place(frames, label, mirror_map):
        frames[:] = frames[:, :, ::-1].copy()
        return frames, int(mirror_map[label])

    result = q3.check(in_place)
    assert not result and "changed the input frames in place" in result.message


def test_q3_mirror_map_matches_its_class_names():
    assert [FLIP_MIRROR_MAP[FLIP_MIRROR_MAP[i]] for i in range(4)] == [0, 1, 2, 3]
