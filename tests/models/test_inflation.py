"""Inflation: I3D from a 2D Inception-v1, and the boring-video property that defines it."""

import numpy as np
import pytest

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402

from hybridvid_lib.models.i3d import build_i3d_stream, output_steps  # noqa: E402
from hybridvid_lib.models.inflation import (  # noqa: E402
    boring_video_steps, build_inception_2d, inflate_from_2d, inflate_kernel, temporal_receptive_field,
)

WIDTH, SIZE = 0.125, 32


def test_an_inflated_kernel_sums_over_time_to_the_2d_kernel():
    k2 = np.random.default_rng(0).normal(size=(3, 3, 2, 4)).astype(np.float32)
    k3 = inflate_kernel(k2, 5)
    assert k3.shape == (5, 3, 3, 2, 4)
    np.testing.assert_allclose(k3.sum(axis=0), k2, rtol=1e-6)
    np.testing.assert_allclose(k3[2], k2 / 5, rtol=1e-6)
    with pytest.raises(ValueError, match=r"\(kH, kW, C_in, C_out\)"):
        inflate_kernel(k2[0], 3)


def test_on_a_boring_video_the_inflated_network_gives_the_2d_features():
    """One frame repeated: away from the zero-padded ends, I3D's features are the 2D net's on the frame."""
    keras.utils.set_random_seed(0)
    net_2d = build_inception_2d(6, size=SIZE, width=WIDTH)
    # Trained-looking batch-norm statistics, so the check does not pass by zeros.
    rng = np.random.default_rng(1)
    for layer in net_2d.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            beta, mean, var = layer.get_weights()
            layer.set_weights([rng.normal(0, 0.2, beta.shape), rng.normal(0, 0.2, mean.shape),
                               rng.uniform(0.5, 2.0, var.shape)])
    frames = 160  # I3D's steps see 99 frames: a long clip has steps clear of the padding
    net_3d = build_i3d_stream(6, channels=3, frames=frames, size=SIZE, width=WIDTH)
    names = inflate_from_2d(net_3d, net_2d)
    assert "Conv3d_1a_7x7.conv_3d" in names and "Mixed_5b.Branch_2.Conv3d_0a_3x3.batch_norm" in names
    assert len(names) == 2 * 57 + 1  # 57 units (conv + batch norm) and the logits

    frame = rng.uniform(-1, 1, (1, SIZE, SIZE, 3)).astype(np.float32)
    boring = np.repeat(frame[:, None], frames, axis=1)
    f2 = net_2d.predict_on_batch({"frame": frame})["features"][0]
    f3 = net_3d.predict_on_batch({"rgb": boring})["features"][0]  # (T', F)
    steps = output_steps(frames)
    assert f3.shape == (steps, f2.shape[-1])
    inside = boring_video_steps(frames)
    assert inside, "the clip is too short to have a step clear of the padding"
    for t in inside:
        np.testing.assert_allclose(f3[t], f2, rtol=1e-4, atol=1e-4 * np.abs(f2).max())
    # At the ends the zero padding shows: the property is about the frames, not the padding.
    assert not np.allclose(f3[0], f2, rtol=1e-4, atol=1e-4 * np.abs(f2).max())
    # A video that moves is not the frame: the features differ in the middle too.
    moving = boring.copy()
    moving[:, frames // 2:] = rng.uniform(-1, 1, moving[:, frames // 2:].shape)
    f_moving = net_3d.predict_on_batch({"rgb": moving})["features"][0]
    boring_gap = max(np.abs(f3[t] - f2).max() for t in inside)
    assert np.abs(f_moving[inside[len(inside) // 2]] - f2).max() > 10 * boring_gap


def test_the_receptive_field_over_time_is_walked_from_the_layers():
    assert temporal_receptive_field() == (99, 8)
    assert boring_video_steps(64) == [] and boring_video_steps(160) == [8, 9, 10, 11]


def test_inflation_refuses_networks_of_another_width():
    net_2d = build_inception_2d(6, size=SIZE, width=0.25)
    net_3d = build_i3d_stream(6, channels=3, frames=16, size=SIZE, width=WIDTH)
    with pytest.raises(ValueError, match=r"Conv3d_1a_7x7.conv_3d.*another width"):
        inflate_from_2d(net_3d, net_2d)
