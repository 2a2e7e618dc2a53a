"""Heads on cached feature sequences: i3d_lstm, i3d_bilstm, i3d_bilstm_attention (the hybrid without center loss)."""

import numpy as np
import pytest

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402

from hybridvid_lib.config import resolve_settings  # noqa: E402
from hybridvid_lib.models import build_model, model_info  # noqa: E402
from hybridvid_lib.models.registry import output_probs  # noqa: E402

SMOKE = resolve_settings("smoke")
SMALL = {"feature_dims": (6, 6), "units": 8, "dense": 8, "dropout": 0.0}
HEADS = {"i3d_lstm": {k: v for k, v in SMALL.items()}, "i3d_bilstm": {**SMALL, "num_layers": 2},
         "i3d_bilstm_attention": {**SMALL, "num_layers": 2, "attention_units": 4}}


def sequences(batch=4, steps=5, dim=12, seed=0):
    return {"features": np.random.default_rng(seed).normal(size=(batch, steps, dim)).astype("float32")}


@pytest.mark.parametrize("name", sorted(HEADS))
def test_each_head_gives_probabilities_reloads_equal_and_learns_a_tiny_batch(name, tmp_path):
    keras.utils.set_random_seed(0)
    model = build_model(name, SMOKE, 3, **HEADS[name])
    assert [t.name for t in model.inputs] == ["features"] == list(model_info(name)["inputs"])
    x = sequences()
    p = np.asarray(output_probs(model.predict_on_batch(x)))
    assert p.shape == (4, 3) and np.allclose(p.sum(1), 1, atol=1e-5)
    assert np.asarray(output_probs(model.predict_on_batch(sequences(steps=9)))).shape == (4, 3)  # any T'
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(np.asarray(output_probs(again.predict_on_batch(x))), p, rtol=1e-5, atol=1e-6)
    view = keras.Model(model.input, output_probs(model.output))
    view.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    y = np.array([0, 1, 2, 0])
    first = float(view.evaluate(x, y, verbose=0))
    for _ in range(40):
        last = float(view.train_on_batch(x, y))
    assert last < 0.3 * first


def test_the_attention_head_returns_weights_over_the_steps_and_its_pooled_embedding():
    model = build_model("i3d_bilstm_attention", SMOKE, 3, **HEADS["i3d_bilstm_attention"])
    out = model.predict_on_batch(sequences(steps=7))
    assert out["attention"].shape == (4, 7) and np.allclose(out["attention"].sum(1), 1, atol=1e-5)
    assert out["embedding"].shape == (4, 16)  # 2 x units: both directions


def test_sum_fusion_halves_the_lstm_input_and_needs_equal_streams():
    concat = build_model("i3d_bilstm", SMOKE, 3, **HEADS["i3d_bilstm"])
    summed = build_model("i3d_bilstm", SMOKE, 3, **{**HEADS["i3d_bilstm"], "fusion": "sum"})
    assert concat.get_layer("fusion").output.shape[-1] == 12 and summed.get_layer("fusion").output.shape[-1] == 6
    with pytest.raises(ValueError, match="need one size"):
        build_model("i3d_bilstm", SMOKE, 3, **{**HEADS["i3d_bilstm"], "feature_dims": (6, 4), "fusion": "sum"})
