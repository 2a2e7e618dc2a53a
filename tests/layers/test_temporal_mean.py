"""TemporalMean: the mean over time, masked frames left out; the shared layer test with and without a mask."""

import numpy as np
import pytest

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402

from hybridvid_lib.layers import TemporalMean  # noqa: E402
from tests.support.layer_test import run_layer_test  # noqa: E402


def test_mean_over_time_without_mask():
    x = np.random.default_rng(0).normal(size=(3, 5, 4)).astype("float32")
    out = keras.ops.convert_to_numpy(TemporalMean()(x))
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out, x.mean(axis=1), rtol=1e-6)


def test_masked_frames_are_left_out_and_an_empty_mask_gives_zeros():
    x = np.random.default_rng(1).normal(size=(3, 6, 2, 2)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0, 0], [1, 0, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0]], bool)
    out = keras.ops.convert_to_numpy(TemporalMean()(x, mask=mask))
    assert out.shape == (3, 2, 2)
    np.testing.assert_allclose(out[0], x[0, :3].mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(out[1], x[1, [0, 2, 4]].mean(axis=0), rtol=1e-5)
    np.testing.assert_array_equal(out[2], np.zeros((2, 2), np.float32))


def test_keras_mask_from_an_earlier_layer_is_used():
    x = np.array([[[1.0], [3.0], [0.0], [0.0]]], np.float32)  # two real frames, two all-zero pads
    inputs = keras.Input((4, 1))
    model = keras.Model(inputs, TemporalMean()(keras.layers.Masking(0.0)(inputs)))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), [[2.0]])


def test_bad_epsilon_is_refused():
    with pytest.raises(ValueError, match="epsilon > 0"):
        TemporalMean(epsilon=0.0)


def test_temporal_mean_passes_the_shared_layer_test(tmp_path):
    x = np.random.default_rng(2).normal(size=(4, 6, 3)).astype("float32")
    out = run_layer_test(
        TemporalMean, {"epsilon": 1e-5, "name": "avg"}, x,
        expected_output_shape=(4, 3), expected_num_trainable_weights=0, expected_num_non_trainable_weights=0,
        tmp_path=tmp_path,
    )
    np.testing.assert_allclose(out, x.mean(axis=1), rtol=1e-6)


def test_masked_temporal_mean_passes_the_shared_layer_test(tmp_path):
    # (B, T, H, C) features; the mask is an input of the saved model; one clip keeps no frame at all.
    x = np.random.default_rng(4).normal(size=(4, 6, 2, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 1, 0, 1, 0, 1]], bool)
    out = run_layer_test(
        TemporalMean, {}, x, call_kwargs={"mask": mask},
        expected_output_shape=(4, 2, 3), expected_num_trainable_weights=0, tmp_path=tmp_path,
    )
    np.testing.assert_allclose(out[1], x[1, :2].mean(axis=0), rtol=1e-5)
    np.testing.assert_array_equal(out[2], np.zeros((2, 3), np.float32))
