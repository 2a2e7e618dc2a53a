"""TemporalAttention: additive scores, softmax over time, weighted sum; the weights come back; the shared layer test."""

import numpy as np
import pytest

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402

from hybridvid_lib.layers import TemporalAttention  # noqa: E402
from tests.support.layer_test import run_layer_test  # noqa: E402


def reference(layer, x, mask=None):
    kernel, bias, query = (keras.ops.convert_to_numpy(w) for w in (layer.kernel, layer.bias, layer.query))
    scores = np.tanh(x @ kernel + bias) @ query  # (B, T)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    return (weights[..., None] * x).sum(axis=1), weights


def test_the_context_is_the_softmax_weighted_sum_of_the_steps():
    x = np.random.default_rng(0).normal(size=(3, 5, 4)).astype("float32")
    layer = TemporalAttention(6)
    out = layer(x)
    context, weights = reference(layer, x)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out["weights"]), weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out["context"]), context, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-6)


def test_masked_steps_get_no_weight_and_an_empty_clip_gives_zeros():
    x = np.random.default_rng(1).normal(size=(3, 4, 2)).astype("float32")
    mask = np.array([[1, 1, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0]], bool)
    layer = TemporalAttention(3)
    out = layer(x, mask=mask)
    weights = keras.ops.convert_to_numpy(out["weights"])
    assert np.all(weights[~mask] == 0) and np.allclose(weights[:2].sum(axis=1), 1.0)
    context, expected = reference(layer, x[:2], mask[:2])
    np.testing.assert_allclose(weights[:2], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out["context"])[:2], context, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out["context"])[2], np.zeros(2, np.float32))


def test_a_step_that_matches_the_query_draws_the_weight():
    # One step lies along the direction the score rewards: it gets most of the weight, and the context follows it.
    layer = TemporalAttention(2)
    layer.build((None, 4, 2))
    layer.set_weights([np.eye(2, dtype=np.float32), np.zeros(2, np.float32), np.array([5.0, 0.0], np.float32)])
    x = np.array([[[-1, 0], [-1, 0], [3, 0], [-1, 0]]], np.float32)
    weights = keras.ops.convert_to_numpy(layer(x)["weights"])[0]
    assert weights.argmax() == 2 and weights[2] > 0.99


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="units >= 1"):
        TemporalAttention(0)
    with pytest.raises(ValueError, match=r"\(batch, steps, features\)"):
        TemporalAttention(2).build((None, 4))


def test_temporal_attention_passes_the_shared_layer_test(tmp_path):
    x = np.random.default_rng(2).normal(size=(4, 6, 3)).astype("float32")
    run_layer_test(
        TemporalAttention, {"units": 5, "name": "attention"}, x,
        expected_output_shape={"context": (4, 3), "weights": (4, 6)},
        expected_output_dtype={"context": None, "weights": "float32"},
        expected_num_trainable_weights=3, expected_num_non_trainable_weights=0, tmp_path=tmp_path,
    )
