"""Chapter 06 checks: the reference answers pass, and known-wrong answers fail with a message that teaches.

q1 and q3 judge Keras models, so their tests build small networks (q3 trains three, seconds each).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from hybridvid_lib.exercises.ch06 import (
    C3D_TIME_CHAIN, I3D_TIME_CHAIN, SHAPE_FRAMES, SHAPE_SIZE, SHAPES, q1, q2, q3, receptive_fields_reference,
    shape_clips, shape_frames, tiny_2d_net, tiny_3d_net,
)

from tests.support.exercises import solution_namespace as _solution


def test_importing_the_checks_does_not_import_tensorflow():
    code = "import sys, hybridvid_lib.exercises.ch06; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_hints_do_not_give_the_answer_away():
    for question, code_words in ((q1, ["set_weights", "inflate(w[0]"]),
                                 (q2, ["max(", "(k - 1) * j, j * s"]),
                                 (q3, ["set_weights", "Adam(1e-3)"])):
        first = question.hint_text(1)
        assert not any(word in first for word in code_words), (question.name, first)


# ------------------------------------------------------------------ q1 inflate a whole network
def _inflate_model(keras, *, divide=True, copy_bn=True, pool_time=1, middle_only=False, skip_second_conv=False):
    """The reference answer of q1, with one known slip switched on."""
    L = keras.layers

    def inflate(kernel_2d, time):
        if middle_only:
            k = np.zeros((time,) + kernel_2d.shape, kernel_2d.dtype)
            k[time // 2] = kernel_2d
            return k
        return np.repeat(kernel_2d[None], time, axis=0) / (time if divide else 1)

    def inflate_model(model_2d, time):
        inputs = keras.Input((None,) + tuple(model_2d.input.shape[1:]))
        x = inputs
        for layer in model_2d.layers[1:]:
            if isinstance(layer, L.Conv2D):
                if skip_second_conv and layer.name == "conv2":
                    continue
                twin = L.Conv3D(layer.filters, (time,) + tuple(layer.kernel_size), padding="same",
                                use_bias=layer.use_bias)
                x = twin(x)
                w = layer.get_weights()
                twin.set_weights([inflate(w[0], time)] + w[1:])
            elif isinstance(layer, L.BatchNormalization):
                if skip_second_conv and layer.name == "bn2":
                    continue
                twin = L.BatchNormalization(epsilon=layer.epsilon)
                x = twin(x)
                if copy_bn:
                    twin.set_weights(layer.get_weights())
            elif isinstance(layer, L.MaxPooling2D):
                x = L.MaxPooling3D((pool_time, 2, 2))(x)
            else:
                x = L.ReLU()(x)
        return keras.Model(inputs, x)

    return inflate_model


def test_q1_reference_passes(keras):
    result = q1.check(_solution(q1, keras=keras)["inflate_model"])
    assert result, result.message
    assert "boring" in result.message or "still clip" in result.message


@pytest.mark.parametrize("slip, words", [
    ({"divide": False}, ["add up to 3 times", "divide by `time`"]),
    ({"copy_bn": False}, ["copy all four", "moving variance"]),
    ({"pool_time": 2}, ["halves time", "1 x 2 x 2"]),
    ({"middle_only": True}, ["time slices of a kernel differ", "evenly"]),
    ({"skip_second_conv": True}, ["1 Conv3D layers", "every Conv2D"]),
])
def test_q1_known_wrong_answers_fail_with_a_teaching_message(keras, slip, words):
    result = q1.check(_inflate_model(keras, **slip))
    assert not result
    for word in words:
        assert word in result.message, result.message


def test_q1_placeholder_and_wrong_types(keras):
    def inflate_model(model_2d, time):
        raise NotImplementedError

    result = q1.check(inflate_model)
    assert not result and "not written yet" in result.message
    result = q1.check(lambda model_2d, time: None)
    assert not result and "keras.Model" in result.message


def test_the_tiny_networks_have_the_same_layers(keras):
    net_2d, net_3d = tiny_2d_net(), tiny_3d_net(time=3)
    names = [layer.name for layer in net_2d.layers[1:]]
    assert names == [layer.name for layer in net_3d.layers[1:]]
    assert net_3d.get_layer("conv1").kernel.shape == (3, 3, 3, 1, 8)
    clip = np.zeros((2, SHAPE_FRAMES, SHAPE_SIZE, SHAPE_SIZE, 1), np.float32)
    assert tuple(net_3d(clip).shape) == (2, SHAPE_FRAMES, SHAPE_SIZE // 2, SHAPE_SIZE // 2, 16)


# ------------------------------------------------------------------ q2 receptive fields with branches
def test_q2_reference_passes_and_agrees_with_the_library():
    from hybridvid_lib.models.i3d import ENDPOINTS
    from hybridvid_lib.models.inflation import temporal_receptive_field

    solution = _solution(q2)["receptive_fields"]
    result = q2.check(solution)
    assert result, result.message
    rows = solution(I3D_TIME_CHAIN)
    assert [name for name, _, _ in rows] == list(ENDPOINTS)
    assert rows[-1][1:] == temporal_receptive_field() == (99, 8)
    assert receptive_fields_reference(C3D_TIME_CHAIN)[-1] == ("pool5", 76, 16)


def _summed(chain):
    r, j, rows = 1, 1, []
    for name, spec in chain:
        if isinstance(spec, list):
            add, end_j = 0, j
            for branch in spec:
                rb, jb = r, j
                for k, s in branch:
                    rb, jb = rb + (k - 1) * jb, jb * s
                add += rb - r
                end_j = jb
            r, j = r + add, end_j
        else:
            k, s = spec
            r, j = r + (k - 1) * j, j * s
        rows.append((name, r, j))
    return rows


def _walk(chain, step):
    r, j, rows = 1, 1, []
    for name, spec in chain:
        branches = spec if isinstance(spec, list) else [[spec]]
        ends = []
        for branch in branches:
            rb, jb = r, j
            for k, s in branch:
                rb, jb = step(rb, jb, k, s)
            ends.append((rb, jb))
        r, j = max(e[0] for e in ends), ends[0][1]
        rows.append((name, r, j))
    return rows


@pytest.mark.parametrize("wrong, words", [
    (_summed, ["added up", "widest"]),
    (lambda c: _walk(c, lambda r, j, k, s: (r + k - 1, j * s)), ["(k - 1) * jump"]),
    (lambda c: _walk(c, lambda r, j, k, s: (r + (k - 1) * j * s, j * s)), ["multiplied before"]),
    (lambda c: receptive_fields_reference(c)[-1:], ["rows", "one row after each"]),
    (lambda c: 99, ["list of (name, frames, jump)"]),
    (lambda c: [(n, f + 1, j) for n, f, j in receptive_fields_reference(c)], ["should be"]),
])
def test_q2_known_wrong_answers_fail_with_a_teaching_message(wrong, words):
    result = q2.check(wrong)
    assert not result
    for word in words:
        assert word in result.message, result.message


# ------------------------------------------------------------------ q3 the measured experiment
def test_shape_data():
    x, y = shape_frames("train")
    assert x.shape == (400, SHAPE_SIZE, SHAPE_SIZE, 1) and x.dtype == np.float32
    assert np.bincount(y).tolist() == [100] * len(SHAPES)
    clips, labels = shape_clips("train")
    assert clips.shape == (24, SHAPE_FRAMES, SHAPE_SIZE, SHAPE_SIZE, 1)
    assert np.bincount(labels).tolist() == [6] * len(SHAPES)
    test, _ = shape_clips("test")
    check, _ = shape_clips("check")
    assert len(test) == len(check) == 160 and not np.allclose(test, check)
    np.testing.assert_array_equal(shape_clips("test")[0], test)  # the same draw every time
    moved = np.abs(clips[:, -1] - clips[:, 0]).mean()
    assert moved > 0.05  # the shapes slide


@pytest.fixture(scope="module")
def experiment(keras):
    """The reference solution of q3, run as the notebook runs it: two trained 3D networks and their numbers."""
    from hybridvid_lib.seeding import set_seed

    inflate_model = _solution(q1, keras=keras)["inflate_model"]
    set_seed(0)
    return _solution(q3, keras=keras, inflate_model=inflate_model, tiny_2d_net=tiny_2d_net, tiny_3d_net=tiny_3d_net,
                     shape_frames=shape_frames, shape_clips=shape_clips, SHAPES=SHAPES)


@pytest.mark.slow
def test_q3_reference_passes_with_the_inflated_model_ahead(experiment):
    measured = experiment["measured"]
    assert measured["inflated"] >= measured["random"] + 0.15
    result = q3.check(experiment["inflated_model"], experiment["random_model"], measured)
    assert result, result.message
    assert "measured again" in result.message


@pytest.mark.slow
def test_q3_wrong_answers_fail(experiment, keras):
    inflated, random, measured = (experiment[k] for k in ("inflated_model", "random_model", "measured"))
    result = q3.check(random, inflated, {"inflated": measured["random"], "random": measured["inflated"]})
    assert not result and "should lead" in result.message and "order is" in result.message
    result = q3.check(inflated, random, {"inflated": 0.01, "random": measured["random"]})
    assert not result and "you reported 0.01" in result.message
    result = q3.check(inflated, random, {"inflated": 0.9})
    assert not result and "lacks ['random']" in result.message
    result = q3.check(experiment["image_model"], random, measured)
    assert not result and "no Conv3D" in result.message
