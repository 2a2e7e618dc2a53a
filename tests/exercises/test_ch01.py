"""Chapter 01 checks: the reference answers pass, and every known-wrong answer fails with a teaching message."""

from __future__ import annotations

import inspect
import subprocess
import sys

import numpy as np
import pytest

from hybridvid_lib.exercises.ch01 import REASON_CHOICES, confusion_case, q1, q2, q3


@pytest.fixture(scope="module")
def keras():
    from hybridvid_lib.tf_setup import import_tensorflow

    import_tensorflow()
    import keras as keras_module

    return keras_module


def test_importing_the_checks_does_not_import_tensorflow():
    code = "import sys, hybridvid_lib.exercises.ch01; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# ------------------------------------------------------------------ q1 LSTM head
def _head(keras, middle, activation="softmax", input_dim_extra=0, sequential=False):
    def build(num_frames, feature_dim, num_classes):
        layers = [middle(), keras.layers.Dense(num_classes, activation=activation)]
        if sequential:
            return keras.Sequential(layers)  # no Input: the model has no defined input
        inputs = keras.Input(shape=(num_frames, feature_dim + input_dim_extra))
        x = inputs
        for layer in layers:
            x = layer(x)
        return keras.Model(inputs, x)

    return build


def test_q1_reference_and_bidirectional_heads_pass(keras):
    namespace = {"keras": keras}
    exec(inspect.cleandoc(q1.solution_code), namespace)
    assert q1.check(namespace["build_lstm_head"])
    assert q1.check(_head(keras, lambda: keras.layers.Bidirectional(keras.layers.LSTM(4))))


@pytest.mark.parametrize("case, expected_words", [
    ("pooling", ["reversing the order of the frames gave the same prediction", "ignores frame order"]),
    ("no-softmax", ["class probabilities", "activation='softmax'"]),
    ("sequences", ["(B, num_classes) = (3, 4); got (3, 6, 4)", "return_sequences=False"]),
    ("gru", ["order-sensitive but has no LSTM layer"]),
    ("no-input", ["needs one input of shape (B, T, D)", "keras.Input(shape=(num_frames, feature_dim))"]),
    ("wrong-dim", ["should take input (B, T, D) = (None, 6, 10); got (None, 6, 11)"]),
    ("layer", ["should return a keras.Model", "Wrap it in a model"]),
])
def test_q1_wrong_heads_fail_with_a_teaching_message(keras, case, expected_words):
    builders = {
        "pooling": _head(keras, keras.layers.GlobalAveragePooling1D),
        "no-softmax": _head(keras, lambda: keras.layers.LSTM(4), activation=None),
        "sequences": _head(keras, lambda: keras.layers.LSTM(4, return_sequences=True)),
        "gru": _head(keras, lambda: keras.layers.GRU(4)),
        "no-input": _head(keras, lambda: keras.layers.LSTM(4), sequential=True),
        "wrong-dim": _head(keras, lambda: keras.layers.LSTM(4), input_dim_extra=1),
        "layer": lambda t, d, c: keras.layers.LSTM(c),
    }
    result = q1.check(builders[case])
    assert not result
    for words in expected_words:
        assert words in result.message


def test_q1_an_error_while_building_is_reported_not_raised(keras):
    def build_lstm_head(num_frames, feature_dim, num_classes):
        inputs = keras.Input(shape=(num_frames, feature_dim))
        return keras.layers.LSTM(8)(inputs, bogus=1)

    result = q1.check(build_lstm_head)
    assert not result
    assert result.message.startswith("calling `build_lstm_head(6, 10, 4)` raised TypeError")
    assert "line 3 of `build_lstm_head`" in result.message


# ------------------------------------------------------------------ q2 masked mean
def masked_mean(features, mask):
    weights = mask[:, :, None]
    return (features * weights).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)


def test_q2_reference_numpy_and_tensorflow_answers_pass(keras):
    import tensorflow as tf

    assert q2.check(masked_mean)
    assert q2.check(lambda f, m: tf.reduce_sum(f * m[:, :, None], 1) / tf.reduce_sum(m, 1, keepdims=True))


def _mask_from_values(features, mask):
    valid = (np.abs(features).sum(axis=-1) > 0).astype(np.float32)
    return (features * valid[:, :, None]).sum(axis=1) / valid.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("wrong, expected_words", [
    (lambda f, m: f.mean(axis=1), ["averaged over all T = 5 frames, padding included"]),
    (lambda f, m: (f * m[:, :, None]).sum(axis=1) / f.shape[1], ["padding included"]),
    (lambda f, m: (f * m[:, :, None]).sum(axis=1) / (m.sum(axis=1, keepdims=True) + 1),
     ["for video 1 (5 real frames of 5)", "the mean over its real frames is ["]),
    (_mask_from_values, ["padding included", "use the mask, not the feature values"]),
    (lambda f, m: (f * m[:, :, None]).mean(axis=2), ["shape (B, D) = (3, 4)", "got shape (3, 5)"]),
    (lambda f, m: (f * m[:, :, None]).sum(axis=1) / (m.sum(axis=1, keepdims=True) - 1),
     ["finite floats"]),
    (lambda f, m: "mean", ["array of shape (B, D)", "a str"]),
], ids=["plain-mean", "divide-by-T", "off-by-one", "mask-from-values", "wrong-axis", "division-by-zero", "string"])
def test_q2_wrong_answers_fail_with_a_teaching_message(wrong, expected_words):
    with np.errstate(divide="ignore", invalid="ignore"):
        result = q2.check(wrong)
    assert not result
    for words in expected_words:
        assert words in result.message


# ------------------------------------------------------------------ q3 confusion matrix
def test_q3_case_has_one_clearly_most_confused_pair():
    cm, names = confusion_case()
    assert cm.shape == (len(names), len(names)) and (cm.sum(axis=1) == 20).all()
    sym = cm + cm.T
    np.fill_diagonal(sym, 0)
    i, j = np.unravel_index(sym.argmax(), sym.shape)
    assert {names[i], names[j]} == {"SitDown", "StandUp"}
    assert set(REASON_CHOICES) == {"a", "b", "c", "d"}


@pytest.mark.parametrize("answer, reason", [
    (("SitDown", "StandUp"), "b"), (("StandUp", "SitDown"), "B "), (["StandUp", "SitDown"], "b"),
])
def test_q3_accepts_both_orders(answer, reason):
    assert q3.check(answer, reason)


def test_q3_solution_code_computes_the_answer():
    namespace = {"np": np, "confusion_case": confusion_case}
    exec(inspect.cleandoc(q3.solution_code), namespace)
    assert q3.check(namespace["answer"], namespace["reason"])


@pytest.mark.parametrize("answer, reason, expected_words", [
    (("PointLeft", "PointRight"), "b", ["confused 5 times (cm[1, 2] + cm[2, 1])", "another pair"]),
    (("sitdown", "StandUp"), "b", ["did you mean 'SitDown'?"]),
    (("Sit", "StandUp"), "b", ["'Sit' is not one of the class names"]),
    ("SitDown", "b", ["a pair of two class names", "got a str"]),
    (("SitDown", "SitDown"), "b", ["names 'SitDown' twice"]),
    (("SitDown", "StandUp"), "e", ["one letter of a, b, c, d; got 'e'"]),
    (("SitDown", "StandUp"), "a", ["not reason 'a'", "balanced"]),
    (("SitDown", "StandUp"), "c", ["not reason 'c'", "not mirror images"]),
    (("SitDown", "StandUp"), "d", ["not reason 'd'", "specific to this pair"]),
    ((("SitDown", "StandUp"),), "b", ["a pair of two class names", "got a tuple of 1 item."]),
])
def test_q3_wrong_answers_fail_with_a_teaching_message(answer, reason, expected_words):
    result = q3.check(answer, reason)
    assert not result
    for words in expected_words:
        assert words in result.message


def test_q3_needs_both_answers():
    result = q3.check(("SitDown", "StandUp"))
    assert not result and "needs 2 answers (answer, reason)" in result.message
