"""FusedBatchNormalization: Keras' batch norm with the same results, trained through TensorFlow's fused kernel."""

import numpy as np
import pytest

from hybridvid_lib.tf_setup import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402

from hybridvid_lib.layers import FusedBatchNormalization  # noqa: E402
from tests.support.layer_test import run_layer_test  # noqa: E402


def _twins(shape, **kwargs):
    """A Keras BatchNormalization and a FusedBatchNormalization with the same random weights (variances > 0)."""
    ours, theirs = FusedBatchNormalization(**kwargs), keras.layers.BatchNormalization(**kwargs)
    ours.build(shape)
    theirs.build(shape)
    rng = np.random.default_rng(1)
    weights = [rng.normal(size=w.shape).astype("float32") for w in theirs.weights]
    weights = [np.abs(w) + 0.5 if "variance" in v.path else w for w, v in zip(weights, theirs.weights)]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    return ours, theirs


def _step(layer, x, training):
    """Output, gradients of a non-linear loss (input first, then trainable weights), moving statistics."""
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=training)
        loss = tf.reduce_sum(0.5 * y * y + tf.sin(y))
    grads = tape.gradient(loss, [x, *layer.trainable_weights])
    return y.numpy(), [g.numpy() for g in grads], [w.numpy() for w in layer.non_trainable_weights]


CASES = [
    ((4, 5, 6, 3), {}),                                                         # (B, H, W, C): a 2D network's maps
    ((2, 3, 4, 4, 5), {"scale": False, "epsilon": 1e-3, "momentum": 0.9}),     # an I3D unit's (B, T, H, W, C)
    ((3, 2, 1, 2), {"center": False, "momentum": 0.5}),
    ((1, 1, 1, 1, 4), {}),                                                      # one value per channel: variance 0
]


@pytest.mark.parametrize("shape,kwargs", CASES, ids=["4d", "5d-i3d", "4d-no-center", "one-value"])
def test_training_gives_what_keras_gives_outputs_gradients_and_moving_statistics(shape, kwargs):
    x = np.random.default_rng(0).normal(2.0, 3.0, size=shape).astype("float32")
    ours, theirs = _twins(shape, **kwargs)
    for _ in range(2):  # the second step starts from the moving statistics the first one left
        (y1, g1, s1), (y2, g2, s2) = _step(ours, x, True), _step(theirs, x, True)
        np.testing.assert_allclose(y1, y2, atol=1e-5)
        for a, b in zip(g1, g2):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
        for a, b in zip(s1, s2):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    assert not np.allclose(s1[0], 0.0)  # the moving mean did move towards the batch's (mean about 2)


def test_inference_is_exactly_keras():
    shape = (2, 3, 4, 4, 5)
    x = np.random.default_rng(3).normal(size=shape).astype("float32")
    ours, theirs = _twins(shape, scale=False, epsilon=1e-3)
    np.testing.assert_array_equal(ours(x, training=False).numpy(), theirs(x, training=False).numpy())


def _op_types(layer, shape, training):
    fn = tf.function(lambda x: layer(x, training=training))
    return {op.type for op in fn.get_concrete_function(tf.TensorSpec(shape, tf.float32)).graph.get_operations()}


def test_training_runs_the_fused_kernel_and_cases_it_cannot_take_run_keras_own_path():
    layer = FusedBatchNormalization()
    layer.build((None, 4, 4, 4, 3))
    assert "FusedBatchNormV3" in _op_types(layer, (2, 4, 4, 4, 3), True)
    assert "FusedBatchNormV3" not in _op_types(layer, (2, 4, 4, 4, 3), False)  # inference: Keras' formula
    flat = FusedBatchNormalization()
    flat.build((None, 6, 3))
    assert "FusedBatchNormV3" not in _op_types(flat, (2, 6, 3), True)  # (B, T, F): not a 4D / 5D map
    synced = FusedBatchNormalization(synchronized=True)
    synced.build((None, 4, 4, 3))
    assert "FusedBatchNormV3" not in _op_types(synced, (2, 4, 4, 3), True)
    # ... and Keras' own path still gives Keras' numbers there
    x = np.random.default_rng(5).normal(size=(4, 6, 3)).astype("float32")
    ours, theirs = _twins((4, 6, 3))
    np.testing.assert_allclose(_step(ours, x, True)[0], _step(theirs, x, True)[0], atol=1e-6)


def test_a_frozen_layer_normalises_with_its_moving_statistics_as_keras_does():
    shape = (2, 4, 4, 3)
    x = np.random.default_rng(6).normal(size=shape).astype("float32")
    ours, theirs = _twins(shape)
    ours.trainable = theirs.trainable = False
    np.testing.assert_array_equal(ours(x, training=True).numpy(), theirs(x, training=True).numpy())


@pytest.mark.parametrize("shape", [(4, 3, 5, 5, 4), (4, 5, 5, 4)], ids=["5d", "4d"])
def test_fused_batch_norm_passes_the_shared_layer_test(tmp_path, shape):
    x = np.random.default_rng(2).normal(size=shape).astype("float32")
    run_layer_test(
        FusedBatchNormalization, {"scale": False, "epsilon": 1e-3, "momentum": 0.9, "name": "bn"}, x,
        expected_output_shape=shape, expected_num_trainable_weights=1, expected_num_non_trainable_weights=2,
        mixed_precision_policies=("mixed_bfloat16", "mixed_float16"), tmp_path=tmp_path,
    )
