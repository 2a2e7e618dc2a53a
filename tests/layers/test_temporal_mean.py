"""TemporalMean: the mean over time, masked frames left out; config, .keras round trip, one fit step."""

import numpy as np
import pytest

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402

from hybridvid_lib.layers import TemporalMean  # noqa: E402


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


def test_config_roundtrip_and_keras_file_reload_with_equal_outputs(tmp_path):
    layer = TemporalMean(epsilon=1e-5, name="avg")
    clone = TemporalMean.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()

    inputs = keras.Input((6, 3))
    model = keras.Model(inputs, keras.layers.Dense(2)(TemporalMean(name="avg")(inputs)))
    x = np.random.default_rng(2).normal(size=(4, 6, 3)).astype("float32")
    path = tmp_path / "temporal_mean.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert isinstance(reloaded.get_layer("avg"), TemporalMean)
    np.testing.assert_allclose(reloaded.predict_on_batch(x), model.predict_on_batch(x), rtol=1e-6)


def test_one_fit_step_runs_through_the_layer():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((5, 3))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(TemporalMean()(inputs)))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(3).normal(size=(8, 5, 3)).astype("float32")
    history = model.fit(x, np.arange(8) % 2, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
