"""Chapter 02 checks: the reference answers pass, and known-wrong answers fail with a message that teaches.

q1 is judged channel by channel, q2 against optical flow computed on real StickActions clips played backwards, and
q3 by re-measuring trained models (a few seconds of training each).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from hybridvid_lib.exercises.ch02 import (
    FUSION_SIZE, flow_error_px, fusion_task, q1, q2, q3, real_flow_pair, reference_stack,
)

from tests.support.exercises import solution_namespace as _solution


def test_importing_the_checks_does_not_import_tensorflow():
    code = "import sys, hybridvid_lib.exercises.ch02; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# ------------------------------------------------------------------ q1 stacking
def test_the_reference_stack_is_the_pipelines_order():
    fields = np.arange(2 * 3 * 4 * 2, dtype=np.float32).reshape(2, 3, 4, 2)
    stack = reference_stack(fields)
    assert stack.shape == (3, 4, 4)
    np.testing.assert_array_equal(stack[..., 0], fields[0, ..., 0])  # dx_1
    np.testing.assert_array_equal(stack[..., 1], fields[0, ..., 1])  # dy_1
    np.testing.assert_array_equal(stack[..., 2], fields[1, ..., 0])  # dx_2
    from hybridvid_lib.viz.flow import unstack_flow
    np.testing.assert_array_equal(unstack_flow(stack), fields)


def test_q1_reference_passes():
    result = q1.check(_solution(q1)["stack_flow"])
    assert result, result.message


def _dx_then_dy(f):
    return np.concatenate([np.transpose(f[..., 0], (1, 2, 0)), np.transpose(f[..., 1], (1, 2, 0))], axis=-1)


@pytest.mark.parametrize("answer, expected_words", [
    (lambda f: f.reshape(f.shape[1], f.shape[2], -1), ["the pixels are mixed up", "transpose"]),
    (_dx_then_dy, ["channel 1 holds dx_2 (expected dy_1)", "components alternate"]),
    (lambda f: reference_stack(f[::-1]), ["channel 0 holds dx_3 (expected dx_1)", "keep their order in time"]),
    (lambda f: reference_stack(f[..., ::-1]), ["channel 0 holds dy_1 (expected dx_1)"]),
    (lambda f: np.transpose(reference_stack(f), (2, 0, 1)), ["(5, 7, 6)", "channels should come last"]),
    (lambda f: None, ["should return an array of shape (H, W, 2L)", "forget `return`"]),
])
def test_q1_wrong_stacks_fail_channel_by_channel(answer, expected_words):
    result = q1.check(answer)
    assert not result
    for words in expected_words:
        assert words in result.message, result.message


def test_q1_first_hint_gives_no_code():
    first = q1.hint_text(1)
    assert "np." not in first and "transpose(" not in first


# ------------------------------------------------------------------ q2 reversed flow
def test_reversed_and_negated_flow_is_close_to_the_flow_of_the_reversed_clip():
    forward, backward = real_flow_pair("SitDown")
    assert forward.shape == backward.shape and forward.shape[1:] == (64, 64, 2)
    rule = flow_error_px(-forward[::-1], backward)
    assert rule < 0.2
    for wrong in (forward, forward[::-1], -forward):
        assert flow_error_px(wrong, backward) > 4 * rule


def test_q2_reference_passes_and_reports_the_measured_errors():
    result = q2.check(_solution(q2)["reverse_flow"])
    assert result, result.message
    assert "SitDown: yours" in result.message and "RaiseArms: yours" in result.message


@pytest.mark.parametrize("answer, expected_words", [
    (lambda f: f[::-1], ["reversed in order only", "a right answer is within"]),
    (lambda f: -f, ["negated only"]),
    (lambda f: f, ["kept as they are"]),
    (lambda f: -f[::-1][1:], ["the same shape"]),
    (lambda f: -f[::-1].transpose(0, 2, 1, 3), ["mean end-point error"]),
])
def test_q2_wrong_rules_fail_with_measured_errors(answer, expected_words):
    result = q2.check(answer)
    assert not result
    for words in expected_words:
        assert words in result.message, result.message
    assert "reversed and negated 0." not in result.message  # the message must not give the rule away


def test_q2_first_hint_gives_no_rule():
    first = q2.hint_text(1)
    assert "[::-1]" not in first and "-fields" not in first


# ------------------------------------------------------------------ q3 measured experiment
def test_the_fusion_task_hides_the_class_from_each_stream():
    x, y = fusion_task(2000, seed=0)
    assert x["rgb"].shape == (2000, FUSION_SIZE, FUSION_SIZE, 3) and x["flow"].shape[-1] == 2
    blue = x["rgb"][..., 2].max(axis=(1, 2)) > x["rgb"][..., 0].max(axis=(1, 2))
    down = x["flow"][..., 1].sum(axis=(1, 2)) > 0
    np.testing.assert_array_equal(y, (blue ^ down).astype(np.int64))  # the class is the exclusive or
    for cue in (blue, down):  # each cue alone says (almost) nothing about the class
        assert abs(np.mean(y[cue]) - 0.5) < 0.05
    with pytest.raises(ValueError):
        fusion_task(0, seed=0)


@pytest.fixture(scope="module")
def trained(keras):
    """The reference models, trained once (seconds), and the reference measurements."""
    names = {"keras": keras, "S": FUSION_SIZE}
    names["x_train"], names["y_train"] = fusion_task(512, seed=0)
    names["x_test"], names["y_test"] = fusion_task(256, seed=1)
    keras.utils.set_random_seed(0)
    return _solution(q3, **names)


@pytest.mark.slow
def test_q3_reference_passes_and_reports_the_measurement(trained):
    measured = trained["measured"]
    assert measured["learned"] >= 0.9 and max(measured["rgb"], measured["flow"], measured["average"]) < 0.65
    result = q3.check(trained["rgb_model"], trained["flow_model"], trained["fusion_model"], measured)
    assert result, result.message
    assert "learned fusion" in result.message


@pytest.mark.slow
def test_q3_wrong_answers_fail(trained, keras):
    rgb, flow, fused, measured = (trained["rgb_model"], trained["flow_model"], trained["fusion_model"],
                                  trained["measured"])
    untrained = trained["build_learned_fusion"]()
    cases = [
        ((flow, rgb, fused, measured), ["should take one input of shape (B, 12, 12, 3)", "The order is"]),
        ((rgb, flow, untrained, measured), ["`fusion_model` is right for", "single Dense layer"]),
        ((rgb, flow, rgb, measured), ["should take both streams' inputs"]),
        ((rgb, flow, fused, dict(measured, average=1.0)), ["you reported 1.00 for `average`",
                                                           "never type the numbers"]),
        ((rgb, flow, fused, {"rgb": 0.5}), ["should be a dict with the keys"]),
        ((rgb, "flow", fused, measured), ["should be a trained keras.Model"]),
    ]
    for answers, expected_words in cases:
        result = q3.check(*answers)
        assert not result, answers
        for words in expected_words:
            assert words in result.message, result.message


def test_q3_first_hint_names_no_layer_size():
    first = q3.hint_text(1)
    assert "Dense(16" not in first and "Conv2D" not in first
