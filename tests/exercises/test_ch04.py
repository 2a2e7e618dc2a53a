"""Chapter 04 checks: the reference answers pass, and known-wrong answers fail with a message that teaches.

q3 judges what two trained heads do, so its tests train small self-attention models (seconds each).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from hybridvid_lib.exercises.ch04 import (
    ORDER_DIM, ORDER_FRAMES, order_sequences, q1, q2, q3, reference_encoding,
)
from hybridvid_lib.layers.position_encoding import sinusoidal_table

from tests.support.exercises import solution_namespace as _solution


def test_importing_the_checks_does_not_import_tensorflow():
    code = "import sys, hybridvid_lib.exercises.ch04; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_hints_and_task_do_not_give_the_answer_away():
    # The first hint of each question names ideas, not the code of the answer.
    for question, code_words in ((q1, ["np.where", "10000 **", "j // 2"]), (q2, ["np.exp", "einsum", "axis=1"]),
                                 (q3, ["MultiHeadAttention(2", "Adam(3e-3)", "epochs=40"])):
        first = question.hint_text(1)
        assert not any(word in first for word in code_words), (question.name, first)


# ------------------------------------------------------------------ q1 sinusoidal encoding
def test_reference_encoding_is_the_kit_table():
    for length, dim in ((4, 8), (17, 64), (3, 2)):
        np.testing.assert_allclose(reference_encoding(length, dim), sinusoidal_table(length, dim), atol=1e-6)
    np.testing.assert_allclose(reference_encoding(2, 4)[0], [0, 1, 0, 1])


def test_q1_reference_passes():
    result = q1.check(_solution(q1)["sinusoidal_encoding"])
    assert result, result.message


def _table(swap=False, base=10000.0, per_dim=False, halves=False, transpose=False, dtype=np.float32):
    def encoding(length, dim):
        t = np.arange(length)[:, None]
        j = np.arange(dim)
        if halves:
            f = 1.0 / base ** (2 * np.arange(dim // 2) / dim)
            out = np.concatenate([np.sin(t * f), np.cos(t * f)], axis=1)
        else:
            f = 1.0 / base ** ((j if per_dim else 2 * (j // 2)) / dim)
            a, b = (np.cos, np.sin) if swap else (np.sin, np.cos)
            out = np.where(j % 2 == 0, a(t * f), b(t * f))
        return (out.T if transpose else out).astype(dtype)

    return encoding


@pytest.mark.parametrize("wrong, words", [
    (_table(swap=True), ["even columns", "sine", "other way round"]),
    (_table(base=1.0), ["same speed", "10000"]),
    (_table(per_dim=True), ["share one frequency", "j // 2"]),
    (_table(halves=True), ["interleaves"]),
    (_table(base=100.0), ["differs from the formula", "position"]),
    (_table(transpose=True), ["(length, dim)", "transposed"]),
    (lambda length, dim: np.zeros((length, dim)), ["differs from the formula"]),
    (lambda length, dim: None, ["should be an array", "None"]),
])
def test_q1_known_wrong_answers_fail_with_a_teaching_message(wrong, words):
    result = q1.check(wrong)
    assert not result
    for word in words:
        assert word in result.message, result.message


def test_q1_placeholder_says_not_written_yet():
    def sinusoidal_encoding(length, dim):
        raise NotImplementedError

    result = q1.check(sinusoidal_encoding)
    assert not result and "not written yet" in result.message


# ------------------------------------------------------------------ q2 attention pooling
def test_q2_reference_passes():
    result = q2.check(_solution(q2)["attention_pool"])
    assert result, result.message


def _softmax(s, axis):
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _unstable(features, scores):
    e = np.exp(scores)
    w = e / e.sum(axis=1, keepdims=True)
    return np.einsum("bt,btd->bd", w, features), w


@pytest.mark.parametrize("wrong, words", [
    (lambda f, s: (np.einsum("bt,btd->bd", _softmax(s, 0), f), _softmax(s, 0)), ["softmax over the batch"]),
    (lambda f, s: (np.einsum("bt,btd->bd", s, f), s), ["sum to 1", "softmax over time"]),
    (lambda f, s: (f.mean(axis=1), np.full(s.shape, 1.0 / s.shape[1])), ["uniform", "mean"]),
    (lambda f, s: (f.mean(axis=1), _softmax(s, 1)), ["plain mean"]),
    (lambda f, s: (np.einsum("bt,btd->btd", _softmax(s, 1), f), _softmax(s, 1)), ["(B, D)", "summed away"]),
    (_unstable, ["NaN or infinite", "largest score"]),
    (lambda f, s: _softmax(s, 1), ["two arrays", "(pooled, weights)"]),
])
def test_q2_known_wrong_answers_fail_with_a_teaching_message(wrong, words):
    with np.errstate(over="ignore", invalid="ignore"):
        result = q2.check(wrong)
    assert not result
    for word in words:
        assert word in result.message, result.message


# ------------------------------------------------------------------ q3 the measured experiment
def test_order_task_of_the_check_is_time_reversed_pairs():
    x, y = order_sequences(4, 7, pairs=True, num_frames=ORDER_FRAMES, feature_dim=ORDER_DIM)
    assert x.shape == (8, ORDER_FRAMES, ORDER_DIM) and y.tolist() == [0, 1] * 4
    np.testing.assert_array_equal(x[1::2], x[0::2, ::-1])


@pytest.fixture(scope="module")
def experiment(keras):
    """The reference solution of q3, run as the notebook runs it: two trained heads and the measured numbers."""
    from hybridvid_lib.seeding import set_seed

    x_train, y_train = order_sequences(256, 1, pairs=False, num_frames=ORDER_FRAMES, feature_dim=ORDER_DIM)
    x_test, y_test = order_sequences(64, 2, pairs=True, num_frames=ORDER_FRAMES, feature_dim=ORDER_DIM)
    set_seed(0)
    names = _solution(q3, keras=keras, T=ORDER_FRAMES, D=ORDER_DIM, x_train=x_train, y_train=y_train,
                      x_test=x_test, y_test=y_test,
                      sinusoidal_encoding=_solution(q1)["sinusoidal_encoding"])
    return names


@pytest.mark.slow
def test_q3_reference_passes_with_a_positional_head_above_0_9_and_a_plain_one_at_0_5(experiment):
    measured = experiment["measured"]
    assert measured["plain"] == pytest.approx(0.5) and measured["positional"] >= 0.9
    result = q3.check(experiment["plain_model"], experiment["positional_model"], measured)
    assert result, result.message
    assert "plain 0.50" in result.message


@pytest.mark.slow
def test_q3_wrong_answers_fail(experiment, keras):
    plain, positional, measured = (experiment[k] for k in ("plain_model", "positional_model", "measured"))
    # Swapped models.
    result = q3.check(positional, plain, {"plain": measured["positional"], "positional": measured["plain"]})
    assert not result and "wrong way round" in result.message
    # Two plain models: the encoding never reached the tokens.
    result = q3.check(plain, plain, {"plain": 0.5, "positional": 0.5})
    assert not result and "never reached the tokens" in result.message
    # Numbers typed in, not measured.
    result = q3.check(plain, positional, {"plain": 0.5, "positional": 0.6})
    assert not result and "you reported 0.60" in result.message
    result = q3.check(plain, positional, {"plain": 0.5})
    assert not result and "lacks ['positional']" in result.message
    # A positional head that was never trained sees the order but does not know which is which.
    build = experiment["build_attention_head"]
    keras.utils.set_random_seed(3)
    untrained = build(ORDER_FRAMES, ORDER_DIM, 2, position_table=experiment["sinusoidal_encoding"](ORDER_FRAMES, 32))
    result = q3.check(plain, untrained, {"plain": 0.5, "positional": 0.5})
    assert not result and "did not learn which is which" in result.message
    # An LSTM instead of self-attention.
    inputs = keras.Input(shape=(ORDER_FRAMES, ORDER_DIM))
    lstm = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.LSTM(8)(inputs)))
    result = q3.check(plain, lstm, {"plain": 0.5, "positional": 0.5})
    assert not result and "MultiHeadAttention" in result.message
