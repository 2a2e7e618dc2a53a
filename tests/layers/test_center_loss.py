"""CenterLoss: Wen et al.'s loss and center update, the centers as saved state; the shared layer test."""

import numpy as np
import pytest

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402

from hybridvid_lib.layers import CenterLoss  # noqa: E402
from tests.support.layer_test import run_layer_test  # noqa: E402


def test_the_loss_and_the_update_follow_wen_et_al():
    layer = CenterLoss(3, weight=0.5, alpha=0.4)
    layer.build((None, 2))
    centers = np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]], np.float32)
    layer.centers.assign(centers)
    x = np.array([[1.0, 0.0], [0.0, 3.0], [2.0, 2.0]], np.float32)
    y = np.array([0, 0, 1])
    out = layer(x, labels=y, training=True)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out), x)  # the embedding passes through
    expected_loss = 0.5 * 0.5 * np.mean([1.0, 9.0, 2.0])
    assert float(keras.ops.convert_to_numpy(layer.losses[0])) == pytest.approx(expected_loss, rel=1e-6)
    # class 0: two samples, sum (c - x) = (-1, -3), / (1 + 2); class 1: (-1, -1) / 2; class 2 absent: unchanged
    expected = centers - 0.4 * np.array([[-1 / 3, -1.0], [-0.5, -0.5], [0.0, 0.0]], np.float32)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.centers), expected, rtol=1e-6)


def test_at_inference_or_without_labels_nothing_moves():
    layer = CenterLoss(2)
    x = np.ones((3, 4), np.float32)
    layer(x, labels=np.array([0, 1, 1]), training=False)
    layer(x, labels=None, training=True)
    assert not np.any(keras.ops.convert_to_numpy(layer.centers)) and not layer.losses


def test_repeated_updates_bring_each_center_to_its_class_mean():
    rng = np.random.default_rng(0)
    layer = CenterLoss(2, alpha=0.5)
    means = np.array([[3.0, 0.0], [0.0, -2.0]], np.float32)
    for _ in range(60):
        y = rng.integers(0, 2, 16)
        layer(means[y] + rng.normal(0, 0.3, (16, 2)).astype(np.float32), labels=y, training=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.centers), means, atol=0.2)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="num_classes >= 2"):
        CenterLoss(1)
    with pytest.raises(ValueError, match="lambda"):
        CenterLoss(3, weight=-1.0)
    with pytest.raises(ValueError, match=r"alpha .* in \(0, 1\]"):
        CenterLoss(3, alpha=0.0)


def test_center_loss_passes_the_shared_layer_test(tmp_path):
    x = np.random.default_rng(2).normal(size=(4, 3)).astype("float32")
    run_layer_test(CenterLoss, {"num_classes": 3, "weight": 0.1, "alpha": 0.5}, x,
                   call_kwargs={"labels": np.array([0, 1, 2, 1])}, expected_output_shape=(4, 3),
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=1, tmp_path=tmp_path)
