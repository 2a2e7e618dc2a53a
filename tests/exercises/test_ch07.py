"""Chapter 07 checks: the reference answers pass, and known-wrong answers fail with a message that teaches.

q1 and q2 compare with the library's TemporalAttention and CenterLoss layers (TensorFlow); q3 is numpy only.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from hybridvid_lib.exercises.ch07 import (
    ALPHA, CENTER_WEIGHT, LEARNING_RATE, STEPS, attention_pool_reference, center_loss_experiment,
    center_step_reference, q1, q2, q3, toy_embeddings,
)
from hybridvid_lib.evaluation import embedding_spread_ratio

from tests.support.exercises import solution_namespace as _solution


def test_importing_the_checks_does_not_import_tensorflow():
    code = "import sys, hybridvid_lib.exercises.ch07; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_hints_do_not_give_the_answer_away():
    for question, code_words in ((q1, ["np.tanh", "axis=1"]), (q2, ["onehot.T", "(1 + counts)"]),
                                 (q3, ["ratios.append"])):
        first = question.hint_text(1)
        assert not any(word in first for word in code_words), (question.name, first)


# ------------------------------------------------------------------ q1 attention pooling
def test_q1_reference_passes():
    result = q1.check(_solution(q1)["attention_pool"])
    assert result, result.message


def _softmax(scores, axis):
    e = np.exp(scores - scores.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("wrong, words", [
    (lambda h, W, b, v: attention_pool_reference(h, W, b, v, axis=0), ["over the batch", "axis 1"]),
    (lambda h, W, b, v: attention_pool_reference(h, W, b, v, tanh=False), ["without the tanh", "linear"]),
    (lambda h, W, b, v: ((_softmax(np.tanh(h @ W + b) @ v, 1)[..., None] * h).sum(1), np.tanh(h @ W + b) @ v),
     ["raw scores", "softmax"]),
    (lambda h, W, b, v: (h.mean(axis=1), attention_pool_reference(h, W, b, v)[1]), ["plain mean", "sum_t a_t h_t"]),
    (lambda h, W, b, v: attention_pool_reference(h, W, b, v)[::-1], ["(B, T)", "order is `(context, weights)`"]),
    (lambda h, W, b, v: (attention_pool_reference(h, W, b, v)[0],
                         _softmax(np.tanh(h @ W + b) @ v[::-1], 1)), ["differ from TemporalAttention's"]),
])
def test_q1_known_wrong_answers_fail_with_a_teaching_message(wrong, words):
    result = q1.check(wrong)
    assert not result
    for word in words:
        assert word in result.message, result.message


def test_q1_placeholder():
    def attention_pool(h, W, b, v):
        raise NotImplementedError

    result = q1.check(attention_pool)
    assert not result and "not written yet" in result.message


# ------------------------------------------------------------------ q2 center update
def test_q2_reference_passes():
    result = q2.check(_solution(q2)["center_step"])
    assert result, result.message


def _counts(centers, y):
    return np.eye(len(centers))[y].sum(axis=0)


def _pull(centers, x, y):
    return np.eye(len(centers))[y].T @ (centers[y] - x)


@pytest.mark.parametrize("wrong, words", [
    (lambda c, x, y, a: c + a * _pull(c, x, y) / (1 + _counts(c, y))[:, None], ["away from", "toward"]),
    (lambda c, x, y, a: c - a * _pull(c, x, y) / np.maximum(_counts(c, y), 1)[:, None], ["`1 + n_j`"]),
    (lambda c, x, y, a: c - _pull(c, x, y) / (1 + _counts(c, y))[:, None], ["missing `alpha`"]),
    (lambda c, x, y, a: c - a * (c - x.mean(axis=0)), ["no sample in this batch"]),
    (lambda c, x, y, a: c, ["unchanged"]),
    (lambda c, x, y, a: None, ["new centers", "None"]),
])
def test_q2_known_wrong_answers_fail_with_a_teaching_message(wrong, words):
    result = q2.check(wrong)
    assert not result
    for word in words:
        assert word in result.message, result.message


def test_q2_reference_matches_the_center_loss_layer_on_its_own():
    from hybridvid_lib.tf_setup import import_tensorflow

    import_tensorflow()
    from hybridvid_lib.layers import CenterLoss

    rng = np.random.default_rng(0)
    centers, x, y = rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(6, 3)).astype(np.float32), \
        np.array([0, 0, 1, 2, 2, 2])
    layer = CenterLoss(4, alpha=0.3)
    layer.build((None, 3))
    layer.set_weights([centers])
    layer(x, labels=y.astype(np.int32), training=True)
    np.testing.assert_allclose(layer.centers.numpy(), center_step_reference(centers, x, y, 0.3), atol=1e-5)


# ------------------------------------------------------------------ q3 measured experiment
def test_q3_reference_passes_and_the_ratio_falls():
    namespace = _solution(q3, toy_embeddings=toy_embeddings, embedding_spread_ratio=embedding_spread_ratio,
                          center_step=center_step_reference, STEPS=STEPS, ALPHA=ALPHA, LEARNING_RATE=LEARNING_RATE,
                          CENTER_WEIGHT=CENTER_WEIGHT)
    ratios = namespace["ratios"]
    assert len(ratios) == STEPS + 1 and ratios[-1] < 0.1 * ratios[0]
    result = q3.check(ratios)
    assert result, result.message
    assert "measured again" in result.message


def test_q3_known_wrong_answers_fail():
    x, y = toy_embeddings()
    right = center_loss_experiment(center_step_reference, x, y)
    result = q3.check(right[1:])
    assert not result and "before the first step" in result.message
    no_alpha = center_loss_experiment(lambda c, xx, yy, a: center_step_reference(c, xx, yy, 1.0), x, y)
    result = q3.check(no_alpha)
    assert not result and "after step 1" in result.message
    result = q3.check("0.2")
    assert not result and "21 numbers" in result.message
    result = q3.check(...)
    assert not result and "still `...`" in result.message
