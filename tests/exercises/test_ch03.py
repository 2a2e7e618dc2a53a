"""Chapter 03 checks: the reference answers pass, and known-wrong answers fail with a message that teaches.

q1 is judged against layers the check builds and measures, q2 by running Conv3D against Conv2D, and q3 by
re-measuring trained models (a few seconds of training each).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from hybridvid_lib.exercises.ch03 import (
    C3D_TIME_CHAIN, DOT_FRAMES, DOT_SIZE, measured_receptive_field, moving_dot_clips, q1, q2, q3,
)
from hybridvid_lib.models.receptive_field import chain_receptive_fields

from tests.support.exercises import solution_namespace as _solution


def test_importing_the_checks_does_not_import_tensorflow():
    code = "import sys, hybridvid_lib.exercises.ch03; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# ------------------------------------------------------------------ q1 receptive field
def test_the_measured_field_agrees_with_the_library_and_the_built_c3d():
    assert measured_receptive_field(*C3D_TIME_CHAIN) == chain_receptive_fields(*C3D_TIME_CHAIN)
    from hybridvid_lib.config import resolve_settings
    from hybridvid_lib.models import build_model
    from hybridvid_lib.models.receptive_field import receptive_fields

    rows = receptive_fields(build_model("c3d", resolve_settings("smoke"), 4), axis="time")
    assert ([r["kernel"] for r in rows], [r["stride"] for r in rows]) == tuple(list(x) for x in C3D_TIME_CHAIN)


def test_q1_reference_passes():
    result = q1.check(_solution(q1)["temporal_receptive_field"])
    assert result, result.message
    assert "76" in result.message


def _no_jump(kernels, strides):
    field, out = 1, []
    for k in kernels:
        field += k - 1
        out.append(field)
    return out


@pytest.mark.parametrize("answer, expected_words", [
    (_no_jump, ["returned [3, 4, 6]", "the fields are [3, 4, 8]", "after a stride"]),
    (lambda k, s: [sum(k[: i + 1]) for i in range(len(k))], ["returned [3, 6, 9]", "[3, 5, 7]"]),
    (lambda k, s: chain_receptive_fields(k, s)[-1], ["returned one number, 7", "one receptive field per layer"]),
    (lambda k, s: chain_receptive_fields(k, s)[:-1], ["should return 3 numbers, one per layer"]),
    (lambda k, s: [kk for kk in k], ["returned [3, 3, 3]", "[3, 5, 7]"]),
    (lambda k, s: "7", ["should return a list of 3 whole numbers"]),
])
def test_q1_wrong_answers_fail_with_the_measured_fields(answer, expected_words):
    result = q1.check(answer)
    assert not result
    for words in expected_words:
        assert words in result.message, result.message


def test_q1_first_hint_gives_no_formula():
    first = q1.hint_text(1)
    assert "+=" not in first and "*=" not in first and "(k - 1) * jump" not in first


# ------------------------------------------------------------------ q2 inflation
def test_q2_reference_passes():
    result = q2.check(_solution(q2)["inflate"])
    assert result, result.message


def _centre(kernel, time):
    out = np.zeros((time,) + kernel.shape, dtype=kernel.dtype)
    out[time // 2] = kernel
    return out


@pytest.mark.parametrize("answer, expected_words", [
    (lambda k, t: np.repeat(k[None], t, axis=0), ["3.00 times the 2D one", "copies add up"]),
    (lambda k, t: np.repeat(k[..., None], t, axis=-1) / t, ["(3, 3, 3, 2, 4)", "new time axis first",
                                                             "shape (3, 3, 2, 4, 3)"]),
    (_centre, ["gives the 2D response on a still clip", "every slice should be the same"]),
    (lambda k, t: np.repeat(np.transpose(k, (1, 0, 2, 3))[None], t, axis=0) / t, ["largest difference",
                                                                                   "same (kH, kW, C_in, C_out)"]),
    (lambda k, t: None, ["should return a kernel of shape"]),
])
def test_q2_wrong_inflations_fail(answer, expected_words):
    result = q2.check(answer)
    assert not result
    for words in expected_words:
        assert words in result.message, result.message


def test_q2_first_hint_gives_no_code():
    first = q2.hint_text(1)
    assert "np." not in first and "/ time" not in first


# ------------------------------------------------------------------ q3 measured experiment
def test_moving_dot_pairs_are_reverses_and_classes_differ_only_in_order():
    x, y = moving_dot_clips(4, seed=0, pairs=True)
    assert x.shape == (8, DOT_FRAMES, DOT_SIZE, DOT_SIZE, 1) and x.dtype == np.float32
    assert y.tolist() == [0, 1] * 4
    np.testing.assert_array_equal(x[1::2], x[0::2, ::-1])
    x, y = moving_dot_clips(6, seed=0, pairs=False)
    assert y.tolist() == [0, 0, 0, 1, 1, 1]
    with pytest.raises(ValueError):
        moving_dot_clips(2, seed=0, pairs=True, num_frames=8, size=4)


@pytest.fixture(scope="module")
def trained(keras):
    """The reference models, trained once (seconds), and the reference measurements."""
    names = {"keras": keras, "T": DOT_FRAMES, "S": DOT_SIZE}
    names["x_train"], names["y_train"] = moving_dot_clips(256, seed=0, pairs=False)
    names["x_test"], names["y_test"] = moving_dot_clips(64, seed=1, pairs=True)
    keras.utils.set_random_seed(0)
    return _solution(q3, **names)


@pytest.mark.slow
def test_q3_reference_passes_and_reports_the_measurement(trained):
    assert trained["measured"]["frame_model"] == 0.5 and trained["measured"]["c3d_model"] >= 0.9
    result = q3.check(trained["frame_model"], trained["c3d_model"], trained["measured"])
    assert result, result.message
    assert "frame model 0.50" in result.message


@pytest.mark.slow
def test_q3_wrong_answers_fail(trained, keras):
    frame, c3d, measured = trained["frame_model"], trained["c3d_model"], trained["measured"]
    untrained = trained["build_tiny_c3d"](DOT_FRAMES, DOT_SIZE, 2)
    cases = [
        ((c3d, frame, measured), ["not blind to order", "other way round"]),  # models swapped
        ((frame, untrained, measured), ["`c3d_model` put", "An untrained one is near 0.5"]),
        ((frame, frame, measured), ["has no Conv3D layer"]),
        ((frame, c3d, {"frame_model": 1.0, "c3d_model": 1.0}), ["you reported 1.00 for `frame_model`",
                                                                 "never type the numbers"]),
        ((frame, c3d, {"frame_model": 0.5}), ["should be a dict with the keys"]),
        ((frame, c3d, {"frame_model": "0.5", "c3d_model": 1.0}), ["should be an accuracy"]),
        ((frame, "c3d", measured), ["should be a trained keras.Model"]),
    ]
    for answers, expected_words in cases:
        result = q3.check(*answers)
        assert not result, answers
        for words in expected_words:
            assert words in result.message, result.message


def test_q3_a_model_of_the_wrong_input_shape_is_told_the_expected_shape(keras):
    inputs = keras.Input((DOT_FRAMES, DOT_SIZE, DOT_SIZE, 3))
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling3D()(inputs))
    model = keras.Model(inputs, outputs)
    result = q3.check(model, model, {"frame_model": 0.5, "c3d_model": 0.5})
    assert not result
    assert f"(None, {DOT_FRAMES}, {DOT_SIZE}, {DOT_SIZE}, 1)" in result.message


def test_q3_first_hint_names_no_layer():
    first = q3.hint_text(1)
    assert "Conv3D" not in first and "TimeDistributed" not in first and "Pooling" not in first
